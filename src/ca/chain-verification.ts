/**
 * Verifying a leaf certificate against this CA's chain (leaf → intermediate → root) and, when given,
 * the intermediate's CRL: what `openssl verify -x509_strict -check_ss_sig -crl_check` decides, as a
 * typed verdict a person can act on ("revoked (keyCompromise) on 2026-…"). Checks run in OpenSSL's
 * order (build the chain, CA flags, revocation, then signatures and validity from the root down), so
 * a certificate that is wrong in two ways gets the answer OpenSSL would give. Also owns name matching
 * (RFC 5280 §7.1 as OpenSSL does it), which revocation uses to recognise this CA's certificates.
 */
import { parseCrlDer, parseCrlPem } from './crl-reading.js'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate, Name } from '@peculiar/asn1-x509'
import { CaError } from './errors.js'
import { verifiesWith } from './certificate.js'
import { REVOCATION_REASON_CODES, type RevocationReason } from './index-revocation.js'

/** A CRL reason by OpenSSL's name; 9 and 10 have no `openssl ca` name but can appear in a CRL. */
export type CrlReasonName = RevocationReason | 'privilegeWithdrawn' | 'AACompromise'

export type VerificationFailure =
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'unknown_issuer'
  | 'bad_signature'
  /** The intermediate or root cannot issue certificates (basicConstraints, keyUsage, pathLen). */
  | 'invalid_ca'
  | 'crl_invalid'
  | 'crl_expired'

/** Which certificate (or the CRL) a failure is about. */
export type VerificationSubject = 'leaf' | 'intermediate' | 'root' | 'crl'

export interface CrlRevocation {
  /** Absent when the CRL entry has no reason code. */
  reason?: CrlReasonName
  date: Date
  invalidityDate?: Date
}

export type VerificationResult =
  | {
      ok: true
      /** RFC 4514 form of the leaf's subject. */
      subject: string
      /** The leaf's serial, upper-case hex as in index.txt. */
      serial: string
      notAfter: Date
      /** False when no CRL was given: the result then says nothing about revocation. */
      revocationChecked: boolean
      message: string
    }
  | {
      ok: false
      reason: VerificationFailure
      about: VerificationSubject
      message: string
      revocation?: CrlRevocation
    }

export type CertificateInput = string | Uint8Array | ArrayBuffer | x509.X509Certificate

export interface VerifyParams {
  /** The certificate to check: PEM (the first certificate of a full chain is the leaf), DER, or parsed. */
  certificate: CertificateInput
  intermediate: CertificateInput
  /** The trust anchor; its self-signature is checked too (as `-check_ss_sig`). */
  root: CertificateInput
  /** The intermediate's CRL; without it revocation is not checked. */
  crl?: x509.X509Crl | string | Uint8Array | ArrayBuffer
  now: Date
}

type Failure = Extract<VerificationResult, { ok: false }>

export function verifyCertificate(params: VerifyParams): VerificationResult {
  const leaf = parseCertificate(params.certificate, 'certificate')
  const intermediate = parseCertificate(params.intermediate, 'intermediate')
  const root = parseCertificate(params.root, 'root')
  const crl = params.crl === undefined ? undefined : parseCrl(params.crl)
  const { now } = params

  const failure =
    chainFailure(leaf, intermediate, root) ??
    caFailure(intermediate, 'intermediate', 0) ??
    caFailure(root, 'root', 1) ??
    (crl === undefined ? undefined : revocationFailure(leaf, intermediate, crl, now)) ??
    signatureAndTimeFailure([root, intermediate, leaf], now)
  if (failure !== undefined) return failure

  const serial = leaf.serialNumber.toUpperCase()
  return {
    ok: true,
    subject: leaf.subject,
    serial: serial.length % 2 ? `0${serial}` : serial,
    notAfter: leaf.notAfter,
    revocationChecked: crl !== undefined,
    message: `OK: ${leaf.subject} is valid until ${isoSeconds(leaf.notAfter)}${
      crl === undefined ? ' (revocation not checked: no CRL)' : ' and not revoked'
    }`,
  }
}

/**
 * Whether two DER Names are the same name: identical bytes, or equal after OpenSSL's canonical form
 * (X509_NAME_cmp: string values trimmed, inner whitespace collapsed, ASCII lower-cased, whatever the
 * string type; the values of each RDN compared as a set).
 */
export function sameName(a: Uint8Array | ArrayBuffer, b: Uint8Array | ArrayBuffer): boolean {
  const x = bytes(a)
  const y = bytes(b)
  if (Buffer.compare(x, y) === 0) return true
  try {
    return canonicalName(x) === canonicalName(y)
  } catch {
    return false
  }
}

/** The DER of a certificate's issuer and subject Names, as encoded in the certificate. */
export function certificateNames(cert: x509.X509Certificate): { issuer: Uint8Array; subject: Uint8Array } {
  const tbs = AsnConvert.parse(cert.rawData, Certificate).tbsCertificate
  return {
    issuer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
    subject: new Uint8Array(AsnConvert.serialize(tbs.subject)),
  }
}

// ---------------------------------------------------------------------------------------------------
// The checks, each returning a failure or undefined

function chainFailure(
  leaf: x509.X509Certificate,
  intermediate: x509.X509Certificate,
  root: x509.X509Certificate,
): Failure | undefined {
  const rootNames = certificateNames(root)
  if (!sameName(rootNames.issuer, rootNames.subject) || !keyIdsMatch(root, root)) {
    return fail(
      'unknown_issuer',
      'root',
      `the root ${root.subject} is not self-signed (issued by ${root.issuer})`,
    )
  }
  const links: Array<[x509.X509Certificate, x509.X509Certificate, VerificationSubject, string]> = [
    [leaf, intermediate, 'leaf', 'intermediate'],
    [intermediate, root, 'intermediate', 'root'],
  ]
  for (const [child, issuer, about, issuerRole] of links) {
    if (!sameName(certificateNames(child).issuer, certificateNames(issuer).subject)) {
      return fail(
        'unknown_issuer',
        about,
        `${child.subject} was issued by ${child.issuer}, not by the ${issuerRole} ${issuer.subject}`,
      )
    }
    if (!keyIdsMatch(child, issuer)) {
      return fail(
        'unknown_issuer',
        about,
        `${child.subject} was issued by another key named ${child.issuer}: its authority key identifier ` +
          `${akiOf(child)} is not the ${issuerRole}'s subject key identifier ${skiOf(issuer)}`,
      )
    }
  }
  return undefined
}

/** RFC 5280 §6.1.4: a CA certificate must assert CA, keyCertSign when it has a keyUsage, and allow the path. */
function caFailure(
  cert: x509.X509Certificate,
  about: VerificationSubject,
  casBelow: number,
): Failure | undefined {
  const bc = cert.getExtension(x509.BasicConstraintsExtension)
  if (bc === null || !bc.ca) {
    return fail(
      'invalid_ca',
      about,
      `the ${about} ${cert.subject} is not a CA certificate (basicConstraints CA:FALSE or absent)`,
    )
  }
  const ku = cert.getExtension(x509.KeyUsagesExtension)
  if (ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    return fail(
      'invalid_ca',
      about,
      `the ${about} ${cert.subject} may not sign certificates (no keyCertSign)`,
    )
  }
  if (bc.pathLength !== undefined && casBelow > bc.pathLength) {
    return fail(
      'invalid_ca',
      about,
      `the ${about} ${cert.subject} allows ${bc.pathLength} CA certificates below it, not ${casBelow}`,
    )
  }
  return undefined
}

function revocationFailure(
  leaf: x509.X509Certificate,
  intermediate: x509.X509Certificate,
  crl: x509.X509Crl,
  now: Date,
): Failure | undefined {
  const crlIssuer = new Uint8Array(crl.issuerName.toArrayBuffer())
  if (!sameName(crlIssuer, certificateNames(intermediate).subject)) {
    return fail(
      'crl_invalid',
      'crl',
      `the CRL was issued by ${crl.issuer}, not by the intermediate ${intermediate.subject}`,
    )
  }
  const aki = crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId
  const ski = skiOf(intermediate)
  if (aki !== undefined && ski !== undefined && aki.toLowerCase() !== ski.toLowerCase()) {
    return fail(
      'crl_invalid',
      'crl',
      `the CRL's authority key identifier ${aki} is not the intermediate's ${ski}`,
    )
  }
  const ku = intermediate.getExtension(x509.KeyUsagesExtension)
  if (ku !== null && (ku.usages & x509.KeyUsageFlags.cRLSign) === 0) {
    return fail(
      'crl_invalid',
      'crl',
      `the intermediate ${intermediate.subject} may not sign CRLs (no cRLSign)`,
    )
  }
  if (!verifiesWith(crl.rawData, new Uint8Array(intermediate.publicKey.rawData))) {
    return fail('crl_invalid', 'crl', `the CRL's signature does not verify with the intermediate's key`)
  }
  // RFC 5280 §5.2, §5.3: a critical extension the verifier does not process makes the CRL unusable
  // (an issuing distribution point, a delta CRL indicator, an indirect CRL's certificateIssuer).
  const critical = [...crl.extensions, ...crl.entries.flatMap((e) => e.extensions)].find((e) => e.critical)
  if (critical !== undefined) {
    return fail(
      'crl_invalid',
      'crl',
      `the CRL has a critical extension ${critical.type} that is not supported`,
    )
  }
  if (crl.thisUpdate.getTime() > now.getTime()) {
    return fail(
      'crl_invalid',
      'crl',
      `the CRL is not valid yet: it was issued for ${isoSeconds(crl.thisUpdate)}`,
    )
  }
  if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
    return fail(
      'crl_expired',
      'crl',
      `the CRL expired on ${isoSeconds(crl.nextUpdate)}: a newer one should have been issued by then`,
    )
  }

  const serial = BigInt(`0x${leaf.serialNumber}`)
  const entry = crl.entries.find((e) => BigInt(`0x${e.serialNumber}`) === serial)
  // removeFromCRL (8) means "no longer revoked"; OpenSSL treats the entry as absent too.
  if (entry === undefined || entry.reason === x509.X509CrlReason.removeFromCRL) return undefined
  const revocation: CrlRevocation = { date: entry.revocationDate }
  const reason = reasonName(entry.reason)
  if (reason !== undefined) revocation.reason = reason
  if (entry.invalidity !== undefined) revocation.invalidityDate = entry.invalidity
  const because = reason === undefined ? '' : ` (${reason})`
  const compromised =
    revocation.invalidityDate === undefined ? '' : `, invalid since ${isoSeconds(revocation.invalidityDate)}`
  return {
    ...fail('revoked', 'leaf', `revoked${because} on ${isoSeconds(entry.revocationDate)}${compromised}`),
    revocation,
  }
}

/** internal_verify's order: from the root down, each certificate's signature, then its validity. */
function signatureAndTimeFailure(path: x509.X509Certificate[], now: Date): Failure | undefined {
  const roles: VerificationSubject[] = ['root', 'intermediate', 'leaf']
  for (const [i, cert] of path.entries()) {
    const about = roles[i] as VerificationSubject
    const issuer = path[Math.max(0, i - 1)] as x509.X509Certificate
    if (!verifiesWith(cert.rawData, new Uint8Array(issuer.publicKey.rawData))) {
      return fail(
        'bad_signature',
        about,
        `the signature of the ${about} ${cert.subject} does not verify with its issuer's key`,
      )
    }
    if (cert.notBefore.getTime() > now.getTime()) {
      return fail(
        'not_yet_valid',
        about,
        `the ${about} ${cert.subject} is not valid before ${isoSeconds(cert.notBefore)}`,
      )
    }
    if (cert.notAfter.getTime() < now.getTime()) {
      return fail('expired', about, `the ${about} ${cert.subject} expired on ${isoSeconds(cert.notAfter)}`)
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------

function fail(reason: VerificationFailure, about: VerificationSubject, message: string): Failure {
  return { ok: false, reason, about, message }
}

/** The AKI keyid, when both sides have one, names the issuer's SKI (OpenSSL's X509_check_akid). */
function keyIdsMatch(child: x509.X509Certificate, issuer: x509.X509Certificate): boolean {
  const aki = akiOf(child)
  const ski = skiOf(issuer)
  return aki === undefined || ski === undefined || aki.toLowerCase() === ski.toLowerCase()
}

function akiOf(cert: x509.X509Certificate): string | undefined {
  return cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId
}

function skiOf(cert: x509.X509Certificate): string | undefined {
  return cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
}

const REASON_NAMES: ReadonlyMap<number, CrlReasonName> = new Map<number, CrlReasonName>([
  ...(Object.entries(REVOCATION_REASON_CODES) as Array<[RevocationReason, number]>).map(
    ([name, code]) => [code, name] as [number, CrlReasonName],
  ),
  [9, 'privilegeWithdrawn'],
  [10, 'AACompromise'],
])

function reasonName(code: number | undefined): CrlReasonName | undefined {
  return code === undefined ? undefined : REASON_NAMES.get(code)
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function parseCertificate(input: CertificateInput, what: string): x509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input
  try {
    if (typeof input === 'string') {
      const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(input)
      if (block === null) throw new Error('no PEM CERTIFICATE block')
      return new x509.X509Certificate(block[0])
    }
    return new x509.X509Certificate(input)
  } catch (cause) {
    throw new CaError('verify.failed', `the ${what} is not a readable X.509 certificate`, { cause })
  }
}

function parseCrl(input: NonNullable<VerifyParams['crl']>): x509.X509Crl {
  if (input instanceof x509.X509Crl) return input
  try {
    return typeof input === 'string' ? parseCrlPem(input) : parseCrlDer(input)
  } catch (cause) {
    throw new CaError('verify.failed', 'the CRL is not a readable X.509 CRL', { cause })
  }
}

function bytes(b: Uint8Array | ArrayBuffer): Buffer {
  return ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b)
}

function canonicalName(der: Uint8Array): string {
  const name = AsnConvert.parse(der, Name)
  return JSON.stringify(
    name.map((rdn) =>
      rdn
        .map((atv) => {
          const v = atv.value
          const text =
            v.utf8String ??
            v.printableString ??
            v.ia5String ??
            v.teletexString ??
            v.bmpString ??
            v.universalString
          const value =
            text === undefined
              ? `#${Buffer.from(AsnConvert.serialize(v)).toString('hex')}`
              : text
                  .replace(/[\t\n\v\f\r ]+/g, ' ')
                  .trim()
                  .replace(/[A-Z]/g, (c) => c.toLowerCase())
          return `${atv.type}=${value}`
        })
        .sort(),
    ),
  )
}
