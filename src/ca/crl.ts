/**
 * Certificate revocation lists: which index.txt entries a CRL lists (and in what order), the
 * TBSCertList that `openssl ca -gencrl` would make from them, one signature through a Signer, and the
 * PEM/DER forms OpenSSL reads. Given the same index, times, CRL number and key, the DER is the same as
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
 * (parseCrlDer, and what buildCrl returns) with its entries parsed by the library only when read.
 * test/crl.test.ts holds the straightforward all-schema build as the reference and checks the output
 * byte for byte against it, and the reading against @peculiar/x509's own.
 */
import { constants, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { parseLimitsFor } from './asn1-limits.js'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import {
  AsnArray,
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
  Extension,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
  id_ce_cRLNumber,
} from '@peculiar/asn1-x509'
import { CaError } from './errors.js'
import { akiExtension } from './extensions.js'
import { RevokedListWriter, type DerRevokedEntry } from './der-writer.js'
import { bitString, insertIntoSequence, readTlv, wrap, type Tlv } from './der-bytes.js'
import {
  REVOCATION_REASON_CODES,
  holdInstructionOid,
  isUsualRevocation,
  reasonNameAt,
  parseRevocation,
  type Revocation,
  type RevocationReason,
} from './index-revocation.js'
import { formatGeneralizedTime, formatIndexTime, indexTimeMs, parseIndexTime } from './index-time.js'
import { isHex } from './index-scan.js'
import { type IndexEntry } from './index-entry.js'
import { MAX_SERIAL, serialFromHex, serialToDer } from './serial-number.js'
import type { Signer } from './signer.js'
import { x509Signing } from './x509-signing.js'

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

/**
 * The revokedCertificates list buildCrl writes, undefined when it lists nothing: the entries of
 * crlListings(entries, previousThisUpdate), with its errors, written by der-writer.ts.
 *
 * The fast path. crlListings builds a Revocation (Dates included) and a BigInt per entry; on 100,000
 * entries that and its sort were half the time of `mtls-ca crl`. But index.txt already holds what a
 * CRL entry carries, as text: the revocation time is the UTCTime (13 characters, 1950–2049) and a
 * compromise time the GeneralizedTime that the CRL writes, and the serial is hex. So an entry in the
 * form `openssl ca` writes (isUsualRevocation: reason names in their case; a valid expiry; a hex serial
 * that fits) is checked and read where it lies, and its texts are handed to the writer. Any other
 * entry goes through crlListings itself, which lists it or throws its error; as entries are taken in
 * index order, the first error is crlListings' too. test/crl.test.ts compares the two on every form,
 * odd and invalid entries included.
 */
export function revokedCertificatesDer(
  entries: readonly IndexEntry[],
  previousThisUpdate?: Date,
): Buffer | undefined {
  const notBefore = previousThisUpdate?.getTime()
  const list = new RevokedListWriter()
  for (const entry of entries) {
    if (entry.status !== 'R') continue
    const usual = usualEntry(entry, notBefore)
    if (usual === undefined) {
      for (const listing of crlListings([entry], previousThisUpdate)) list.add(derEntry(listing))
    } else if (usual !== null) {
      list.add(usual)
    }
  }
  return list.count === 0 ? undefined : list.finish()
}

/** `openssl ca`'s pseudo reasons: index.txt's names for a reason that carries an argument. */
const PSEUDO_REASONS: Readonly<Record<string, RevocationReason>> = {
  keyTime: 'keyCompromise',
  CAkeyTime: 'CACompromise',
  holdInstruction: 'certificateHold',
}

/**
 * An R entry of the usual form as der-writer.ts takes it, null when crlListings would not list it,
 * undefined when it is not of the usual form (then crlListings decides). Checks in crlListings' order.
 */
function usualEntry(entry: IndexEntry, notBefore: number | undefined): DerRevokedEntry | null | undefined {
  const { revocation } = entry
  if (!isUsualRevocation(revocation)) return undefined
  // `<time>`, `<time>,<reason>` or `<time>,<pseudo reason>,<argument>`, the time 13 characters.
  let reason: RevocationReason | undefined
  let argument: string | undefined
  if (revocation.length > 13) {
    const comma = revocation.indexOf(',', 14)
    if (comma === -1) {
      reason = reasonNameAt(revocation, 14, revocation.length)
      if (reason === 'removeFromCRL') return null
    } else {
      reason = PSEUDO_REASONS[revocation.slice(14, comma)]
      argument = revocation.slice(comma + 1)
    }
  }
  const expiry = indexTimeMs(entry.expiry)
  if (Number.isNaN(expiry)) return undefined
  if (notBefore !== undefined && expiry < notBefore) return null
  const serial = listableSerial(entry.serial)
  if (serial === undefined) return undefined
  return {
    serial,
    revocationDate: revocation.length === 13 ? revocation : revocation.slice(0, 13),
    reasonCode: reason === undefined ? undefined : REVOCATION_REASON_CODES[reason],
    invalidityDate: reason === 'certificateHold' ? undefined : argument,
    holdInstructionOid: reason === 'certificateHold' ? holdInstructionOid(argument as string) : undefined,
  }
}

/**
 * A serial a CRL can carry (1 … 2^159−1) as hex without leading zeros, or undefined for anything
 * else, which crlListings refuses.
 */
function listableSerial(hex: string): string | undefined {
  if (typeof hex !== 'string') return undefined
  let start = 0
  while (hex.charCodeAt(start) === 0x30) start++
  const digits = hex.length - start
  // 40 digits from 8 on is 2^159 or more (letters are above '8' too).
  if (digits === 0 || digits > 40 || (digits === 40 && hex.charCodeAt(start) >= 0x38)) return undefined
  if (!isHex(hex)) return undefined
  return start === 0 ? hex : hex.slice(start)
}

/**
 * Parses a CRL in DER, however many entries it lists. Everything but the revokedCertificates list
 * is parsed by @peculiar/x509's schema at once; the list is checked entry by entry here (each a
 * SEQUENCE { INTEGER, UTCTime | GeneralizedTime, [extensions] } in RFC 5280's DER form), and each
 * entry is parsed by the library when first read (see LazyCrl): a 100,000-entry CRL whose thisUpdate
 * is all that is wanted (`mtls-ca crl` reads the previous CRL's) costs milliseconds, not seconds.
 * A CRL that is not well formed is refused here, as before.
 */
export function parseCrlDer(der: Uint8Array | ArrayBuffer): x509.X509Crl {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der)
  // Not DER (the library also reads PEM, hex or base64 given as bytes): the library's way.
  if (bytes[0] !== 0x30) return new x509.X509Crl(der, parseLimitsFor(der.byteLength))
  return new LazyCrl(bytes)
}

/** Parses a CRL in PEM (label `X509 CRL`, as OpenSSL writes it), however many entries it lists. */
export function parseCrlPem(pem: string): x509.X509Crl {
  const begin = '-----BEGIN X509 CRL-----'
  const start = pem.indexOf(begin)
  const end = start < 0 ? -1 : pem.indexOf('-----END X509 CRL-----', start + begin.length)
  if (end < 0) throw new Error('no PEM X509 CRL block')
  // Node's base64 decoder skips the line breaks (and any other whitespace).
  return parseCrlDer(Buffer.from(pem.slice(start + begin.length, end), 'base64'))
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

/**
 * An X509Crl that does not parse its revokedCertificates through asn1js unless asked to. The CRL
 * without its list (version, algorithm, issuer, times, extensions) is parsed by the schema as usual
 * (with tbsCertListRaw the real TBS, for `verify`); the list is checked structurally up front
 * (checkedEntryOffsets; buildCrl's own only split into entries), `asn.tbsCertList.revokedCertificates`
 * parses it on first read, and `entries`
 * is an array of the right length whose elements @peculiar/x509 parses from their own DER when first
 * read (callers that only count them, like `mtls-ca crl`, parse nothing). rawData is the DER given.
 */
class LazyCrl extends x509.X509Crl {
  readonly #der: ArrayBuffer
  readonly #offsets: Uint32Array
  #entries: x509.X509CrlEntry[] | undefined

  /** `check`: check every entry's structure (false only for a CRL that buildCrl just wrote). */
  constructor(der: Uint8Array, check = true) {
    const outer = readTlv(der, 0)
    const tbs = readTlv(der, outer.contentStart, outer.end)
    if (outer.tag !== 0x30 || tbs.tag !== 0x30) throw new Error('a CRL is a SEQUENCE holding a SEQUENCE')
    const list = revokedListTlv(der)
    const head =
      list === undefined
        ? der
        : wrap(0x30, [
            wrap(0x30, [der.subarray(tbs.contentStart, list.start), der.subarray(list.end, tbs.end)]),
            der.subarray(tbs.end, outer.end),
          ])
    const asn = AsnConvert.parse(head, CertificateList, parseLimitsFor(head.byteLength))
    const offsets =
      list === undefined
        ? new Uint32Array(0)
        : check
          ? checkedEntryOffsets(der, list)
          : entryOffsets(der, list)
    // Copied when first read (the TBS and the list are most of a large CRL).
    let tbsRaw: ArrayBuffer | undefined
    Object.defineProperty(asn, 'tbsCertListRaw', {
      configurable: true,
      enumerable: true,
      get: () => (tbsRaw ??= arrayBuffer(der.slice(tbs.start, tbs.end))),
    })
    if (list !== undefined) {
      let parsed: RevokedCertificate[] | undefined
      const parse = () => {
        const listDer = der.slice(list.start, list.end)
        return Array.from(AsnConvert.parse(listDer, RevokedList, parseLimitsFor(listDer.byteLength)))
      }
      Object.defineProperty(asn.tbsCertList, 'revokedCertificates', {
        configurable: true,
        enumerable: true,
        get: () => (parsed ??= parse()),
      })
    }
    super(asn)
    this.#der = arrayBuffer(der)
    this.#offsets = offsets
  }

  override get rawData(): ArrayBuffer {
    return this.#der
  }

  override get entries(): x509.X509CrlEntry[] {
    this.#entries ??= lazyEntries(new Uint8Array(this.#der), this.#offsets)
    return this.#entries
  }
}

/** SEQUENCE OF RevokedCertificate, to parse a CRL's list on its own. */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: RevokedCertificate })
class RevokedList extends AsnArray<RevokedCertificate> {
  constructor(items?: RevokedCertificate[]) {
    super(items)
    Object.setPrototypeOf(this, RevokedList.prototype)
  }
}

/**
 * [start, end) of each entry of a revokedCertificates list, after checking that each is
 * SEQUENCE { serial INTEGER, revocationDate UTCTime (YYMMDDHHMMSSZ) | GeneralizedTime
 * (YYYYMMDDHHMMSSZ), crlEntryExtensions SEQUENCE OF SEQUENCE { OID, BOOLEAN OPTIONAL, OCTET STRING }
 * OPTIONAL } with nothing else, so that the library's later parse of an entry does not fail.
 */
function checkedEntryOffsets(der: Uint8Array, list: Tlv): Uint32Array {
  const bad = (at: number, why: string) => new Error(`CRL entry at offset ${at}: ${why}`)
  const starts: number[] = []
  const ends: number[] = []
  for (let at = list.contentStart; at < list.end;) {
    const entry = readTlv(der, at, list.end)
    if (entry.tag !== 0x30) throw bad(at, 'not a SEQUENCE')
    const serial = readTlv(der, entry.contentStart, entry.end)
    if (serial.tag !== 0x02 || serial.end === serial.contentStart) throw bad(at, 'no serial INTEGER')
    const time = readTlv(der, serial.end, entry.end)
    if (!timeIsDer(der, time)) throw bad(at, 'the revocation date is not a UTCTime or GeneralizedTime')
    if (time.end < entry.end) {
      const extensions = readTlv(der, time.end, entry.end)
      if (extensions.tag !== 0x30 || extensions.end !== entry.end) throw bad(at, 'not crlEntryExtensions')
      for (let e = extensions.contentStart; e < extensions.end;) {
        const extension = readTlv(der, e, extensions.end)
        if (extension.tag !== 0x30) throw bad(at, 'an extension is not a SEQUENCE')
        const oid = readTlv(der, extension.contentStart, extension.end)
        if (oid.tag !== 0x06 || oid.end === oid.contentStart) throw bad(at, 'an extension has no OID')
        let value = readTlv(der, oid.end, extension.end)
        if (value.tag === 0x01) {
          if (value.end - value.contentStart !== 1) throw bad(at, 'an extension’s critical is not a BOOLEAN')
          value = readTlv(der, value.end, extension.end)
        }
        if (value.tag !== 0x04 || value.end !== extension.end)
          throw bad(at, 'an extension has no OCTET STRING')
        e = extension.end
      }
    }
    starts.push(entry.start)
    ends.push(entry.end)
    at = entry.end
  }
  const offsets = new Uint32Array(2 * starts.length)
  for (let i = 0; i < starts.length; i++) {
    offsets[2 * i] = starts[i] as number
    offsets[2 * i + 1] = ends[i] as number
  }
  return offsets
}

/** [start, end) of each entry of a revokedCertificates list, unchecked. */
function entryOffsets(der: Uint8Array, list: Tlv): Uint32Array {
  const offsets: number[] = []
  for (let at = list.contentStart; at < list.end;) {
    const end = readTlv(der, at, list.end).end
    offsets.push(at, end)
    at = end
  }
  return Uint32Array.from(offsets)
}

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §5.1.2.4), digits checked. */
function timeIsDer(der: Uint8Array, time: Tlv): boolean {
  const length = time.end - time.contentStart
  if (!((time.tag === 0x17 && length === 13) || (time.tag === 0x18 && length === 15))) return false
  for (let i = time.contentStart; i < time.end - 1; i++) {
    const c = der[i] as number
    if (c < 0x30 || c > 0x39) return false
  }
  return der[time.end - 1] === 0x5a // 'Z'
}

/**
 * The entries at `offsets` of the CRL `der` as an array of X509CrlEntry made on first read (a Proxy over an array of that length: indexing, iteration, `in`, map/find/flatMap… all see
 * every element).
 */
function lazyEntries(der: Uint8Array, offsets: Uint32Array): x509.X509CrlEntry[] {
  const count = offsets.length / 2
  const target = new Array<x509.X509CrlEntry | undefined>(count).fill(undefined)
  const entryAt = (i: number): x509.X509CrlEntry => {
    let entry = target[i]
    if (entry === undefined) {
      entry = new x509.X509CrlEntry(der.slice(offsets[2 * i], offsets[2 * i + 1]))
      target[i] = entry
    }
    return entry
  }
  const index = (prop: string | symbol): number | undefined => {
    if (typeof prop !== 'string' || !/^(?:0|[1-9]\d*)$/.test(prop)) return undefined
    const i = Number(prop)
    return i < count ? i : undefined
  }
  return new Proxy(target, {
    get(t, prop, receiver) {
      const i = index(prop)
      return i === undefined ? Reflect.get(t, prop, receiver) : entryAt(i)
    },
    getOwnPropertyDescriptor(t, prop) {
      const i = index(prop)
      if (i !== undefined) entryAt(i)
      return Reflect.getOwnPropertyDescriptor(t, prop)
    },
  }) as x509.X509CrlEntry[]
}

/**
 * The revokedCertificates TLV of a CRL, if present: in TBSCertList { version INTEGER, signature
 * SEQUENCE, issuer SEQUENCE, thisUpdate, nextUpdate, revokedCertificates SEQUENCE, [0] … }, the third
 * SEQUENCE (the times are UTCTime or GeneralizedTime).
 */
function revokedListTlv(der: Uint8Array): Tlv | undefined {
  const outer = readTlv(der, 0)
  const tbs = readTlv(der, outer.contentStart, outer.end)
  let sequences = 0
  for (let at = tbs.contentStart; at < tbs.end;) {
    const child = readTlv(der, at, tbs.end)
    if (child.tag === 0x30 && ++sequences === 3) return child
    at = child.end
  }
  return undefined
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

// ---------------------------------------------------------------------------------------------------

/**
 * A listing as der-writer.ts takes it (the straightforward way): the serial in upper-case hex, the
 * times as the ASN.1 text RFC 5280 asks for (UTCTime for 1950–2049; the invalidity date always
 * GeneralizedTime), as the schema would write them.
 */
function derEntry(listing: CrlListing): DerRevokedEntry {
  const { revocation } = listing
  return {
    serial: listing.serial.toString(16).toUpperCase(),
    revocationDate: formatIndexTime(revocation.time),
    reasonCode: revocation.reason === undefined ? undefined : REVOCATION_REASON_CODES[revocation.reason],
    invalidityDate:
      revocation.invalidityDate === undefined ? undefined : formatGeneralizedTime(revocation.invalidityDate),
    // parseRevocation only accepts instructions that resolve to an OID.
    holdInstructionOid:
      revocation.holdInstruction === undefined
        ? undefined
        : (holdInstructionOid(revocation.holdInstruction) as string),
  }
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

/** The bytes as an ArrayBuffer: their own when they span all of it (as a fresh large Buffer does). */
function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return bytes.buffer as ArrayBuffer
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
