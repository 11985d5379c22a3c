/**
 * `mtls-ca adopt` on hostile OpenSSL configurations, run through the CLI as a process: includes of
 * devices, FIFOs, huge or sparse files, links and paths out of the CA directory, a million lines,
 * exponential expansion, and values from the environment. Each is refused with its code, within a
 * time limit (a hang kills the child and fails) and a memory limit (the child's peak RSS), writing
 * nothing, and a secret from the environment appears in no output and no file.
 */
import { execFile, spawnSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import {
  cpSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { bundleForTest } from './support/bundle.js'
import { cleanupTempDirs, tempDir } from './support/ca-fixture.js'
import { tutorialCa } from './support/tutorial-ca.js'

afterAll(cleanupTempDirs)

/** A refusal that takes longer than this is a hang. */
const TIME_LIMIT_MS = 20_000
/** Peak RSS of a refusing child: far below what reading /dev/zero or a 1 GiB file would take. */
const MEMORY_LIMIT_KB = 256 * 1024
const SECRET = `s3cret-${randomUUID()}`

let cli: string
let pristine: string
let preload: string

beforeAll(async () => {
  cli = await bundleForTest('src/cli.ts')
  pristine = tutorialCa()
  preload = join(tempDir(), 'max-rss.cjs')
  // The child reports its own peak RSS on exit; a child killed by the timeout or by the kernel
  // reports nothing, which fails the test.
  writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.MAX_RSS_FILE, " +
      'String(process.resourceUsage().maxRSS)))\n',
  )
}, 60_000)

interface Run {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  ms: number
  maxRssKb: number | undefined
}

function runAdopt(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const rssFile = join(tempDir(), 'rss')
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--require', preload, cli, 'adopt', ...args],
      {
        cwd,
        env: { SECRET, MAX_RSS_FILE: rssFile, ...env },
        timeout: TIME_LIMIT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        let maxRssKb: number | undefined
        try {
          maxRssKb = Number(readFileSync(rssFile, 'utf8'))
        } catch {
          maxRssKb = undefined
        }
        const e = error as (Error & { code?: number; signal?: string }) | null
        resolve({
          code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          signal: e?.signal ?? null,
          stdout,
          stderr,
          ms: Date.now() - started,
          maxRssKb,
        })
      },
    )
  })
}

/** Every entry under dir by type: files by hash and mode, links by target, FIFOs by kind (never read). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      const key = relative(dir, p)
      if (st.isDirectory()) {
        out[key] = 'dir'
        walk(p)
      } else if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(p)}`
      else if (!st.isFile()) out[key] = `special ${st.mode.toString(8)}`
      else if (st.size > 4 * 1024 * 1024) out[key] = `large ${st.size} ${st.mtimeMs}`
      else out[key] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${st.mode.toString(8)}`
    }
  }
  walk(dir)
  return out
}

/** Regular files under dir (not following links) that contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile() && st.size < 4 * 1024 * 1024 && readFileSync(p).includes(needle)) found.push(p)
    }
  }
  walk(dir)
  return found
}

/** A fresh copy of the tutorial CA in its own parent folder (which stands for "outside"). */
function freshCa(): { dir: string; outside: string; cnf: string } {
  const outside = tempDir('mtls-ca-hostile-')
  const dir = join(outside, 'myCA')
  cpSync(pristine, dir, { recursive: true })
  // The tutorial's configuration names its folder by absolute path: the copy's.
  const cnf = readFileSync(join(dir, 'openssl_intermediate.cnf'), 'utf8').replaceAll(pristine, dir)
  writeFileSync(join(outside, 'outside.cnf'), '[ outside ]\nx = 1\n')
  return { dir, outside, cnf }
}

function mkfifo(path: string): void {
  mkdirSync(dirname(path), { recursive: true })
  const r = spawnSync('mkfifo', [path])
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed`)
}

const set = (key: string, value: string) => (cnf: string) =>
  cnf.replace(new RegExp(`^${key} +=.*$`, 'm'), `${key} = ${value}`)
const prepend = (line: string) => (cnf: string) => `${line}\n${cnf}`
const append = (text: string) => (cnf: string) => `${cnf}${text}`

interface Case {
  /** Edits the intermediate configuration. */
  edit: (cnf: string) => string
  /** Makes the files the configuration points at (dir: the CA directory; outside: its parent). */
  files?: (dir: string, outside: string) => void
  env?: Record<string, string>
  /** Where the main configuration is: 'hostile.cnf' in the CA directory unless given. */
  main?: (dir: string, outside: string) => string
}

const doubling = (): string => {
  const lines = ['a0 = xxxxxxxxxxxxxxxx']
  for (let i = 1; i <= 40; i++) lines.push(`a${i} = $a${i - 1}$a${i - 1}`)
  return lines.join('\n')
}

const cases: [string, string, Case][] = [
  // Reading: regular files only, size-checked first, inside the CA directory.
  ['.include /dev/zero', 'adopt.include_outside', { edit: prepend('.include /dev/zero') }],
  ['.include /dev/urandom', 'adopt.include_outside', { edit: prepend('.include /dev/urandom') }],
  [
    '.include of a FIFO',
    'adopt.include_not_regular',
    { edit: prepend('.include fifo.cnf'), files: (d) => mkfifo(join(d, 'fifo.cnf')) },
  ],
  [
    '.include of a directory with a FIFO among its files',
    'adopt.include_not_regular',
    {
      edit: prepend('.include conf.d'),
      files: (d) => {
        mkdirSync(join(d, 'conf.d'))
        writeFileSync(join(d, 'conf.d/10-a.cnf'), 'a = 1\n')
        mkfifo(join(d, 'conf.d/20-b.cnf'))
      },
    },
  ],
  [
    'a symbolic link to a file outside',
    'adopt.include_outside',
    {
      edit: prepend('.include link.cnf'),
      files: (d, o) => symlinkSync(join(o, 'outside.cnf'), join(d, 'link.cnf')),
    },
  ],
  [
    'a symbolic link to /dev/zero',
    'adopt.include_outside',
    { edit: prepend('.include zero.cnf'), files: (d) => symlinkSync('/dev/zero', join(d, 'zero.cnf')) },
  ],
  [
    'a file under a symbolic link to a folder outside',
    'adopt.include_outside',
    {
      edit: prepend('.include up/outside.cnf'),
      files: (d, o) => symlinkSync(o, join(d, 'up')),
    },
  ],
  [
    'a directory that is a symbolic link to a folder outside',
    'adopt.include_outside',
    { edit: prepend('.include up'), files: (d, o) => symlinkSync(o, join(d, 'up')) },
  ],
  [
    'an included directory holding a symbolic link out',
    'adopt.include_outside',
    {
      edit: prepend('.include conf.d'),
      files: (d, o) => {
        mkdirSync(join(d, 'conf.d'))
        writeFileSync(join(d, 'conf.d/10-a.cnf'), 'a = 1\n')
        symlinkSync(join(o, 'outside.cnf'), join(d, 'conf.d/20-b.cnf'))
      },
    },
  ],
  ['a .. escape', 'adopt.include_outside', { edit: prepend('.include ../outside.cnf') }],
  [
    'a .. escape through a folder inside',
    'adopt.include_outside',
    {
      edit: prepend('.include intermediateCA/../../outside.cnf'),
    },
  ],
  [
    'an absolute path outside',
    'adopt.include_outside',
    { edit: (c) => c, main: (d, o) => write(d, 'hostile.cnf', `.include ${o}/outside.cnf\n`) },
  ],
  [
    'a 1 GiB sparse file included',
    'adopt.config_too_large',
    { edit: prepend('.include big.cnf'), files: (d) => sparse(join(d, 'big.cnf')) },
  ],
  [
    'a 1 GiB sparse file as the configuration',
    'adopt.config_too_large',
    { edit: (c) => c, main: (d) => (sparse(join(d, 'hostile.cnf')), 'hostile.cnf') },
  ],
  [
    'a FIFO as the configuration',
    'adopt.include_not_regular',
    { edit: (c) => c, main: (d) => (mkfifo(join(d, 'hostile.cnf')), 'hostile.cnf') },
  ],
  [
    '/dev/zero as the configuration',
    'adopt.include_not_regular',
    { edit: (c) => c, main: () => '/dev/zero' },
  ],
  [
    'a million lines (in an included file under the byte limit)',
    'adopt.config_too_large',
    {
      edit: prepend('.include lines.cnf'),
      files: (d) => writeFileSync(join(d, 'lines.cnf'), '\n'.repeat(1_000_000)),
    },
  ],
  [
    'included files each under the limit, too large together',
    'adopt.config_too_large',
    {
      edit: prepend('.include conf.d'),
      files: (d) => {
        mkdirSync(join(d, 'conf.d'))
        const comment = `# ${'x'.repeat(1000)}\n`.repeat(900)
        for (let i = 0; i < 8; i++) writeFileSync(join(d, `conf.d/${i}.cnf`), comment)
      },
    },
  ],
  ['exponential expansion (a = $b$b, b = $c$c, …)', 'adopt.config_too_large', { edit: prepend(doubling()) }],
  [
    'many values that each expand to the limit',
    'adopt.config_too_large',
    {
      edit: prepend(
        [`big = ${'b'.repeat(60_000)}`, ...Array.from({ length: 300 }, (_, i) => `v${i} = $big`)].join('\n'),
      ),
    },
  ],
  // Already refused, and still: include loops and a dir outside the CA directory.
  [
    'an include loop',
    'adopt.config_invalid',
    {
      edit: prepend('.include loop.cnf'),
      files: (d) => writeFileSync(join(d, 'loop.cnf'), '.include loop.cnf\n'),
    },
  ],
  ['dir outside the CA directory', 'adopt.unsupported', { edit: set('dir', '/var/tmp/elsewhere') }],
  // The environment: nothing adopt copies may come from it, and its value is never echoed.
  ['$ENV::SECRET in dir', 'adopt.env_in_value', { edit: set('dir', '$ENV::SECRET/intermediateCA') }],
  ['${ENV::SECRET} in dir', 'adopt.env_in_value', { edit: set('dir', '${ENV::SECRET}/intermediateCA') }],
  ['$(ENV::SECRET) in dir', 'adopt.env_in_value', { edit: set('dir', '$(ENV::SECRET)/intermediateCA') }],
  [
    '$ENV::SECRET through another variable',
    'adopt.env_in_value',
    {
      edit: (c) =>
        set(
          'dir',
          '$base/intermediateCA',
        )(c.replace('[ CA_default ]', '[ CA_default ]\nbase = $ENV::SECRET')),
    },
  ],
  [
    '$ENV::SECRET through an [ENV] section of the configuration',
    'adopt.env_in_value',
    { edit: (c) => set('dir', '$ENV::X')(prepend('[ ENV ]\nX = $ENV::SECRET\n[ default ]')(c)) },
  ],
  ['$ENV::SECRET in a policy value', 'adopt.env_in_value', { edit: set('countryName', '$ENV::SECRET') }],
  ['$ENV::SECRET in the policy name', 'adopt.env_in_value', { edit: set('policy', '$ENV::SECRET') }],
  [
    '$ENV::SECRET in default_days',
    'adopt.env_in_value',
    { edit: (c) => c.replace('[ policy_loose ]', 'default_days = $ENV::SECRET\n[ policy_loose ]') },
  ],
  [
    '$ENV::SECRET in a CRL URL',
    'adopt.env_in_value',
    { edit: append('crlDistributionPoints = URI:http://${ENV::SECRET}/intermediate.crl\n') },
  ],
  [
    '$ENV::SECRET in an extension that is only listed as not mapped',
    'adopt.env_in_value',
    { edit: append('certificatePolicies = $ENV::SECRET\n') },
  ],
  [
    '$ENV::SECRET in a value that only goes into a note',
    'adopt.env_in_value',
    { edit: set('default_md', '$ENV::SECRET') },
  ],
  ['$ENV::SECRET as an .include path', 'adopt.env_in_value', { edit: prepend('.include $ENV::SECRET') }],
  [
    'OPENSSL_CONF_INCLUDE as the folder of a relative .include',
    'adopt.env_in_value',
    {
      edit: prepend('.include leaf.cnf'),
      files: (d) => writeFileSync(join(d, 'leaf.cnf'), 'x = 1\n'),
      env: { OPENSSL_CONF_INCLUDE: SECRET },
    },
  ],
]

function write(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, name), text)
  return name
}

function sparse(path: string): void {
  writeFileSync(path, '')
  truncateSync(path, 1024 * 1024 * 1024)
}

describe('adopt refuses hostile configurations, bounded in time and memory, writing nothing', () => {
  it.each(cases)('%s → %s', async (_label, code, c) => {
    const { dir, outside, cnf } = freshCa()
    c.files?.(dir, outside)
    const main = c.main ? c.main(dir, outside) : write(dir, 'hostile.cnf', c.edit(cnf))
    if (!c.main) expect(readFileSync(join(dir, main), 'utf8')).not.toBe(cnf)
    const before = tree(outside)

    const r = await runAdopt(dir, ['--dir', dir, '--intermediate-config', main], c.env)

    expect(r.signal).toBeNull() // not killed by the time limit
    expect(r.ms).toBeLessThan(TIME_LIMIT_MS)
    expect(r.maxRssKb).toBeDefined()
    expect(r.maxRssKb as number).toBeLessThan(MEMORY_LIMIT_KB)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`[${code}]`)
    expect(r.stderr).toContain(`adopt: ${main}: `)
    expect(tree(outside)).toEqual(before)
    expect(r.stdout + r.stderr).not.toContain(SECRET)
    expect(filesContaining(outside, SECRET)).toEqual([])
  })

  it('names the file, the line and the variable, and says to write the literal value', async () => {
    const { dir, cnf } = freshCa()
    const edited = set('dir', '${ENV::SECRET}/intermediateCA')(cnf)
    const line = edited.split('\n').findIndex((l) => l.startsWith('dir = ')) + 1
    write(dir, 'hostile.cnf', edited)
    const r = await runAdopt(dir, ['--dir', dir, '--intermediate-config', 'hostile.cnf'])
    expect(r.stderr).toMatch(
      new RegExp(
        `^mtls-ca adopt: hostile\\.cnf: line ${line}: \\[CA_default\\] dir takes \\$ENV::SECRET from the environment; ` +
          '.*replace \\$ENV::SECRET with the literal value \\[adopt\\.env_in_value\\]\\n$',
      ),
    )
  })
})

describe('the environment in values adopt never copies', () => {
  it('adopts, and the value is in no output and no file', async () => {
    const { dir, outside, cnf } = freshCa()
    const edited = cnf
      .replace('[ req ]\n', '[ req ]\ndefault_keyfile = $ENV::SECRET/key.pem\n')
      .replace(/^RANDFILE +=.*$/m, 'RANDFILE = $ENV::SECRET/.rnd')
    expect(edited).not.toBe(cnf)
    write(dir, 'quiet.cnf', edited)
    const r = await runAdopt(dir, ['--dir', dir, '--intermediate-config', 'quiet.cnf', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).written).toEqual(['ca.yml'])
    expect(r.stdout).toContain('$ENV::SECRET is taken from the environment')
    expect(r.stdout).not.toContain(SECRET)
    expect(filesContaining(outside, SECRET)).toEqual([])
  })

  it('reads an include inside the CA directory through a symbolic link that stays inside', async () => {
    const { dir, cnf } = freshCa()
    mkdirSync(join(dir, 'conf.d'))
    writeFileSync(join(dir, 'conf.d/leaf.cnf'), '[ extra ]\nx = 1\n')
    symlinkSync('conf.d/leaf.cnf', join(dir, 'leaf.cnf'))
    write(dir, 'linked.cnf', `.include leaf.cnf\n${cnf}`)
    const r = await runAdopt(dir, ['--dir', dir, '--intermediate-config', 'linked.cnf', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
})
