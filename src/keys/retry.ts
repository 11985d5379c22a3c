/**
 * How one call to Azure Key Vault is made: a time limit per attempt (abort signal), our own backoff on
 * 429 (Key Vault usually sends no Retry-After, and the SDK only retries when one is present, so the
 * SDK's retry policy is switched off and this is the only one; a signer shares one throttle state among
 * all its calls, see vault-throttle.ts), bounded retries of transient 5xx and network failures, and a
 * limit on calls in flight. The numbers are in retry-policy.ts, what a failure means in vault-errors.ts.
 */
import { CaError } from '../ca/errors.js'
import type { RetryPolicy } from './retry-policy.js'
import { VaultThrottle } from './vault-throttle.js'
import { classify, vaultError, type VaultCall } from './vault-errors.js'

/**
 * Client options that turn off the SDK's own retry policy. Left on, it retries 5xx and network errors
 * three times and 429s that carry Retry-After, underneath our retries, multiplying attempts.
 */
export const NO_SDK_RETRIES = { retryOptions: { maxRetries: 0 } } as const
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
