/**
 * The rules of DESIGN.md that depend on time and state, driven through the commands with an injected
 * clock: UTCTime through 2049 and GeneralizedTime from 2050 (certificate and index.txt), a leaf never
 * outliving its issuer, sequential serials for CAs that keep a serial file, unique subjects.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { initCa as initCommand } from '../src/commands/init.js'
import { signRequests } from '../src/commands/sign.js'
import type { Runtime } from '../src/commands/runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import {
  editCaYml,
  caFiles,
  cleanupTempDirs,
  makeCsr,
  openssl,
  opensslOk,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

function at(iso: string): Runtime {
  return { now: () => new Date(iso), random: (n) => new Uint8Array(randomBytes(n)) }
}

async function caAt(iso: string): Promise<string> {
  const dir = tempDir()
  await initCommand(openDirectoryStore(dir), { keyType: 'ec-p256', allowDns: [] }, at(iso))
  return dir
}

function asn1Times(certPath: string): string[] {
  return opensslOk(['asn1parse', '-in', certPath])
    .split('\n')
    .filter((l) => /UTCTIME|GENERALIZEDTIME/.test(l))
    .map((l) => (l.match(/(UTCTIME|GENERALIZEDTIME)\s*:(\S+)/) ?? []).slice(1).join(':'))
}

describe('2049 and 2050', () => {
  let dir: string
  let work: string
  beforeAll(async () => {
    dir = await caAt('2045-01-01T00:00:00Z')
    work = tempDir()
  })

  it.each([
    ['before2050', 180, 'UTCTIME:491128000000Z', /^V\t491128000000Z\t/],
    ['from2050', 365, 'GENERALIZEDTIME:20500601000000Z', /^V\t20500601000000Z\t/],
  ])('%s: notAfter is encoded as %s and index.txt follows', async (name, days, encoded, line) => {
    const csr = makeCsr(work, name, { subject: `/CN=${name}.example.com` })
    const r = await signRequests(
      openDirectoryStore(dir),
      { csrFiles: [csr], cwd: work, days },
      at('2049-06-01T00:00:00Z'),
    )
    expect(r.issued[0]?.clamped).toBe(false)
    const times = asn1Times(join(dir, 'certs', `${name}.cert.pem`))
    expect(times).toEqual(['UTCTIME:490601000000Z', encoded])
    const entry = readFileSync(caFiles(dir).index, 'utf8')
      .trim()
      .split('\n')
      .find((l) => l.includes(`CN=${name}`))
    expect(entry).toMatch(line)
    // openssl ca reads the entry whatever the year form
    const serial = entry?.split('\t')[3] as string
    const cnf = join(work, 'status.cnf')
    writeFileSync(cnf, `[ca]\ndefault_ca=d\n[d]\ndatabase=${caFiles(dir).index}\n`)
    expect(openssl(['ca', '-config', cnf, '-status', serial]).stderr).toContain(`${serial}=Valid (V)`)
    const verify = openssl([
      'verify',
      '-x509_strict',
      '-attime',
      String(Date.parse('2049-07-01') / 1000),
      '-CAfile',
      caFiles(dir).root,
      '-untrusted',
      caFiles(dir).intermediate,
      join(dir, 'certs', `${name}.cert.pem`),
    ])
    expect(verify.stdout).toMatch(/: OK\n$/)
  })
})

describe('a leaf never outlives its issuer', () => {
  it("cuts notAfter to the intermediate's and says so", async () => {
    const dir = await caAt('2030-01-01T00:00:00Z') // intermediate valid for 3650 days: until 2039-12-30
    const work = tempDir()
    const csr = makeCsr(work, 'late', { subject: '/CN=late.example.com' })
    const r = await signRequests(
      openDirectoryStore(dir),
      { csrFiles: [csr], cwd: work, days: 375 },
      at('2039-06-01T00:00:00Z'),
    )
    const issued = r.issued[0]
    const intermediateNotAfter = opensslOk(['x509', '-in', caFiles(dir).intermediate, '-noout', '-enddate'])
    const leafNotAfter = opensslOk(['x509', '-in', join(dir, 'certs/late.cert.pem'), '-noout', '-enddate'])
    expect(leafNotAfter).toBe(intermediateNotAfter)
    expect(issued?.clamped).toBe(true)
    expect(issued?.notes.join(' ')).toContain("cut to the intermediate's notAfter")
  })
})

describe('sequential serials (adopted CAs)', () => {
  it('takes serials from the serial file and advances it', async () => {
    const dir = await caAt('2026-01-01T00:00:00Z')
    editCaYml(dir, (c) => {
      c.intermediate.serials = 'sequential'
    })
    const work = tempDir()
    const csrs = ['a', 'b', 'c'].map((n) => makeCsr(work, n, { subject: `/CN=${n}.example.com` }))
    await signRequests(openDirectoryStore(dir), { csrFiles: csrs, cwd: work }, at('2026-02-01T00:00:00Z'))
    const serials = readFileSync(caFiles(dir).index, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[3])
    expect(serials).toEqual(['1000', '1001', '1002'])
    expect(readFileSync(join(dir, 'intermediateCA/serial'), 'utf8')).toBe('1003\n')
    expect(opensslOk(['x509', '-in', join(dir, 'certs/b.cert.pem'), '-noout', '-serial'])).toBe(
      'serial=1001\n',
    )
  })
})

describe('random serials', () => {
  it('are 159-bit, distinct, and match the certificate and newcerts/ file names', async () => {
    const dir = await caAt('2026-01-01T00:00:00Z')
    const work = tempDir()
    const csrs = Array.from({ length: 20 }, (_, i) =>
      makeCsr(work, `r${i}`, { subject: `/CN=r${i}.example.com` }),
    )
    await signRequests(openDirectoryStore(dir), { csrFiles: csrs, cwd: work }, at('2026-02-01T00:00:00Z'))
    const serials = readFileSync(caFiles(dir).index, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[3] as string)
    expect(new Set(serials).size).toBe(20)
    for (const [i, s] of serials.entries()) {
      expect(BigInt(`0x${s}`) < 1n << 159n).toBe(true)
      expect(BigInt(`0x${s}`) > 0n).toBe(true)
      expect(
        opensslOk(['x509', '-in', join(dir, `intermediateCA/newcerts/${s}.pem`), '-noout', '-serial']),
      ).toBe(`serial=${s}\n`)
      expect(readFileSync(join(dir, `certs/r${i}.cert.pem`), 'utf8')).toBe(
        readFileSync(join(dir, `intermediateCA/newcerts/${s}.pem`), 'utf8'),
      )
    }
  })
})

describe('unique subjects', () => {
  it('refuses a second valid certificate for the same subject when uniqueSubject is on', async () => {
    const dir = await caAt('2026-01-01T00:00:00Z')
    editCaYml(dir, (c) => {
      c.intermediate.uniqueSubject = true
    })
    const work = tempDir()
    const first = makeCsr(work, 'one', { subject: '/CN=same.example.com' })
    const second = makeCsr(work, 'two', { subject: '/CN=same.example.com' })
    expect((await runCli(['sign', '--dir', dir, first], work)).status).toBe(0)
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, second], work)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('unique')
    expect(snapshot(dir)).toEqual(before)
  })
})
