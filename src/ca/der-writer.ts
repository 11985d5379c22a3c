import { TAG_SEQUENCE, tlv, writeLength } from './der-bytes.js'

/**
 * A lean DER writer for the one part of a CRL that grows with the CA: the revokedCertificates
 * SEQUENCE of a TBSCertList. The byte-level steps around it (splicing it into a TBSCertList encoded
 * without it, the outer CertificateList SEQUENCE, reading TLVs) are in der-bytes.ts.
 *
 * Why not @peculiar/asn1-schema: encoding 100,000 entries through it builds a schema object and an
 * asn1js tree per entry (about eight nodes each) and then copies every level's bytes into the level
 * above (`toBER`/`concat2`); on 100,000 entries that was over half the CPU of `mtls-ca crl` and most of
 * its garbage (docs/performance.md). Each entry has a small fixed shape (serial INTEGER, UTCTime or
 * GeneralizedTime, and up to three non-critical extensions: reason ENUMERATED, invalidity
 * GeneralizedTime, hold instruction OID), so it is written here straight into a Buffer, and the
 * entries are then put in serial order (RevokedListWriter says how). Serials come as hex and times
 * as their ASN.1 text, the forms index.txt holds them in, so that a CRL made from index.txt never
 * converts them to numbers or Dates and back.
 *
 * Everything else in the CRL (version, algorithm, issuer Name, times, CRL extensions) stays with the
 * schemas. test/crl.test.ts checks the output byte for byte against the schema-built CRL for every
 * revocation form, serial edge values, times from the years 1000 to 9999 and thousands of random
 * entries.
 */

/** One revokedCertificates entry, in the form crl.ts hands over. */
export interface DerRevokedEntry {
  /** The serial in hex digits (either case) without leading zeros: 1 … 2^159−1 (checked by the caller). */
  serial: string
  /**
   * The ASN.1 time text: `YYMMDDHHMMSSZ` is written as a UTCTime, `YYYYMMDDHHMMSSZ` as a
   * GeneralizedTime (RFC 5280 §5.1.2.4 wants UTCTime for 1950–2049: formatIndexTime's choice).
   * The caller checks the digits.
   */
  revocationDate: string
  /** CRLReason code (0–10), when the entry has a reason code extension. */
  reasonCode?: number
  /** `YYYYMMDDHHMMSSZ`: written as GeneralizedTime, as RFC 5280 §5.3.2 requires. */
  invalidityDate?: string
  /** Dotted OID of the hold instruction. */
  holdInstructionOid?: string
}

const TAG_INTEGER = 0x02
const TAG_OCTET_STRING = 0x04
const TAG_OID = 0x06
const TAG_ENUMERATED = 0x0a
const TAG_UTC_TIME = 0x17
const TAG_GENERALIZED_TIME = 0x18

// Extension OIDs (2.5.29.21 reasonCode, 2.5.29.24 invalidityDate, 2.5.29.23 holdInstructionCode).
const OID_REASON = [0x55, 0x1d, 0x15]
const OID_INVALIDITY = [0x55, 0x1d, 0x18]
const OID_HOLD = [0x55, 0x1d, 0x17]

/** DER content octets of an OBJECT IDENTIFIER in dotted form. */
export function oidContent(oid: string): number[] {
  const arcs = oid.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`'${oid}' is not an OID`)
    return BigInt(a)
  })
  if (arcs.length < 2) throw new RangeError(`'${oid}' is not an OID`)
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]]
  if (first > 2n || (first < 2n && second > 39n)) throw new RangeError(`'${oid}' is not an OID`)
  const out: number[] = []
  for (const arc of [first * 40n + second, ...rest]) {
    const septets: number[] = [Number(arc & 0x7fn)]
    for (let v = arc >> 7n; v > 0n; v >>= 7n) septets.unshift(Number(v & 0x7fn) | 0x80)
    out.push(...septets)
  }
  return out
}

const oidCache = new Map<string, number[]>()
function cachedOid(oid: string): number[] {
  let content = oidCache.get(oid)
  if (content === undefined) {
    content = oidContent(oid)
    oidCache.set(oid, content)
  }
  return content
}

/** Writes the ASCII text `s` at `at`; returns the offset after it. */
function writeText(out: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i)
  return at
}

const UTC_TIME_LENGTH = 13
const GENERALIZED_TIME_LENGTH = 15

/**
 * Octets of the INTEGER content of a positive serial given in hex without leading zeros: big-endian,
 * with a leading 0x00 when the top octet is ≥ 0x80 (which keeps the sign bit clear).
 */
function serialOctets(hex: string): number {
  const octets = (hex.length + 1) >> 1
  return hex.length % 2 === 0 && hex.charCodeAt(0) >= 0x38 /* '8' */ ? octets + 1 : octets
}

/** Writes the serialOctets of `hex` at `at`; returns the offset after them. */
function writeSerial(out: Buffer, at: number, hex: string): number {
  let i = 0
  if (hex.length % 2 === 1) {
    out[at++] = HEX_VALUE[hex.charCodeAt(0) & 0x7f] as number
    i = 1
  } else if (hex.charCodeAt(0) >= 0x38) {
    out[at++] = 0
  }
  for (; i < hex.length; i += 2) {
    out[at++] =
      ((HEX_VALUE[hex.charCodeAt(i) & 0x7f] as number) << 4) |
      (HEX_VALUE[hex.charCodeAt(i + 1) & 0x7f] as number)
  }
  return at
}

/**
 * The value of each hex digit (either case) by character code. A table, because random digits are
 * letters or not at random: a branch on it was mispredicted often enough to double the time.
 */
const HEX_VALUE = new Uint8Array(0x80)
for (let v = 0; v < 16; v++) {
  HEX_VALUE[v.toString(16).charCodeAt(0)] = v
  HEX_VALUE[v.toString(16).toUpperCase().charCodeAt(0)] = v
}

/** Checks what the writer assumes of an entry; returns its extensions' content length, -1 for none. */
function extensionsContent(e: DerRevokedEntry): number {
  // The shapes written here: one-octet ENUMERATED, times of the two ASN.1 lengths.
  if (
    e.reasonCode !== undefined &&
    !(Number.isInteger(e.reasonCode) && e.reasonCode >= 0 && e.reasonCode < 0x80)
  ) {
    throw new RangeError(`reason code ${e.reasonCode} is not 0…127`)
  }
  const { revocationDate, invalidityDate } = e
  if (revocationDate.length !== UTC_TIME_LENGTH && revocationDate.length !== GENERALIZED_TIME_LENGTH) {
    throw new RangeError(`'${revocationDate}' is not an ASN.1 time YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ`)
  }
  if (invalidityDate !== undefined && invalidityDate.length !== GENERALIZED_TIME_LENGTH) {
    throw new RangeError(`'${invalidityDate}' is not a GeneralizedTime YYYYMMDDHHMMSSZ`)
  }
  if (e.reasonCode === undefined && e.invalidityDate === undefined && e.holdInstructionOid === undefined)
    return -1
  let n = 0
  // Extension ::= SEQUENCE { extnID OID, extnValue OCTET STRING } (critical FALSE is omitted).
  if (e.reasonCode !== undefined) n += tlv(tlv(3) + tlv(tlv(1)))
  if (e.invalidityDate !== undefined) n += tlv(tlv(3) + tlv(tlv(GENERALIZED_TIME_LENGTH)))
  if (e.holdInstructionOid !== undefined) n += tlv(tlv(3) + tlv(tlv(cachedOid(e.holdInstructionOid).length)))
  return n
}

function writeExtensionHeader(out: Buffer, at: number, oid: number[], valueTlv: number): number {
  out[at++] = TAG_SEQUENCE
  at = writeLength(out, at, tlv(oid.length) + tlv(valueTlv))
  out[at++] = TAG_OID
  at = writeLength(out, at, oid.length)
  for (const b of oid) out[at++] = b
  out[at++] = TAG_OCTET_STRING
  return writeLength(out, at, valueTlv)
}

/**
 * The DER of `revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate,
 * crlEntryExtensions }` for `entries` (see RevokedListWriter).
 */
export function encodeRevokedCertificates(entries: readonly DerRevokedEntry[]): Buffer {
  const list = new RevokedListWriter()
  for (const e of entries) list.add(e)
  return list.finish()
}

/**
 * Writes a revokedCertificates list entry by entry: `finish` gives the SEQUENCE with the entries in
 * serial order, as X509_CRL_sort puts them (entries with the same serial in the order added), each
 * one's extensions in make_revoked's order: reason code, invalidity date, hold instruction.
 *
 * Each entry is written as it is added, into one growing buffer, and the entries are moved into
 * serial order at the end: a CRL's entries come from index.txt as slices of its text, and reading
 * them in serial order, from random places in megabytes of text, cost more than all the rest; no
 * object is kept per entry either (on 100,000 entries, the garbage collector's copying of objects that
 * live until the end was a large part of the time). Serial order is the order of the INTEGER contents
 * (positive and minimal): fewer octets first, then octet by octet; a number holds the length and the
 * first six octets (`keys`), and the other octets break its ties.
 */
export class RevokedListWriter {
  #body = Buffer.allocUnsafe(64 * 1024)
  #at = 0
  /** Where each entry starts in #body. */
  readonly #starts: number[] = []
  /** Where each entry's serial content starts in #body. */
  readonly #serials: number[] = []
  readonly #keys: number[] = []

  /** How many entries were added. */
  get count(): number {
    return this.#keys.length
  }

  add(e: DerRevokedEntry): void {
    const exts = extensionsContent(e)
    const octets = serialOctets(e.serial)
    // The sort key and tieBreak assume one length octet and at most 21 octets (a 20-octet serial).
    if (octets < 1 || octets > 21) throw new RangeError(`serial '${e.serial}' is not 1 to 20 octets in hex`)
    let content = tlv(octets) + tlv(e.revocationDate.length)
    if (exts >= 0) content += tlv(exts)
    const start = this.#at
    const end = start + tlv(content)
    if (end > this.#body.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, 2 * this.#body.length))
      this.#body.copy(grown, 0, 0, start)
      this.#body = grown
    }
    const body = this.#body
    let at = start
    body[at++] = TAG_SEQUENCE
    at = writeLength(body, at, content)
    body[at++] = TAG_INTEGER
    at = writeLength(body, at, octets)
    this.#starts.push(start)
    this.#serials.push(at)
    at = writeSerial(body, at, e.serial)
    this.#keys.push(sortKey(body, at - octets, octets))
    at = writeRest(body, at, e, exts)
    if (at !== end) throw new Error(`DER writer: wrote ${at - start} of ${end - start} octets`)
    this.#at = end
  }

  /** The list, in serial order. */
  finish(): Buffer {
    const body = this.#body
    const starts = this.#starts
    const serials = this.#serials
    const keys = this.#keys
    const order = sortedOrder(
      keys,
      (i, j) => (keys[i] as number) - (keys[j] as number) || tieBreak(body, serials, i, j) || i - j,
    )
    const out = Buffer.allocUnsafe(tlv(this.#at))
    out[0] = TAG_SEQUENCE
    let at = writeLength(out, 1, this.#at)
    for (const i of order) {
      const end = i + 1 < starts.length ? (starts[i + 1] as number) : this.#at
      // A loop rather than body.copy: 100,000 calls of Buffer#copy cost several times more.
      for (let k = starts[i] as number; k < end; k++) out[at++] = body[k] as number
    }
    return out
  }
}

/**
 * The indices of `keys` (integers below 2^53) in the order of `compare`, which orders by key first.
 * Most of the work is the engine's native numeric sort of a Float64Array, several times faster than
 * a sort that calls a comparator: each key loses its low bits to make room for its index (a double
 * holds integers up to 2^53 exactly), so the sort orders by what is left of the key, then by index.
 * Only runs of indices that share what is left of their key (rare with random serials) are then
 * sorted by `compare`.
 */
function sortedOrder(keys: readonly number[], compare: (i: number, j: number) => number): number[] {
  const count = keys.length
  const scale = 2 ** Math.max(1, Math.ceil(Math.log2(count)))
  const packed = new Float64Array(count)
  for (let i = 0; i < count; i++) packed[i] = Math.floor((keys[i] as number) / scale) * scale + i
  packed.sort()
  const order = new Array<number>(count)
  for (let i = 0; i < count; i++) order[i] = (packed[i] as number) % scale
  for (let start = 0; start < count;) {
    const reduced = Math.floor((packed[start] as number) / scale)
    let end = start + 1
    while (end < count && Math.floor((packed[end] as number) / scale) === reduced) end++
    if (end - start > 1) {
      const run = order.slice(start, end).sort(compare)
      for (let k = 0; k < run.length; k++) order[start + k] = run[k] as number
    }
    start = end
  }
  return order
}

/** The serial order of `octets` content octets at `at`, up to their seventh octet: length, then value. */
function sortKey(der: Uint8Array, at: number, octets: number): number {
  let key = octets
  for (let k = 0; k < 6; k++) key = key * 256 + (k < octets ? (der[at + k] as number) : 0)
  return key
}

/** For serials with the same sortKey (so the same length): the order of their other octets. */
function tieBreak(der: Uint8Array, serials: readonly number[], i: number, j: number): number {
  const a = serials[i] as number
  const b = serials[j] as number
  const octets = der[a - 1] as number // one length octet: a serial has at most 21
  for (let k = 6; k < octets; k++) {
    const d = (der[a + k] as number) - (der[b + k] as number)
    if (d !== 0) return d
  }
  return 0
}

/** Writes an entry's revocationDate and crlEntryExtensions (`exts`: their content length, -1 for none). */
function writeRest(out: Buffer, at: number, e: DerRevokedEntry, exts: number): number {
  const time = e.revocationDate
  out[at++] = time.length === UTC_TIME_LENGTH ? TAG_UTC_TIME : TAG_GENERALIZED_TIME
  out[at++] = time.length
  at = writeText(out, at, time)
  if (exts < 0) return at
  out[at++] = TAG_SEQUENCE
  at = writeLength(out, at, exts)
  if (e.reasonCode !== undefined) {
    at = writeExtensionHeader(out, at, OID_REASON, tlv(1))
    out[at++] = TAG_ENUMERATED
    out[at++] = 1
    out[at++] = e.reasonCode
  }
  if (e.invalidityDate !== undefined) {
    at = writeExtensionHeader(out, at, OID_INVALIDITY, tlv(GENERALIZED_TIME_LENGTH))
    out[at++] = TAG_GENERALIZED_TIME
    out[at++] = GENERALIZED_TIME_LENGTH
    at = writeText(out, at, e.invalidityDate)
  }
  if (e.holdInstructionOid !== undefined) {
    const hold = cachedOid(e.holdInstructionOid)
    at = writeExtensionHeader(out, at, OID_HOLD, tlv(hold.length))
    out[at++] = TAG_OID
    at = writeLength(out, at, hold.length)
    for (const b of hold) out[at++] = b
  }
  return at
}
