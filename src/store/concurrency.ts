/** Bounded concurrency for file work: node:fs runs it on libuv's pool, so a few calls in flight keep it busy. */

/**
 * Runs `fn` on every item with at most `limit` calls in flight, started in the order of `items` (so
 * the commit steps a test hook sees stay in order). On the first failure it starts no more and waits
 * for those in flight before throwing that failure: nothing of the batch is still being written when
 * the caller cleans up.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const runner = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++
      try {
        await fn(items[i] as T, i)
      } catch (e) {
        failure ??= { error: e }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner))
  if (failure !== undefined) throw failure.error
}
