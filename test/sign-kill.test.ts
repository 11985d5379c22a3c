/**
 * `mtls-ca sign` killed (SIGKILL) at random moments of a batch: after the next command's recovery the
 * CA directory is always the complete old state or the complete new one — never a batch half issued,
 * a certificate without its index line, or an index line without its certificate.
 */
import { spawn } from 'node:child_process'
import { cpSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { bundleForTest } from './support/bundle.js'
import { cleanupTempDirs, initCa, makeCsr, snapshot, tempDir } from './support/ca-fixture.js'
import { openDirectoryStore } from '../src/store/directory-store.js'

afterAll(cleanupTempDirs)

const BATCH = 40

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function runSign(
  cli: string,
  dir: string,
  killAfterMs: number | undefined,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, [cli, 'sign', '--dir', dir], { stdio: 'ignore' })
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, ms: Date.now() - started })
    }),
  )
}

/** The state after recovery, classified: 'old', 'new', or a description of what is wrong. */
function classify(dir: string, old: Record<string, string>): string {
  const now = snapshot(dir)
  const changed = Object.keys(now).filter((f) => now[f] !== old[f] && !f.startsWith('.mtls-ca/'))
  const removed = Object.keys(old).filter((f) => !(f in now) && !f.startsWith('.mtls-ca/'))
  if (removed.length) return `files disappeared: ${removed.join(', ')}`
  if (changed.length === 0) return 'old'
  const index = readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').trim().split('\n').filter(Boolean)
  if (index.length !== BATCH) return `index has ${index.length} lines, expected 0 or ${BATCH}`
  const serials = index.map((l) => l.split('\t')[3] as string)
  const expected = new Set(['intermediateCA/index.txt'])
  for (const s of serials) expected.add(`intermediateCA/newcerts/${s}.pem`)
  for (let i = 0; i < BATCH; i++) {
    expected.add(`certs/req${i}.cert.pem`)
    expected.add(`certs/req${i}.fullchain.pem`)
  }
  const unexpected = changed.filter((f) => !expected.has(f))
  const missing = [...expected].filter((f) => !changed.includes(f))
  if (unexpected.length || missing.length)
    return `half a batch: unexpected ${unexpected.join(',')} missing ${missing.join(',')}`
  return 'new'
}

it('leaves the old or the new state wherever a batch sign is killed', async () => {
  const cli = await bundleForTest('src/cli.ts')
  const pristine = await initCa()
  const work = tempDir()
  for (let i = 0; i < BATCH; i++) {
    const csr = makeCsr(work, `req${i}`, { subject: `/CN=req${i}.example.com` })
    cpSync(csr, join(pristine, 'requests', `req${i}.csr.pem`))
  }
  const old = snapshot(pristine)

  // One undisturbed run tells how long a batch takes here, and that it succeeds.
  const reference = tempDir()
  cpSync(pristine, reference, { recursive: true })
  const full = await runSign(cli, reference, undefined)
  expect(full.code).toBe(0)
  expect(classify(reference, old)).toBe('new')

  const random = mulberry32(Number(process.env.KILL_TEST_SEED ?? 7))
  const outcomes: Record<string, number> = {}
  const dir = tempDir()
  for (let i = 0; i < 16; i++) {
    rmSync(dir, { recursive: true, force: true })
    cpSync(pristine, dir, { recursive: true })
    const run = await runSign(cli, dir, Math.floor(full.ms * (0.4 + 0.7 * random())))
    // the next command recovers whatever the killed one left
    await openDirectoryStore(dir).locked(async () => undefined)
    const outcome = classify(dir, old)
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    expect({ iteration: i, run, outcome }).toEqual({
      iteration: i,
      run,
      outcome: expect.stringMatching(/^(old|new)$/),
    })
  }
  console.log(`kill test outcomes over 16 runs (batch ${full.ms} ms): ${JSON.stringify(outcomes)}`)
})

it('never interleaves two sign processes on one directory: both batches land whole', async () => {
  const cli = await bundleForTest('src/cli.ts')
  const dir = await initCa()
  const work = tempDir()
  const batches = ['a', 'b'].map((p) =>
    Array.from({ length: 15 }, (_, i) => makeCsr(work, `${p}${i}`, { subject: `/CN=${p}${i}.example.com` })),
  )
  const runs = batches.map(
    (csrs) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [cli, 'sign', '--dir', dir, ...csrs], { stdio: 'ignore' })
        child.on('exit', (code) => resolve(code))
      }),
  )
  expect(await Promise.all(runs)).toEqual([0, 0])
  const index = readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').trim().split('\n')
  expect(index).toHaveLength(30)
  expect(new Set(index.map((l) => l.split('\t')[3])).size).toBe(30)
  for (let i = 0; i < 15; i++) {
    for (const p of ['a', 'b']) expect(index.some((l) => l.endsWith(`/CN=${p}${i}.example.com`))).toBe(true)
  }
})
