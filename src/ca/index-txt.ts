/**
 * The codec of OpenSSL's CA database file `index.txt` (a TXT_DB of six tab-separated columns, one line
 * per certificate). Columns stay the raw strings of the file, so reading and writing back gives what
 * `openssl ca` wrote byte for byte. Reading is as strict as `openssl ca` is when it loads the database,
 * and a little stricter where OpenSSL would silently misread. The columns' meanings are beside it:
 * index-time.ts, index-revocation.ts, index-lookup.ts (by serial), index-attr.ts (`index.txt.attr`).
 */
import { CaError } from './errors.js'
import type { IndexEntry, IndexStatus } from './index-entry.js'
import { SerialTable, hashSerial } from './index-lookup.js'
import { isRevocationAt, parseRevocation } from './index-revocation.js'
import { isEvenHexAt } from './index-scan.js'
import { isIndexTime, isTimeAt } from './index-time.js'

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
