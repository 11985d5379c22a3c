/** The Action's entry: everything happens in run(), which tests can call directly. */
import { run } from './action/main.js'
import { checkWorkerBeside } from './threads/check-pool.js'

await run(checkWorkerBeside(import.meta.url))
