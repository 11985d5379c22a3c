/**
 * Certificate revocation lists: which index.txt entries a CRL lists (and in what order), the
 * TBSCertList that `openssl ca -gencrl` would make from them, one signature through a Signer, and the
 * PEM/DER forms OpenSSL reads. Given the same index, times, CRL number and key, the DER is the same as
 * OpenSSL's (RSA PKCS#1 signatures included, as they are deterministic).
 *
 * The TBSCertList is built with @peculiar/asn1-x509's schemas rather than X509CrlGenerator, because
 * the generator writes an empty crlEntryExtensions SEQUENCE for an entry without a reason (RFC 5280
 * says SIZE (1..MAX)) and drops the reason code 0 (`unspecified`), which OpenSSL writes.
 */
import { parseLimitsFor } from './asn1-limits.js'
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
import {
  Certificate,
  CertificateList,
  CRLReason,
  Extension,
  InvalidityDate,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_invalidityDate,
} from '@peculiar/asn1-x509'
import { CaError } from './errors.js'
import { akiExtension } from './extensions.js'
import { verifiesWith } from './certificate.js'
import {
  REVOCATION_REASON_CODES,
  holdInstructionOid,
  parseIndexTime,
  parseRevocation,
  type IndexEntry,
  type Revocation,
} from './index-txt.js'
import { MAX_SERIAL, serialFromHex, serialToDer } from './serial-number.js'
import type { Signer } from '../keys/signer.js'
import { x509Signing } from '../keys/x509-signing.js'

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

/** One certificate a CRL lists. */
export interface CrlListing {
  serial: bigint
  /** The certificate's notAfter, from index.txt. */
  expiry: Date
  revocation: Revocation
}

/**
 * The revoked entries a full CRL lists, in serial order (X509_CRL_sort, whatever the index order).
 * An entry revoked with removeFromCRL is not listed: RFC 5280 §5.3.1 reserves that reason for delta
 * CRLs, and on a full CRL verifiers disagree on its meaning (OpenSSL treats it as not revoked, others
 * as revoked); OpenSSL's -gencrl lists it anyway.
 */
export function crlListings(entries: readonly IndexEntry[], previousThisUpdate?: Date): CrlListing[] {
  const listed: CrlListing[] = []
  for (const entry of entries) {
    if (entry.status !== 'R') continue
    const revocation = parseRevocation(entry.revocation)
    if (revocation.reason === 'removeFromCRL') continue
    const expiry = parseIndexTime(entry.expiry)
    if (previousThisUpdate !== undefined && expiry.getTime() < previousThisUpdate.getTime()) continue
    const serial = serialFromHex(entry.serial)
    if (serial <= 0n || serial > MAX_SERIAL) {
      throw new CaError('state.corrupt', `serial ${entry.serial} cannot be listed on a CRL (1…2^159-1)`)
    }
    listed.push({ serial, expiry, revocation })
  }
  return listed.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))
}

/** Parses a CRL in DER, however many entries it lists. */
export function parseCrlDer(der: Uint8Array | ArrayBuffer): x509.X509Crl {
  return new x509.X509Crl(der, parseLimitsFor(der.byteLength))
}

/** Parses a CRL in PEM (label `X509 CRL`, as OpenSSL writes it), however many entries it lists. */
export function parseCrlPem(pem: string): x509.X509Crl {
  const block = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(pem)
  if (block === null) throw new Error('no PEM X509 CRL block')
  return parseCrlDer(Buffer.from((block[1] ?? '').replace(/\s+/g, ''), 'base64'))
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

  const listings = crlListings(params.entries, params.previousThisUpdate)
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
  // Absent, not empty, when nothing is revoked (RFC 5280 §5.1.2.6).
  if (listings.length > 0) tbs.revokedCertificates = listings.map(revokedCertificate)

  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  let signature: ArrayBuffer
  try {
    const raw = await issuer.signer.sign(tbsDer)
    signature = new x509.AsnEcSignatureFormatter().toAsnSignature(webAlgorithm, raw) ?? arrayBuffer(raw)
  } catch (cause) {
    if (cause instanceof CaError) throw cause
    throw new CaError(
      'signer.failed',
      `signing the CRL with ${issuer.signer.ref} failed: ${(cause as Error).message}`,
      { cause },
    )
  }
  const der = AsnConvert.serialize(
    new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature }),
  )
  if (!verifiesWith(der, new Uint8Array(issuer.certificate.publicKey.rawData))) {
    throw new CaError(
      'signer.mismatch',
      `the CRL signed by ${issuer.signer.ref} does not verify with the public key of ` +
        `${issuer.certificate.subject}: is it the right key?`,
    )
  }
  return parseCrlDer(der)
}

/** PEM as OpenSSL writes and reads it: `X509 CRL` (x509's toString('pem') writes `CRL`, which OpenSSL refuses). */
export function crlPem(crl: x509.X509Crl): string {
  const lines =
    Buffer.from(crl.rawData)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`
}

export function crlDer(crl: x509.X509Crl): Uint8Array {
  return new Uint8Array(crl.rawData)
}

// ---------------------------------------------------------------------------------------------------

/** The CRL entry make_revoked writes: reason code, then invalidity date, then hold instruction. */
function revokedCertificate(listing: CrlListing): RevokedCertificate {
  const { revocation } = listing
  const extensions: Extension[] = []
  if (revocation.reason !== undefined) {
    extensions.push(extension(id_ce_cRLReasons, new CRLReason(REVOCATION_REASON_CODES[revocation.reason])))
  }
  if (revocation.invalidityDate !== undefined) {
    extensions.push(
      extension(id_ce_invalidityDate, new InvalidityDate(wholeSeconds(revocation.invalidityDate))),
    )
  }
  if (revocation.holdInstruction !== undefined) {
    // parseRevocation only accepts instructions that resolve to an OID.
    const oid = holdInstructionOid(revocation.holdInstruction) as string
    extensions.push(extension(id_ce_holdInstructionCode, new HoldInstructionCode(oid)))
  }
  const entry = new RevokedCertificate({
    userCertificate: arrayBuffer(serialToDer(listing.serial)),
    revocationDate: asnTime(revocation.time),
  })
  if (extensions.length > 0) entry.crlEntryExtensions = extensions
  return entry
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
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid date')
  return new Date(Math.floor(d.getTime() / 1000) * 1000)
}

/** CRLNumber ::= INTEGER (0..MAX), at most 20 octets (RFC 5280 §5.2.3). */
function crlNumberContent(crlNumber: bigint): ArrayBuffer {
  if (crlNumber < 0n || crlNumber > MAX_SERIAL) {
    throw new RangeError(`CRL number ${crlNumber} is not an integer 0…2^159-1`)
  }
  return crlNumber === 0n ? new ArrayBuffer(1) : arrayBuffer(serialToDer(crlNumber))
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
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

/** HoldInstructionCode ::= OBJECT IDENTIFIER (RFC 5280 §5.3.2; not in asn1-x509). */
@AsnType({ type: AsnTypeTypes.Choice })
class HoldInstructionCode {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  value: string

  constructor(value = '') {
    this.value = value
  }
}
