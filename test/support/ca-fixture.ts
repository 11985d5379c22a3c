/**
 * Test support: temporary folders, the real openssl binary, CSRs made by openssl, the CLI run
 * in-process, and snapshots of a directory tree to prove that a refusal wrote nothing.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { main } from '../../src/cli/main.js'

const made: string[] = []

export function tempDir(prefix = 'mtls-ca-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true })
}

export interface RunResult {
  status: number
  stdout: string
  stderr: string
}

export function openssl(args: string[], options: { cwd?: string; input?: string } = {}): RunResult {
  const r = spawnSync('openssl', args, { cwd: options.cwd, input: options.input, encoding: 'utf8' })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

export function opensslOk(args: string[], options: { cwd?: string; input?: string } = {}): string {
  const r = openssl(args, options)
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

/**
 * openssl with stdout and stderr as one text: OpenSSL 3.0 exits 0 on some failures (`verify`,
 * `crl -CAfile`) and says so on stderr, so callers read the whole output.
 */
export function opensslMerged(args: string[], cwd?: string): { status: number; out: string } {
  const r = openssl(args, cwd === undefined ? {} : { cwd })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

/** opensslMerged that throws when openssl exits non-zero. */
export function opensslMergedOk(args: string[], cwd?: string): string {
  const r = opensslMerged(args, cwd)
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.out}`)
  return r.out
}

export type KeySpec =
  'rsa:1024' | 'rsa:2048' | 'rsa:3072' | 'rsa:4096' | 'ec:P-256' | 'ec:P-384' | 'ec:P-521' | 'ed25519'

function keyArgs(key: KeySpec): string[] {
  if (key.startsWith('rsa:')) return ['-newkey', key]
  if (key === 'ed25519') return ['-newkey', 'ed25519']
  return ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${key.slice(3)}`]
}

export interface CsrSpec {
  subject: string
  key?: KeySpec
  sans?: string[]
  /** Extra lines for the request's extension section (e.g. "basicConstraints = critical, CA:TRUE"). */
  extensions?: string[]
  digest?: string
}

/** Makes a key and a CSR with the real openssl; returns the CSR path (key beside it as <name>.key.pem). */
export function makeCsr(dir: string, name: string, spec: CsrSpec): string {
  const csr = join(dir, `${name}.csr.pem`)
  const key = join(dir, `${name}.key.pem`)
  const cnf = join(dir, `${name}.req.cnf`)
  const ext = [
    ...(spec.sans?.length ? [`subjectAltName = ${spec.sans.join(', ')}`] : []),
    ...(spec.extensions ?? []),
  ]
  writeFileSync(
    cnf,
    [
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      ...(ext.length ? ['req_extensions = ext'] : []),
      '[ dn ]',
      'CN = unused',
      '[ ext ]',
      ...ext,
      '',
    ].join('\n'),
  )
  const digest = spec.key === 'ed25519' ? [] : [`-${spec.digest ?? 'sha256'}`]
  opensslOk([
    'req',
    '-new',
    '-config',
    cnf,
    ...keyArgs(spec.key ?? 'ec:P-256'),
    '-nodes',
    '-keyout',
    key,
    '-subj',
    spec.subject,
    '-utf8',
    ...digest,
    '-out',
    csr,
  ])
  return csr
}

export async function runCli(
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  const status = await main(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env,
    cwd,
  })
  return { status, stdout, stderr }
}

/** Every file under dir (relative path → sha256 and mode), for proving that nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else
        out[relative(dir, p)] =
          `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${(st.mode & 0o777).toString(8)}`
    }
  }
  walk(dir)
  return out
}

/** A fresh CA made with `mtls-ca init` (default options unless given). */
export async function initCa(args: string[] = []): Promise<string> {
  const dir = tempDir()
  const r = await runCli(['init', '--dir', dir, ...args], dir)
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`)
  return dir
}

export function caFiles(dir: string) {
  return {
    root: join(dir, 'rootCA/certs/ca.cert.pem'),
    intermediate: join(dir, 'intermediateCA/certs/intermediate.cert.pem'),
    chain: join(dir, 'intermediateCA/certs/ca-chain.cert.pem'),
    index: join(dir, 'intermediateCA/index.txt'),
  }
}

/** `openssl verify` of a leaf against our root with the intermediate as untrusted; true when OK. */
export function verifyLeaf(dir: string, cert: string, purpose: 'sslserver' | 'sslclient'): RunResult {
  const f = caFiles(dir)
  return openssl([
    'verify',
    '-x509_strict',
    '-check_ss_sig',
    '-purpose',
    purpose,
    '-CAfile',
    f.root,
    '-untrusted',
    f.intermediate,
    cert,
  ])
}

/** ca.yml as data, for tests that change one setting. */
export type CaYml = {
  root: { key?: string } & Record<string, unknown>
  intermediate: {
    key: string
    concurrency?: number
    previous?: Array<{ serial: string; key: string; dir: string; certificate: string; crl: { file: string } }>
  } & Record<string, unknown>
} & Record<string, unknown>

export function readCaYml(dir: string): CaYml {
  return parseYaml(readFileSync(join(dir, 'ca.yml'), 'utf8')) as CaYml
}

export function editCaYml(dir: string, edit: (config: CaYml) => void): void {
  const config = readCaYml(dir)
  edit(config)
  writeFileSync(join(dir, 'ca.yml'), stringifyYaml(config))
}
