/**
 * The retry policy of Key Vault calls: how long to wait after a 429 or a transient failure, how long one
 * attempt may take, and the injectable sleep. It owns the numbers; retry.ts and vault-throttle.ts apply
 * them.
 */
import { CaError } from '../ca/errors.js'

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
