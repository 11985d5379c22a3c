/**
 * Revocation end to end through the CLI, judged by the real openssl: the R line, the CRL (number,
 * AKI, reasons, X509 CRL label, DER beside it), openssl verify -crl_check, and the refusals, each
 * leaving the state byte-identical.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { initCa as initCommand } from '../src/commands/init.js'
import { signRequests } from '../src/commands/sign.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import {
  caFiles,
  cleanupTempDirs,
  initCa,
  makeCsr,
  openssl,
  opensslOk,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const CRL = 'intermediateCA/crl/intermediate.crl.pem'

async function caWith(names: string[]): Promise<{ dir: string; serials: Record<string, string> }> {
  const dir = await initCa()
  const work = tempDir()
  const csrs = names.map((n) => makeCsr(work, n, { subject: `/CN=${n}.example.com` }))
  const r = await runCli(['sign', '--dir', dir, '--json', ...csrs], work)
  expect(r.status).toBe(0)
  const serials: Record<string, string> = {}
  for (const i of JSON.parse(r.stdout).issued) serials[i.name] = i.serial
  return { dir, serials }
}

function crlCheck(dir: string, name: string): { status: number; out: string } {
  const f = caFiles(dir)
  const r = openssl([
    'verify',
    '-crl_check',
    '-CRLfile',
    join(dir, CRL),
    '-CAfile',
    f.chain,
    join(dir, `certs/${name}.cert.pem`),
  ])
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('revoke and crl', () => {
  it('publishes a CRL that openssl uses to refuse the revoked certificate (error 23) and accept the others', async () => {
    const { dir, serials } = await caWith(['gone', 'kept'])
    const r = await runCli(['revoke', serials.gone as string, '--reason', 'keyCompromise', '--dir', dir], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const line = readFileSync(caFiles(dir).index, 'utf8')
      .split('\n')
      .find((l) => l.includes('CN=gone'))
    expect(line).toMatch(
      new RegExp(
        `^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${serials.gone}\\tunknown\\t/CN=gone.example.com$`,
      ),
    )

    const gone = crlCheck(dir, 'gone')
    expect(gone.out).toContain('error 23 at 0 depth lookup: certificate revoked')
    expect(gone.status).not.toBe(0)
    const kept = crlCheck(dir, 'kept')
    expect(kept.out).toMatch(/: OK\n/)
    expect(kept.status).toBe(0)

    // OpenSSL 3.0 prints "verify failure" yet exits 0: read the output
    expect(opensslOk(['crl', '-in', join(dir, CRL), '-CAfile', caFiles(dir).chain, '-noout'])).toBe('')
    expect(openssl(['crl', '-in', join(dir, CRL), '-CAfile', caFiles(dir).chain, '-noout']).stderr).toContain(
      'verify OK',
    )
    const text = opensslOk(['crl', '-in', join(dir, CRL), '-noout', '-text'])
    expect(text).toContain('Version 2 (0x1)')
    expect(text).toMatch(/X509v3 CRL Number: \n\s+4096\n/)
    expect(text).toContain('X509v3 Authority Key Identifier')
    expect(text).toMatch(new RegExp(`Serial Number: ${serials.gone}\\n[\\s\\S]*Key Compromise`))
    expect(readFileSync(join(dir, CRL), 'utf8')).toMatch(/^-----BEGIN X509 CRL-----\n/)
    // the DER beside it is the same CRL
    const der = opensslOk([
      'crl',
      '-inform',
      'DER',
      '-in',
      join(dir, 'intermediateCA/crl/intermediate.crl.der'),
      '-noout',
      '-text',
    ])
    expect(der).toBe(text)
    expect(readFileSync(join(dir, 'intermediateCA/crlnumber'), 'utf8')).toBe('1001\n')

    const verify = await runCli(['verify', join(dir, 'certs/gone.cert.pem'), '--dir', dir], dir)
    expect(verify.status).toBe(1)
    expect(verify.stderr).toMatch(/revoked \(keyCompromise\) on \d{4}-\d\d-\d\dT/)
    expect((await runCli(['verify', join(dir, 'certs/kept.cert.pem'), '--dir', dir], dir)).status).toBe(0)
  })

  it('increases the CRL number on every run and leaves revokedCertificates out when nothing is revoked', async () => {
    const dir = await initCa()
    const numbers: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['crl', '--dir', dir, '--json'], dir)
      expect(r.status).toBe(0)
      numbers.push(parseInt(JSON.parse(r.stdout).crlNumber, 16))
      const text = opensslOk(['crl', '-in', join(dir, CRL), '-noout', '-text'])
      expect(text).toContain('No Revoked Certificates.')
      expect(text).toContain(`X509v3 CRL Number: \n                ${numbers[i]}\n`)
    }
    expect(numbers).toEqual([0x1000, 0x1001, 0x1002])
  })

  it('--days sets nextUpdate', async () => {
    const dir = await initCa()
    const r = await runCli(['crl', '--dir', dir, '--days', '7', '--json'], dir)
    const crl = JSON.parse(r.stdout)
    expect((Date.parse(crl.nextUpdate) - Date.parse(crl.thisUpdate)) / 86_400_000).toBe(7)
  })

  it('revokes by certificate file, and records an invalidity date', async () => {
    const { dir, serials } = await caWith(['leaked'])
    // a compromise between the certificate's start and now (the second it was issued, or later)
    const when = new Date(Math.floor(Date.now() / 1000) * 1000)
    const generalized = when.toISOString().replace(/[-:T]|\.\d{3}/g, '')
    const r = await runCli(
      [
        'revoke',
        join(dir, 'certs/leaked.fullchain.pem'),
        '--reason',
        'keyCompromise',
        '--invalidity-date',
        when.toISOString(),
        '--dir',
        dir,
      ],
      dir,
    )
    expect(r.status).toBe(0)
    // OpenSSL records a compromise with its time as keyTime,<GeneralizedTime>
    expect(readFileSync(caFiles(dir).index, 'utf8')).toContain(`Z,keyTime,${generalized}\t`)
    const text = opensslOk(['crl', '-in', join(dir, CRL), '-noout', '-text'])
    expect(text).toContain(`Serial Number: ${serials.leaked}`)
    // openssl's form: "Jan  2 03:04:05 2026 GMT"
    const month = when.toUTCString().slice(8, 11)
    const day = String(when.getUTCDate()).padStart(2, ' ')
    const shown = `${month} ${day} ${when.toISOString().slice(11, 19)} ${when.getUTCFullYear()} GMT`
    expect(text).toMatch(new RegExp(`Invalidity Date: \\n\\s+${shown}`))
  })

  it('holds, releases, and makes a hold final', async () => {
    const { dir, serials } = await caWith(['held', 'final'])
    for (const n of ['held', 'final']) {
      expect(
        (await runCli(['revoke', serials[n] as string, '--reason', 'certificateHold', '--dir', dir], dir))
          .status,
      ).toBe(0)
    }
    expect(crlCheck(dir, 'held').out).toContain('certificate revoked')
    const released = await runCli(['release', serials.held as string, '--dir', dir], dir)
    expect(released.status).toBe(0)
    expect(crlCheck(dir, 'held').status).toBe(0)
    expect(
      readFileSync(caFiles(dir).index, 'utf8')
        .split('\n')
        .find((l) => l.includes('CN=held')),
    ).toMatch(/^V\t\d{12}Z\t\t/)

    const final = await runCli(
      ['revoke', serials.final as string, '--reason', 'keyCompromise', '--dir', dir],
      dir,
    )
    expect(final.stdout).toContain('hold made final')
    expect(opensslOk(['crl', '-in', join(dir, CRL), '-noout', '-text'])).toMatch(/Key Compromise/)
  })

  it("revokes an intermediate in the root's database and publishes the root's CRL", async () => {
    const dir = await initCa()
    const serial = readFileSync(join(dir, 'rootCA/index.txt'), 'utf8').split('\t')[3] as string
    const r = await runCli(['revoke', serial, '--root', '--reason', 'CACompromise', '--dir', dir], dir)
    expect(r.status).toBe(0)
    const rootCrl = join(dir, 'rootCA/crl/ca.crl.pem')
    expect(openssl(['crl', '-in', rootCrl, '-CAfile', caFiles(dir).root, '-noout']).stderr).toContain(
      'verify OK',
    )
    expect(opensslOk(['crl', '-in', rootCrl, '-noout', '-text'])).toMatch(
      new RegExp(`Serial Number: ${serial}[\\s\\S]*CA Compromise`),
    )
    const check = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      rootCrl,
      '-CAfile',
      caFiles(dir).root,
      caFiles(dir).intermediate,
    ])
    expect(check.stdout + check.stderr).toContain('certificate revoked')
  })
})

describe('refusals leave the state exactly as it was', () => {
  let dir: string
  let serials: Record<string, string>
  let expired: string
  let foreign: string
  beforeAll(async () => {
    ;({ dir, serials } = await caWith(['a', 'b']))
    expect(
      (await runCli(['revoke', serials.a as string, '--reason', 'superseded', '--dir', dir], dir)).status,
    ).toBe(0)
    // a certificate that expired: issued by a CA created in the past, with a past clock
    const past = tempDir()
    const clock = (iso: string) => ({
      now: () => new Date(iso),
      random: (n: number) => new Uint8Array(randomBytes(n)),
    })
    await initCommand(
      openDirectoryStore(past),
      { keyType: 'ec-p256', allowDns: [] },
      clock('2020-01-01T00:00:00Z'),
    )
    const work = tempDir()
    const r = await signRequests(
      openDirectoryStore(past),
      { csrFiles: [makeCsr(work, 'old', { subject: '/CN=old.example.com' })], cwd: work, days: 30 },
      clock('2020-02-01T00:00:00Z'),
    )
    expired = r.issued[0]?.serialHex as string
    // copy that CA's state into a directory we can snapshot
    dir2 = past
    const other = await caWith(['stranger'])
    foreign = join(other.dir, 'certs/stranger.cert.pem')
  })
  let dir2: string

  it.each([
    [
      'the same reason again (a no-op, exit 0)',
      () => ['revoke', serials.a as string, '--reason', 'superseded'],
      0,
      'already revoked',
    ],
    [
      'another reason',
      () => ['revoke', serials.a as string, '--reason', 'keyCompromise'],
      1,
      '[revoke.already_revoked]',
    ],
    [
      'an unknown serial',
      () => ['revoke', 'ABCDEF', '--reason', 'keyCompromise'],
      1,
      '[revoke.unknown_serial]',
    ],
    [
      'a certificate of another CA',
      () => ['revoke', foreign, '--reason', 'keyCompromise'],
      1,
      '[revoke.wrong_issuer]',
    ],
    [
      'releasing a certificate that is not on hold',
      () => ['release', serials.a as string],
      1,
      '[revoke.not_on_hold]',
    ],
    [
      'an unknown reason',
      () => ['revoke', serials.b as string, '--reason', 'boredom'],
      2,
      '--reason must be one of',
    ],
    ['no reason', () => ['revoke', serials.b as string], 2, '--reason is required'],
  ] as const)('%s', async (_label, args, status, message) => {
    const before = snapshot(dir)
    const r = await runCli([...args(), '--dir', dir], dir)
    expect(r.status).toBe(status)
    expect(r.stdout + r.stderr).toContain(message)
    expect(snapshot(dir)).toEqual(before)
  })

  it('an expired certificate', async () => {
    const before = snapshot(dir2)
    const r = await runCli(['revoke', expired, '--reason', 'keyCompromise', '--dir', dir2], dir2)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[revoke.expired]')
    expect(snapshot(dir2)).toEqual(before)
  })

  it.each([
    ['a certificate of another CA', () => foreign, /issued by another key/],
    ['an expired certificate', () => join(dir2, 'certs/old.cert.pem'), /expired/],
  ])('verify refuses %s with exit 1', async (_label, file, message) => {
    const target = file()
    const r = await runCli(['verify', target, '--dir', target.includes(dir2) ? dir2 : dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toContain('[verify.failed]')
  })

  it('verify refuses a certificate whose signature was tampered with', async () => {
    const pem = readFileSync(join(dir, 'certs/b.cert.pem'), 'utf8')
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff
    const file = join(tempDir(), 'tampered.pem')
    writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`)
    const r = await runCli(['verify', file, '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/signature/)
  })
})

describe('large CRLs', () => {
  it('publishes, re-reads and verifies against a CRL of 5,000 entries', async () => {
    const { dir } = await caWith(['alive'])
    const index = caFiles(dir).index
    const lines = Array.from({ length: 5000 }, () => {
      const serial = randomBytes(16).toString('hex').toUpperCase().replace(/^0/, '1')
      return `R\t301231235959Z\t260101000000Z,superseded\t${serial}\tunknown\t/CN=old.example.com\n`
    })
    writeFileSync(index, readFileSync(index, 'utf8') + lines.join(''))
    for (let run = 0; run < 2; run++) {
      // the second run reads the first run's CRL back (for the expiry rule)
      const r = await runCli(['crl', '--dir', dir, '--json'], dir)
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout).revoked).toBe(5000)
    }
    expect(openssl(['crl', '-in', join(dir, CRL), '-CAfile', caFiles(dir).chain, '-noout']).stderr).toContain(
      'verify OK',
    )
    const listed = opensslOk(['crl', '-in', join(dir, CRL), '-noout', '-text']).match(/Serial Number:/g) ?? []
    expect(listed).toHaveLength(5000)
    const verify = await runCli(['verify', join(dir, 'certs/alive.cert.pem'), '--dir', dir], dir)
    expect(verify.stderr).toBe('')
    expect(verify.stdout).toContain('and not revoked')
  })
})
