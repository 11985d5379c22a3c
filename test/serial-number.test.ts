import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { AsnConvert, AsnIntegerBigIntConverter } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import fc from 'fast-check'

import { CaError } from '../src/ca/errors.js'
import { parseIndex } from '../src/ca/index-txt.js'
import {
  formatSerialFile,
  isValidSerial,
  MAX_SERIAL,
  parseSerialFile,
  randomSerial,
  sequentialSerial,
  serialDerProblem,
  serialFromHex,
  serialToDer,
  serialToHex,
} from '../src/ca/serial-number.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** The whole DER INTEGER (tag, length, content) as @peculiar/asn1-schema encodes it. */
const asn1SchemaDer = (value: bigint) =>
  Buffer.from(AsnIntegerBigIntConverter.toASN(value).toBER()).toString('hex')

/** The checks every serial must pass, against an independent DER encoder. */
function expectValidSerial(serial: bigint) {
  expect(serial > 0n).toBe(true)
  const content = serialToDer(serial)
  expect(content.length).toBeLessThanOrEqual(20)
  expect(isValidSerial(content)).toBe(true)
  expect(`02${content.length.toString(16).padStart(2, '0')}${hex(content)}`).toBe(asn1SchemaDer(serial))
}

describe('serialToHex', () => {
  it.each([
    [0n, '00'],
    [1n, '01'],
    [0x7fn, '7F'],
    [0x80n, '80'],
    [0xffn, 'FF'],
    [0x100n, '0100'],
    [0x1000n, '1000'],
    [0xabcdefn, 'ABCDEF'],
    [MAX_SERIAL, '7F'.padEnd(40, 'F')],
  ])('%p → %s', (serial, text) => {
    expect(serialToHex(serial)).toBe(text)
    expect(serialFromHex(text)).toBe(serial)
  })

  it('refuses a negative serial', () => {
    expect(() => serialToHex(-1n)).toThrow(RangeError)
  })
})

describe('serialToDer and isValidSerial', () => {
  it.each([
    [1n, '01'],
    [0x7fn, '7f'],
    [0x80n, '0080'],
    [0xffn, '00ff'],
    [0x100n, '0100'],
    [MAX_SERIAL, '7f'.padEnd(40, 'f')],
  ])('%p has content octets %s', (serial, content) => {
    expect(hex(serialToDer(serial))).toBe(content)
    expectValidSerial(serial)
  })

  it('matches the known DER vector 02 02 00 80 for 128', () => {
    expect(asn1SchemaDer(128n)).toBe('02020080')
  })

  it.each([0n, -1n, MAX_SERIAL + 1n])('refuses to encode %p', (serial) => {
    expect(() => serialToDer(serial)).toThrow(RangeError)
  })

  it.each([
    ['', /at least one/],
    ['00', /zero/],
    ['80', /negative/],
    ['ff01', /negative/],
    ['007f', /not minimal/],
    ['0000', /not minimal/],
    ['00'.padEnd(42, '1'), /21 octets/],
  ])('refuses content octets %j', (content, why) => {
    const bytes = Buffer.from(content, 'hex')
    expect(isValidSerial(bytes)).toBe(false)
    expect(serialDerProblem(bytes)).toMatch(why)
  })

  it.each(['01', '7f', '0080', '00ff', '7f'.padEnd(40, 'f'), '0080'.padEnd(40, '0')])(
    'accepts %j',
    (content) => {
      expect(serialDerProblem(Buffer.from(content, 'hex'))).toBeUndefined()
    },
  )
})

describe('randomSerial', () => {
  it('draws 10,000 valid and distinct serials from the CSPRNG', () => {
    const seen = new Set<bigint>()
    for (let i = 0; i < 10_000; i++) {
      const serial = randomSerial(randomBytes)
      expect(serial > 0n && serial <= MAX_SERIAL).toBe(true)
      expect(isValidSerial(serialToDer(serial))).toBe(true)
      seen.add(serial)
    }
    expect(seen.size).toBe(10_000)
    // 159 bits: the top bit of the first octet is always clear, the others all get used.
    expect([...seen].some((s) => s >= 1n << 158n)).toBe(true)
  })

  it('gives a valid serial whatever bytes the source returns', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        expectValidSerial(randomSerial(() => Uint8Array.from(bytes)))
      }),
      { numRuns: 10_000 },
    )
  })

  it.each([
    ['all zero bytes', 0x00, 1n],
    ['all 0xFF bytes', 0xff, MAX_SERIAL],
  ])('stays valid with %s', (_name, fill, expected) => {
    const serial = randomSerial((n) => new Uint8Array(n).fill(fill))
    expect(serial).toBe(expected)
    expectValidSerial(serial)
  })

  it('asks for 20 bytes and refuses a source that returns fewer', () => {
    const asked: number[] = []
    randomSerial((n) => (asked.push(n), randomBytes(n)))
    expect(asked).toEqual([20])
    expect(() => randomSerial(() => new Uint8Array(19))).toThrow(RangeError)
  })
})

describe('serial and crlnumber files', () => {
  it.each([
    ['1000\n', 0x1000n],
    ['01\n', 1n],
    ['00\n', 0n],
    ['0100\n', 0x100n],
    ['7F'.padEnd(40, 'F') + '\n', MAX_SERIAL],
  ])('%j ↔ %p', (text, value) => {
    expect(parseSerialFile(text)).toBe(value)
    expect(formatSerialFile(value)).toBe(text)
  })

  it.each([
    ['lower case', 'abcd\n', 0xabcdn],
    ['no newline', '1000', 0x1000n],
    ['CRLF', '1000\r\n', 0x1000n],
  ])('reads %s as OpenSSL does', (_name, text, value) => {
    expect(parseSerialFile(text)).toBe(value)
  })

  it.each([
    ['an empty file', ''],
    ['an odd number of digits, which OpenSSL refuses', '1\n'],
    ['a non-hex digit', '10G0\n'],
    ['a sign', '-1000\n'],
    ['two lines', '1000\n1001\n'],
    ['spaces', ' 1000\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseSerialFile(text)).toThrow(expect.objectContaining({ code: 'state.corrupt' }) as CaError)
  })

  it('refuses to write what does not fit 20 octets', () => {
    expect(() => formatSerialFile(MAX_SERIAL + 1n)).toThrow(RangeError)
    expect(() => formatSerialFile(-1n)).toThrow(RangeError)
  })
})

describe('sequentialSerial', () => {
  it('issues the stored value and stores the next', () => {
    expect(sequentialSerial(0x1000n)).toEqual({ serial: 0x1000n, next: 0x1001n })
  })

  it.each([0n, MAX_SERIAL + 1n])('refuses %p, which OpenSSL would issue', (next) => {
    expect(() => sequentialSerial(next)).toThrow(
      expect.objectContaining({ code: 'state.corrupt' }) as CaError,
    )
  })
})

describe('against openssl', () => {
  let dir: string
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString()

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'serial-number-'))
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'])
    const env = { ...process.env, KEYBITS: '2048' }
    execFileSync('bash', ['/work/shared/reference/tutorial-ca.sh', join(dir, 'ca')], { env, stdio: 'pipe' })
  })

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const random159 = randomSerial(randomBytes)
  it.each([1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x1000n, MAX_SERIAL, random159])(
    'serialToHex(%p) is what openssl x509 -serial prints, serialToDer what it encodes',
    (serial) => {
      const subj = ['-subj', '/CN=serial test', '-days', '1']
      const pem = openssl([
        'req',
        '-x509',
        '-key',
        'key.pem',
        ...subj,
        '-set_serial',
        `0x${serial.toString(16)}`,
      ])
      writeFileSync(join(dir, 'cert.pem'), pem)
      expect(openssl(['x509', '-in', 'cert.pem', '-noout', '-serial'])).toBe(
        `serial=${serialToHex(serial)}\n`,
      )
      const der = execFileSync('openssl', ['x509', '-in', 'cert.pem', '-outform', 'DER'], { cwd: dir })
      const certificate = AsnConvert.parse(der, Certificate)
      expect(hex(new Uint8Array(certificate.tbsCertificate.serialNumber))).toBe(hex(serialToDer(serial)))
    },
  )

  it.each([
    ['7F\n', '80\n'],
    ['FF\n', '0100\n'],
    ['2000\n', '2001\n'],
    ['FFFF\n', '010000\n'],
  ])('openssl ca issues from serial file %j and writes %j, as formatSerialFile does', (before, after) => {
    const ca = join(dir, 'ca')
    writeFileSync(join(ca, 'intermediateCA/serial'), before)
    const csr = 'intermediateCA/csr/www.example.com.csr.pem'
    const args = [
      '-batch',
      '-config',
      'openssl_intermediate.cnf',
      '-days',
      '1',
      '-subj',
      `/CN=${before.trim()}`,
    ]
    execFileSync('openssl', ['ca', ...args, '-in', csr], { cwd: ca, stdio: 'pipe' })
    const issued = parseSerialFile(before)
    expect(readFileSync(join(ca, 'intermediateCA/serial'), 'utf8')).toBe(
      formatSerialFile(sequentialSerial(issued).next),
    )
    expect(formatSerialFile(sequentialSerial(issued).next)).toBe(after)
    const entries = parseIndex(readFileSync(join(ca, 'intermediateCA/index.txt'), 'utf8'))
    expect(entries.at(-1)?.serial).toBe(serialToHex(issued))
  })
})
