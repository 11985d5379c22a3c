/** The Action's entry: everything happens in run(), which tests can call directly. */
import { run } from './action/main.js'
import { bundledChecker } from './threads/check-pool.js'

await run(bundledChecker(import.meta.url))
