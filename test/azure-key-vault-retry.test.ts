/**
 * The pieces of retry.ts that the vault double cannot reach: an attempt that ignores its abort signal,
 * the limiter's bound and order, and Retry-After in its date form.
 */
import { isCaError } from '../src/ca/errors.js'
import { callVault, createLimiter, retryAfterMs, retryPolicy, type VaultCall } from '../src/keys/retry.js'

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
