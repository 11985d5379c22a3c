#!/usr/bin/env node
// `npm run bench`: builds dist/ (the start scenario times the real bundles), bundles the harness
// (bench/main.ts, which imports the engine from src/ and the Key Vault double from test/doubles/) into
// one ES module the way build.mjs bundles the CLI, and runs it. Benchmarks are not tests: this measures
// and prints; it exits non-zero only when something failed, never because a target was missed.
//
//   node bench/run.mjs [--only issue,crl,index,vault,start] [--quick] [--no-build] [--out FILE]
//   node bench/run.mjs --profile rsa2048|rsa4096|p256|crl|index|vault   a CPU profile of one path, summarised
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import process from 'node:process'
import { build } from 'esbuild'

// Linux's USER_HZ: /proc/stat and /proc/<pid>/stat count in these ticks.
const TICKS = 100

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const started = Date.now()

if (!args.includes('--no-build') && !args.includes('--profile')) {
  const r = spawnSync(process.execPath, ['build.mjs'], { cwd: repo, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const outdir = join(tmpdir(), `mtls-ca-bench-${process.pid}`)
mkdirSync(outdir, { recursive: true })
const bundle = join(outdir, 'bench.mjs')
await build({
  entryPoints: [join(repo, 'bench/main.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // A separate map, for the profile summary: it maps samples back to the source files they come from.
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
})

const window = { start: Date.now(), machine: machineCpu(), own: ownCpu() }
const r = spawnSync(process.execPath, [bundle, ...args], {
  cwd: repo,
  stdio: 'inherit',
  env: {
    ...process.env,
    MTLS_CA_BENCH_REPO: repo,
    MTLS_CA_BENCH_BUNDLE: bundle,
    MTLS_CA_BENCH_T0: String(started),
  },
})
rmSync(outdir, { recursive: true, force: true })
if (r.error) throw r.error
if (r.status === 0 && !args.includes('--profile')) reportOtherCpu()
process.exit(r.status ?? 1)

// Other work on the machine skews every figure, and the load average of a VM says little (it counts
// kernel threads in I/O wait). What does: the CPU time the whole machine spent busy while the harness
// ran minus what the harness and everything it waited for (openssl, node children) used.
function reportOtherCpu() {
  const machine = machineCpu()
  const own = ownCpu()
  if ([machine, own, window.machine, window.own].includes(undefined)) return
  const seconds = (Date.now() - window.start) / 1000
  const other = Math.max(0, machine - window.machine - (own - window.own))
  const share = other / (seconds * availableParallelism())
  process.stdout.write(
    `Other processes used ${other.toFixed(1)} CPU-s while the harness ran (${(share * 100).toFixed(1)} % of the machine)` +
      (share > 0.05 ? ': the figures are skewed, run again on a quiet machine' : '') +
      '\n',
  )
  const out = resolve(repo, args.includes('--out') ? args[args.indexOf('--out') + 1] : 'bench/results.json')
  try {
    const results = JSON.parse(readFileSync(out, 'utf8'))
    results.machine = {
      ...results.machine,
      other_cpu_s: Math.round(other * 10) / 10,
      other_cpu_share: Math.round(share * 1000) / 1000,
    }
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  } catch {
    // no results file (e.g. a failed run): nothing to annotate
  }
}

/** Busy CPU-seconds of the whole machine since boot (/proc/stat), or undefined off Linux. */
function machineCpu() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number)
    const [user, nice, system, , , irq, softirq, steal] = f
    return (user + nice + system + irq + softirq + steal) / TICKS
  } catch {
    return undefined
  }
}

/** CPU-seconds of this process and of the children it waited for (/proc/self/stat utime…cstime). */
function ownCpu() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number)
    return (f[11] + f[12] + f[13] + f[14]) / TICKS
  } catch {
    return undefined
  }
}
