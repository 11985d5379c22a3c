/**
 * Checking a batch's requests on worker threads. Parsing a CSR, verifying its self-signature and
 * running the policies is about half the CPU an issuance costs, and every request is checked on its
 * own, so a large batch can split across cores. Signing stays on the main thread (file keys sign on
 * libuv's pool there): the checks of every request end before the first signature, so a refused batch
 * never reaches the key (which may be a Key Vault key with a rate limit and an audit log).
 *
 * Opt-in, with MTLS_CA_CHECK_THREADS=N: on the 2-vCPU machine of docs/performance.md two checking
 * threads each ran at half the speed of one, so by default the checks run on the calling thread. The
 * benchmark keeps measuring both. `workerChecker` is a RequestChecker (src/ca/issue.ts) over a pool
 * made for one batch and ended after it; `serveChecks` is the worker's side, run by
 * src/check-worker.ts, which is built to dist/check-worker.js beside the CLI and the Action. A refusal
 * crosses the thread boundary as plain data and becomes the same CaError again (code, message, file,
 * details). Batches under 256 requests are checked on the calling thread: starting workers costs more.
 */
import { existsSync } from 'node:fs'
import { Worker, type MessagePort } from 'node:worker_threads'
import { CaError, type ErrorCode } from '../ca/errors.js'
import {
  checkRequests,
  type CheckOutcome,
  type CheckPolicy,
  type Checked,
  type IssuanceRequest,
  type RequestChecker,
} from '../ca/issue.js'

export interface WorkerCheckerOptions {
  /** The worker's script: dist/check-worker.js (or a bundle of src/check-worker.ts in tests). */
  script: string | URL
  /** How many workers a large batch gets. */
  threads: number
  /** Batches smaller than this are checked on the calling thread (default 256). */
  minBatch?: number
}

/** Requests per message: small enough to balance the workers, large enough to amortise a message. */
const CHUNK = 64

interface WireError {
  code: ErrorCode
  message: string
  file?: string
  cause?: string
  details: WireError[]
}

type WireOutcome = { ok: Omit<Checked, 'request'> } | { error: WireError }

interface CheckMessage {
  id: number
  policy: CheckPolicy
  requests: IssuanceRequest[]
}

interface ResultMessage {
  id: number
  outcomes: WireOutcome[]
}

/** check-worker.js beside the running bundle (dist/), or undefined when there is none (e.g. in tests). */
export function checkWorkerBeside(bundleUrl: string): URL | undefined {
  const script = new URL('./check-worker.js', bundleUrl)
  return existsSync(script) ? script : undefined
}

/**
 * The checker MTLS_CA_CHECK_THREADS asks for: unset or 1, checks run on the calling thread (the
 * default: on the 2-vCPU machine of docs/performance.md two checking threads were no faster than
 * one); N ≥ 2, batches of 256 or more are checked by N workers running `script`.
 */
export function configuredChecker(
  env: Record<string, string | undefined>,
  script: URL | undefined,
): RequestChecker | undefined {
  const raw = env.MTLS_CA_CHECK_THREADS
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1) {
    throw new CaError(
      'usage.invalid',
      `MTLS_CA_CHECK_THREADS takes a number of threads from 1 to 99, not "${raw}"`,
    )
  }
  const threads = Number(raw)
  if (threads === 1) return undefined
  if (script === undefined) {
    throw new CaError(
      'usage.invalid',
      'MTLS_CA_CHECK_THREADS needs check-worker.js beside the mtls-ca bundle',
    )
  }
  return workerChecker({ script, threads })
}

export function workerChecker(options: WorkerCheckerOptions): RequestChecker {
  const minBatch = options.minBatch ?? 256
  return async (requests, policy) => {
    if (options.threads < 2 || requests.length < minBatch) return checkRequests(requests, policy)
    return checkOnWorkers(requests, policy, options)
  }
}

async function checkOnWorkers(
  requests: readonly IssuanceRequest[],
  policy: CheckPolicy,
  options: WorkerCheckerOptions,
): Promise<CheckOutcome[]> {
  const chunks: IssuanceRequest[][] = []
  for (let i = 0; i < requests.length; i += CHUNK) chunks.push(requests.slice(i, i + CHUNK))
  const outcomes: CheckOutcome[] = new Array<CheckOutcome>(requests.length)
  const workers = Array.from(
    { length: Math.min(options.threads, chunks.length) },
    () => new Worker(options.script),
  )
  let next = 0
  try {
    await Promise.all(
      workers.map(async (worker) => {
        for (let id = next++; id < chunks.length; id = next++) {
          const chunk = chunks[id] as IssuanceRequest[]
          const result = await exchange(worker, { id, policy, requests: chunk })
          result.outcomes.forEach((o, k) => {
            outcomes[id * CHUNK + k] = fromWire(o, chunk[k] as IssuanceRequest)
          })
        }
      }),
    )
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return outcomes
}

/** Sends one chunk and waits for its answer; a worker that fails or exits fails the batch. */
function exchange(worker: Worker, message: CheckMessage): Promise<ResultMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    const onMessage = (m: ResultMessage) => {
      cleanup()
      if (m.id !== message.id || m.outcomes.length !== message.requests.length) {
        reject(new Error(`the check worker answered chunk ${m.id} for chunk ${message.id}`))
      } else resolve(m)
    }
    const onError = (e: Error) => {
      cleanup()
      reject(e)
    }
    const onExit = (code: number) => {
      cleanup()
      reject(new Error(`the check worker exited (${code}) before answering`))
    }
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.on('exit', onExit)
    worker.postMessage(message)
  })
}

/** The worker's side: answers every CheckMessage on `port` with its outcomes. */
export function serveChecks(port: MessagePort): void {
  port.on('message', (m: CheckMessage) => {
    const outcomes = checkRequests(m.requests, m.policy).map(toWire)
    port.postMessage({ id: m.id, outcomes } satisfies ResultMessage)
  })
}

function toWire(outcome: CheckOutcome): WireOutcome {
  if (outcome instanceof CaError) return { error: errorToWire(outcome) }
  // The request (CSR bytes included) stays out of the answer: the caller has its own list.
  const { spki, key, profile, subject, sans, days, notes } = outcome
  return { ok: { spki, key, profile, subject, sans, days, notes } }
}

function fromWire(outcome: WireOutcome, request: IssuanceRequest): CheckOutcome {
  if ('error' in outcome) return errorFromWire(outcome.error)
  return { request, ...outcome.ok }
}

function errorToWire(e: CaError): WireError {
  return {
    code: e.code,
    message: e.message,
    ...(e.file === undefined ? {} : { file: e.file }),
    ...(e.cause === undefined ? {} : { cause: e.cause instanceof Error ? e.cause.message : String(e.cause) }),
    details: e.details.map(errorToWire),
  }
}

function errorFromWire(w: WireError): CaError {
  return new CaError(w.code, w.message, {
    ...(w.file === undefined ? {} : { file: w.file }),
    ...(w.cause === undefined ? {} : { cause: new Error(w.cause) }),
    details: w.details.map(errorFromWire),
  })
}
