/**
 * The pieces of retry.ts that the vault double cannot reach: an attempt that ignores its abort signal,
 * the limiter's bound and order, Retry-After in its date form, and the shared throttle over many
 * windows of a sliding sign limit (on a virtual clock: the double's window is 10 s of real time).
 */
import { isCaError, type CaError } from '../src/ca/errors.js'
import { callVault, createLimiter } from '../src/keys/retry.js'
import { retryPolicy } from '../src/keys/retry-policy.js'
import { retryAfterMs, type VaultCall } from '../src/keys/vault-errors.js'
import { VaultThrottle } from '../src/keys/vault-throttle.js'

const call: VaultCall = {
  vault: 'https://v.vault.azure.net',
  kind: 'key',
  name: 'ca/1',
  operation: 'sign with',
  idempotent: true,
}

/** What the SDK throws for an HTTP error: a RestError with a status and the response headers. */
function restError(statusCode: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP ${statusCode}`), {
    name: 'RestError',
    statusCode,
    response: { headers: { get: (name: string) => headers[name.toLowerCase()] } },
  })
}

describe('callVault', () => {
  it('an attempt that ignores its abort signal still times out, and is retried a bounded number of times', async () => {
    const sleeps: number[] = []
    let attempts = 0
    const policy = retryPolicy({ timeoutMs: 20, sleep: async (ms) => void sleeps.push(ms) })
    const e = await callVault(call, policy, () => {
      attempts++
      return new Promise<never>(() => {})
    }).catch((error: unknown) => error)
    expect(isCaError(e) && e.code).toBe('vault.unreachable')
    expect(attempts).toBe(4)
    expect(sleeps).toEqual([1000, 2000, 4000])
  })

  it('a call that changes state is not retried after a lost answer, and says it may have taken effect', async () => {
    let attempts = 0
    const e = await callVault({ ...call, idempotent: false }, retryPolicy({ timeoutMs: 20 }), () => {
      attempts++
      return Promise.reject(restError(503))
    }).catch((error: unknown) => error)
    expect(isCaError(e) && e.message).toMatch(/may have taken effect/)
    expect(attempts).toBe(1)
  })

  it('returns the first success', async () => {
    const sleeps: number[] = []
    let attempts = 0
    const policy = retryPolicy({ sleep: async (ms) => void sleeps.push(ms) })
    const value = await callVault(call, policy, async () => {
      if (++attempts < 3) throw restError(429)
      return 'signed'
    })
    expect(value).toBe('signed')
    expect(sleeps).toEqual([1000, 2000])
  })
})

describe('retryAfterMs', () => {
  it.each<[Record<string, string>, number | undefined]>([
    [{}, undefined],
    [{ 'retry-after': '7' }, 7000],
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'x-ms-retry-after-ms': '1500' }, 1500],
    [{ 'retry-after': 'soon' }, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(retryAfterMs(restError(429, headers))).toBe(expected)
  })

  it('reads an HTTP date', () => {
    const ms = retryAfterMs(restError(429, { 'retry-after': new Date(Date.now() + 10_000).toUTCString() }))
    expect(ms).toBeGreaterThan(8000)
    expect(ms).toBeLessThanOrEqual(10_000)
  })
})

describe('createLimiter', () => {
  it('runs at most N tasks at once, starting waiting ones in arrival order', async () => {
    const limit = createLimiter(2)
    let running = 0
    let max = 0
    const started: number[] = []
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        limit(async () => {
          started.push(i)
          max = Math.max(max, ++running)
          await new Promise((resolve) => setTimeout(resolve, 5))
          running--
        }),
      ),
    )
    expect(max).toBe(2)
    expect(started).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('releases its slot when a task fails', async () => {
    const limit = createLimiter(1)
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(limit(async () => 'next')).resolves.toBe('next')
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses a concurrency of %s', (n) => {
    expect(() => createLimiter(n)).toThrow(/concurrency must be a positive whole number/)
  })
})

/** Time that passes only when every task waits: then it jumps to the next timer. */
class VirtualClock {
  now = 0
  private readonly timers: Array<{ at: number; resolve: () => void }> = []

  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.timers.push({ at: this.now + ms, resolve })
    })

  async run<T>(work: Promise<T>): Promise<T> {
    let done = false
    const settled = work.finally(() => {
      done = true
    })
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve))
      if (done) return settled
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers.shift()
      if (!next) throw new Error('every task waits and no timer is set')
      this.now = next.at
      next.resolve()
    }
  }
}

/** Key Vault's sign limit as the double models it: `limit` accepted signatures per sliding window. */
function slidingLimitVault(clock: VirtualClock, limit: number, windowMs = 10_000, latencyMs = 20) {
  const accepted: number[] = []
  const counters = { calls: 0, throttled: 0, signed: 0, refuseAllAfter: Infinity }
  const sign = async (): Promise<string> => {
    await clock.sleep(latencyMs)
    counters.calls++
    while (accepted.length && accepted[0]! <= clock.now - windowMs) accepted.shift()
    if (accepted.length >= limit || counters.signed >= counters.refuseAllAfter) {
      counters.throttled++
      throw restError(429)
    }
    accepted.push(clock.now)
    counters.signed++
    return `signature ${counters.signed}`
  }
  return { sign, counters }
}

/** `count` signatures through one signer's limiter and shared throttle, as the Key Vault signer does. */
function signBatch(clock: VirtualClock, vault: ReturnType<typeof slidingLimitVault>, count: number) {
  const sleeps: number[] = []
  const policy = retryPolicy({
    sleep: (ms) => {
      sleeps.push(ms)
      return clock.sleep(ms)
    },
  })
  const limit = createLimiter(8)
  const throttle = new VaultThrottle(policy)
  const results = Promise.allSettled(
    Array.from({ length: count }, () => limit(() => callVault(call, policy, vault.sign, throttle))),
  )
  return { sleeps, results: clock.run(results) }
}

describe('a shared throttle against a sliding sign limit', () => {
  it('a batch ten windows long at the limit: every call signed once, none gives up, ≥ 90 % of the ideal rate', async () => {
    const clock = new VirtualClock()
    const vault = slidingLimitVault(clock, 20)
    const { results } = signBatch(clock, vault, 200)
    const settled = await results
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([])
    expect(vault.counters.signed).toBe(200)
    // Ideal: 20 at once, then 20 more each time the window frees, the last 20 at 90 s.
    expect(clock.now).toBeLessThanOrEqual(90_000 / 0.9)
    // Per window: the calls in flight when the limit is reached, then one probe per 1-s pause.
    expect(vault.counters.throttled).toBeLessThanOrEqual(10 * (8 + 11))
  })

  it('calls in flight when the first 429 comes share its pause: one pause, then one probe', async () => {
    const clock = new VirtualClock()
    const vault = slidingLimitVault(clock, 4)
    const { sleeps, results } = signBatch(clock, vault, 8)
    const settled = await results
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true)
    // 4 get through; the other 4 are throttled at once and wait out 1-s pauses until the window frees.
    expect(sleeps.every((ms) => ms === 1000)).toBe(true)
    expect(vault.counters.throttled).toBe(4 + sleeps.length - 1)
    expect(clock.now).toBeGreaterThan(10_000)
    expect(clock.now).toBeLessThan(11_100)
  })

  it('a vault that stops letting anything through: 1-s pauses for a window, then 1-2-4-8-16 s, then every call fails', async () => {
    const clock = new VirtualClock()
    const vault = slidingLimitVault(clock, 1000)
    vault.counters.refuseAllAfter = 3
    const { sleeps, results } = signBatch(clock, vault, 30)
    const settled = await results
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    const reasons = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as CaError] : []))
    expect(new Set(reasons.map((e) => e.code))).toEqual(new Set(['vault.throttled']))
    expect(reasons[0]?.message).toMatch(/still throttling .* 41 s/)
    expect(sleeps).toEqual([...Array(10).fill(1000), 1000, 2000, 4000, 8000, 16000])
    // After giving up, each call still waiting tries once more and fails at once: no new pauses.
    expect(vault.counters.throttled).toBeLessThanOrEqual(8 + sleeps.length + 27)
  })

  it('a Retry-After longer than the pause wins, at the limit too', async () => {
    const clock = new VirtualClock()
    const sleeps: number[] = []
    const policy = retryPolicy({ sleep: (ms) => (sleeps.push(ms), clock.sleep(ms)) })
    const throttle = new VaultThrottle(policy)
    let calls = 0
    const attempt = async () => {
      calls++
      if (calls === 2 || calls === 3) throw restError(429, { 'retry-after': '3' })
      return 'signed'
    }
    await clock.run(callVault(call, policy, attempt, throttle)) // gets through: now at the limit
    await expect(clock.run(callVault(call, policy, attempt, throttle))).resolves.toBe('signed')
    expect(sleeps).toEqual([3000, 3000])
  })
})
