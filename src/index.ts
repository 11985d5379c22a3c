/** The Action's entry: everything happens in run(), which tests can call directly. */
import { run } from './action/main.js'

await run()
