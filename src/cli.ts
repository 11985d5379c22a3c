/** The mtls-ca command line entry: argv in, exit code out. */
import { main } from './cli/main.js'
import { checkWorkerBeside } from './threads/check-pool.js'

const checkWorker = checkWorkerBeside(import.meta.url)
process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  ...(checkWorker ? { checkWorker } : {}),
})
