/**
 * The codec of OpenSSL's CA database: `index.txt` (a TXT_DB of six tab-separated columns, one line per
 * certificate) and `index.txt.attr`. Columns stay the raw strings of the file, so reading and writing
 * back gives what `openssl ca` wrote byte for byte; the helpers here give them meaning (times,
 * revocation info, serials). Reading is as strict as `openssl ca` is when it loads the database, and
 * a little stricter where OpenSSL would silently misread.
 */

import { CaError } from './errors.js'
import { serialFromHex } from './serial-number.js'

export type IndexStatus = 'V' | 'R' | 'E'

export interface IndexEntry {
  /** V valid, R revoked, E expired (only `openssl ca -updatedb` writes E). */
  status: IndexStatus
  /** The certificate's notAfter as its ASN.1 text: `YYMMDDHHMMSSZ`, or `YYYYMMDDHHMMSSZ` from 2050. */
  expiry: string
  /** Empty unless revoked; then `<time>[,<reason>[,<argument>]]` (see parseRevocation). */
  revocation: string
  /** BN_bn2hex of the serial: upper-case hex, whole octets (`01`, `1000`, `80`). */
  serial: string
  /** `unknown`: openssl ca never records a file name. */
  file: string
  /** X509_NAME_oneline of the subject (`/C=US/O=…/CN=…`); openssl ca puts the serial when it is empty. */
  subject: string
}

const FIELD_COUNT = 6

/**
 * Reads index.txt. An empty file has no entries. Lines starting with `#` are skipped, as TXT_DB_read
 * does (and, like `openssl ca`, serializeIndex does not write them back). OpenSSL always ends the
 * last line with a newline and silently ignores an unterminated last line; here it is read, so
 * writing the file back makes that certificate visible to OpenSSL again.
 *
 * Speed (issue #5: a 1,000,000-line index loads in under 2 s and 500 MB). A line of the usual form
 * (no backslash, six fields, each one valid) is checked where it lies in the text, by character
 * codes and without building a Date, and its fields are taken as slices of the text; lines in a row
 * with the same expiry share one string. Any other line goes through `parseLine`, the
 * straightforward path, which words the error (or accepts the rare forms the fast check leaves to
 * it, such as a reason name in unusual case). The fast check only accepts what the straightforward
 * one accepts, and builds the same entry; the tests compare the two.
 */
export function parseIndex(text: string): IndexEntry[] {
  const entries: IndexEntry[] = []
  // Sized for lines of 128 characters (openssl ca's are about that long): growing it rehashes all.
  const bySerial = new SerialTable((position) => (entries[position] as IndexEntry).serial, text.length / 128)
  let lineOfEntry = new Int32Array(1024)
  const end = text.length
  let pos = 0
  let lineNumber = 0
  let nextBackslash = text.indexOf('\\')
  let lastExpiry = ''
  while (pos < end) {
    lineNumber++
    let eol = text.indexOf('\n', pos)
    if (eol === -1) eol = end
    const start = pos
    pos = eol + 1
    if (text.charCodeAt(start) === 0x23 /* # */) continue
    if (nextBackslash !== -1 && nextBackslash < start) nextBackslash = text.indexOf('\\', start)
    const escaped = nextBackslash !== -1 && nextBackslash < eol

    let entry: IndexEntry | undefined
    let serialStart = 0
    let serialEnd = 0
    // The usual line: status, tab, then five tab-separated fields, each checked in place.
    const status = statusOf(text.charCodeAt(start))
    const t1 = start + 1
    if (
      !escaped &&
      status !== undefined &&
      text.charCodeAt(t1) === 0x09 &&
      text.charCodeAt(eol - 1) !== 0x0d
    ) {
      // indexOf may find a tab of a later line (> eol), or none (-1): then the line is not the usual one.
      const t2 = text.indexOf('\t', t1 + 1)
      const t3 = text.indexOf('\t', t2 + 1)
      const t4 = text.indexOf('\t', t3 + 1)
      const t5 = text.indexOf('\t', t4 + 1)
      const t6 = text.indexOf('\t', t5 + 1)
      if (
        t1 < t2 &&
        t2 < t3 &&
        t3 < t4 &&
        t4 < t5 &&
        t5 < eol &&
        (t6 === -1 || t6 > eol) &&
        isTimeAt(text, t1 + 1, t2 - t1 - 1) &&
        (status === 'R' ? isRevocationAt(text, t2 + 1, t3) : t3 === t2 + 1) &&
        isEvenHexAt(text, t3 + 1, t4)
      ) {
        if (lastExpiry.length !== t2 - t1 - 1 || !text.startsWith(lastExpiry, t1 + 1)) {
          lastExpiry = text.slice(t1 + 1, t2)
        }
        // Every line openssl ca writes says `unknown`: one string for all of them, not one per line.
        const file = t5 - t4 === 8 && text.startsWith('unknown', t4 + 1) ? 'unknown' : text.slice(t4 + 1, t5)
        entry = {
          status,
          expiry: lastExpiry,
          revocation: t3 === t2 + 1 ? '' : text.slice(t2 + 1, t3),
          serial: text.slice(t3 + 1, t4),
          file,
          subject: text.slice(t5 + 1, eol),
        }
        serialStart = t3 + 1
        serialEnd = t4
      }
    }
    if (entry === undefined) {
      try {
        entry = parseLine(text.slice(start, eol), escaped)
      } catch (e) {
        throw new CaError('state.corrupt', `line ${lineNumber}: ${(e as Error).message}`, { cause: e })
      }
      serialStart = -1
    }

    // OpenSSL indexes serials uniquely (ignoring leading zeros) and refuses to load duplicates, which
    // is what a union merge of two branches' index.txt produces.
    const hash =
      serialStart === -1
        ? hashSerial(entry.serial, 0, entry.serial.length)
        : hashSerial(text, serialStart, serialEnd)
    const earlier = bySerial.find(entry.serial, hash)
    if (earlier !== -1) {
      throw new CaError(
        'state.corrupt',
        `line ${lineNumber}: serial ${entry.serial} is already on line ${lineOfEntry[earlier]}`,
      )
    }
    const position = entries.length
    if (position === lineOfEntry.length) {
      const grown = new Int32Array(position * 2)
      grown.set(lineOfEntry)
      lineOfEntry = grown
    }
    lineOfEntry[position] = lineNumber
    bySerial.add(hash, position)
    entries.push(entry)
  }
  return entries
}

function statusOf(code: number): IndexStatus | undefined {
  return code === 0x56 ? 'V' : code === 0x52 ? 'R' : code === 0x45 ? 'E' : undefined
}

/** Where `code` first is in s[from, end), or -1. */
function indexIn(s: string, code: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (s.charCodeAt(i) === code) return i
  return -1
}

/**
 * What `openssl ca` writes (TXT_DB_write): each entry on its own line, a tab inside a field escaped as `\<tab>`.
 *
 * Entries are checked with the same fast check as parseIndex (no Date); one that fails it, or has a
 * tab to escape, goes the straightforward way. Lines are joined in chunks, so that no string of the
 * size of the file is built from a million small pieces at once.
 */
export function serializeIndex(entries: readonly IndexEntry[]): string {
  const chunks: string[] = []
  let lines: string[] = []
  for (const entry of entries) {
    lines.push(serializeEntry(entry))
    if (lines.length === 4096) {
      chunks.push(lines.join(''))
      lines = []
    }
  }
  chunks.push(lines.join(''))
  return chunks.length === 1 ? (chunks[0] as string) : chunks.join('')
}

function serializeEntry(entry: IndexEntry): string {
  const { file, subject } = entry
  if (
    isValidEntry(entry) &&
    typeof file === 'string' &&
    typeof subject === 'string' &&
    !TAB_OR_BREAK.test(file) &&
    !TAB_OR_BREAK.test(subject)
  ) {
    // The other four fields passed isValidEntry, so they hold no tab and no line break.
    return `${entry.status}\t${entry.expiry}\t${entry.revocation}\t${entry.serial}\t${file}\t${subject}\n`
  }
  // The straightforward path: the error for a bad entry, and the escaping of tabs.
  const fields = [entry.status, entry.expiry, entry.revocation, entry.serial, entry.file, entry.subject]
  const problem = entryProblem(entry) ?? (fields.some((f) => /[\r\n]/.test(f)) ? 'a line break' : undefined)
  if (problem !== undefined) {
    throw new CaError('state.write_failed', `index entry for serial ${entry.serial} has ${problem}`)
  }
  return `${fields.map((f) => f.replaceAll('\t', '\\\t')).join('\t')}\n`
}

const TAB_OR_BREAK = /[\t\r\n]/

/**
 * The entry for a serial, given as a bigint or hex in either case with or without leading zeros.
 * This scans the entries, comparing text (no BigInt per entry). For many lookups in the same
 * entries, build an `indexBySerial` once: its lookups take constant time.
 */
export function findBySerial(
  entries: readonly IndexEntry[],
  serial: string | bigint,
): IndexEntry | undefined {
  if (typeof serial === 'string' && !HEX.test(serial)) return undefined
  // undefined when nothing can match (a negative bigint); every entry is still read, as before.
  const wanted = wantedKey(serial)
  for (const entry of entries) {
    if (serialMatches(entry.serial, wanted)) return entry
  }
  return undefined
}

/** Lookups by serial in constant time, answered as findBySerial answers them. */
export interface SerialIndex {
  /** The first entry with this serial (a bigint, or hex in either case with or without leading zeros). */
  find(serial: string | bigint): IndexEntry | undefined
}

/**
 * An index of entries by serial, built in one pass, for callers that look up many serials in the
 * same entries (the load of a 1,000,000-line index is about a second; this pass a few hundred ms,
 * then each lookup a few microseconds). It answers for the array as it was when built (it keeps a
 * copy) and expects the entries' serials not to change. Like findBySerial, it throws a RangeError
 * when an entry's serial is not hexadecimal.
 */
export function indexBySerial(entries: readonly IndexEntry[]): SerialIndex {
  const list = [...entries]
  const table = new SerialTable((position) => (list[position] as IndexEntry).serial, list.length)
  list.forEach((entry, position) => {
    const { serial } = entry
    if (typeof serial !== 'string' || !isHex(serial)) serialFromHex(serial) // throws, with its message
    const hash = hashSerial(serial, 0, serial.length)
    if (table.find(serial, hash) === -1) table.add(hash, position)
  })
  return {
    find(serial) {
      if (typeof serial === 'string' && !HEX.test(serial)) return undefined
      const key = wantedKey(serial)
      if (key === undefined) return undefined
      const position = table.find(key, hashSerial(key, 0, key.length))
      return position === -1 ? undefined : list[position]
    },
  }
}

const HEX = /^[0-9A-Fa-f]+$/

/** The key a lookup compares with: upper-case hex without leading zeros ('' for zero). */
function wantedKey(serial: string | bigint): string | undefined {
  if (typeof serial === 'string') {
    let zeros = 0
    while (serial.charCodeAt(zeros) === 0x30) zeros++
    return serial.slice(zeros).toUpperCase()
  }
  if (typeof serial !== 'bigint' || serial < 0n) return undefined
  return serial === 0n ? '' : serial.toString(16).toUpperCase()
}

/** serialFromHex(hex) === BigInt(`0x${wanted}`), throwing where serialFromHex throws. */
function serialMatches(hex: string, wanted: string | undefined): boolean {
  if (typeof hex !== 'string' || !isHex(hex)) {
    const value = serialFromHex(hex) // throws, with its message, unless hex is a number made of digits
    return wanted !== undefined && value === BigInt(`0x0${wanted}`)
  }
  if (wanted === undefined) return false
  // Most serials differ in their last digit: compare it first (| 0x20 is the lower case of a letter).
  const last = wanted.length === 0 ? 0x30 : wanted.charCodeAt(wanted.length - 1)
  return (hex.charCodeAt(hex.length - 1) | 0x20) === (last | 0x20) && sameSerial(hex, wanted)
}

/** Whether two hex strings are the same number (either case, leading zeros or not). */
function sameSerial(a: string, b: string): boolean {
  if (a === b) return true
  let i = 0
  let j = 0
  while (a.charCodeAt(i) === 0x30) i++
  while (b.charCodeAt(j) === 0x30) j++
  if (a.length - i !== b.length - j) return false
  for (; i < a.length; i++, j++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(j)
    // Only hex digits get here, so clearing bit 0x20 of a letter is its upper case.
    if (x !== y && (x < 0x41 || y < 0x41 || (x & ~0x20) !== (y & ~0x20))) return false
  }
  return true
}

/**
 * FNV-1a of the upper-case digits of s[start, end) after its leading zeros, the last 16 of them at
 * most (64 bits of a random serial, and where sequential ones differ): equal serials, equal hashes.
 */
function hashSerial(s: string, start: number, end: number): number {
  let i = start
  while (i < end && s.charCodeAt(i) === 0x30) i++
  i = Math.max(i, end - 16)
  let h = 0x811c9dc5
  for (; i < end; i++) {
    let c = s.charCodeAt(i)
    if (c >= 0x61) c -= 0x20
    h = Math.imul(h ^ c, 0x01000193)
  }
  return h | 0
}

/**
 * Positions of entries by serial: open addressing over two typed arrays, a few bytes per entry
 * (a Map keyed by a million strings costs far more time and memory). Serials are compared as
 * numbers, through `serialAt`.
 */
class SerialTable {
  private positions: Int32Array // position + 1; 0 is a free slot
  private hashes: Int32Array
  private size = 0

  /** `expected`: about how many serials it will hold (it grows past that, at a cost). */
  constructor(
    private readonly serialAt: (position: number) => string,
    expected = 0,
  ) {
    const slots = 2 ** Math.max(10, Math.ceil(Math.log2(2 * expected + 1)))
    this.positions = new Int32Array(slots)
    this.hashes = new Int32Array(slots)
  }

  /** The position of an entry with this serial (valid hex), or -1. */
  find(serial: string, hash: number): number {
    const mask = this.positions.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = this.positions[slot] as number
      if (stored === 0) return -1
      if (this.hashes[slot] === hash && sameSerial(this.serialAt(stored - 1), serial)) return stored - 1
    }
  }

  /** Records a position for a serial that find did not find. */
  add(hash: number, position: number): void {
    if ((this.size + 1) * 2 > this.positions.length) this.grow()
    this.put(hash, position + 1)
    this.size++
  }

  private put(hash: number, stored: number): void {
    const mask = this.positions.length - 1
    let slot = hash & mask
    while (this.positions[slot] !== 0) slot = (slot + 1) & mask
    this.positions[slot] = stored
    this.hashes[slot] = hash
  }

  private grow(): void {
    const { positions, hashes } = this
    this.positions = new Int32Array(positions.length * 2)
    this.hashes = new Int32Array(positions.length * 2)
    for (let slot = 0; slot < positions.length; slot++) {
      const stored = positions[slot] as number
      if (stored !== 0) this.put(hashes[slot] as number, stored)
    }
  }
}

/** The straightforward path for one line: any form, and the words of the error. */
function parseLine(line: string, escaped: boolean): IndexEntry {
  if (line.endsWith('\r')) throw new Error('ends with a carriage return: index.txt must have LF line endings')
  const fields = escaped ? splitFields(line) : line.split('\t')
  if (fields.length !== FIELD_COUNT) {
    throw new Error(`expected ${FIELD_COUNT} tab-separated fields, found ${fields.length}`)
  }
  const [status = '', expiry = '', revocation = '', serial = '', file = '', subject = ''] = fields
  const entry: IndexEntry = { status: status as IndexStatus, expiry, revocation, serial, file, subject }
  if (!isValidEntry(entry)) {
    const problem = entryProblem(entry)
    if (problem !== undefined) throw new Error(problem)
  }
  return entry
}

/**
 * TXT_DB_read's splitting: a tab preceded by a backslash belongs to the field (the backslash goes).
 * The field so far ends with a backslash exactly when the character before the tab is one and lies
 * in this field (an escaped tab before it became a tab, not a backslash).
 */
function splitFields(line: string): string[] {
  const fields: string[] = []
  let field = ''
  let from = 0
  for (let tab = line.indexOf('\t'); tab !== -1; tab = line.indexOf('\t', tab + 1)) {
    if (tab > from && line.charCodeAt(tab - 1) === 0x5c /* \ */) {
      field += `${line.slice(from, tab - 1)}\t`
    } else {
      fields.push(field + line.slice(from, tab))
      field = ''
    }
    from = tab + 1
  }
  fields.push(field + line.slice(from))
  return fields
}

// ---------------------------------------------------------------------------------------------------
// Fast checks. Each one answers "valid" only for what the straightforward check (entryProblem,
// timeOrUndefined, parseRevocation) accepts; anything else goes to the straightforward check.

function isValidEntry(entry: IndexEntry): boolean {
  const { status, expiry, revocation, serial } = entry
  if (typeof expiry !== 'string' || typeof revocation !== 'string' || typeof serial !== 'string') return false
  if (!isTimeAt(expiry, 0, expiry.length)) return false
  if (status === 'R') {
    if (!isRevocationAt(revocation, 0, revocation.length)) return false
  } else if ((status !== 'V' && status !== 'E') || revocation !== '') return false
  return isEvenHexAt(serial, 0, serial.length)
}

function isEvenHexAt(s: string, start: number, end: number): boolean {
  return (end - start) % 2 === 0 && isHexAt(s, start, end)
}

/** HEX.test(s), twice as fast on a million serials: a table instead of a regular expression call. */
export function isHex(s: string): boolean {
  return isHexAt(s, 0, s.length)
}

/** s[start, end) is one or more hex digits. */
function isHexAt(s: string, start: number, end: number): boolean {
  if (end <= start) return false
  let bad = 0
  for (let i = start; i < end; i++) bad |= (HEX_DIGIT[s.charCodeAt(i)] as number) ^ 1
  return bad === 0
}

/** 1 for the code units 0–9, A–F, a–f; 0 for every other one (all 65,536). */
const HEX_DIGIT = new Uint8Array(0x10000)
for (const c of '0123456789ABCDEFabcdef') HEX_DIGIT[c.charCodeAt(0)] = 1

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** s[start, start + length) is a time timeOrUndefined accepts: the same digits, ranges and calendar. */
function isTimeAt(s: string, start: number, length: number): boolean {
  if ((length !== 13 && length !== 15) || s.length < start + length) return false
  const last = start + length - 1
  if (s.charCodeAt(last) !== 0x5a /* Z */) return false
  for (let i = start; i < last; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  const two = (i: number) => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30
  let year: number
  let at: number
  if (length === 13) {
    year = two(start)
    year += year < 50 ? 2000 : 1900
    at = start + 2
  } else {
    year = two(start) * 100 + two(start + 2)
    at = start + 4
  }
  const month = two(at)
  const day = two(at + 2)
  if (month < 1 || month > 12 || day < 1) return false
  // The proleptic Gregorian calendar, as Date's.
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number)
  return day <= days && two(at + 4) <= 23 && two(at + 6) <= 59 && two(at + 8) <= 59
}

/**
 * The revocation column is in a form make_revocation_str writes, as it writes it (reason names in
 * their own case): parseRevocation accepts it. What a CRL's fast path reads without parseRevocation.
 */
export function isUsualRevocation(raw: string): boolean {
  return typeof raw === 'string' && isRevocationAt(raw, 0, raw.length)
}

/** s[start, end) has a form make_revocation_str writes, as it writes it; parseRevocation accepts those. */
function isRevocationAt(s: string, start: number, end: number): boolean {
  if (end - start < 13 || !isTimeAt(s, start, 13)) return false
  if (end - start === 13) return true
  if (s.charCodeAt(start + 13) !== 0x2c /* , */) return false
  const at = start + 14
  const comma = indexIn(s, 0x2c, at, end)
  if (comma === -1) return reasonNameAt(s, at, end) !== undefined
  if (indexIn(s, 0x2c, comma + 1, end) !== -1) return false
  const pseudo = comma - at
  if ((pseudo === 7 && s.startsWith('keyTime', at)) || (pseudo === 9 && s.startsWith('CAkeyTime', at))) {
    // The compromise time is always GeneralizedTime.
    return end - comma - 1 === 15 && isTimeAt(s, comma + 1, 15)
  }
  return (
    pseudo === 15 &&
    s.startsWith('holdInstruction', at) &&
    holdInstructionOid(s.slice(comma + 1, end)) !== undefined
  )
}

/** The checks `openssl ca` makes when it loads the database, plus a stricter serial. */
function entryProblem(entry: IndexEntry): string | undefined {
  if (!['V', 'R', 'E'].includes(entry.status)) return `status '${entry.status}' is not V, R or E`
  if (!isIndexTime(entry.expiry)) return `expiry '${entry.expiry}' is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ`
  if (entry.status === 'R') {
    try {
      parseRevocation(entry.revocation)
    } catch (e) {
      return (e as Error).message
    }
  } else if (entry.revocation !== '') {
    return `status ${entry.status} but a revocation field '${entry.revocation}'`
  }
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(entry.serial)) {
    return `serial '${entry.serial}' is not hexadecimal with an even number of digits`
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------
// Times

const TIME = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/

/**
 * How OpenSSL writes a time into index.txt: the ASN.1 text RFC 5280 asks for in certificates and
 * CRLs, UTCTime (`YYMMDDHHMMSSZ`) for 1950–2049 and GeneralizedTime (`YYYYMMDDHHMMSSZ`) otherwise.
 * Milliseconds are dropped, as OpenSSL counts whole seconds.
 */
export function formatIndexTime(d: Date): string {
  const year = checkedYear(d)
  const text = formatGeneralizedTime(d)
  return year >= 1950 && year <= 2049 ? text.slice(2) : text
}

/** Reads either form, whatever the year (a certificate made elsewhere may use GeneralizedTime early). */
export function parseIndexTime(s: string): Date {
  const d = timeOrUndefined(s)
  if (d === undefined) {
    throw new CaError('state.corrupt', `'${s}' is not a time in the form YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ`)
  }
  return d
}

function isIndexTime(s: string): boolean {
  return timeOrUndefined(s) !== undefined
}

/**
 * The epoch milliseconds of an index time in either form, or NaN for anything isTimeAt does not
 * accept (which parseIndexTime may still read: this is the fast check, not the whole one). Calendar
 * arithmetic (Hinnant's days_from_civil, the proleptic Gregorian calendar as Date's) instead of a
 * Date set and read back field by field; the tests compare it with the straightforward reading.
 */
export function indexTimeMs(s: string): number {
  if (typeof s !== 'string' || !isTimeAt(s, 0, s.length)) return Number.NaN
  const two = (i: number) => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30
  let year: number
  let at: number
  if (s.length === 13) {
    year = two(0)
    year += year < 50 ? 2000 : 1900
    at = 2
  } else {
    year = two(0) * 100 + two(2)
    at = 4
  }
  const month = two(at)
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + two(at + 2) - 1
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468
  return ((days * 24 + two(at + 4)) * 60 + two(at + 6)) * 60_000 + two(at + 8) * 1000
}

function timeOrUndefined(s: string): Date | undefined {
  const ms = indexTimeMs(s)
  if (!Number.isNaN(ms)) return new Date(ms)
  // The straightforward check, for whatever the fast one does not accept.
  const m = TIME.exec(s)
  if (m === null) return undefined
  const [yearText = '', ...rest] = m.slice(1)
  const [month = 0, day = 0, hour = 0, minute = 0, second = 0] = rest.map(Number)
  let year = Number(yearText)
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second)
  // Date rolls 31 April over to 1 May; OpenSSL refuses such a time, and so does this.
  const roundTrips =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second
  return roundTrips ? d : undefined
}

/** YYYYMMDDHHMMSSZ, whatever the year (0–9999); milliseconds dropped. */
export function formatGeneralizedTime(d: Date): string {
  const year = checkedYear(d)
  const two = (n: number) => String(n).padStart(2, '0')
  const rest = [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
  return `${String(year).padStart(4, '0')}${rest.map(two).join('')}Z`
}

function checkedYear(d: Date): number {
  const year = d.getUTCFullYear()
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    throw new RangeError(`${String(d)} cannot be written as an ASN.1 time`)
  }
  return year
}

// ---------------------------------------------------------------------------------------------------
// Revocation

/** The reason names `openssl ca -crl_reason` accepts, as it writes them (apps/ca.c crl_reasons). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'CACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'

/** RFC 5280 §5.3.1 CRLReason codes (7 is unused; OpenSSL has no names for 9 and 10). */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  CACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
}

const REASONS = Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]

/** The reason name that s[start, end) is, in its own case (as make_revocation_str writes it), or undefined. */
export function reasonNameAt(s: string, start: number, end: number): RevocationReason | undefined {
  for (const name of REASONS) if (name.length === end - start && s.startsWith(name, start)) return name
  return undefined
}

/**
 * The names OpenSSL resolves for `-crl_hold` (OBJ_txt2obj), by OID (RFC 5280 §5.3.2). A dotted OID
 * is accepted too.
 */
export const HOLD_INSTRUCTIONS: Readonly<Record<string, string>> = {
  holdInstructionNone: '1.2.840.10040.2.1',
  'Hold Instruction None': '1.2.840.10040.2.1',
  holdInstructionCallIssuer: '1.2.840.10040.2.2',
  'Hold Instruction Call Issuer': '1.2.840.10040.2.2',
  holdInstructionReject: '1.2.840.10040.2.3',
  'Hold Instruction Reject': '1.2.840.10040.2.3',
}

/** The OID of a hold instruction as written in index.txt, or undefined when OpenSSL could not resolve it. */
export function holdInstructionOid(text: string): string | undefined {
  if (/^[0-2](?:\.(?:0|[1-9]\d*))+$/.test(text)) return text
  return HOLD_INSTRUCTIONS[text]
}

export interface Revocation {
  /** When the certificate was revoked (the CRL entry's revocationDate). */
  time: Date
  /** Absent when revoked without a reason: the CRL entry then has no reasonCode. */
  reason?: RevocationReason
  /** When the key is known or suspected to have been compromised; keyCompromise and CACompromise only. */
  invalidityDate?: Date
  /** As written in index.txt (`holdInstructionReject`, a dotted OID…); certificateHold only. */
  holdInstruction?: string
}

/**
 * The revocation column as make_revocation_str writes it: `<time>`, `<time>,<reason>`, or one of the
 * pseudo reasons that carry an argument: `holdInstruction,<oid>` (certificateHold),
 * `keyTime,<GeneralizedTime>` (keyCompromise) and `CAkeyTime,<GeneralizedTime>` (CACompromise).
 */
export function formatRevocation(r: Revocation): string {
  const time = formatIndexTime(r.time)
  // unpack_revinfo reads the time with ASN1_UTCTIME_set_string: a 2050 revocation would lock OpenSSL out.
  if (time.length !== 13) throw new RangeError(`OpenSSL cannot read a revocation time of ${time}`)
  if (r.invalidityDate !== undefined) {
    if (r.reason !== 'keyCompromise' && r.reason !== 'CACompromise') {
      throw new RangeError(`index.txt records an invalidity date only with keyCompromise or CACompromise`)
    }
    const pseudo = r.reason === 'keyCompromise' ? 'keyTime' : 'CAkeyTime'
    return `${time},${pseudo},${formatGeneralizedTime(r.invalidityDate)}`
  }
  if (r.holdInstruction !== undefined) {
    if (r.reason !== 'certificateHold') {
      throw new RangeError('a hold instruction goes with certificateHold only')
    }
    if (holdInstructionOid(r.holdInstruction) === undefined) {
      throw new RangeError(`'${r.holdInstruction}' is not a hold instruction OpenSSL knows`)
    }
    return `${time},holdInstruction,${r.holdInstruction}`
  }
  return r.reason === undefined ? time : `${time},${r.reason}`
}

/** Reads the revocation column, refusing what `openssl ca` would refuse to make a CRL from. */
export function parseRevocation(raw: string): Revocation {
  const [timeText = '', reasonText, argument, ...extra] = raw.split(',')
  const bad = (why: string) => new CaError('state.corrupt', `revocation '${raw}': ${why}`)
  const time = timeText.length === 13 ? timeOrUndefined(timeText) : undefined
  if (time === undefined) throw bad(`the time '${timeText}' is not YYMMDDHHMMSSZ`)
  if (reasonText === undefined) return { time }
  if (extra.length > 0) throw bad('more than three comma-separated parts')

  // OpenSSL compares reason names ignoring case.
  const lower = reasonText.toLowerCase()
  const reason = REASONS.find((name) => name.toLowerCase() === lower)
  if (reason !== undefined) {
    if (argument !== undefined) throw bad(`reason ${reason} takes no argument`)
    return { time, reason }
  }
  if (lower === 'holdinstruction') {
    if (argument === undefined || holdInstructionOid(argument) === undefined) {
      throw bad('holdInstruction needs a hold instruction OID')
    }
    return { time, reason: 'certificateHold', holdInstruction: argument }
  }
  if (lower === 'keytime' || lower === 'cakeytime') {
    const invalidityDate = argument?.length === 15 ? timeOrUndefined(argument) : undefined
    if (invalidityDate === undefined) throw bad(`${reasonText} needs a compromise time YYYYMMDDHHMMSSZ`)
    return { time, reason: lower === 'keytime' ? 'keyCompromise' : 'CACompromise', invalidityDate }
  }
  throw bad(`unknown reason '${reasonText}'`)
}

// ---------------------------------------------------------------------------------------------------
// index.txt.attr

export interface IndexAttributes {
  /** Refuse a second valid certificate with the same subject. OpenSSL's default is yes. */
  uniqueSubject: boolean
}

/**
 * Reads index.txt.attr, a small OpenSSL config file. A missing key means "use the CA config's value",
 * as in OpenSSL. Values are read by their first letter as OpenSSL's parse_yesno does (y/t/1, n/f/0).
 */
export function parseIndexAttr(text: string): Partial<IndexAttributes> {
  const attributes: Partial<IndexAttributes> = {}
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/#.*$/, '').trim()
    if (line === '') return
    const m = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line)
    if (m === null) {
      throw new CaError('state.corrupt', `line ${i + 1}: expected 'name = value', found '${line}'`)
    }
    if (m[1] !== 'unique_subject') return
    const value = m[2] ?? ''
    if (/^[yYtT1]/.test(value)) attributes.uniqueSubject = true
    else if (/^[nNfF0]/.test(value)) attributes.uniqueSubject = false
    else {
      throw new CaError('state.corrupt', `line ${i + 1}: unique_subject = '${value}' is neither yes nor no`)
    }
  })
  return attributes
}

/** What `openssl ca` writes (save_index): `unique_subject = yes\n` or `unique_subject = no\n`. */
export function formatIndexAttr(attributes: IndexAttributes): string {
  return `unique_subject = ${attributes.uniqueSubject ? 'yes' : 'no'}\n`
}
