/**
 * The benchmark harness behind `npm run bench` (bench/run.mjs bundles this file and runs it): each
 * scenario of issue #5 side by side with its reference in one process run, a table of medians and
 * ratios with the targets next to them (PASS/MISS: measured, not asserted), and bench/results.json.
 *
 * Flags: --only issue,crl,index,vault,start   --quick (small sizes, a smoke test of the harness)
 *        --out FILE (default bench/results.json)
 *        --profile rsa2048|rsa4096|p256 [--certs N]   CPU profile of one `sign` batch, summarised
 *        --profile crl [--entries N]                  … of `mtls-ca crl` on N revoked entries
 *        --profile index [--lines N]                  … of loading and writing back an N-line index.txt
 *        --profile vault [--certs N]                  … of N certificates through the Key Vault double
 * Internal: --child-index and --child-vault run the index and vault-double children (same bundle).
 */
import 'reflect-metadata'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseIndex, serializeIndex } from '../src/ca/index-txt.js'
import { generateCrl } from '../src/commands/revocation.js'
import { signRequests } from '../src/commands/sign.js'
import { systemRuntime } from '../src/commands/runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { makeCsrs, writeCsrs } from './csr-set.js'
import { crlScenario, revokedIndex, type CrlResult } from './crl.js'
import { indexChild, indexScenario, writeBigIndex, type IndexResult } from './index-db.js'
import {
  CRL_STEPS,
  INDEX_STEPS,
  VAULT_STEPS,
  printSummary,
  profiled,
  saveProfile,
  summarize,
  type CpuProfile,
} from './profile.js'
import { ISSUE_KEYS, issueScenario, profileIssue, type IssueResult } from './issue.js'
import { startScenario, type StartResult } from './start.js'
import { cleanup, copyCa, makeCa, nowS, opensslVersion, round, tempDir } from './support.js'
import { vaultChild, vaultScenario, type VaultResult } from './vault.js'

const SCENARIOS = ['issue', 'crl', 'index', 'vault', 'start'] as const
type Scenario = (typeof SCENARIOS)[number]

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(name)
const value = (name: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}

const repo = process.env.MTLS_CA_BENCH_REPO ?? process.cwd()
const bundle = process.env.MTLS_CA_BENCH_BUNDLE ?? process.argv[1]
const log = (s: string) => console.log(s)

interface Sizes {
  issueCerts: number
  issueRuns: number
  opensslChunk: number
  opensslChunks: number
  rawSeconds: number
  crlEntries: number
  crlRuns: number
  indexLines: number
  indexRuns: number
  lookupBudgetS: number
  vaultCerts: number
  startRuns: number
}

const FULL: Sizes = {
  issueCerts: 1000,
  issueRuns: 3,
  opensslChunk: 30,
  opensslChunks: 3,
  rawSeconds: 2,
  crlEntries: 100_000,
  crlRuns: 3,
  indexLines: 1_000_000,
  indexRuns: 3,
  lookupBudgetS: 2,
  vaultCerts: 6000,
  startRuns: 10,
}

const QUICK: Sizes = {
  issueCerts: 40,
  issueRuns: 1,
  opensslChunk: 4,
  opensslChunks: 1,
  rawSeconds: 0.4,
  crlEntries: 2000,
  crlRuns: 1,
  indexLines: 20_000,
  indexRuns: 1,
  lookupBudgetS: 0.2,
  vaultCerts: 100,
  startRuns: 2,
}

async function benchMain(): Promise<void> {
  const quick = flag('--quick')
  const sizes = quick ? QUICK : FULL
  const only = (value('--only')?.split(',') ?? [...SCENARIOS]) as Scenario[]
  for (const s of only)
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; known: ${SCENARIOS.join(', ')}`)
  const out = resolve(repo, value('--out') ?? 'bench/results.json')
  const t0 = nowS()
  const machine = {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    openssl: opensslVersion(),
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every figure: the load before and after the run says if there was any.
    loadavg_before: loadavg().map((x) => round(x, 2)),
  }
  log(
    `mtls-ca bench${quick ? ' (quick: small sizes, not comparable)' : ''}: ${machine.nproc} × ${machine.cpu}, ` +
      `node ${machine.node}, ${machine.openssl}, load average ${machine.loadavg_before.join(' ')}`,
  )

  const results: Record<string, unknown> = { quick, machine, date: new Date().toISOString() }
  try {
    const needCsrs = only.includes('issue') || only.includes('vault') || only.includes('start')
    const c0 = nowS()
    // The vault scenario cycles through the CSRs: it needs no more than the issue scenario makes.
    const csrs = await makeCsrs(
      needCsrs ? Math.max(sizes.issueCerts, Math.min(sizes.vaultCerts, 1000), 10) : 0,
    )
    if (needCsrs) log(`${csrs.pems.length} P-256 CSRs made in ${(nowS() - c0).toFixed(1)} s`)

    if (only.includes('issue')) {
      log('\n[issue]')
      const issue: Record<string, IssueResult> = {}
      for (const key of ISSUE_KEYS) {
        issue[key.id] = await issueScenario(
          key,
          csrs,
          {
            certs: sizes.issueCerts,
            runs: sizes.issueRuns,
            opensslChunk: sizes.opensslChunk,
            opensslChunks: sizes.opensslChunks,
            rawSeconds: sizes.rawSeconds,
          },
          log,
        )
      }
      results.issue = issue
    }
    const rsa2048 =
      only.includes('crl') || only.includes('vault') ? await makeCa('rsa-2048', 'ca-rsa2048') : ''
    if (only.includes('crl')) {
      log('\n[crl]')
      results.crl = await crlScenario(rsa2048, sizes.crlEntries, sizes.crlRuns, log)
    }
    if (only.includes('index')) {
      log('\n[index]')
      results.index = indexScenario(
        bundle as string,
        sizes.indexLines,
        sizes.indexRuns,
        sizes.lookupBudgetS,
        log,
      )
    }
    if (only.includes('vault')) {
      log('\n[vault]')
      results.vault = await vaultScenario(bundle as string, rsa2048, csrs, sizes.vaultCerts, log)
    }
    if (only.includes('start')) {
      log('\n[start]')
      const small = copyCa(await makeCa('ec-p256', 'ca-small'), 'small-ca')
      writeCsrs(csrs, join(small, 'requests'), 10)
      await signRequests(openDirectoryStore(small), { csrFiles: [], cwd: small }, systemRuntime)
      const start = startScenario(repo, small, sizes.startRuns)
      log(
        `  mtls-ca list ${start.cli.wall_s} s, Action ${start.action.wall_s} s, node -e 0 ${start.node_baseline_s} s`,
      )
      results.start = start
    }
  } finally {
    cleanup()
  }

  Object.assign(machine, { loadavg_after: loadavg().map((x) => round(x, 2)) })
  const targets = verdicts(results)
  results.targets = targets
  const startedAt = Number(process.env.MTLS_CA_BENCH_T0 ?? 0)
  results.duration_s = round(startedAt ? (Date.now() - startedAt) / 1000 : nowS() - t0)
  printTable(results, targets)
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  log(`\nWrote ${out} (bench took ${results.duration_s} s${startedAt ? ', build included' : ''})`)
}

interface Verdict {
  target: string
  measured: string
  value: number
  pass: boolean
}

function verdicts(r: Record<string, unknown>): Verdict[] {
  const v: Verdict[] = []
  const issue = r.issue as Record<string, IssueResult> | undefined
  if (issue) {
    for (const key of ISSUE_KEYS) {
      const x = issue[key.id]
      if (!x) continue
      v.push({
        target: `issue ${key.id}: ≥ 10× the openssl ca loop`,
        measured: `${x.ours_vs_openssl}×`,
        value: x.ours_vs_openssl,
        pass: x.ours_vs_openssl >= 10,
      })
    }
    const x = issue.rsa2048
    if (x) {
      v.push({
        target: 'issue rsa2048: ≥ 50 % of the raw signing rate',
        measured: `${(x.ours_vs_raw * 100).toFixed(1)} %`,
        value: x.ours_vs_raw,
        pass: x.ours_vs_raw >= 0.5,
      })
    }
  }
  const crl = r.crl as CrlResult | undefined
  if (crl) {
    v.push({
      target: `crl: faster than openssl ca -gencrl (${crl.entries} entries)`,
      measured:
        crl.ours_s === null
          ? `ours FAILS (${crl.ours_error}) after ${crl.ours_s_until_error} s; openssl ${crl.openssl_s} s`
          : `${crl.ours_over_openssl}× openssl's time`,
      value: crl.ours_over_openssl ?? Number.NaN,
      pass: crl.ours_s !== null && crl.ours_s < crl.openssl_s,
    })
  }
  const index = r.index as IndexResult | undefined
  if (index) {
    v.push({
      target: `index: ${index.lines} lines load < 2 s`,
      measured: `${index.load_s} s`,
      value: index.load_s,
      pass: index.load_s < 2,
    })
    v.push({
      target: 'index: load in < 500 MB',
      measured: `${index.peak_mb} MB`,
      value: index.peak_mb,
      pass: index.peak_mb < 500,
    })
  }
  const vault = r.vault as VaultResult | undefined
  if (vault) {
    v.push({
      target: 'vault: ≥ 90 % of the sign limit',
      measured: `${(vault.fraction_of_limit * 100).toFixed(0)} %`,
      value: vault.fraction_of_limit,
      pass: vault.fraction_of_limit >= 0.9,
    })
  }
  const start = r.start as StartResult | undefined
  if (start) {
    v.push({
      target: 'start: CLI < 0.5 s',
      measured: `${start.cli.wall_s} s`,
      value: start.cli.wall_s,
      pass: start.cli.wall_s < 0.5,
    })
    v.push({
      target: 'start: Action < 0.5 s',
      measured: `${start.action.wall_s} s`,
      value: start.action.wall_s,
      pass: start.action.wall_s < 0.5,
    })
  }
  return v
}

function printTable(r: Record<string, unknown>, targets: Verdict[]): void {
  const rows: string[][] = [['scenario', 'ours', 'reference', 'ratio']]
  const issue = r.issue as Record<string, IssueResult> | undefined
  for (const key of ISSUE_KEYS) {
    const x = issue?.[key.id]
    if (!x) continue
    rows.push([
      `issue ${key.id} vs openssl ca loop`,
      `${x.ours_per_s}/s`,
      `${x.openssl_ca_per_s}/s`,
      `${x.ours_vs_openssl}×`,
    ])
    rows.push([`issue ${key.id}: engine only (no I/O)`, `${x.engine_per_s}/s`, '', ''])
    rows.push([`issue ${key.id}: engine, checks on 2 workers`, `${x.engine_check_threads_per_s}/s`, '', ''])
    rows.push([
      `issue ${key.id} vs raw sign (${x.raw_threads} thr)`,
      `${x.ours_per_s}/s`,
      `${x.raw_sign_per_s}/s`,
      `${(x.ours_vs_raw * 100).toFixed(1)} %`,
    ])
  }
  const crl = r.crl as CrlResult | undefined
  for (const c of [crl, crl?.smaller]) {
    if (!c) continue
    rows.push([
      `crl ${c.entries} entries`,
      c.ours_s === null ? `FAILED after ${c.ours_s_until_error} s` : `${c.ours_s} s`,
      `${c.openssl_s} s (openssl)`,
      c.ours_over_openssl === null ? '—' : `${c.ours_over_openssl}×`,
    ])
  }
  const index = r.index as IndexResult | undefined
  if (index) {
    rows.push([
      `index ${index.lines} lines: load`,
      `${index.load_s} s`,
      `read ${index.read_s} s`,
      `${index.peak_mb} MB peak`,
    ])
    rows.push([`index: findBySerial`, `${index.lookup_ms} ms/lookup`, `${index.lookups} lookups`, ''])
    rows.push([
      `index: append (serializeIndex)`,
      `${index.append_s} s`,
      '',
      `${index.peak_mb_after_append} MB peak`,
    ])
  }
  const vault = r.vault as VaultResult | undefined
  if (vault) {
    rows.push([
      `vault ${vault.certificates} certs, ${vault.latency_ms} ms`,
      `${vault.achieved_per_s}/s`,
      `${vault.limit_per_s}/s limit`,
      `${(vault.fraction_of_limit * 100).toFixed(0)} %; first signature after ${vault.first_signature_s} s`,
    ])
    if (vault.sustained_per_s !== undefined && vault.sustained_fraction_of_limit !== undefined) {
      rows.push([
        'vault, sustained after the first window',
        `${vault.sustained_per_s}/s`,
        `${vault.limit_per_s}/s limit`,
        `${(vault.sustained_fraction_of_limit * 100).toFixed(0)} %`,
      ])
    }
  }
  const start = r.start as StartResult | undefined
  if (start) {
    rows.push([
      'start: mtls-ca list',
      `${start.cli.wall_s} s`,
      `${start.node_baseline_s} s (node -e 0)`,
      `${(start.cli.bundle_bytes / 1e6).toFixed(2)} MB bundle`,
    ])
    rows.push([
      'start: Action list',
      `${start.action.wall_s} s`,
      `${start.node_baseline_s} s (node -e 0)`,
      `${(start.action.bundle_bytes / 1e6).toFixed(2)} MB bundle`,
    ])
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)))
  const fmt = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  log('\nMedians')
  log(fmt(rows[0]!))
  for (const row of rows.slice(1)) log(fmt(row))
  log('\nTargets (issue #5)')
  const tw = Math.max(...targets.map((t) => t.target.length))
  for (const t of targets) log(`${t.pass ? 'PASS' : 'MISS'}  ${t.target.padEnd(tw)}  ${t.measured}`)
}

async function profileMain(): Promise<void> {
  const which = argv[argv.indexOf('--profile') + 1] ?? 'rsa2048'
  const file = (name: string) => join(tmpdir(), `mtls-ca-${name}-${Date.now()}.cpuprofile`)
  try {
    if (which === 'crl') {
      const entries = Number(value('--entries') ?? 100_000)
      const dir = copyCa(await makeCa('rsa-2048', 'ca-rsa2048'), 'crl-profile')
      writeFileSync(join(dir, 'intermediateCA/index.txt'), revokedIndex(entries))
      const t0 = nowS()
      const { value: outcome, profile } = await profiled(() =>
        generateCrl(openDirectoryStore(dir), { side: 'intermediate' }, systemRuntime).then(
          () => 'done',
          (e: Error) => `FAILED: ${e.message}`,
        ),
      )
      const out = file('crl')
      saveProfile(profile, out)
      const title = `Profile of mtls-ca crl, ${entries} revoked entries, ${(nowS() - t0).toFixed(2)} s wall, ${outcome}`
      printSummary(title, summarize(profile, bundle, CRL_STEPS), entries, 'entry')
      log(`\nRaw profile: ${out}`)
    } else if (which === 'vault') {
      const count = Number(value('--certs') ?? 6000)
      const template = await makeCa('rsa-2048', 'ca-rsa2048')
      const csrs = await makeCsrs(Math.min(count, 1000))
      let captured: CpuProfile | undefined
      const result = await vaultScenario(
        bundle as string,
        template,
        csrs,
        count,
        log,
        undefined,
        async (batch) => {
          const { value: v, profile } = await profiled(batch)
          captured = profile
          return v
        },
      )
      const out = file('vault')
      saveProfile(captured as CpuProfile, out)
      const title = `Profile of ${count} certificates through the Key Vault double (20 ms, 2,000 per 10 s), ${result.seconds} s wall`
      printSummary(title, summarize(captured as CpuProfile, bundle, VAULT_STEPS), count)
      log(`\nRaw profile: ${out}`)
    } else if (which === 'index') {
      const lines = Number(value('--lines') ?? 1_000_000)
      const path = join(tempDir('index-profile'), 'index.txt')
      writeBigIndex(path, lines)
      const t0 = nowS()
      const { profile } = await profiled(
        async () => serializeIndex(parseIndex(readFileSync(path, 'utf8'))).length,
      )
      const out = file('index')
      saveProfile(profile, out)
      const title = `Profile of loading and writing back a ${lines}-line index.txt, ${(nowS() - t0).toFixed(2)} s wall`
      printSummary(title, summarize(profile, bundle, INDEX_STEPS), lines / 1000, 'kline')
      log(`\nRaw profile: ${out}`)
    } else {
      const key = ISSUE_KEYS.find((k) => k.id === which)
      if (!key) throw new Error(`--profile takes rsa2048, rsa4096, p256, crl, index or vault, not ${which}`)
      const count = Number(value('--certs') ?? 1000)
      const csrs = await makeCsrs(count)
      const out = file(`issue-${key.id}`)
      await profileIssue(key, csrs, count, bundle, out)
      log(`\nRaw profile: ${out} (open it in Chrome DevTools → Performance, or speedscope)`)
    }
  } finally {
    cleanup()
  }
}

// Last, once every constant above is initialised.
if (flag('--child-index')) {
  indexChild(argv[1] as string, Number(argv[2]), Number(argv[3]))
} else if (flag('--child-vault')) {
  await vaultChild(Number(argv[1]), Number(argv[2]))
} else if (flag('--profile')) {
  await profileMain()
} else {
  await benchMain()
}
