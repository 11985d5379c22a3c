/**
 * Request files a pull request controls cannot crash, exhaust or confuse `mtls-ca sign`, run as a
 * process: names of Object.prototype's properties wherever a profile is named, files far over their
 * bound (sparse, so they cost no disk), folders, FIFOs and links where a request should be, side-files
 * with YAML tags, and file names that cannot name a certificate. Each is refused as a request — exit
 * 1, its code, its file named, JSON on stdout under --json — with the CA directory byte-identical and
 * the good request beside it left unsigned.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { join, relative } from 'node:path'
import { jest } from '@jest/globals'
import { bundleForTest } from './support/bundle.js'
import { cleanupTempDirs, editCaYml, initCa, makeCsr, opensslOk, tempDir } from './support/ca-fixture.js'

afterAll(cleanupTempDirs)
jest.setTimeout(180_000)

const GiB = 1024 * 1024 * 1024
const MiB = 1024 * 1024
const BUILTIN_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  'isPrototypeOf',
]

let cli: string
let pristine: string
let goodCsr: string

beforeAll(async () => {
  cli = await bundleForTest('src/cli.ts')
  pristine = await initCa(['--allow-dns', '.example.com'])
  goodCsr = readFileSync(makeCsr(tempDir(), 'good', { subject: '/CN=good.example.com' }), 'utf8')
})

/** A copy of the fresh CA with requests/good.csr.pem pending: a refusal must leave it unsigned too. */
function freshCa(): string {
  const dir = tempDir()
  cpSync(pristine, dir, { recursive: true })
  writeFileSync(join(dir, 'requests/good.csr.pem'), goodCsr)
  return dir
}

/**
 * Every entry under dir by lstat — never following a link, never opening a FIFO — with the sha256 of
 * regular files; files over 16 MiB (the sparse giants) by size, inode and mtime, which any write changes.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      const mode = (st.mode & 0o7777).toString(8)
      const key = relative(dir, p)
      if (st.isDirectory()) {
        out[key] = `dir ${mode}`
        walk(p)
      } else if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(p)}`
      else if (!st.isFile()) out[key] = `special ${mode} ${st.ino}`
      else if (st.size > 16 * MiB) out[key] = `big ${st.size} ${st.ino} ${st.mtimeMs} ${mode}`
      else out[key] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${mode}`
    }
  }
  walk(dir)
  return out
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
  /** Peak resident memory of the child, bytes (GNU time's %M). */
  maxRss: number
}

/** `node <bundle> args` under GNU time (its report in a file of its own); killed if it hangs. */
function runCliProcess(args: string[], cwd: string): Promise<Run> {
  const report = join(tempDir(), 'time.txt')
  const child = spawn('/usr/bin/time', ['-o', report, '-f', '%M', process.execPath, cli, ...args], { cwd })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  // Generous: the machine may be busy; a FIFO opened for reading would hang for ever, not 150 s.
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer)
      const kb = /(\d+)\s*$/.exec(readFileSync(report, 'utf8'))?.[1]
      resolve({ status, stdout, stderr, maxRss: Number(kb) * 1024 })
    }),
  )
}

interface Refusal {
  code: string
  file?: string
  message: string
  details?: Refusal[]
}

/** The refusals a --json run reports: the error itself, or each of a batch's. */
function refusals(run: Run): Refusal[] {
  const { error } = JSON.parse(run.stdout) as { error: Refusal }
  return error.code === 'request.refused' ? (error.details ?? []) : [error]
}

/** Runs `sign --json` and asserts the refusal: exit 1, nothing changed, good.csr.pem not signed. */
async function expectRefused(dir: string, args: string[] = []): Promise<{ run: Run; refused: Refusal[] }> {
  const before = snapshot(dir)
  const run = await runCliProcess(['sign', '--dir', dir, '--json', ...args], dir)
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: '' })
  expect(snapshot(dir)).toEqual(before)
  return { run, refused: refusals(run) }
}

describe('names of Object.prototype properties are profile names like any other', () => {
  it.each(BUILTIN_NAMES)('requests/x.yml profile: %s is an unknown profile of that request', async (name) => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/x.csr.pem'), goodCsr)
    writeFileSync(join(dir, 'requests/x.yml'), `profile: ${JSON.stringify(name)}\n`)
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([
      expect.objectContaining({ code: 'policy.profile_unknown', file: 'requests/x.csr.pem' }),
    ])
    expect(refused[0]?.message).toContain(`unknown profile "${name}"`)
  })

  it.each(BUILTIN_NAMES)('--profile %s refuses every request of the batch', async (name) => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/x.csr.pem'), goodCsr)
    const { refused } = await expectRefused(dir, ['--profile', name])
    expect(refused.map((r) => [r.code, r.file])).toEqual([
      ['policy.profile_unknown', 'requests/good.csr.pem'],
      ['policy.profile_unknown', 'requests/x.csr.pem'],
    ])
  })

  it.each(BUILTIN_NAMES)('ca.yml issuance.profile: %s is refused as a configuration error', async (name) => {
    const dir = freshCa()
    editCaYml(dir, (c) => {
      ;(c.issuance as Record<string, unknown>).profile = name
    })
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.invalid', file: 'ca.yml' })])
    expect(refused[0]?.message).toContain(`issuance.profile: unknown profile "${name}"`)
  })

  it.each(BUILTIN_NAMES.filter((n) => !/^[a-z][a-z0-9-]*$/.test(n)))(
    'ca.yml profiles key %s is refused (profile names are lower case letters, digits and -)',
    async (name) => {
      const dir = freshCa()
      const yml = join(dir, 'ca.yml')
      // Written as text: a JavaScript object literal would not carry "__proto__" as a key.
      writeFileSync(
        yml,
        `${readFileSync(yml, 'utf8')}profiles:\n  ${name}:\n    extendedKeyUsage: [clientAuth]\n`,
      )
      const { refused } = await expectRefused(dir)
      expect(refused).toEqual([expect.objectContaining({ code: 'config.invalid', file: 'ca.yml' })])
      expect(refused[0]?.message).toMatch(/^profiles/)
    },
  )

  it.each(BUILTIN_NAMES)('a profile using the extended key usage %s is refused in ca.yml', async (name) => {
    const dir = freshCa()
    editCaYml(dir, (c) => {
      c.profiles = { odd: { extendedKeyUsage: [name] } }
    })
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.invalid', file: 'ca.yml' })])
    expect(refused[0]?.message).toContain(
      `profiles.odd.extendedKeyUsage.0: unknown extended key usage "${name}"`,
    )
  })

  it('a ca.yml profile named "constructor" is that profile, not Object.prototype.constructor', async () => {
    const dir = freshCa()
    editCaYml(dir, (c) => {
      c.profiles = { constructor: { extendedKeyUsage: ['clientAuth'] } }
    })
    writeFileSync(join(dir, 'requests/good.yml'), 'profile: constructor\n')
    const run = await runCliProcess(['sign', '--dir', dir, '--json'], dir)
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout).issued[0].profile).toBe('constructor')
    const text = opensslOk(['x509', '-in', join(dir, 'certs/good.cert.pem'), '-noout', '-text'])
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication\n/)
  })
})

describe('files over their bound are refused before they are read', () => {
  it('a 1 GiB sparse CSR: csr.too_large, without reading it', async () => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/big.csr.pem'), '')
    truncateSync(join(dir, 'requests/big.csr.pem'), GiB)
    const { run, refused } = await expectRefused(dir)
    expect(refused).toEqual([
      expect.objectContaining({ code: 'csr.too_large', file: 'requests/big.csr.pem' }),
    ])
    expect(refused[0]?.message).toBe(`the file is ${GiB} bytes, more than the 65536 allowed for a CSR`)
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })

  it('forty 1 GiB sparse CSRs at once: every one refused, peak memory bounded', async () => {
    const dir = freshCa()
    const names = Array.from({ length: 40 }, (_, i) => `big${String(i).padStart(2, '0')}`)
    for (const n of names) {
      writeFileSync(join(dir, `requests/${n}.csr.pem`), '')
      truncateSync(join(dir, `requests/${n}.csr.pem`), GiB)
    }
    const { run, refused } = await expectRefused(dir)
    expect(JSON.parse(run.stdout).error.code).toBe('request.refused')
    expect(refused.map((r) => [r.code, r.file])).toEqual(
      names.map((n) => ['csr.too_large', `requests/${n}.csr.pem`]),
    )
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })

  it('a 200 MiB requests/x.yml: config.too_large, not parsed', async () => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/x.csr.pem'), goodCsr)
    writeFileSync(join(dir, 'requests/x.yml'), 'profile: client\n')
    truncateSync(join(dir, 'requests/x.yml'), 200 * MiB)
    const { run, refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.too_large', file: 'requests/x.yml' })])
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })

  it('a 200 MiB ca.yml: config.too_large, not parsed', async () => {
    const dir = freshCa()
    truncateSync(join(dir, 'ca.yml'), 200 * MiB)
    const { run, refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.too_large', file: 'ca.yml' })])
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })

  it('a batch of CSRs each under 64 KiB but over 64 MiB together: request.batch_too_large', async () => {
    const dir = freshCa()
    const filler = `${goodCsr}${' '.repeat(60 * 1024)}`
    for (let i = 0; i < 1100; i++) writeFileSync(join(dir, `requests/many${i}.csr.pem`), filler)
    const { run, refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'request.batch_too_large', file: 'requests' })])
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })
})

describe('only regular files are requests', () => {
  const mkfifo = (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0)

  it.each([
    ['a folder at requests/x.csr.pem', (d: string) => mkdirSync(join(d, 'requests/x.csr.pem')), 'a folder'],
    ['a FIFO at requests/x.csr.pem', (d: string) => mkfifo(join(d, 'requests/x.csr.pem')), 'a FIFO'],
    [
      'a symbolic link at requests/x.csr.pem',
      (d: string) => symlinkSync(join(d, 'requests/good.csr.pem'), join(d, 'requests/x.csr.pem')),
      'symbolic link',
    ],
  ])('%s: csr.unreadable, never opened', async (_label, make, what) => {
    const dir = freshCa()
    make(dir)
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'csr.unreadable', file: 'requests/x.csr.pem' })])
    expect(refused[0]?.message).toContain(what)
  })

  it.each([
    ['a folder', (p: string) => mkdirSync(p), 'a folder'],
    ['a FIFO', (p: string) => mkfifo(p), 'a FIFO'],
    ['a symbolic link', (p: string) => symlinkSync('/etc/hostname', p), 'symbolic link'],
  ])('%s at requests/x.yml: config.invalid, never opened', async (_label, make, what) => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/x.csr.pem'), goodCsr)
    make(join(dir, 'requests/x.yml'))
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.invalid', file: 'requests/x.yml' })])
    expect(refused[0]?.message).toContain(what)
  })

  it('a FIFO or a 1 GiB file named on the command line is refused without blocking or reading', async () => {
    const dir = freshCa()
    const work = tempDir()
    mkfifo(join(work, 'pipe.csr.pem'))
    writeFileSync(join(work, 'huge.csr.pem'), '')
    truncateSync(join(work, 'huge.csr.pem'), GiB)
    const { run, refused } = await expectRefused(dir, [
      join(work, 'pipe.csr.pem'),
      join(work, 'huge.csr.pem'),
    ])
    expect(refused.map((r) => [r.code, r.file])).toEqual([
      ['csr.unreadable', join(work, 'pipe.csr.pem')],
      ['csr.too_large', join(work, 'huge.csr.pem')],
    ])
    expect(run.maxRss).toBeLessThan(300 * MiB)
  })
})

describe('side-files are plain YAML data', () => {
  it.each([
    [
      'profile: !!binary aGVsbG8=',
      'profile: expected a profile name (a string), got a value tagged !!binary',
    ],
    [
      '!!binary aGVsbG8=',
      'expected a mapping with the keys profile and/or days, got a value tagged !!binary',
    ],
    [
      'days: !!timestamp 2001-12-14',
      'days: expected a whole number of days greater than 0, got a value tagged !!timestamp',
    ],
    ['profile: !!set {a}', 'profile: expected a profile name (a string), got a value tagged !!set'],
    ['days: "30"', 'days: expected a whole number of days greater than 0, got the string "30"'],
    ['profile: [client]', 'profile: expected a profile name (a string), got a list'],
    ['a: &x client\nprofile: *x', 'unknown key "a" (expected: profile, days)'],
    ['profile: &x client\ndays: *x', 'days: expected a whole number of days greater than 0, got an alias'],
    ['__proto__: client', 'unknown key "__proto__" (expected: profile, days)'],
    ['constructor: client', 'unknown key "constructor" (expected: profile, days)'],
  ])('%j: config.invalid naming the key and the type expected', async (yml, message) => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/x.csr.pem'), goodCsr)
    writeFileSync(join(dir, 'requests/x.yml'), `${yml}\n`)
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([expect.objectContaining({ code: 'config.invalid', file: 'requests/x.yml' })])
    expect(refused[0]?.message).toContain(message)
    expect(refused[0]?.message.length).toBeLessThan(200)
  })
})

describe('a request file name that cannot name a certificate is refused as that request', () => {
  it.each([
    ['a space', 'my request'],
    ["a leading '-'", '-rf'],
    ['a newline', 'a\nb'],
    ['non-ASCII letters', 'café'],
    ['245 characters', 'x'.repeat(245)],
    ['101 characters', 'y'.repeat(101)],
    ["'.' only", '.'],
    ['nothing', ''],
    ["a leading '.'", '.hidden'],
    ["a '\\'", 'a\\b'],
    ["a ':'", 'c:d'],
    ['a Windows device name', 'CON'],
    ['a Windows device name with an extension', 'nul.x'],
    ['a control character', 'a\u001b[31m'],
  ])('%s', async (_label, name) => {
    const dir = freshCa()
    const entry = `${name}.csr.pem`
    writeFileSync(join(dir, 'requests', entry), goodCsr)
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([
      expect.objectContaining({ code: 'request.bad_name', file: `requests/${entry}` }),
    ])
    expect(refused[0]?.message).toContain(JSON.stringify(name))
  })

  it('names of the whole alphabet, up to 100 characters, are signed', async () => {
    const dir = freshCa()
    const names = ['a', '9', 'web.example.com', 'A_b-9.x', 'z'.repeat(100)]
    for (const n of names) {
      writeFileSync(
        join(dir, `requests/${n}.csr.pem`),
        readFileSync(makeCsr(tempDir(), 'n', { subject: `/CN=n${names.indexOf(n)}.example.com` })),
      )
    }
    const run = await runCliProcess(['sign', '--dir', dir, '--json'], dir)
    expect(run.status).toBe(0)
    expect(
      JSON.parse(run.stdout)
        .issued.map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual([...names, 'good'].sort())
    for (const n of names)
      expect(readFileSync(join(dir, `certs/${n}.cert.pem`), 'utf8')).toContain('BEGIN CERTIFICATE')
  })

  it('is listed with the other refusals of the batch, in name order', async () => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/a b.csr.pem'), goodCsr)
    writeFileSync(join(dir, 'requests/zz.csr.pem'), 'not a CSR\n')
    const { refused } = await expectRefused(dir)
    expect(refused.map((r) => [r.code, r.file])).toEqual([
      ['request.bad_name', 'requests/a b.csr.pem'],
      ['csr.not_pem', 'requests/zz.csr.pem'],
    ])
  })

  it('names given on the command line are refused the same way, exit 1 and no help', async () => {
    const dir = freshCa()
    const work = tempDir()
    for (const n of ['my req', '-rf', 'x'.repeat(245)]) writeFileSync(join(work, `${n}.csr.pem`), goodCsr)
    const files = ['my req.csr.pem', '-rf.csr.pem', `${'x'.repeat(245)}.csr.pem`].map((f) => join(work, f))
    const { refused } = await expectRefused(dir, ['--', ...files])
    expect(refused.map((r) => [r.code, r.file])).toEqual(files.map((f) => ['request.bad_name', f]))
  })

  it('names that differ only in case are refused: they are one file on macOS and Windows', async () => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/Good.csr.pem'), goodCsr)
    const { refused } = await expectRefused(dir)
    expect(refused).toEqual([
      expect.objectContaining({ code: 'request.duplicate_name', file: 'requests/good.csr.pem' }),
    ])
    expect(refused[0]?.message).toContain('requests/Good.csr.pem')
  })

  it('without --json: one line per refusal on stderr, control characters escaped', async () => {
    const dir = freshCa()
    writeFileSync(join(dir, 'requests/a\nb.csr.pem'), goodCsr)
    writeFileSync(join(dir, 'requests/c d.csr.pem'), goodCsr)
    const before = snapshot(dir)
    const run = await runCliProcess(['sign', '--dir', dir], dir)
    expect(run.status).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'mtls-ca sign: 2 of 3 requests were refused; nothing was issued [request.refused]',
      expect.stringMatching(
        /^ {2}requests\/a\\nb\.csr\.pem: the name "a\\nb" cannot name .* \[request\.bad_name\]$/,
      ),
      expect.stringMatching(
        /^ {2}requests\/c d\.csr\.pem: the name "c d" cannot name .* \[request\.bad_name\]$/,
      ),
    ])
    expect(snapshot(dir)).toEqual(before)
  })
})
