import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { CaError } from '../src/ca/errors.js'
import {
  findBySerial,
  formatIndexAttr,
  formatIndexTime,
  formatRevocation,
  holdInstructionOid,
  type IndexEntry,
  parseIndex,
  parseIndexAttr,
  parseIndexTime,
  parseRevocation,
  REVOCATION_REASON_CODES,
  type Revocation,
  serializeIndex,
} from '../src/ca/index-txt.js'
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
