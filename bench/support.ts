/**
 * Bench support: clocks and medians, temporary folders, the real openssl binary, CA directories made
 * by the engine's own `initCa`, and an `openssl ca` configuration over a copy of such a directory, so
 * that both sides work on the same keys, certificates and database.
 */
import 'reflect-metadata'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initCa } from '../src/commands/init.js'
import { systemRuntime } from '../src/commands/runtime.js'
import type { RequestChecker } from '../src/ca/issue.js'
import { workerChecker } from '../src/threads/check-pool.js'
import type { KeyType } from '../src/keys/file-signer.js'
import { openDirectoryStore } from '../src/store/directory-store.js'

export const nowS = (): number => performance.now() / 1000

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Rounds for the report: 3 significant digits, so results.json stays readable. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))))
  return Math.round(x * scale) / scale
}

const made: string[] = []
let base: string | undefined

/** A fresh folder under one bench temp folder, removed by cleanup(). */
export function tempDir(name: string): string {
  base ??= mkdtempSync(join(tmpdir(), 'mtls-ca-bench-'))
  const dir = mkdtempSync(join(base, `${name}-`))
  made.push(dir)
  return dir
}

export function cleanup(): void {
  if (base) rmSync(base, { recursive: true, force: true })
  made.length = 0
  base = undefined
}

export interface Run {
  status: number
  stdout: string
  stderr: string
  seconds: number
}

export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Run {
  const t0 = nowS()
  const r = spawnSync(cmd, args, { cwd: options.cwd, env: options.env, encoding: 'utf8', maxBuffer: 1 << 28 })
  const seconds = nowS() - t0
  if (r.error) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds }
}

export function runOk(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Run {
  const r = run(cmd, args, options)
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`)
  return r
}

export function opensslVersion(): string {
  return runOk('openssl', ['version']).stdout.trim()
}

/** A CA directory made by the engine's `initCa` (root + intermediate of `keyType`, file backend). */
export async function makeCa(keyType: KeyType, name: string): Promise<string> {
  const dir = tempDir(name)
  await initCa(openDirectoryStore(dir, { create: true }), { keyType, allowDns: [] }, systemRuntime)
  return dir
}

/** A copy of a CA directory (without the store's lock/journal folder). */
export function copyCa(from: string, name: string): string {
  const dir = tempDir(name)
  cpSync(from, dir, { recursive: true, filter: (src) => !src.endsWith('/.mtls-ca') })
  return dir
}

/**
 * An `openssl ca` configuration for the intermediate of a CA directory made by `initCa`: the tutorial's
 * intermediate section, with the same database files, key and certificate, random serials as ours,
 * policy_loose, and a server certificate section equivalent to our `server` profile (the SAN is
 * copied from the CSR, which asks for the CN as a DNS name).
 */
export function opensslCaConfig(caDir: string): string {
  const dir = join(caDir, 'intermediateCA')
  const file = join(caDir, 'openssl-intermediate.cnf')
  writeFileSync(
    file,
    `[ ca ]
default_ca = CA_default

[ CA_default ]
dir               = ${dir}
certs             = $dir/certs
crl_dir           = $dir/crl
new_certs_dir     = $dir/newcerts
database          = $dir/index.txt
serial            = $dir/serial
rand_serial       = yes
crlnumber         = $dir/crlnumber
private_key       = $dir/private/intermediate.key.pem
certificate       = $dir/certs/intermediate.cert.pem
crl               = $dir/crl/intermediate.crl.pem
crl_extensions    = crl_ext
default_crl_days  = 30
default_md        = sha256
name_opt          = ca_default
cert_opt          = ca_default
default_days      = 375
preserve          = no
unique_subject    = no
copy_extensions   = copy
policy            = policy_loose
x509_extensions   = server_cert

[ policy_loose ]
countryName             = optional
stateOrProvinceName     = optional
localityName            = optional
organizationName        = optional
organizationalUnitName  = optional
commonName              = supplied
emailAddress            = optional

[ server_cert ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ crl_ext ]
authorityKeyIdentifier = keyid:always
`,
  )
  return file
}

/** Fails loudly unless openssl verifies `cert` up to the root of `caDir`. */
export function assertVerifies(caDir: string, cert: string): void {
  const r = run('openssl', [
    'verify',
    '-x509_strict',
    '-CAfile',
    join(caDir, 'rootCA/certs/ca.cert.pem'),
    '-untrusted',
    join(caDir, 'intermediateCA/certs/intermediate.cert.pem'),
    cert,
  ])
  if (r.status !== 0 || !/: OK/.test(r.stdout))
    throw new Error(`openssl verify ${cert}: ${r.stdout}${r.stderr}`)
}

/** A checker of large batches on `threads` workers running the built dist/check-worker.js. */
export function benchChecker(threads: number): RequestChecker {
  const repo = process.env.MTLS_CA_BENCH_REPO ?? process.cwd()
  const script = join(repo, 'dist/check-worker.js')
  if (!existsSync(script)) throw new Error('dist/check-worker.js is missing: run npm run build')
  return workerChecker({ script, threads })
}

/**
 * Writes the page cache's dirty data out (`sync`) before a timed step, so that the step does not pay
 * for the writeback of what was prepared just before it (a CA copied, 1,000 CSRs written, `npm ci`):
 * on this VM's disk, file creation slows several times while a writeback is running.
 */
export function settleDisk(): void {
  spawnSync('sync', { stdio: 'ignore' })
}
