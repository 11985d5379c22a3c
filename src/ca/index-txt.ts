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
 */
export function parseIndex(text: string): IndexEntry[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const entries: IndexEntry[] = []
  const lineOfSerial = new Map<bigint, number>()
  lines.forEach((line, i) => {
    const lineNumber = i + 1
    if (line.startsWith('#')) return
    let entry: IndexEntry
    try {
      entry = parseLine(line)
    } catch (e) {
      throw new CaError('state.corrupt', `line ${lineNumber}: ${(e as Error).message}`, { cause: e })
    }
    // OpenSSL indexes serials uniquely (ignoring leading zeros) and refuses to load duplicates, which
    // is what a union merge of two branches' index.txt produces.
    const serial = serialFromHex(entry.serial)
    const earlier = lineOfSerial.get(serial)
    if (earlier !== undefined) {
      throw new CaError(
        'state.corrupt',
        `line ${lineNumber}: serial ${entry.serial} is already on line ${earlier}`,
      )
    }
    lineOfSerial.set(serial, lineNumber)
    entries.push(entry)
  })
  return entries
}

/** What `openssl ca` writes (TXT_DB_write): each entry on its own line, a tab inside a field escaped as `\<tab>`. */
export function serializeIndex(entries: readonly IndexEntry[]): string {
  return entries
    .map((entry) => {
      const fields = [entry.status, entry.expiry, entry.revocation, entry.serial, entry.file, entry.subject]
      const problem =
        entryProblem(entry) ?? (fields.some((f) => /[\r\n]/.test(f)) ? 'a line break' : undefined)
      if (problem !== undefined) {
        throw new CaError('state.write_failed', `index entry for serial ${entry.serial} has ${problem}`)
      }
      return `${fields.map((f) => f.replaceAll('\t', '\\\t')).join('\t')}\n`
    })
    .join('')
}

/** The entry for a serial, given as a bigint or hex in either case with or without leading zeros. */
export function findBySerial(
  entries: readonly IndexEntry[],
  serial: string | bigint,
): IndexEntry | undefined {
  if (typeof serial === 'string' && !/^[0-9A-Fa-f]+$/.test(serial)) return undefined
  const wanted = typeof serial === 'string' ? serialFromHex(serial) : serial
  return entries.find((entry) => serialFromHex(entry.serial) === wanted)
}

function parseLine(line: string): IndexEntry {
  if (line.endsWith('\r')) throw new Error('ends with a carriage return: index.txt must have LF line endings')
  const fields = splitFields(line)
  if (fields.length !== FIELD_COUNT) {
    throw new Error(`expected ${FIELD_COUNT} tab-separated fields, found ${fields.length}`)
  }
  const [status = '', expiry = '', revocation = '', serial = '', file = '', subject = ''] = fields
  const entry: IndexEntry = { status: status as IndexStatus, expiry, revocation, serial, file, subject }
  const problem = entryProblem(entry)
  if (problem !== undefined) throw new Error(problem)
  return entry
}

/** TXT_DB_read's splitting: a tab preceded by a backslash belongs to the field (the backslash goes). */
function splitFields(line: string): string[] {
  const fields: string[] = []
  let field = ''
  for (const ch of line) {
    if (ch === '\t' && !field.endsWith('\\')) {
      fields.push(field)
      field = ''
    } else {
      field = ch === '\t' ? `${field.slice(0, -1)}\t` : field + ch
    }
  }
  fields.push(field)
  return fields
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

function timeOrUndefined(s: string): Date | undefined {
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

function formatGeneralizedTime(d: Date): string {
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
