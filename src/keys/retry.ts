/**
 * How one call to Azure Key Vault is made and what its failure means: a time limit per attempt (abort
 * signal), our own backoff on 429 (Key Vault usually sends no Retry-After, and the SDK only retries when
 * one is present, so the SDK's retry policy is switched off and this is the only one; a signer shares
 * one throttle state among all its calls, see vault-throttle.ts), bounded retries of transient 5xx and
 * network failures, a limit on calls in flight, and the mapping of every failure to a `CaError` that
 * names the vault, the object and the operation and says what to do.
 */
import { CaError, type ErrorCode } from '../ca/errors.js'
import { VaultThrottle } from './vault-throttle.js'

/** Waits `ms` milliseconds. Injected so tests can record the backoff schedule without waiting. */
export type Sleep = (ms: number) => Promise<void>

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Key Vault's documented advice for 429: back off exponentially, starting at 1 s. */
export const THROTTLE_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000]
/** Transient 5xx, network errors and timeouts: a few quick retries, then give up. */
export const TRANSIENT_DELAYS_MS: readonly number[] = [1000, 2000, 4000]
export const DEFAULT_TIMEOUT_MS = 30_000
/** Key Vault counts its limits per 10 s: a vault at its limit lets calls through again within that. */
export const LIMIT_WINDOW_MS = 10_000

/**
 * Client options that turn off the SDK's own retry policy. Left on, it retries 5xx and network errors
 * three times and 429s that carry Retry-After, underneath our retries, multiplying attempts.
 */
export const NO_SDK_RETRIES = { retryOptions: { maxRetries: 0 } } as const

export interface RetryPolicy {
  /**
   * Pauses after a 429 while the vault refuses everything; calls fail with `vault.throttled` after the
   * last. At the limit (something got through within `limitWindowMs`), every pause is the first one.
   */
  throttleDelaysMs: readonly number[]
  /** The vault's limit window: how long "at the limit" lasts without anything getting through. */
  limitWindowMs: number
  /** Delays before each retry of a 5xx, network failure or timeout. */
  transientDelaysMs: readonly number[]
  /** Time limit of one attempt. */
  timeoutMs: number
  sleep: Sleep
}

export function retryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!(timeoutMs > 0))
    throw new CaError('usage.invalid', `timeoutMs must be a positive number, got ${timeoutMs}`)
  return {
    throttleDelaysMs: options.throttleDelaysMs ?? THROTTLE_DELAYS_MS,
    limitWindowMs: options.limitWindowMs ?? LIMIT_WINDOW_MS,
    transientDelaysMs: options.transientDelaysMs ?? TRANSIENT_DELAYS_MS,
    timeoutMs,
    sleep: options.sleep ?? realSleep,
  }
}

/** What a call is about, for messages and for the RBAC role a 403 is missing. */
export interface VaultCall {
  /** The vault's URL, `https://<name>.vault.azure.net`. */
  vault: string
  kind: 'key' | 'certificate'
  /** The object's name, with `/version` when there is one. */
  name: string
  /** What was being done, as a verb phrase: `sign with`, `get`, `create`, `merge`, … */
  operation: string
  /**
   * Whether a failure without an answer (5xx, network error, timeout) may be retried. False for calls
   * that change state and are not idempotent (create, merge): a lost answer may hide a success.
   */
  idempotent: boolean
}

/**
 * Runs `attempt` with a per-attempt abort signal, retrying as the policy says; throws only `CaError`.
 * `throttle` is shared by the calls that count against one vault limit (a signer's signatures); by
 * default the call has its own.
 */
export async function callVault<T>(
  call: VaultCall,
  policy: RetryPolicy,
  attempt: (abortSignal: AbortSignal) => Promise<T>,
  throttle: VaultThrottle = new VaultThrottle(policy),
): Promise<T> {
  let transient = 0
  let attempts = 0
  let waitedMs = 0
  let probing = false
  for (;;) {
    const pass = await throttle.admit(probing)
    attempts++
    const outcome = await timed(policy.timeoutMs, attempt)
    if (outcome.ok) {
      throttle.answered(pass, true)
      return outcome.value
    }
    const failure = classify(outcome.error, outcome.timedOut)
    if (failure.kind === 'throttled') {
      const verdict = throttle.throttled(pass, failure.retryAfterMs)
      if (verdict.action === 'give up') {
        throw vaultError(call, outcome.error, { attempts, waitedMs: verdict.throttledMs })
      }
      probing = pass.probe
      continue
    }
    throttle.answered(pass, false)
    probing = false
    let delay: number | undefined
    if (failure.kind === 'transient' && call.idempotent) {
      const base = policy.transientDelaysMs[transient++]
      if (base !== undefined) delay = Math.max(base, failure.retryAfterMs ?? 0)
    }
    if (delay === undefined) {
      throw vaultError(call, outcome.error, {
        timedOutMs: outcome.timedOut ? policy.timeoutMs : undefined,
        attempts,
        waitedMs,
      })
    }
    await policy.sleep(delay)
    waitedMs += delay
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown; timedOut: boolean }

async function timed<T>(
  timeoutMs: number,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<Outcome<T>> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  // Raced as well as signalled: an attempt that ignores the abort must not hang the run.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
  })
  try {
    return { ok: true, value: await Promise.race([attempt(controller.signal), timeout]) }
  } catch (error) {
    return { ok: false, error, timedOut: controller.signal.aborted }
  } finally {
    clearTimeout(timer)
  }
}

/** The parts of the SDK's RestError (from @azure/core-rest-pipeline) that matter here. */
interface RestErrorLike {
  name: string
  message: string
  statusCode?: number
  code?: string
  details?: unknown
  response?: { headers: { get(name: string): string | undefined }; bodyAsText?: string | null }
}

function asRestError(e: unknown): RestErrorLike | undefined {
  return e instanceof Error && e.name === 'RestError' ? (e as RestErrorLike) : undefined
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'REQUEST_SEND_ERROR',
])

type Failure = { kind: 'throttled' | 'transient'; retryAfterMs?: number } | { kind: 'fatal' }

function classify(error: unknown, timedOut: boolean): Failure {
  if (timedOut) return { kind: 'transient' }
  const rest = asRestError(error)
  if (!rest) return { kind: 'fatal' }
  const status = rest.statusCode
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(rest) }
  if (status === 408 || (status !== undefined && status >= 500 && status !== 501 && status !== 505)) {
    return { kind: 'transient', retryAfterMs: retryAfterMs(rest) }
  }
  if (status === undefined && rest.code !== undefined && NETWORK_CODES.has(rest.code))
    return { kind: 'transient' }
  return { kind: 'fatal' }
}

/** Retry-After in seconds or as an HTTP date, or the Azure millisecond headers. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = asRestError(error)?.response?.headers
  if (!headers) return undefined
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name))
    if (headers.get(name) && Number.isFinite(ms) && ms >= 0) return ms
  }
  const value = headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined
}

/** The Key Vault error body: `{"error":{"code","message","innererror":{"code"}}}`. */
function vaultErrorBody(rest: RestErrorLike): { code?: string; message?: string; inner?: string } {
  const details = rest.details as {
    error?: { code?: string; message?: string; innerError?: { code?: string } }
  }
  let error = details?.error
  if (!error && rest.response?.bodyAsText) {
    try {
      const body = JSON.parse(rest.response.bodyAsText) as {
        error?: { code?: string; message?: string; innererror?: { code?: string } }
      }
      error = body.error && { ...body.error, innerError: body.error.innererror }
    } catch {
      // not JSON: keep what the RestError says
    }
  }
  return {
    code: error?.code ?? rest.code,
    message: error?.message ?? rest.message,
    inner: error?.innerError?.code,
  }
}

/** The built-in role that grants what a call needs. */
function roleFor(call: VaultCall): string {
  return call.kind === 'certificate' ? 'Key Vault Certificates Officer' : 'Key Vault Crypto User'
}

/** The access-policy permission a call needs (vaults not using RBAC). */
function accessPolicyPermission(call: VaultCall): string {
  if (call.operation.startsWith('sign')) return 'sign'
  if (call.operation.startsWith('create') || call.operation.startsWith('merge')) return 'create'
  return 'get'
}

function what(call: VaultCall): string {
  return `${call.operation} ${call.kind} '${call.name}' in Key Vault ${call.vault}`
}

/** The vault's own words, on one line and cut short: they can be long (RBAC denials list the caller). */
function quote(message: string | undefined): string {
  if (!message) return ''
  const line = message.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** Maps any failure of a Key Vault call to a `CaError` with an actionable message. */
export function vaultError(
  call: VaultCall,
  error: unknown,
  context: { timedOutMs?: number | undefined; attempts?: number; waitedMs?: number } = {},
): CaError {
  if (error instanceof CaError) return error
  const attempts = context.attempts ?? 1
  const tries = attempts > 1 ? ` after ${attempts} attempts over ${seconds(context.waitedMs ?? 0)}` : ''
  const fail = (code: ErrorCode, message: string) => new CaError(code, message, { cause: error })

  // A call that changes state and got no answer may have taken effect all the same.
  const unknownOutcome = call.idempotent
    ? ''
    : ` It may have taken effect: check the ${call.kind} in the vault before trying again.`
  if (context.timedOutMs !== undefined) {
    return fail(
      'vault.unreachable',
      `Could not ${what(call)}: no answer within ${seconds(context.timedOutMs)}${tries}. ` +
        'Check the vault URL, DNS, firewall or private endpoint, and proxy settings, or raise the timeout.' +
        unknownOutcome,
    )
  }
  const rest = asRestError(error)
  if (!rest) {
    const name = error instanceof Error ? error.name : ''
    const message = error instanceof Error ? error.message : String(error)
    if (/Credential|Authentication/.test(name)) {
      return fail(
        'vault.forbidden',
        `Could not ${what(call)}: no Azure token (${name}: ${quote(message)}). Check the credential: ` +
          'for GitHub OIDC the client id, tenant id and federated credential; locally `az login`.',
      )
    }
    if (name === 'AbortError') {
      return fail('vault.unreachable', `Could not ${what(call)}: the request was aborted.`)
    }
    return fail('vault.failed', `Could not ${what(call)}: ${name ? `${name}: ` : ''}${quote(message)}`)
  }

  const status = rest.statusCode
  const body = vaultErrorBody(rest)
  const said = `HTTP ${status ?? '-'}${body.code ? ` ${body.code}` : ''}${body.message ? `: ${quote(body.message)}` : ''}`
  if (status === undefined) {
    return fail(
      'vault.unreachable',
      `Could not ${what(call)}: the vault could not be reached (${rest.code ?? 'network error'}: ` +
        `${quote(rest.message)})${tries}. Check the vault URL, DNS, firewall or private endpoint, and proxy settings.` +
        unknownOutcome,
    )
  }
  if (status === 429) {
    // With a shared throttle, a call may give up on its first attempt, after others backed off for it.
    const backedOff =
      attempts === 1 && context.waitedMs ? ` after backing off for ${seconds(context.waitedMs)}` : tries
    return fail(
      'vault.throttled',
      `Could not ${what(call)}: the vault is still throttling (${said})${backedOff}. Key Vault allows about ` +
        '2,000 RSA-2048 or EC signatures per 10 s per vault (250 for RSA-4096): lower the concurrency, ' +
        'spread the work out, or retry later.',
    )
  }
  if (status === 401) {
    return fail(
      'vault.forbidden',
      `Could not ${what(call)}: the vault did not accept the credential (${said}). The token is missing, ` +
        'expired or from another tenant: check the credential (for GitHub OIDC the client id, tenant id and ' +
        'federated credential).',
    )
  }
  if (status === 403) {
    if (body.inner === 'KeyDisabled' || /disabled/i.test(body.message ?? '')) {
      return fail(
        'vault.disabled',
        `Could not ${what(call)}: it is disabled (${said}). Enable it, or use another version.`,
      )
    }
    if (body.inner === 'KeyExpired' || body.inner === 'KeyNotYetValid') {
      return fail('vault.expired', `Could not ${what(call)}: it is outside its validity period (${said}).`)
    }
    if (body.inner === 'KeyOperationForbidden') {
      return fail(
        'vault.not_permitted',
        `Could not ${what(call)}: the key's permitted operations (key_ops) do not allow it (${said}).`,
      )
    }
    if (body.inner === 'ForbiddenByFirewall' || body.inner === 'ForbiddenByConnection') {
      return fail(
        'vault.forbidden',
        `Could not ${what(call)}: the vault's network rules refused this client (${said}). Allow the runner's ` +
          'address or use a private endpoint.',
      )
    }
    // An RBAC denial's message is long (caller, assignment, …); the data action is the useful part.
    const action = /Action: '([^']+)'/.exec(body.message ?? '')?.[1]
    const denied = action
      ? `HTTP 403 ${body.code ?? 'Forbidden'}${body.inner ? ` ${body.inner}` : ''}, data action ${action}`
      : said
    return fail(
      'vault.forbidden',
      `Could not ${what(call)}: permission denied (${denied}). Give the identity the '${roleFor(call)}' ` +
        `role on the vault (or on the ${call.kind}); if the vault uses access policies, grant the ` +
        `'${accessPolicyPermission(call)}' ${call.kind} permission.`,
    )
  }
  if (status === 404) {
    return fail(
      'vault.not_found',
      `Could not ${what(call)}: the vault has no such ${call.kind} (${said}). Check the vault URL, the name ` +
        'and the version.',
    )
  }
  if (status === 409) {
    return fail(
      'vault.failed',
      `Could not ${what(call)}: it conflicts with the ${call.kind}'s current state (${said}). If a certificate ` +
        'operation is already pending, merge it or delete it (`az keyvault certificate pending delete`).',
    )
  }
  return fail(
    'vault.failed',
    `Could not ${what(call)}: the vault answered ${said}${tries}.` +
      (status >= 500 ? ` Retry later.${unknownOutcome}` : ''),
  )
}

/**
 * Limits how many calls run at once: the vault's throttling is per vault, and a burst of hundreds of
 * signatures would only earn 429s. Waiting calls start in arrival order.
 */
export function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(max) || max < 1) {
    throw new CaError('usage.invalid', `concurrency must be a positive whole number, got ${max}`)
  }
  let running = 0
  const waiting: Array<() => void> = []
  const release = () => {
    running--
    const next = waiting.shift()
    if (next) {
      running++
      next()
    }
  }
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < max) running++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      release()
    }
  }
}
