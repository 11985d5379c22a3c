/**
 * A lean DER writer for the one part of a CRL that grows with the CA: the revokedCertificates
 * SEQUENCE of a TBSCertList, plus the few byte-level steps around it (splicing it into a TBSCertList
 * encoded without it, the outer CertificateList SEQUENCE, and reading TLVs so that crl.ts can find
 * the list and its entries in a CRL without parsing them).
 *
 * Why not @peculiar/asn1-schema: encoding 100,000 entries through it builds a schema object and an
 * asn1js tree per entry (about eight nodes each) and then copies every level's bytes into the level
 * above (`toBER`/`concat2`); on 100,000 entries that was over half the CPU of `mtls-ca crl` and most of
 * its garbage (docs/performance.md). Each entry has a small fixed shape (serial INTEGER, UTCTime or
 * GeneralizedTime, and up to three non-critical extensions: reason ENUMERATED, invalidity
 * GeneralizedTime, hold instruction OID), so it is written here straight into one Buffer: lengths
 * are computed first, then every byte is written once.
 *
 * Everything else in the CRL (version, algorithm, issuer Name, times, CRL extensions) stays with the
 * schemas. test/crl.test.ts checks the output byte for byte against the schema-built CRL for every
 * revocation form, serial edge values, times on both sides of 2050 and thousands of random entries.
 */

/** One revokedCertificates entry, in the form crl.ts hands over. */
export interface DerRevokedEntry {
  /** 1 … 2^159−1 (checked by the caller). */
  serial: bigint
  /** Whole seconds. */
  revocationDate: Date
  /** CRLReason code (0–10), when the entry has a reason code extension. */
  reasonCode?: number
  /** Whole seconds; written as GeneralizedTime, as RFC 5280 §5.3.2 requires. */
  invalidityDate?: Date
  /** Dotted OID of the hold instruction. */
  holdInstructionOid?: string
}

const TAG_INTEGER = 0x02
const TAG_OCTET_STRING = 0x04
const TAG_OID = 0x06
const TAG_ENUMERATED = 0x0a
const TAG_UTC_TIME = 0x17
const TAG_GENERALIZED_TIME = 0x18
const TAG_SEQUENCE = 0x30

// Extension OIDs (2.5.29.21 reasonCode, 2.5.29.24 invalidityDate, 2.5.29.23 holdInstructionCode).
const OID_REASON = [0x55, 0x1d, 0x15]
const OID_INVALIDITY = [0x55, 0x1d, 0x18]
const OID_HOLD = [0x55, 0x1d, 0x17]

/** Octets of a DER length field for `n`. */
export function lengthOctets(n: number): number {
  if (n < 0x80) return 1
  if (n < 0x100) return 2
  if (n < 0x10000) return 3
  if (n < 0x1000000) return 4
  return 5
}

/** Writes a DER length at `at`; returns the offset after it. */
export function writeLength(out: Uint8Array, at: number, n: number): number {
  const octets = lengthOctets(n)
  if (octets === 1) {
    out[at] = n
    return at + 1
  }
  out[at++] = 0x80 | (octets - 1)
  for (let shift = (octets - 2) * 8; shift >= 0; shift -= 8) out[at++] = Math.floor(n / 2 ** shift) & 0xff
  return at
}

/** Total size of a TLV whose content is `n` octets (one-octet tag). */
function tlv(n: number): number {
  return 1 + lengthOctets(n) + n
}

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

/** Writes `n` as `width` decimal digits at `at`; returns the offset after them. */
function writeDigits(out: Buffer, at: number, n: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = 0x30 + (n % 10)
    n = Math.floor(n / 10)
  }
  return at + width
}

/**
 * Writes the time's content octets, YYMMDDHHMMSSZ (UTCTime) or YYYYMMDDHHMMSSZ (GeneralizedTime),
 * RFC 5280 §4.1.2.5; returns the offset after them.
 */
function writeTime(out: Buffer, at: number, d: Date, generalized: boolean): number {
  // The calendar fields from the epoch milliseconds by arithmetic (Hinnant's civil_from_days),
  // several times faster than six getUTC* calls; the tests compare with the schema's output.
  const t = Math.floor(d.getTime() / 1000)
  const days = Math.floor(t / 86_400)
  const secondOfDay = t - days * 86_400
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  at = generalized ? writeDigits(out, at, year, 4) : writeDigits(out, at, year % 100, 2)
  at = writeDigits(out, at, month, 2)
  at = writeDigits(out, at, day, 2)
  at = writeDigits(out, at, Math.floor(secondOfDay / 3600), 2)
  at = writeDigits(out, at, Math.floor(secondOfDay / 60) % 60, 2)
  at = writeDigits(out, at, secondOfDay % 60, 2)
  out[at] = 0x5a // 'Z'
  return at + 1
}

const UTC_TIME_LENGTH = 13
const GENERALIZED_TIME_LENGTH = 15

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049. */
function isUtcYear(d: Date): boolean {
  const t = d.getTime()
  return t >= YEAR_1950 && t < YEAR_2050
}

/** Big-endian two's-complement content octets of a positive serial, as hex. */
function serialHex(serial: bigint): string {
  let hex = serial.toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  // A leading 0x00 keeps the sign bit clear when the top octet is ≥ 0x80.
  if (hex.charCodeAt(0) >= 0x38 /* '8' */) hex = `00${hex}`
  return hex
}

/** Checks what the writer assumes of an entry; returns its extensions' content length, -1 for none. */
function extensionsContent(e: DerRevokedEntry): number {
  // The shapes written here: one-octet ENUMERATED, four-digit years.
  if (
    e.reasonCode !== undefined &&
    !(Number.isInteger(e.reasonCode) && e.reasonCode >= 0 && e.reasonCode < 0x80)
  ) {
    throw new RangeError(`reason code ${e.reasonCode} is not 0…127`)
  }
  checkYear(e.revocationDate)
  if (e.invalidityDate !== undefined) checkYear(e.invalidityDate)
  if (e.reasonCode === undefined && e.invalidityDate === undefined && e.holdInstructionOid === undefined)
    return -1
  let n = 0
  // Extension ::= SEQUENCE { extnID OID, extnValue OCTET STRING } (critical FALSE is omitted).
  if (e.reasonCode !== undefined) n += tlv(tlv(3) + tlv(tlv(1)))
  if (e.invalidityDate !== undefined) n += tlv(tlv(3) + tlv(tlv(GENERALIZED_TIME_LENGTH)))
  if (e.holdInstructionOid !== undefined) n += tlv(tlv(3) + tlv(tlv(cachedOid(e.holdInstructionOid).length)))
  return n
}

// Epoch milliseconds of 0000-01-01, 1950-01-01, 2050-01-01 and 10000-01-01 (UTC).
const YEAR_0 = -62_167_219_200_000
const YEAR_1950 = -631_152_000_000
const YEAR_2050 = 2_524_608_000_000
const YEAR_10000 = 253_402_300_800_000

function checkYear(d: Date): void {
  const t = d.getTime()
  if (!(t >= YEAR_0 && t < YEAR_10000)) throw new RangeError(`${String(d)} is not a time in years 0…9999`)
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
 * crlEntryExtensions }` for the entries in the order given, extensions in make_revoked's order:
 * reason code, invalidity date, hold instruction.
 */
export function encodeRevokedCertificates(entries: readonly DerRevokedEntry[]): Buffer {
  // First the sizes (no object per entry: the hex serials and two lengths each), then the bytes.
  const count = entries.length
  const serials = new Array<string>(count)
  const sizes = new Int32Array(2 * count) // [entry content, extensions content or -1]
  let listContent = 0
  for (let i = 0; i < count; i++) {
    const e = entries[i] as DerRevokedEntry
    const hex = serialHex(e.serial)
    const exts = extensionsContent(e)
    let content =
      tlv(hex.length / 2) + tlv(isUtcYear(e.revocationDate) ? UTC_TIME_LENGTH : GENERALIZED_TIME_LENGTH)
    if (exts >= 0) content += tlv(exts)
    serials[i] = hex
    sizes[2 * i] = content
    sizes[2 * i + 1] = exts
    listContent += tlv(content)
  }
  const out = Buffer.allocUnsafe(tlv(listContent))
  let at = 0
  out[at++] = TAG_SEQUENCE
  at = writeLength(out, at, listContent)
  for (let i = 0; i < count; i++) {
    const e = entries[i] as DerRevokedEntry
    const hex = serials[i] as string
    out[at++] = TAG_SEQUENCE
    at = writeLength(out, at, sizes[2 * i] as number)
    out[at++] = TAG_INTEGER
    at = writeLength(out, at, hex.length / 2)
    at += out.write(hex, at, 'hex')
    const utc = isUtcYear(e.revocationDate)
    out[at++] = utc ? TAG_UTC_TIME : TAG_GENERALIZED_TIME
    out[at++] = utc ? UTC_TIME_LENGTH : GENERALIZED_TIME_LENGTH
    at = writeTime(out, at, e.revocationDate, !utc)
    const exts = sizes[2 * i + 1] as number
    if (exts < 0) continue
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
      at = writeTime(out, at, e.invalidityDate, true)
    }
    if (e.holdInstructionOid !== undefined) {
      const hold = cachedOid(e.holdInstructionOid)
      at = writeExtensionHeader(out, at, OID_HOLD, tlv(hold.length))
      out[at++] = TAG_OID
      at = writeLength(out, at, hold.length)
      for (const b of hold) out[at++] = b
    }
  }
  if (at !== out.length) throw new Error(`DER writer: wrote ${at} of ${out.length} octets`)
  return out
}

/** A TLV read at `at`: where its content starts and ends. */
export interface Tlv {
  tag: number
  start: number
  contentStart: number
  end: number
}

/** Reads one DER TLV (one-octet tag, definite length) at `at`, bounded by `limit`. */
export function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw new Error('DER: truncated')
  const tag = der[at] as number
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-octet tags are not read here')
  let p = at + 1
  const first = der[p++] as number
  let length = first
  if (first >= 0x80) {
    const octets = first & 0x7f
    if (octets === 0 || octets > 4) throw new Error('DER: unsupported length')
    length = 0
    for (let i = 0; i < octets; i++) {
      if (p >= limit) throw new Error('DER: truncated')
      length = length * 256 + (der[p++] as number)
    }
  }
  const end = p + length
  if (end > limit) throw new Error('DER: truncated')
  return { tag, start: at, contentStart: p, end }
}

/** A constructed TLV with `tag` around `parts`, as one Buffer. */
export function wrap(tag: number, parts: readonly Uint8Array[]): Buffer {
  let content = 0
  for (const p of parts) content += p.length
  const out = Buffer.allocUnsafe(tlv(content))
  out[0] = tag
  let at = writeLength(out, 1, content)
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * Inserts `element` into the SEQUENCE `sequence` just before its first child whose tag is
 * `beforeTag` (at the end when there is none), and rewrites the SEQUENCE's length.
 */
export function insertIntoSequence(sequence: Uint8Array, element: Uint8Array, beforeTag: number): Buffer {
  const outer = readTlv(sequence, 0)
  if (outer.tag !== TAG_SEQUENCE || outer.end !== sequence.length) throw new Error('DER: not one SEQUENCE')
  let at = outer.contentStart
  while (at < outer.end) {
    const child = readTlv(sequence, at, outer.end)
    if (child.tag === beforeTag) break
    at = child.end
  }
  return wrap(TAG_SEQUENCE, [
    sequence.subarray(outer.contentStart, at),
    element,
    sequence.subarray(at, outer.end),
  ])
}

/** `BIT STRING` with no unused bits around `bytes`. */
export function bitString(bytes: Uint8Array): Buffer {
  return wrap(0x03, [Uint8Array.of(0), bytes])
}
