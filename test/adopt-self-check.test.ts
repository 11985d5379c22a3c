/**
 * `mtls-ca adopt` runs the CA self-check that `sign` runs: a tutorial CA whose root or intermediate
 * was issued (by the real openssl) with extensions `openssl verify -x509_strict` refuses is refused
 * at adoption with sign's error code, and nothing is written. Then, to show the check is the same
 * one, `sign` on an adopted good CA whose intermediate is swapped for the bad one refuses with it too.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { makeCsr, opensslOk, runCli, snapshot, cleanupTempDirs } from './support/ca-fixture.js'
import { tutorialCa } from './support/tutorial-ca.js'

afterAll(cleanupTempDirs)

const INTERMEDIATE_CERT = 'intermediateCA/certs/intermediate.cert.pem'
const INTERMEDIATE_CSR = 'intermediateCA/certs/intermediate.csr.pem'
const ROOT_CERT = 'rootCA/certs/ca.cert.pem'
const ROOT_KEY = 'rootCA/private/ca.key.pem'
const CHAIN = 'intermediateCA/certs/ca-chain.cert.pem'
const ROOT_SUBJECT = '/C=US/ST=California/L=San Francisco/O=Example Corp/OU=IT Department/CN=Root CA'

/** Writes the chain file again from the intermediate and root certificates as they now are. */
function rewriteChain(dir: string): void {
  const pem = (f: string) => readFileSync(join(dir, f), 'utf8')
  writeFileSync(join(dir, CHAIN), pem(INTERMEDIATE_CERT) + pem(ROOT_CERT))
}

/** Reissues the intermediate (same key, same subject) from the root with the given extensions. */
function reissueIntermediate(dir: string, extensions: string): void {
  const ext = join(dirname(dir), 'intermediate-ext.cnf')
  writeFileSync(ext, `[ bad ]\n${extensions}\n`)
  opensslOk(
    [
      'x509',
      '-req',
      '-in',
      INTERMEDIATE_CSR,
      '-CA',
      ROOT_CERT,
      '-CAkey',
      ROOT_KEY,
      '-set_serial',
      '0x7001',
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      ext,
      '-extensions',
      'bad',
      '-out',
      INTERMEDIATE_CERT,
    ],
    { cwd: dir },
  )
  rewriteChain(dir)
}

/** Makes the root again (same key and subject, so the intermediate still verifies) with these extensions. */
function remakeRoot(dir: string, extensions: string): void {
  const cnf = join(dirname(dir), 'root-ext.cnf')
  writeFileSync(cnf, `${readFileSync(join(dir, 'openssl_root.cnf'), 'utf8')}\n[ bad_root ]\n${extensions}\n`)
  opensslOk(
    [
      'req',
      '-config',
      cnf,
      '-key',
      ROOT_KEY,
      '-new',
      '-x509',
      '-days',
      '7300',
      '-sha256',
      '-extensions',
      'bad_root',
      '-subj',
      ROOT_SUBJECT,
      '-out',
      ROOT_CERT,
    ],
    { cwd: dir },
  )
  rewriteChain(dir)
}

/** An intermediate that expired: issued by `openssl ca` with dates in the past. */
function expireIntermediate(dir: string): void {
  // The root's database already holds this subject: let openssl ca issue it again.
  writeFileSync(join(dir, 'rootCA/index.txt.attr'), 'unique_subject = no\n')
  opensslOk(
    [
      'ca',
      '-batch',
      '-config',
      'openssl_root.cnf',
      '-extensions',
      'v3_intermediate_ca',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20210101000000Z',
      '-notext',
      '-md',
      'sha256',
      '-in',
      INTERMEDIATE_CSR,
      '-out',
      INTERMEDIATE_CERT,
    ],
    { cwd: dir },
  )
  rewriteChain(dir)
}

const GOOD_INTERMEDIATE = [
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid:always',
  'basicConstraints = critical, CA:true, pathlen:0',
  'keyUsage = critical, digitalSignature, cRLSign, keyCertSign',
]
const GOOD_ROOT = [
  'subjectKeyIdentifier = hash',
  'basicConstraints = critical, CA:true',
  'keyUsage = critical, keyCertSign, cRLSign',
]
/** The good extensions with one line replaced (or dropped when `line` is ''). */
const but = (good: string[], index: number, line: string): string =>
  good.map((l, i) => (i === index ? line : l)).join('\n')

const INTERMEDIATE_ONLY = ['adopt', '--intermediate-config', 'openssl_intermediate.cnf']
const WITH_ROOT = [...INTERMEDIATE_ONLY, '--root-config', 'openssl_root.cnf']

describe('adopt refuses a CA that sign would refuse', () => {
  it.each<[string, (dir: string) => void, string[], string, RegExp, string]>([
    [
      'an intermediate whose basicConstraints is not critical',
      (d) => reissueIntermediate(d, but(GOOD_INTERMEDIATE, 2, 'basicConstraints = CA:true, pathlen:0')),
      INTERMEDIATE_ONLY,
      'ca.not_a_ca',
      /intermediate certificate .* may not issue certificates: basicConstraints is not critical/,
      INTERMEDIATE_CERT,
    ],
    [
      'an intermediate without cRLSign',
      (d) => reissueIntermediate(d, but(GOOD_INTERMEDIATE, 3, 'keyUsage = critical, keyCertSign')),
      WITH_ROOT,
      'ca.not_a_ca',
      /its keyUsage lacks cRLSign/,
      INTERMEDIATE_CERT,
    ],
    [
      'an intermediate without an authority key identifier',
      (d) => reissueIntermediate(d, but(GOOD_INTERMEDIATE, 1, 'authorityKeyIdentifier = none')),
      INTERMEDIATE_ONLY,
      'ca.not_signed_by_root',
      /no authority key identifier/,
      INTERMEDIATE_CERT,
    ],
    [
      'an intermediate that has expired',
      expireIntermediate,
      WITH_ROOT,
      'ca.expired',
      /the intermediate certificate .* expired on 2021-01-01T00:00:00Z/,
      INTERMEDIATE_CERT,
    ],
    [
      'a root whose basicConstraints is not critical (root found through the chain)',
      (d) => remakeRoot(d, but(GOOD_ROOT, 1, 'basicConstraints = CA:true')),
      INTERMEDIATE_ONLY,
      'ca.not_a_ca',
      /the root certificate .* may not issue certificates: basicConstraints is not critical/,
      ROOT_CERT,
    ],
    [
      'a root whose basicConstraints is not critical (root configuration)',
      (d) => remakeRoot(d, but(GOOD_ROOT, 1, 'basicConstraints = CA:true')),
      WITH_ROOT,
      'ca.not_a_ca',
      /the root certificate .* may not issue certificates: basicConstraints is not critical/,
      ROOT_CERT,
    ],
    [
      'a root with pathlen:0, which allows no intermediate',
      (d) => remakeRoot(d, but(GOOD_ROOT, 1, 'basicConstraints = critical, CA:true, pathlen:0')),
      WITH_ROOT,
      'ca.not_a_ca',
      /its pathlen 0 allows no intermediate below it/,
      ROOT_CERT,
    ],
  ])('%s', async (_label, spoil, args, code, message, file) => {
    const dir = tutorialCa('mtls-ca-adopt-self-check-')
    spoil(dir)
    const outside = dirname(dir)
    const before = snapshot(outside)
    const r = await runCli(args, dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(r.stderr).toContain(`[${code}]`)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toContain(file)
    // Nothing written: not ca.yml, not a chain or root file, not the store's own folder.
    expect(snapshot(outside)).toEqual(before)
  })

  it('adopts the same CA once its intermediate is reissued with the CA extensions', async () => {
    const dir = tutorialCa('mtls-ca-adopt-self-check-')
    reissueIntermediate(dir, GOOD_INTERMEDIATE.join('\n'))
    const r = await runCli(INTERMEDIATE_ONLY, dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('is the check sign runs: sign refuses the bad intermediate with the same code', async () => {
    const dir = tutorialCa('mtls-ca-adopt-self-check-')
    expect((await runCli(INTERMEDIATE_ONLY, dir)).status).toBe(0)
    reissueIntermediate(dir, but(GOOD_INTERMEDIATE, 2, 'basicConstraints = CA:true, pathlen:0'))
    const csr = makeCsr(dirname(dir), 'www2', {
      subject: '/CN=www2.example.com',
      sans: ['DNS:www2.example.com'],
    })
    mkdirSync(join(dir, 'requests'), { recursive: true })
    copyFileSync(csr, join(dir, 'requests/www2.csr.pem'))
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[ca.not_a_ca]')
    expect(r.stderr).toMatch(/basicConstraints is not critical/)
    expect(snapshot(dir)).toEqual(before)
  })
})
