/**
 * What one signer does when Key Vault answers 429: a throttle state shared by all its calls, because the
 * vault's limit is per vault (e.g. 2,000 RSA-2048 signatures per 10 s), not per call. The first 429
 * pauses every call of the signer, the calls that were in flight when it came included; after the
 * pause one call alone probes the vault, and only when it gets through do the others resume. So a
 * throttled signer sends about one request per pause instead of one per call in flight, each on its
 * own backoff.
 *
 * How long a pause is depends on whether the signer is merely at the vault's limit or is being refused:
 *
 * - At the limit — a signature of ours got through less than one limit window (10 s of pauses) ago —
 *   the window is full of our own signatures, and it frees up as they age out of it: pause for the
 *   first step of the backoff schedule (1 s) each time. Exponential steps there would overshoot the
 *   moment the window frees by seconds, every window.
 * - Refused — nothing got through for a whole window, or nothing ever has (another client uses the
 *   vault up, or the subscription's limit) — back off exponentially as Key Vault's guidance says, 1, 2,
 *   4, 8, 16 s, and then give up: the call that meets the next 429 fails with `vault.throttled`, and so
 *   does every call after it that is throttled on its first attempt, until one gets through again.
 *
 * A Retry-After longer than the pause wins. A signature that gets through ends the episode. Calls made
 * without a shared throttle get one of their own, which is the per-call exponential backoff.
 */
import type { RetryPolicy } from './retry-policy.js'

/** What a call may do now: send; `probe` when it is the one call let through after a pause. */
export interface Pass {
  /** The pause count when the call was let through: a 429 to a call sent before the last pause is stale. */
  episode: number
  probe: boolean
}

/** What a throttled call does next. */
export type ThrottleVerdict = { action: 'retry' } | { action: 'give up'; throttledMs: number }

export class VaultThrottle {
  private state: 'open' | 'paused' | 'probing' = 'open'
  private episode = 0
  private readonly waiting: Array<(pass: Pass) => void> = []
  /** Time paused since a signature last got through. */
  private pausedMs = 0
  /** Exponential steps taken since a call last got through. */
  private steps = 0
  private gotThrough = false
  private gaveUp = false

  constructor(private readonly policy: RetryPolicy) {}

  /** Resolves when the call may send. `first`: a throttled probe probes again, ahead of the others. */
  admit(first = false): Promise<Pass> {
    if (this.state === 'open') return Promise.resolve({ episode: this.episode, probe: false })
    return new Promise((resolve) => (first ? this.waiting.unshift(resolve) : this.waiting.push(resolve)))
  }

  /** The call got an answer that was not a 429: the vault let it through. */
  answered(pass: Pass, gotThrough: boolean): void {
    if (gotThrough) {
      this.gotThrough = true
      this.gaveUp = false
      this.pausedMs = 0
      this.steps = 0
    }
    if (pass.probe) this.open()
  }

  /** The call got a 429; `retryAfterMs` from its headers. */
  throttled(pass: Pass, retryAfterMs: number | undefined): ThrottleVerdict {
    if (this.gaveUp) return { action: 'give up', throttledMs: this.pausedMs }
    // Sent before the current (or last) pause began: that pause already answers this 429.
    const fresh = pass.probe || (this.state === 'open' && pass.episode === this.episode)
    if (!fresh) return { action: 'retry' }
    const schedule = this.policy.throttleDelaysMs
    const atLimit = this.gotThrough && this.pausedMs < this.policy.limitWindowMs
    const base = atLimit ? schedule[0] : schedule[this.steps++]
    if (base === undefined) {
      this.gaveUp = true
      this.open()
      return { action: 'give up', throttledMs: this.pausedMs }
    }
    // A Retry-After larger than our pause wins; a smaller one does not shorten it.
    const delay = Math.max(base, retryAfterMs ?? 0)
    this.pausedMs += delay
    this.episode++
    this.state = 'paused'
    void this.policy.sleep(delay).then(() => this.probe())
    return { action: 'retry' }
  }

  private probe(): void {
    const next = this.waiting.shift()
    if (next) {
      this.state = 'probing'
      next({ episode: this.episode, probe: true })
    } else this.state = 'open'
  }

  private open(): void {
    this.state = 'open'
    for (const next of this.waiting.splice(0)) next({ episode: this.episode, probe: false })
  }
}
