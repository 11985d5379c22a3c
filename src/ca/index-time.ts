/**
 * The times of index.txt (the expiry column and the revocation time): `YYMMDDHHMMSSZ` through 2049,
 * `YYYYMMDDHHMMSSZ` from 2050, read either way whatever the year, as openssl ca reads them; and the
 * fast check that accepts exactly what the straightforward reading accepts.
 */
import { CaError } from './errors.js'

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** s[start, start + length) is a time timeOrUndefined accepts: the same digits, ranges and calendar. */
export function isTimeAt(s: string, start: number, length: number): boolean {
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

export function isIndexTime(s: string): boolean {
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

export function timeOrUndefined(s: string): Date | undefined {
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
