/**
 * unique_subject as `openssl ca` decides it: index.txt.attr, when it says yes or no, wins over the
 * configuration (ca.yml here, the [CA_default] section there), and the attr file is written beside
 * every index with the value in force. Whatever sign leaves behind, `openssl ca -gencrl` must still
 * load (with unique_subject = yes and two valid certificates of one subject it fails with "Error
 * creating name index").
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  cleanupTempDirs,
  editCaYml,
  initCa,
  makeCsr,
  opensslMerged,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const ATTR = 'intermediateCA/index.txt.attr'

/** A minimal openssl ca configuration over the intermediate's database, without unique_subject. */
function gencrl(dir: string): { status: number; out: string } {
  const cnf = join(tempDir(), 'gencrl.cnf')
  writeFileSync(
    cnf,
    [
      '[ ca ]',
      'default_ca = CA_default',
      '[ CA_default ]',
      `dir = ${dir}/intermediateCA`,
      'database = $dir/index.txt',
      'crlnumber = $dir/crlnumber',
      'certificate = $dir/certs/intermediate.cert.pem',
      'private_key = $dir/private/intermediate.key.pem',
      'default_md = sha256',
      'default_crl_days = 30',
      '',
    ].join('\n'),
  )
  return opensslMerged(['ca', '-config', cnf, '-gencrl', '-out', join(tempDir(), 'crl.pem')])
}

async function sign(dir: string, name: string, subject: string) {
  const work = tempDir()
  const csr = makeCsr(work, name, { subject })
  return runCli(['sign', '--dir', dir, '--json', csr], work)
}

describe('unique_subject: index.txt.attr wins over ca.yml, as in openssl ca', () => {
  it.each<[string, string | undefined, boolean, boolean]>([
    // attr file content, ca.yml uniqueSubject, whether a second certificate of a subject is refused
    ['attr yes, ca.yml no', 'unique_subject = yes\n', false, true],
    // ca.yml turns the rule on even over an attr file that says no (it is rewritten to yes)
    ['attr no, ca.yml yes', 'unique_subject = no\n', true, true],
    ['attr no, ca.yml no', 'unique_subject = no\n', false, false],
    ['attr absent, ca.yml yes', undefined, true, true],
    ['attr absent, ca.yml no', undefined, false, false],
    ['attr without the key, ca.yml yes', '# nothing said\n', true, true],
    ['attr "Y" (read by its first letter), ca.yml no', 'unique_subject = Y\n', false, true],
  ])('%s', async (_name, attr, yml, refused) => {
    const dir = await initCa()
    editCaYml(dir, (c) => (c.intermediate.uniqueSubject = yml))
    if (attr === undefined) rmSync(join(dir, ATTR))
    else writeFileSync(join(dir, ATTR), attr)

    const first = await sign(dir, 'first', '/CN=dup.example.com')
    expect(first.status).toBe(0)
    const inForce = refused ? 'yes' : 'no'
    // written as openssl's save_index writes it, with the value in force
    expect(readFileSync(join(dir, ATTR), 'utf8')).toBe(`unique_subject = ${inForce}\n`)

    const before = snapshot(dir)
    const second = await sign(dir, 'second', '/CN=dup.example.com')
    if (refused) {
      const error = JSON.parse(second.stdout).error
      expect(error.code).toBe('policy.subject_mismatch')
      expect(error.message).toMatch(
        /CN=dup\.example\.com exists and unique_subject is on \(index\.txt\.attr or ca\.yml/,
      )
      expect(second.status).toBe(1)
      expect(snapshot(dir)).toEqual(before)
    } else {
      expect(second.status).toBe(0)
      expect(
        readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').match(/CN=dup\.example\.com/g),
      ).toHaveLength(2)
    }
    const crl = gencrl(dir)
    expect(crl.out).not.toContain('Error creating name index')
    expect(crl.status).toBe(0)
  })

  it('refuses two requests of one subject in a batch when the attr file says yes', async () => {
    const dir = await initCa()
    writeFileSync(join(dir, ATTR), 'unique_subject = yes\n')
    const work = tempDir()
    const csrs = ['a', 'b'].map((n) => makeCsr(work, n, { subject: '/CN=twice.example.com' }))
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, '--json', ...csrs], work)
    expect(JSON.parse(r.stdout).error.code).toBe('policy.subject_mismatch')
    expect(snapshot(dir)).toEqual(before)
    expect(gencrl(dir).status).toBe(0)
  })

  it('writes the attr file with revoke too, as openssl ca -revoke does', async () => {
    const dir = await initCa()
    const signed = await sign(dir, 'leaf', '/CN=leaf.example.com')
    const serial = JSON.parse(signed.stdout).issued[0].serial as string
    rmSync(join(dir, ATTR))
    const r = await runCli(['revoke', serial, '--reason', 'superseded', '--dir', dir], dir)
    expect(r.status).toBe(0)
    expect(existsSync(join(dir, ATTR))).toBe(true)
    expect(readFileSync(join(dir, ATTR), 'utf8')).toBe('unique_subject = no\n')
    expect(gencrl(dir).status).toBe(0)
  })

  it.each([['unique_subject = maybe\n'], ['not a setting\n']])(
    'refuses an attr file it cannot read (%j) with state.corrupt, naming it',
    async (attr) => {
      const dir = await initCa()
      writeFileSync(join(dir, ATTR), attr)
      const before = snapshot(dir)
      const r = await sign(dir, 'leaf', '/CN=leaf.example.com')
      const error = JSON.parse(r.stdout).error
      expect(error.code).toBe('state.corrupt')
      expect(error.file).toBe(ATTR)
      expect(snapshot(dir)).toEqual(before)
    },
  )
})
