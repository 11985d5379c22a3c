/**
 * The raw signing rate of a key on this machine: node:crypto `sign` (what the file signer calls) in one
 * worker thread per core, for a fixed time, over a TBS-sized message. Each worker counts signatures per
 * slice of time; the rate is the median over slices of the sum over workers, so a slow start (worker
 * boot, key import) does not count.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPrivateKey, sign, randomBytes } = require('node:crypto')
const key = createPrivateKey(workerData.pem)
const options = key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : { key }
const data = randomBytes(workerData.bytes)
const counts = []
// Warm up, then wait for the common start so all workers run over the same slices.
for (let i = 0; i < 20; i++) sign('sha256', data, options)
parentPort.postMessage({ ready: true })
parentPort.once('message', ({ start, sliceMs, slices }) => {
  while (Date.now() < start) {}
  for (let s = 0; s < slices; s++) {
    const end = start + (s + 1) * sliceMs
    let n = 0
    while (Date.now() < end) {
      sign('sha256', data, options)
      n++
    }
    counts.push(n)
  }
  parentPort.postMessage({ counts })
})
`

export interface RawSignResult {
  per_s: number
  threads: number
  seconds: number
  /** Signatures per second of each slice, all threads together. */
  slices_per_s: number[]
}

export async function rawSignRate(
  keyPem: string,
  options: { seconds?: number; slices?: number; threads?: number; bytes?: number } = {},
): Promise<RawSignResult> {
  const threads = options.threads ?? availableParallelism()
  const slices = options.slices ?? 4
  const sliceMs = Math.round(((options.seconds ?? 2) * 1000) / slices)
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER, { eval: true, workerData: { pem: keyPem, bytes: options.bytes ?? 600 } }),
  )
  try {
    await Promise.all(workers.map((w) => once(w)))
    const start = Date.now() + 50
    const results = workers.map((w) => once(w))
    for (const w of workers) w.postMessage({ start, sliceMs, slices })
    const counts = (await Promise.all(results)).map((m) => m.counts as number[])
    const perSlice = Array.from(
      { length: slices },
      (_, s) => counts.reduce((sum, c) => sum + (c[s] as number), 0) / (sliceMs / 1000),
    )
    const sorted = [...perSlice].sort((a, b) => a - b)
    const mid = Math.floor(slices / 2)
    const per_s =
      slices % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
    return { per_s, threads, seconds: (sliceMs * slices) / 1000, slices_per_s: perSlice }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

function once(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}
