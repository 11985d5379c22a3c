/**
 * Scenario `issue`: a batch of P-256 CSRs signed by an RSA-2048, an RSA-4096 and a P-256 intermediate
 * (file backend), three ways on the same CA:
 * - ours: `signRequests` on a CA directory with the CSRs in requests/ — the whole `mtls-ca sign`:
 *   reading the requests, checks, signing, and the atomic commit of certs/, newcerts/ and index.txt
 *   (and, once, `issueBatch` alone on the same CSRs in memory, to split the engine from the I/O);
 * - `openssl ca -batch`, one process per CSR over a subset, on a copy of the same CA directory
 *   (same key, certificate and database), as a shell loop would run it;
 * - the raw rate of the same key: node:crypto `sign` in one worker thread per core.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { issueBatch, type IssuanceRequest, type RequestChecker } from '../src/ca/issue.js'
import { loadCa, openIssuer } from '../src/commands/ca-state.js'
import { signRequests } from '../src/commands/sign.js'
import { systemRuntime } from '../src/commands/runtime.js'
import type { KeyType } from '../src/keys/file-signer.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { writeCsrs, type CsrSet } from './csr-set.js'
import { profiled, printSummary, saveProfile, summarize, type ProfileSummary } from './profile.js'
import { rawSignRate } from './raw-sign.js'
import {
  assertVerifies,
  benchChecker,
  copyCa,
  makeCa,
  median,
  nowS,
  opensslCaConfig,
  round,
  runOk,
  settleDisk,
} from './support.js'

export const ISSUE_KEYS: ReadonlyArray<{ id: 'rsa2048' | 'rsa4096' | 'p256'; keyType: KeyType }> = [
  { id: 'rsa2048', keyType: 'rsa-2048' },
  { id: 'rsa4096', keyType: 'rsa-4096' },
  { id: 'p256', keyType: 'ec-p256' },
]

export interface IssueOptions {
  /** CSRs per batch of ours. */
  certs: number
  /** Batches of ours (the median is reported). */
  runs: number
  /** CSRs per chunk of the openssl loop, and chunks (the median chunk rate is reported). */
  opensslChunk: number
  opensslChunks: number
  rawSeconds: number
}

export interface IssueResult {
  ours_per_s: number
  /** issueBatch alone (parse, check, build, sign; no file reads or writes), one batch. */
  engine_per_s: number
  /** The same with the checks on two worker threads (MTLS_CA_CHECK_THREADS=2). */
  engine_check_threads_per_s: number
  openssl_ca_per_s: number
  raw_sign_per_s: number
  ours_vs_openssl: number
  ours_vs_raw: number
  certs: number
  ours_batch_s: number[]
  openssl_ca_certs: number
  openssl_ca_chunk_per_s: number[]
  raw_threads: number
  raw_slices_per_s: number[]
}

/** One batch of ours on a fresh copy of the CA with `count` requests; returns seconds and the CA copy. */
async function oursBatch(
  template: string,
  csrs: CsrSet,
  count: number,
): Promise<{ seconds: number; dir: string }> {
  const dir = copyCa(template, 'issue-ours')
  writeCsrs(csrs, join(dir, 'requests'), count)
  const store = openDirectoryStore(dir)
  settleDisk()
  const t0 = nowS()
  const result = await signRequests(store, { csrFiles: [], cwd: dir }, systemRuntime)
  const seconds = nowS() - t0
  if (result.issued.length !== count)
    throw new Error(`signRequests issued ${result.issued.length} of ${count}`)
  return { seconds, dir }
}

export async function issueScenario(
  key: (typeof ISSUE_KEYS)[number],
  csrs: CsrSet,
  o: IssueOptions,
  log: (s: string) => void,
): Promise<IssueResult> {
  const template = await makeCa(key.keyType, `ca-${key.id}`)

  const batches: number[] = []
  for (let r = 0; r < o.runs; r++) {
    const { seconds, dir } = await oursBatch(template, csrs, o.certs)
    if (r === 0) assertVerifies(dir, join(dir, 'certs', `${csrs.names[0]}.cert.pem`))
    batches.push(seconds)
    log(`  ${key.id} ours: ${o.certs} certificates in ${seconds.toFixed(2)} s`)
  }
  const ours = o.certs / median(batches)

  // The same batch through the engine alone: what the state reads and writes cost is the difference.
  const ca = await loadCa(openDirectoryStore(template))
  const issuer = await openIssuer(ca, 'intermediate', systemRuntime)
  const requests: IssuanceRequest[] = csrs.pems.slice(0, o.certs).map((csr, i) => ({
    name: csrs.names[i] as string,
    file: `requests/${csrs.names[i]}.csr.pem`,
    csr,
  }))
  const engineRun = async (checker?: RequestChecker) => {
    const e0 = nowS()
    const batch = await issueBatch(requests, {
      config: ca.config,
      issuer,
      index: [],
      nextSerial: undefined,
      now: new Date(),
      random: systemRuntime.random,
      ...(checker ? { checker } : {}),
    })
    return batch.issued.length / (nowS() - e0)
  }
  const engine = await engineRun()
  // The same with the checks on two worker threads (MTLS_CA_CHECK_THREADS=2), to keep measuring them.
  const engineThreads = await engineRun(benchChecker(2))
  log(
    `  ${key.id} engine only (issueBatch, no I/O): ${engine.toFixed(0)}/s; checks on 2 worker threads: ${engineThreads.toFixed(0)}/s`,
  )

  const osl = copyCa(template, 'issue-openssl')
  const config = opensslCaConfig(osl)
  const files = writeCsrs(csrs, join(osl, 'bench-requests'), o.opensslChunk * o.opensslChunks)
  const chunkRates: number[] = []
  for (let c = 0; c < o.opensslChunks; c++) {
    settleDisk()
    const t0 = nowS()
    for (let i = c * o.opensslChunk; i < (c + 1) * o.opensslChunk; i++) {
      const out = join(osl, `bench-requests/${i}.cert.pem`)
      runOk('openssl', ['ca', '-batch', '-config', config, '-notext', '-in', files[i] as string, '-out', out])
    }
    chunkRates.push(o.opensslChunk / (nowS() - t0))
  }
  assertVerifies(osl, join(osl, 'bench-requests/0.cert.pem'))
  const opensslRate = median(chunkRates)
  log(`  ${key.id} openssl ca loop: ${opensslRate.toFixed(1)}/s over ${files.length} CSRs`)

  const keyPem = readFileSync(join(template, 'intermediateCA/private/intermediate.key.pem'), 'utf8')
  const raw = await rawSignRate(keyPem, { seconds: o.rawSeconds })
  log(`  ${key.id} raw node:crypto sign: ${raw.per_s.toFixed(0)}/s on ${raw.threads} threads`)

  return {
    ours_per_s: round(ours),
    engine_per_s: round(engine),
    engine_check_threads_per_s: round(engineThreads),
    openssl_ca_per_s: round(opensslRate),
    raw_sign_per_s: round(raw.per_s),
    ours_vs_openssl: round(ours / opensslRate),
    ours_vs_raw: round(ours / raw.per_s),
    certs: o.certs,
    ours_batch_s: batches.map((b) => round(b)),
    openssl_ca_certs: files.length,
    openssl_ca_chunk_per_s: chunkRates.map((x) => round(x)),
    raw_threads: raw.threads,
    raw_slices_per_s: raw.slices_per_s.map((x) => round(x)),
  }
}

/** `--profile`: one batch of ours under the CPU profiler, summarised; the raw profile is kept. */
export async function profileIssue(
  key: (typeof ISSUE_KEYS)[number],
  csrs: CsrSet,
  count: number,
  bundle: string | undefined,
  out: string,
): Promise<{ seconds: number; summary: ProfileSummary }> {
  const template = await makeCa(key.keyType, `ca-${key.id}`)
  const dir = copyCa(template, 'issue-profile')
  writeCsrs(csrs, join(dir, 'requests'), count)
  const store = openDirectoryStore(dir)
  const t0 = nowS()
  const { value, profile } = await profiled(() =>
    signRequests(store, { csrFiles: [], cwd: dir }, systemRuntime),
  )
  const seconds = nowS() - t0
  if (value.issued.length !== count) throw new Error(`signRequests issued ${value.issued.length} of ${count}`)
  saveProfile(profile, out)
  const summary = summarize(profile, bundle)
  printSummary(
    `Profile of one batch: ${count} P-256 CSRs, ${key.id} intermediate, ${seconds.toFixed(2)} s wall`,
    summary,
    count,
  )
  return { seconds, summary }
}
