/**
 * Test support: the tutorial's CA built by the real `openssl ca` (shared/reference/tutorial-ca.sh:
 * root, intermediate, www 1000, api 1001 revoked keyCompromise, a CRL), and leaves issued into it by
 * `openssl ca` — the reference that mtls-ca's files are compared with.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { opensslOk, tempDir } from './ca-fixture.js'

export const TUTORIAL_SCRIPT = '/work/shared/reference/tutorial-ca.sh'

/** A fresh tutorial CA (2048-bit keys, for speed) in a new temporary folder; returns its directory. */
export function tutorialCa(prefix = 'mtls-ca-tutorial-'): string {
  const dir = join(tempDir(prefix), 'myCA')
  const r = spawnSync('bash', [TUTORIAL_SCRIPT, dir], {
    env: { ...process.env, KEYBITS: '2048' },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`tutorial-ca.sh failed: ${r.stderr}`)
  return dir
}

/**
 * A P-256 key, a CSR and a server_cert certificate for CN=<name>.example.com, issued by
 * `openssl ca` with the tutorial's intermediate config (`validity` defaults to 30 days).
 */
export function issueWithOpensslCa(
  dir: string,
  name: string,
  validity: string[] = ['-days', '30'],
): { key: string; csr: string; cert: string } {
  const cnf = join(dir, 'openssl_intermediate.cnf')
  const key = join(dir, `${name}.key.pem`)
  const csr = join(dir, `${name}.csr.pem`)
  const cert = join(dir, `${name}.cert.pem`)
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
  opensslOk(['req', '-config', cnf, '-key', key, '-new', '-subj', `/CN=${name}.example.com`, '-out', csr])
  opensslOk([
    'ca',
    '-batch',
    '-config',
    cnf,
    '-extensions',
    'server_cert',
    ...validity,
    '-notext',
    '-in',
    csr,
    '-out',
    cert,
  ])
  return { key, csr, cert }
}
