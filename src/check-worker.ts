/** The worker thread that checks a batch's requests (see threads/check-pool.ts); dist/check-worker.js. */
import { parentPort } from 'node:worker_threads'
import { serveChecks } from './threads/check-pool.js'

if (parentPort === null) throw new Error('check-worker.js runs as a worker thread of mtls-ca')
serveChecks(parentPort)
