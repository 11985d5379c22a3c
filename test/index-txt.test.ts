import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { CaError } from '../src/ca/errors.js'
import { findBySerial } from '../src/ca/index-lookup.js'
import { formatIndexAttr, parseIndexAttr } from '../src/ca/index-attr.js'
import { formatIndexTime, parseIndexTime } from '../src/ca/index-time.js'
import {
  formatRevocation,
  holdInstructionOid,
  parseRevocation,
  REVOCATION_REASON_CODES,
  type Revocation,
} from '../src/ca/index-revocation.js'
import { type IndexEntry } from '../src/ca/index-entry.js'
import { parseIndex, serializeIndex } from '../src/ca/index-txt.js'
import { parseSerialFile, formatSerialFile, serialFromHex, serialToHex } from '../src/ca/serial-number.js'

const TUTORIAL = '/work/shared/reference/tutorial-ca.sh'

const V1 = 'V\t271208202105Z\t\t1000\tunknown\t/C=US/O=Example Corp/CN=www.example.com'
const R1 =
  'R\t271208202105Z\t261128202105Z,keyCompromise\t1001\tunknown\t/C=US/O=Example Corp/CN=api.example.com'

function corruptError(f: () => unknown): CaError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(CaError)
    expect((e as CaError).code).toBe('state.corrupt')
    return e as CaError
  }
  throw new Error('expected a CaError')
}

describe('parseIndex', () => {
  it('reads an empty file as no entries', () => {
    expect(parseIndex('')).toEqual([])
  })

  it('reads the six columns as raw strings', () => {
    expect(parseIndex(`${V1}\n${R1}\n`)).toEqual([
      {
        status: 'V',
        expiry: '271208202105Z',
        revocation: '',
        serial: '1000',
        file: 'unknown',
        subject: '/C=US/O=Example Corp/CN=www.example.com',
      },
      {
        status: 'R',
        expiry: '271208202105Z',
        revocation: '261128202105Z,keyCompromise',
        serial: '1001',
        file: 'unknown',
        subject: '/C=US/O=Example Corp/CN=api.example.com',
      },
    ])
  })

  it('reads an unterminated last line (which OpenSSL would ignore) and writes it back terminated', () => {
    const entries = parseIndex(`${V1}\n${R1}`)
    expect(entries.map((e) => e.serial)).toEqual(['1000', '1001'])
    expect(serializeIndex(entries)).toBe(`${V1}\n${R1}\n`)
  })

  it('skips comment lines as TXT_DB_read does, keeping line numbers', () => {
    expect(parseIndex(`# adopted\n${V1}\n`)).toHaveLength(1)
    expect(corruptError(() => parseIndex(`# adopted\n${V1}\nbad\n`)).message).toMatch(/^line 3: /)
  })

  it('reads and writes a tab inside a field escaped as backslash-tab', () => {
    const line = 'V\t271208202105Z\t\t1000\tunknown\t/CN=a\\\tb'
    const [entry] = parseIndex(`${line}\n`)
    expect(entry?.subject).toBe('/CN=a\tb')
    expect(serializeIndex(parseIndex(`${line}\n`))).toBe(`${line}\n`)
  })

  it.each([
    ['five fields', 'V\t271208202105Z\t\t1000\tunknown', /expected 6 tab-separated fields, found 5/],
    ['seven fields', `${V1}\textra`, /expected 6 tab-separated fields, found 7/],
    ['an empty line', '', /found 1/],
    ['a status that is not V, R or E', V1.replace(/^V/, 'X'), /status 'X'/],
    ['a lower-case status', V1.replace(/^V/, 'v'), /status 'v'/],
    ['an expiry without seconds', V1.replace('271208202105Z', '2712082021Z'), /expiry '2712082021Z'/],
    ['an expiry in month 13', V1.replace('271208202105Z', '271308202105Z'), /expiry/],
    ['an expiry on 31 April', V1.replace('271208202105Z', '270431202105Z'), /expiry/],
    ['an expiry without Z', V1.replace('271208202105Z', '271208202105'), /expiry/],
    ['a non-hex serial', V1.replace('\t1000\t', '\t10G0\t'), /serial '10G0'/],
    ['an odd-length serial', V1.replace('\t1000\t', '\t100\t'), /even number of digits/],
    ['a negative serial', V1.replace('\t1000\t', '\t-1000\t'), /serial '-1000'/],
    ['an empty serial', V1.replace('\t1000\t', '\t\t'), /serial ''/],
    ['a valid entry with a revocation', V1.replace('\t\t', '\t261128202105Z\t'), /status V but a revocation/],
    ['a revoked entry without revocation', R1.replace('261128202105Z,keyCompromise', ''), /time ''/],
    ['an unknown reason', R1.replace('keyCompromise', 'stolen'), /unknown reason 'stolen'/],
    ['a 4-digit revocation year', R1.replace('261128202105Z', '20261128202105Z'), /not YYMMDDHHMMSSZ/],
    ['a hold instruction without OID', R1.replace('keyCompromise', 'holdInstruction'), /needs a hold/],
    ['an unknown hold instruction', R1.replace('keyCompromise', 'holdInstruction,CN'), /needs a hold/],
    ['a keyTime without time', R1.replace('keyCompromise', 'keyTime'), /compromise time/],
    ['a keyTime in UTCTime', R1.replace('keyCompromise', 'keyTime,240102030405Z'), /compromise time/],
    ['an argument to a plain reason', R1.replace('keyCompromise', 'keyCompromise,x'), /takes no argument/],
    ['CRLF line endings', `${V1}\r`, /carriage return/],
  ])('refuses %s, naming the line', (_name, bad, why) => {
    const error = corruptError(() => parseIndex(`${V1.replace('1000', '0F00')}\n${bad}\n`))
    expect(error.message).toMatch(/^line 2: /)
    expect(error.message).toMatch(why)
  })

  it.each([
    ['the same serial', '1000', '1000'],
    ['the same serial with a leading zero', '1000', '001000'],
    ['the same serial in lower case', 'ABCD', 'abcd'],
  ])('refuses %s twice (what a union merge produces)', (_name, first, second) => {
    const text = `${V1.replace('1000', first)}\n${R1.replace('1001', second)}\n`
    expect(corruptError(() => parseIndex(text)).message).toMatch(/^line 2: serial .* is already on line 1/)
  })
})

describe('serializeIndex', () => {
  const entry: IndexEntry = parseIndex(`${V1}\n`)[0]!

  it('writes one LF-terminated line per entry and nothing for none', () => {
    expect(serializeIndex([])).toBe('')
    expect(serializeIndex([entry, entry])).toBe(`${V1}\n${V1}\n`)
  })

  it.each<[string, Partial<IndexEntry>]>([
    ['a line break in the subject', { subject: '/CN=a\nb' }],
    ['a bad expiry', { expiry: '2027' }],
    ['a bad serial', { serial: 'xyz' }],
    ['a valid entry with a revocation', { revocation: '261128202105Z' }],
  ])('refuses to write %s', (_name, change) => {
    expect(() => serializeIndex([{ ...entry, ...change }])).toThrow(
      expect.objectContaining({ code: 'state.write_failed' }) as Error,
    )
  })
})

describe('index times', () => {
  it.each([
    ['2049-12-31T23:59:59Z', '491231235959Z'],
    ['2050-01-01T00:00:00Z', '20500101000000Z'],
    ['1950-01-01T00:00:00Z', '500101000000Z'],
    ['1949-12-31T23:59:59Z', '19491231235959Z'],
    ['2027-12-08T20:21:05.999Z', '271208202105Z'],
    ['2000-02-29T00:00:00Z', '000229000000Z'],
  ])('writes %s as %s', (iso, text) => {
    expect(formatIndexTime(new Date(iso))).toBe(text)
    expect(parseIndexTime(text)).toEqual(new Date(iso.replace(/\.\d+/, '')))
  })

  it('reads GeneralizedTime before 2050, which certificates made elsewhere may carry', () => {
    expect(parseIndexTime('20271208202105Z')).toEqual(new Date('2027-12-08T20:21:05Z'))
  })

  it.each([
    '',
    '271208202105',
    '2712082021Z',
    '271208202105+0000',
    '270229000000Z',
    '271208246105Z',
    '27120820210Z',
  ])('refuses %j', (text) => {
    corruptError(() => parseIndexTime(text))
  })

  it('refuses to write an invalid date', () => {
    expect(() => formatIndexTime(new Date(NaN))).toThrow(RangeError)
  })
})

describe('revocation column', () => {
  const t = new Date('2026-11-28T20:21:05Z')
  const compromised = new Date('2024-01-02T03:04:05Z')

  it.each<[string, Revocation]>([
    ['261128202105Z', { time: t }],
    ['261128202105Z,unspecified', { time: t, reason: 'unspecified' }],
    ['261128202105Z,keyCompromise', { time: t, reason: 'keyCompromise' }],
    ['261128202105Z,CACompromise', { time: t, reason: 'CACompromise' }],
    ['261128202105Z,affiliationChanged', { time: t, reason: 'affiliationChanged' }],
    ['261128202105Z,superseded', { time: t, reason: 'superseded' }],
    ['261128202105Z,cessationOfOperation', { time: t, reason: 'cessationOfOperation' }],
    ['261128202105Z,certificateHold', { time: t, reason: 'certificateHold' }],
    ['261128202105Z,removeFromCRL', { time: t, reason: 'removeFromCRL' }],
    [
      '261128202105Z,holdInstruction,holdInstructionReject',
      { time: t, reason: 'certificateHold', holdInstruction: 'holdInstructionReject' },
    ],
    [
      '261128202105Z,holdInstruction,1.2.840.10040.2.2',
      { time: t, reason: 'certificateHold', holdInstruction: '1.2.840.10040.2.2' },
    ],
    [
      '261128202105Z,keyTime,20240102030405Z',
      { time: t, reason: 'keyCompromise', invalidityDate: compromised },
    ],
    [
      '261128202105Z,CAkeyTime,20240102030405Z',
      { time: t, reason: 'CACompromise', invalidityDate: compromised },
    ],
  ])('%s', (raw, revocation) => {
    expect(parseRevocation(raw)).toEqual(revocation)
    expect(formatRevocation(revocation)).toBe(raw)
  })

  it('reads reason names ignoring case, as OpenSSL does', () => {
    expect(parseRevocation('261128202105Z,KEYCOMPROMISE').reason).toBe('keyCompromise')
    expect(parseRevocation('261128202105Z,cakeytime,20240102030405Z').reason).toBe('CACompromise')
  })

  it.each<[string, Revocation]>([
    ['a revocation from 2050, which OpenSSL could not read back', { time: new Date('2050-01-01T00:00:00Z') }],
    ['an invalidity date without reason', { time: t, invalidityDate: compromised }],
    ['an invalidity date with superseded', { time: t, reason: 'superseded', invalidityDate: compromised }],
    ['a hold instruction with keyCompromise', { time: t, reason: 'keyCompromise', holdInstruction: '1.2.3' }],
    ['an unknown hold instruction', { time: t, reason: 'certificateHold', holdInstruction: 'CN' }],
  ])('refuses to write %s', (_name, revocation) => {
    expect(() => formatRevocation(revocation)).toThrow(RangeError)
  })

  it('maps reasons to RFC 5280 codes (removeFromCRL is 8, not 7)', () => {
    expect(REVOCATION_REASON_CODES).toEqual({
      unspecified: 0,
      keyCompromise: 1,
      CACompromise: 2,
      affiliationChanged: 3,
      superseded: 4,
      cessationOfOperation: 5,
      certificateHold: 6,
      removeFromCRL: 8,
    })
  })

  it('resolves hold instructions to OIDs', () => {
    expect(holdInstructionOid('holdInstructionReject')).toBe('1.2.840.10040.2.3')
    expect(holdInstructionOid('Hold Instruction None')).toBe('1.2.840.10040.2.1')
    expect(holdInstructionOid('1.2.840.10040.2.2')).toBe('1.2.840.10040.2.2')
    expect(holdInstructionOid('commonName')).toBeUndefined()
  })
})

describe('findBySerial', () => {
  const entries = parseIndex(`${V1}\n${R1.replace('1001', '0ABC')}\n`)

  it.each<[string | bigint, string | undefined]>([
    ['1000', '1000'],
    ['001000', '1000'],
    [0x1000n, '1000'],
    ['abc', '0ABC'],
    ['0abc', '0ABC'],
    [0xabcn, '0ABC'],
    ['1002', undefined],
    ['not hex', undefined],
  ])('%p → %p', (serial, found) => {
    expect(findBySerial(entries, serial)?.serial).toBe(found)
  })
})

describe('index.txt.attr', () => {
  it.each([
    ['unique_subject = no\n', { uniqueSubject: false }],
    ['unique_subject = yes\n', { uniqueSubject: true }],
    ['unique_subject=No\n', { uniqueSubject: false }],
    ['# by hand\n\nunique_subject = true # comment\n', { uniqueSubject: true }],
    ['', {}],
    ['other = 1\n', {}],
  ])('reads %j', (text, attributes) => {
    expect(parseIndexAttr(text)).toEqual(attributes)
  })

  it.each(['unique_subject = maybe\n', 'unique_subject\n'])('refuses %j', (text) => {
    corruptError(() => parseIndexAttr(text))
  })

  it('writes what openssl ca writes', () => {
    expect(formatIndexAttr({ uniqueSubject: false })).toBe('unique_subject = no\n')
    expect(formatIndexAttr({ uniqueSubject: true })).toBe('unique_subject = yes\n')
  })
})

describe('against the tutorial CA made by openssl ca', () => {
  let dir: string
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString()
  const read = (path: string) => readFileSync(join(dir, path), 'utf8')

  /** Issues a certificate from the intermediate with `openssl ca`, then optionally revokes it. */
  function issue(name: string, validity: string[], revoke?: string[]) {
    const conf = 'openssl_intermediate.cnf'
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`])
    const csr = run(['req', '-new', '-config', conf, '-key', `${name}.key`, '-subj', `/CN=${name}`])
    writeFileSync(join(dir, `${name}.csr`), csr)
    const args = ['-batch', '-config', conf, '-extensions', 'server_cert', '-notext', '-in', `${name}.csr`]
    run(['ca', ...args, ...validity, '-out', `${name}.pem`])
    if (revoke) run(['ca', '-config', conf, '-revoke', `${name}.pem`, ...revoke])
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'index-txt-'))
    execFileSync('bash', [TUTORIAL, dir], { env: { ...process.env, KEYBITS: '2048' }, stdio: 'pipe' })
    issue(
      'hold',
      ['-days', '30'],
      ['-crl_reason', 'certificateHold', '-crl_hold', 'holdInstructionCallIssuer'],
    )
    issue('hold-oid', ['-days', '30'], ['-crl_hold', '1.2.840.10040.2.3'])
    issue('plain-hold', ['-days', '30'], ['-crl_reason', 'certificateHold'])
    issue('compromise', ['-days', '30'], ['-crl_compromise', '20240102030405Z'])
    issue('ca-compromise', ['-days', '30'], ['-crl_CA_compromise', '20240102030405Z'])
    issue('superseded', ['-days', '30'], ['-crl_reason', 'SUPERSEDED'])
    issue('no-reason', ['-days', '30'], [])
    issue('far', ['-enddate', '20500101000000Z'])
    issue('edge', ['-enddate', '20491231235959Z'])
    issue('far-revoked', ['-enddate', '20500101000000Z'], ['-crl_reason', 'cessationOfOperation'])
  })

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it.each(['rootCA/index.txt', 'intermediateCA/index.txt'])(
    '%s reads and writes back byte for byte',
    (path) => {
      const text = read(path)
      expect(serializeIndex(parseIndex(text))).toBe(text)
    },
  )

  it('has the forms openssl ca writes, all readable', () => {
    const entries = parseIndex(read('intermediateCA/index.txt'))
    const revocations = entries
      .filter((e) => e.status === 'R')
      .map((e) => e.revocation.replace(/^\d{12}Z/, 'T'))
    expect(revocations).toEqual([
      'T,keyCompromise',
      'T,holdInstruction,holdInstructionCallIssuer',
      'T,holdInstruction,1.2.840.10040.2.3',
      'T,certificateHold',
      'T,keyTime,20240102030405Z',
      'T,CAkeyTime,20240102030405Z',
      'T,superseded',
      'T',
      'T,cessationOfOperation',
    ])
    expect(findBySerial(entries, '1009')).toMatchObject({ expiry: '20500101000000Z', subject: '/CN=far' })
    expect(findBySerial(entries, '100a')).toMatchObject({ expiry: '491231235959Z', subject: '/CN=edge' })
    expect(parseIndexTime(findBySerial(entries, '1009')!.expiry)).toEqual(new Date('2050-01-01T00:00:00Z'))
    for (const entry of entries.filter((e) => e.status === 'R')) parseRevocation(entry.revocation)
  })

  it('names every certificate in newcerts/ by serialToHex of its serial', () => {
    for (const entry of parseIndex(read('intermediateCA/index.txt'))) {
      expect(serialToHex(serialFromHex(entry.serial))).toBe(entry.serial)
      expect(existsSync(join(dir, 'intermediateCA/newcerts', `${entry.serial}.pem`))).toBe(true)
    }
  })

  it.each(['rootCA/serial', 'rootCA/crlnumber', 'intermediateCA/serial', 'intermediateCA/crlnumber'])(
    '%s reads and writes back byte for byte',
    (path) => {
      const text = read(path)
      expect(formatSerialFile(parseSerialFile(text))).toBe(text)
    },
  )

  it.each(['rootCA/index.txt.attr', 'intermediateCA/index.txt.attr'])(
    '%s reads and writes back byte for byte',
    (path) => {
      const text = read(path)
      const attributes = parseIndexAttr(text)
      expect(formatIndexAttr({ uniqueSubject: attributes.uniqueSubject! })).toBe(text)
    },
  )

  it('writes revocations that openssl ca turns into the right CRL entries', () => {
    const path = 'intermediateCA/index.txt'
    const saved = read(path)
    try {
      const time = new Date('2026-01-02T03:04:05Z')
      const entries = parseIndex(saved).map((entry) =>
        entry.subject.endsWith('CN=www.example.com')
          ? {
              ...entry,
              status: 'R' as const,
              revocation: formatRevocation({
                time,
                reason: 'keyCompromise',
                invalidityDate: new Date('2025-12-31T00:00:00Z'),
              }),
            }
          : entry,
      )
      writeFileSync(join(dir, path), serializeIndex(entries))
      const status = spawnSync('openssl', ['ca', '-config', 'openssl_intermediate.cnf', '-status', '1000'], {
        cwd: dir,
      })
      expect(status.stderr.toString()).toContain('1000=Revoked (R)')
      run(['ca', '-config', 'openssl_intermediate.cnf', '-gencrl', '-out', 'test.crl.pem'])
      const crl = run(['crl', '-in', 'test.crl.pem', '-noout', '-text'])
      expect(crl).toMatch(
        /Serial Number: 1000\n\s+Revocation Date: Jan {2}2 03:04:05 2026 GMT\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Key Compromise\n\s+Invalidity Date: \n\s+Dec 31 00:00:00 2025 GMT/,
      )
      expect(crl).toMatch(/Hold Instruction Call Issuer/)
      expect(crl).toMatch(/Remove From CRL|Cessation Of Operation/)
    } finally {
      writeFileSync(join(dir, path), saved)
    }
  })
})

// ---------------------------------------------------------------------------------------------------
// The fast paths (issue #5) against the straightforward codec they replaced, kept here verbatim as
// the reference: same entries, same bytes, same errors with the same line numbers.

import fc from 'fast-check'
import { indexBySerial } from '../src/ca/index-lookup.js'
import { indexTimeMs } from '../src/ca/index-time.js'
import { isUsualRevocation } from '../src/ca/index-revocation.js'
import { outcome } from './support/outcome.js'

const reference = (() => {
  function isIndexTime(s: string): boolean {
    return timeOrUndefined(s) !== undefined
  }
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
  function parseLine(line: string): IndexEntry {
    if (line.endsWith('\r'))
      throw new Error('ends with a carriage return: index.txt must have LF line endings')
    const fields = splitFields(line)
    if (fields.length !== 6) throw new Error(`expected 6 tab-separated fields, found ${fields.length}`)
    const [status = '', expiry = '', revocation = '', serial = '', file = '', subject = ''] = fields
    const entry: IndexEntry = {
      status: status as IndexEntry['status'],
      expiry,
      revocation,
      serial,
      file,
      subject,
    }
    const problem = entryProblem(entry)
    if (problem !== undefined) throw new Error(problem)
    return entry
  }
  function parse(text: string): IndexEntry[] {
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
  function serialize(entries: readonly IndexEntry[]): string {
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
  function find(entries: readonly IndexEntry[], serial: string | bigint): IndexEntry | undefined {
    if (typeof serial === 'string' && !/^[0-9A-Fa-f]+$/.test(serial)) return undefined
    const wanted = typeof serial === 'string' ? serialFromHex(serial) : serial
    return entries.find((entry) => serialFromHex(entry.serial) === wanted)
  }
  return { parse, serialize, find, timeOrUndefined }
})()

/** The reading of a time before indexTimeMs (a Date set and read back field by field), verbatim. */
function timeOrUndefined(s: string): Date | undefined {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (m === null) return undefined
  const [yearText = '', ...rest] = m.slice(1)
  const [month = 0, day = 0, hour = 0, minute = 0, second = 0] = rest.map(Number)
  let year = Number(yearText)
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second)
  const roundTrips =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second
  return roundTrips ? d : undefined
}

/** The same result, entry for entry (and entries the same objects' fields), or the same error. */
function expectSameParse(text: string): IndexEntry[] | undefined {
  const fast = outcome(() => parseIndex(text))
  const slow = outcome(() => reference.parse(text))
  expect(fast).toEqual(slow)
  return 'value' in fast ? fast.value : undefined
}

/** Every line form openssl ca writes, and the odd ones the straightforward path must still see. */
function everyLineForm(): string {
  const lines: string[] = ['# a comment line is skipped']
  const expiries = ['271208202105Z', '20500101000000Z', '491231235959Z', '19491231235959Z', '000229000000Z']
  const revocations = [
    '261128202105Z',
    ...Object.keys(REVOCATION_REASON_CODES).map((reason) => `261128202105Z,${reason}`),
    '261128202105Z,holdInstruction,holdInstructionNone',
    '261128202105Z,holdInstruction,Hold Instruction Call Issuer',
    '261128202105Z,holdInstruction,1.2.840.10040.2.3',
    '261128202105Z,keyTime,20240102030405Z',
    '261128202105Z,CAkeyTime,20240102030405Z',
    '261128202105Z,KEYCOMPROMISE',
    '261128202105Z,cakeytime,20240102030405Z',
    '261128202105Z,HoldInstruction,1.2.840.10040.2.1',
  ]
  const subjects = [
    '/C=US/O=Example Corp/CN=www.example.com',
    '/CN=a\\\tb',
    '/CN=trailing backslash\\',
    '/CN=caf\\xC3\\xA9',
    '/CN=two\\\t\\\tescaped tabs',
    '',
    '/CN=ünïcødé ✓',
  ]
  let serial = 0x1000
  const next = () => (serial++).toString(16).toUpperCase()
  for (const expiry of expiries) {
    for (const status of ['V', 'E'])
      lines.push(`${status}\t${expiry}\t\t${next()}\tunknown\t/CN=${status}-${expiry}`)
  }
  for (const revocation of revocations)
    lines.push(`R\t271208202105Z\t${revocation}\t${next()}\tunknown\t/CN=r`)
  for (const subject of subjects) lines.push(`V\t271208202105Z\t\t${next()}\tunknown\t${subject}`)
  lines.push(`V\t271208202105Z\t\t00${next()}\tunknown\t/CN=leading zeros`)
  lines.push(`V\t271208202105Z\t\t${next().toLowerCase()}\tunknown\t/CN=lower case`)
  lines.push(`V\t271208202105Z\t\t${next()}\tcerts/some file.pem\t/CN=a file name`)
  lines.push(`V\t271208202105Z\t\t${next()}\tunknown\t/CN=carriage\rreturn inside`)
  return `${lines.join('\n')}\n`
}

describe('the fast codec against the straightforward one', () => {
  it('reads every line form into the same entries and writes them back byte for byte', () => {
    const text = everyLineForm()
    const entries = expectSameParse(text)!
    expect(entries).toHaveLength(text.split('\n').length - 2)
    // A carriage return inside a field is read (as before) but never written.
    const writable = entries.filter((e) => !e.subject.includes('\r'))
    expect(outcome(() => serializeIndex(writable))).toEqual(outcome(() => reference.serialize(writable)))
    expect(outcome(() => serializeIndex(entries))).toEqual(outcome(() => reference.serialize(entries)))
    expect(serializeIndex(entries.filter((e) => e.subject !== '/CN=carriage\rreturn inside'))).toBe(
      text
        .split('\n')
        .filter((l) => !l.startsWith('#') && !l.includes('carriage'))
        .join('\n'),
    )
  })

  it('finds every serial as before, by findBySerial and by indexBySerial', () => {
    const entries = parseIndex(everyLineForm())
    const index = indexBySerial(entries)
    const wanted: (string | bigint)[] = [
      '1000',
      '001000',
      '1001',
      'abc',
      '0',
      '00',
      'xyz',
      '',
      -1n,
      0n,
      0x1003n,
    ]
    for (const entry of entries)
      wanted.push(entry.serial, entry.serial.toLowerCase(), BigInt(`0x${entry.serial}`))
    for (const serial of wanted) {
      const expected = reference.find(entries, serial)
      expect(findBySerial(entries, serial)).toBe(expected)
      expect(index.find(serial)).toBe(expected)
    }
  })

  it('finds the first of duplicate serials and throws on a non-hex one as before', () => {
    const [entry] = parseIndex(`${V1}\n`)
    const entries = [
      { ...entry!, serial: '0ABC', subject: 'first' },
      { ...entry!, serial: 'abc', subject: 'second' },
      { ...entry!, serial: 'zz' },
      { ...entry!, serial: '00' },
    ]
    for (const serial of ['abc', 0xabcn, '00', 0n, '1234', -5n]) {
      expect(outcome(() => findBySerial(entries, serial))).toEqual(
        outcome(() => reference.find(entries, serial)),
      )
    }
    expect(() => indexBySerial(entries)).toThrow(RangeError)
    const valid = entries.filter((e) => e.serial !== 'zz')
    expect(indexBySerial(valid).find('ABC')?.subject).toBe('first')
    expect(indexBySerial(valid).find(0n)?.serial).toBe('00')
  })

  // Fields made of what matters to the codec: digits, hex, the separators and the escape.
  const junk = fc.string({
    unit: fc.constantFrom(
      '0',
      '1',
      '2',
      '3',
      '5',
      '9',
      'A',
      'f',
      'Z',
      'V',
      'R',
      'E',
      ',',
      '\t',
      '\\',
      '\r',
      '#',
      ' ',
      'é',
    ),
    maxLength: 20,
  })
  const digits = (n: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n })
  const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'))
  // Calendar edges: plausible fields with their limits and one past them (29 February, 31 April,
  // month 13, hour 24, second 60, years 1900, 2000, 0000), and any digits at all.
  const time = fc.oneof(
    fc
      .tuple(
        fc.oneof(
          two(0, 99),
          fc.constantFrom('1900', '2000', '2100', '0000', '9999', '2024', '2023', '1950', '2049', '2050'),
        ),
        two(0, 13),
        two(0, 32),
        two(0, 24),
        two(0, 60),
        two(0, 60),
      )
      .map((parts) => `${parts.join('')}Z`),
    digits(12).map((d) => `${d}Z`),
    digits(14).map((d) => `${d}Z`),
    fc.constantFrom(
      '240229000000Z',
      '230229000000Z',
      '20000229000000Z',
      '19000229000000Z',
      '2712082021Z',
      '',
    ),
  )
  const utc = fc.oneof(
    time.filter((t) => t.length === 13),
    fc.constantFrom('261128202105Z', '491231235959Z'),
  )
  const revocation = fc.oneof(
    utc,
    fc
      .tuple(utc, fc.constantFrom(...Object.keys(REVOCATION_REASON_CODES), 'KeyCompromise', 'stolen', ''))
      .map(([t, r]) => `${t},${r}`),
    fc
      .tuple(utc, fc.constantFrom('keyTime', 'CAkeyTime', 'cakeytime', 'keyTime,x'), time)
      .map(([t, p, c]) => `${t},${p},${c}`),
    fc
      .tuple(
        utc,
        fc.constantFrom('holdInstructionReject', 'Hold Instruction None', '1.2.3', '1.2.', 'CN', ''),
      )
      .map(([t, h]) => `${t},holdInstruction,${h}`),
    junk,
  )
  const serial = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }).map((n) => serialToHex(n)),
    fc.bigInt({ min: 0n, max: 0xffffn }).map((n) => `00${serialToHex(n).toLowerCase()}`),
    junk,
  )
  const validLine = fc
    .record({
      status: fc.constantFrom('V', 'E', 'R'),
      expiry: time,
      revocation,
      serial,
      file: fc.oneof(fc.constant('unknown'), junk),
      subject: fc.oneof(fc.constant('/C=US/O=Example Corp/CN=host.example.com'), junk, fc.string()),
    })
    .map((f) =>
      [f.status, f.expiry, f.status === 'R' ? f.revocation : '', f.serial, f.file, f.subject].join('\t'),
    )
  const anyLine = fc.oneof(
    { weight: 6, arbitrary: validLine },
    { weight: 1, arbitrary: junk },
    { weight: 1, arbitrary: fc.string() },
  )

  it('reads times as the Date round trip did (indexTimeMs), and refuses the same ones', () => {
    const edges = ['000101000000Z', '00000101000000Z', '00000229235959Z', '99991231235959Z', '491231235959Z']
    fc.assert(
      fc.property(fc.oneof(time, fc.constantFrom(...edges)), (text) => {
        const expected = reference.timeOrUndefined(text)
        if (expected === undefined) {
          expect(corruptError(() => parseIndexTime(text)).message).toBe(
            `'${text}' is not a time in the form YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ`,
          )
        } else {
          expect(parseIndexTime(text)).toEqual(expected)
        }
        const ms = indexTimeMs(text)
        if (!Number.isNaN(ms)) expect(ms).toBe(expected?.getTime())
      }),
      { numRuns: 5000 },
    )
    for (const text of edges) expect(indexTimeMs(text)).toBe(reference.timeOrUndefined(text)?.getTime())
  })

  it('calls a revocation usual (the CRL reads it without parseRevocation) only when parseRevocation reads it', () => {
    fc.assert(
      fc.property(revocation, (raw) => {
        if (isUsualRevocation(raw)) expect(() => parseRevocation(raw)).not.toThrow()
      }),
      { numRuns: 5000 },
    )
    for (const reason of Object.keys(REVOCATION_REASON_CODES)) {
      expect(isUsualRevocation(`261128202105Z,${reason}`)).toBe(true)
    }
    expect(isUsualRevocation('261128202105Z,KEYCOMPROMISE')).toBe(false)
  })

  it('reads any text into the same entries, or refuses it with the same error and line number', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 12 }), fc.boolean(), (lines, terminated) => {
        expectSameParse(lines.join('\n') + (terminated ? '\n' : ''))
      }),
      { numRuns: 3000 },
    )
  })

  it('writes any entries as before, or refuses them with the same error', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            status: fc.constantFrom('V', 'E', 'R', 'X', ''),
            expiry: time,
            revocation: fc.oneof(fc.constant(''), revocation),
            serial,
            file: fc.oneof(fc.constant('unknown'), junk),
            subject: fc.oneof(junk, fc.string()),
          }) as fc.Arbitrary<IndexEntry>,
          { maxLength: 8 },
        ),
        (entries) => {
          expect(outcome(() => serializeIndex(entries))).toEqual(outcome(() => reference.serialize(entries)))
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('parse ∘ serialize is the identity on valid indexes, and serialize ∘ parse gives the text back', () => {
    fc.assert(
      fc.property(fc.array(validLine, { maxLength: 12 }), (lines) => {
        const text = lines.map((l) => `${l}\n`).join('')
        const entries = outcome(() => reference.parse(text))
        fc.pre('value' in entries && entries.value.every((e) => !/[\r\n]/.test(e.subject + e.file)))
        const parsed = parseIndex(text)
        const written = serializeIndex(parsed)
        expect(parseIndex(written)).toEqual(parsed)
        expect(written).toBe(reference.serialize(parsed))
        // Byte for byte when every serial was already hex (the only normal form the text has).
        expect(written).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('names the line of a bad line in a long index', () => {
    const good = Array.from({ length: 300 }, (_, i) =>
      V1.replace('1000', (0x1000 + i).toString(16).toUpperCase()),
    )
    for (const [at, bad] of [
      [0, V1.replace('271208202105Z', '270229000000Z')],
      [150, R1.replace('keyCompromise', 'keyTime,2024010203040Z')],
      [299, V1.replace('1000', '1000').replace('\t1000\t', '\t01000\t')],
      [42, `${V1}\r`],
    ] as const) {
      const lines = [...good]
      lines[at] = bad
      const text = `${lines.join('\n')}\n`
      expectSameParse(text)
      expect(corruptError(() => parseIndex(text)).message).toMatch(new RegExp(`^line ${at + 1}: `))
    }
  })
})
