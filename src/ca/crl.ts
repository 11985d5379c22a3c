/**
 * Certificate revocation lists: the TBSCertList that `openssl ca -gencrl` would make from the entries
 * a CRL lists (crl-entries.ts), one signature through a Signer, and the PEM/DER forms OpenSSL reads
 * (reading them back: crl-reading.ts). Given the same index, times, CRL number and key, the DER is the same as
 * OpenSSL's (RSA PKCS#1 signatures included, as they are deterministic).
 *
 * The TBSCertList is built with @peculiar/asn1-x509's schemas rather than X509CrlGenerator, because
 * the generator writes an empty crlEntryExtensions SEQUENCE for an entry without a reason (RFC 5280
 * says SIZE (1..MAX)) and drops the reason code 0 (`unspecified`), which OpenSSL writes.
 *
 * A CRL can list 100,000 certificates, and the schemas (asn1js underneath) cost tens of µs and
 * dozens of objects per entry each way. So only the part that grows is handled outside them: the
 * revokedCertificates list is read from index.txt's text as it stands (revokedCertificatesDer, with
 * crlListings as its reference), written by der-writer.ts and spliced into the schema-built TBSCertList,
 * the outer SEQUENCE is assembled around the signature by hand, the signature is checked with
 * node:crypto on the TBS bytes already in hand (not by parsing the CRL back), and a CRL is read
 * (parseCrlDer in crl-reading.ts, and what buildCrl returns) with its entries parsed by the library
 * only when read.
 * test/crl.test.ts holds the straightforward all-schema build as the reference and checks the output
 * byte for byte against it, and the reading against @peculiar/x509's own.
 */
import { constants, createPublicKey, verify as nodeVerify } from 'node:crypto'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import {
  AsnConvert,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from '@peculiar/asn1-schema'
import { Certificate, Extension, TBSCertList, Time, Version, id_ce_cRLNumber } from '@peculiar/asn1-x509'
import { CaError } from './errors.js'
import { akiExtension } from './extensions.js'
import { arrayBuffer, bitString, insertIntoSequence, wrap } from './der-bytes.js'
import type { IndexEntry } from './index-entry.js'
import { MAX_SERIAL, serialToDer } from './serial-number.js'
import type { Signer } from './signer.js'
import { x509Signing } from './x509-signing.js'
import { revokedCertificatesDer } from './crl-entries.js'
import { LazyCrl } from './crl-reading.js'

/** RFC 5280 §5.3.2 hold instruction code (id-ce-holdInstructionCode). */
export const id_ce_holdInstructionCode = '2.5.29.23'

export interface CrlIssuer {
  /** The CA certificate whose key signs the CRL; its subject is written as the CRL's issuer. */
  certificate: x509.X509Certificate
  /** The CA's subject key identifier (hex), written as the CRL's authorityKeyIdentifier keyid. */
  keyId: string
  /** The CA's key. It must be the certificate's key: the signed CRL is verified with the certificate. */
  signer: Signer
}

export interface CrlParams {
  /** The CA's index.txt; only `R` entries are listed. */
  entries: readonly IndexEntry[]
  issuer: CrlIssuer
  /** The CRL number (the `crlnumber` file's value); the caller increments it for every CRL. */
  crlNumber: bigint
  thisUpdate: Date
  nextUpdate: Date
  /**
   * thisUpdate of the previous regularly scheduled CRL. A revoked certificate that expired before it
   * has already been listed on a CRL issued beyond its validity period, so it is dropped; when
   * unknown, every revoked entry is listed (which is what `openssl ca -gencrl` always does).
   */
  previousThisUpdate?: Date
}

/** Builds and signs the CRL: exactly one call to `issuer.signer.sign`. */
export async function buildCrl(params: CrlParams): Promise<x509.X509Crl> {
  const { issuer } = params
  if (params.nextUpdate.getTime() <= params.thisUpdate.getTime()) {
    throw new RangeError(`nextUpdate ${params.nextUpdate.toISOString()} is not after thisUpdate`)
  }
  const keyId = normalizedKeyId(issuer.keyId)
  const ski = issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId.toLowerCase()
  if (ski !== undefined && ski !== keyId) {
    throw new CaError(
      'config.invalid',
      `the CRL's authority key id ${keyId} is not the subject key identifier ${ski} of the issuer certificate`,
    )
  }

  const list = revokedCertificatesDer(params.entries, params.previousThisUpdate)
  const issuerCert = AsnConvert.parse(issuer.certificate.rawData, Certificate)
  const { signingKey, signingAlgorithm } = x509Signing(issuer.signer)
  const webAlgorithm = { ...signingAlgorithm, ...signingKey.algorithm }
  const algorithm = new x509.AlgorithmProvider().toAsnAlgorithm(webAlgorithm)

  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: issuerCert.tbsCertificate.subject,
    thisUpdate: asnTime(params.thisUpdate),
    nextUpdate: asnTime(params.nextUpdate),
    // OpenSSL's crl_ext order: the AKI, then the CRL number it adds itself.
    crlExtensions: [
      AsnConvert.parse(akiExtension(keyId).rawData, Extension),
      extension(id_ce_cRLNumber, new CrlNumber(crlNumberContent(params.crlNumber))),
    ],
  })

  // The revoked list is the only part that grows: it is written by der-writer.ts and spliced in
  // before crlExtensions ([0]); the rest of the TBSCertList comes from the schema above.
  const tbsHead = new Uint8Array(AsnConvert.serialize(tbs))
  const tbsDer = list === undefined ? tbsHead : insertIntoSequence(tbsHead, list, 0xa0)
  let signature: Uint8Array
  try {
    const raw = await issuer.signer.sign(tbsDer)
    const asn = new x509.AsnEcSignatureFormatter().toAsnSignature(webAlgorithm, raw)
    signature = asn === null ? raw : new Uint8Array(asn)
  } catch (cause) {
    if (cause instanceof CaError) throw cause
    throw new CaError(
      'signer.failed',
      `signing the CRL with ${issuer.signer.ref} failed: ${(cause as Error).message}`,
      { cause },
    )
  }
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
  const der = wrap(0x30, [tbsDer, new Uint8Array(AsnConvert.serialize(algorithm)), bitString(signature)])
  const spki = new Uint8Array(issuer.certificate.publicKey.rawData)
  if (!signatureVerifies(tbsDer, signature, webAlgorithm, spki)) {
    throw new CaError(
      'signer.mismatch',
      `the CRL signed by ${issuer.signer.ref} does not verify with the public key of ` +
        `${issuer.certificate.subject}: is it the right key?`,
    )
  }
  // Made by der-writer.ts (whose output the tests check against the schema's), so only split into
  // entries, not checked entry by entry as a CRL read from elsewhere is.
  return new LazyCrl(der, false)
}

/**
 * Whether `signature` over `tbs` verifies with the public key `spki` under the WebCrypto algorithm
 * the CRL was signed with (RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA with a DER signature), by node:crypto
 * on the bytes: unlike `verifiesWith`, nothing is parsed, which matters for a 100,000-entry CRL.
 */
export function signatureVerifies(
  tbs: Uint8Array,
  signature: Uint8Array,
  algorithm: { name: string; hash?: unknown; saltLength?: unknown },
  spki: Uint8Array,
): boolean {
  const hashName =
    typeof algorithm.hash === 'string' ? algorithm.hash : (algorithm.hash as { name?: string })?.name
  const hash = /^SHA-(256|384|512)$/.exec(hashName ?? '')
  if (hash === null) throw new CaError('signer.failed', `unsupported signature hash ${String(hashName)}`)
  const digest = `sha${hash[1]}`
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    if (algorithm.name === 'RSA-PSS') {
      const saltLength = Number(algorithm.saltLength)
      return nodeVerify(digest, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature)
    }
    if (algorithm.name !== 'RSASSA-PKCS1-v1_5' && algorithm.name !== 'ECDSA') {
      throw new CaError('signer.failed', `unsupported signature algorithm ${algorithm.name}`)
    }
    return nodeVerify(digest, tbs, key, signature)
  } catch (e) {
    if (e instanceof CaError) throw e
    return false
  }
}

/** PEM as OpenSSL writes and reads it: `X509 CRL` (x509's toString('pem') writes `CRL`, which OpenSSL refuses). */
export function crlPem(crl: x509.X509Crl): string {
  // The lines are copied into one buffer: a string per line (100,000 for a large CRL) cost twice as much.
  const base64 = Buffer.from(Buffer.from(crl.rawData).toString('base64'), 'latin1')
  const lines = Buffer.allocUnsafe(base64.length + Math.ceil(base64.length / 64))
  let at = 0
  for (let i = 0; i < base64.length; i += 64) {
    at += base64.copy(lines, at, i, Math.min(i + 64, base64.length))
    lines[at++] = 0x0a // \n
  }
  return `-----BEGIN X509 CRL-----\n${lines.toString('latin1')}-----END X509 CRL-----\n`
}

export function crlDer(crl: x509.X509Crl): Uint8Array {
  return new Uint8Array(crl.rawData)
}

function extension(oid: string, value: object, critical = false): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(AsnConvert.serialize(value)) })
}

/** RFC 5280 §4.1.2.5 / §5.1.2.4: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds. */
function asnTime(d: Date): Time {
  const t = wholeSeconds(d)
  const year = t.getUTCFullYear()
  return year >= 1950 && year <= 2049 ? new Time({ utcTime: t }) : new Time({ generalTime: t })
}

function wholeSeconds(d: Date): Date {
  const t = d.getTime()
  if (Number.isNaN(t)) throw new RangeError('invalid date')
  return t % 1000 === 0 ? d : new Date(Math.floor(t / 1000) * 1000)
}

/** CRLNumber ::= INTEGER (0..MAX), at most 20 octets (RFC 5280 §5.2.3). */
function crlNumberContent(crlNumber: bigint): ArrayBuffer {
  if (crlNumber < 0n || crlNumber > MAX_SERIAL) {
    throw new RangeError(`CRL number ${crlNumber} is not an integer 0…2^159-1`)
  }
  return crlNumber === 0n ? new ArrayBuffer(1) : arrayBuffer(serialToDer(crlNumber))
}

function normalizedKeyId(hex: string): string {
  const keyId = hex.replaceAll(':', '').toLowerCase()
  if (!/^(?:[0-9a-f]{2})+$/.test(keyId)) throw new RangeError(`'${hex}' is not a key identifier in hex`)
  return keyId
}

/** CRLNumber ::= INTEGER (0..MAX), up to 20 octets (asn1-x509's CRLNumber holds a JS number). */
@AsnType({ type: AsnTypeTypes.Choice })
class CrlNumber {
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  value: ArrayBuffer

  constructor(value: ArrayBuffer = new ArrayBuffer(1)) {
    this.value = value
  }
}
