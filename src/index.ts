/**
 * The Action's entry: the inputs (and the runner's GITHUB_* variables and event payload) are read
 * here, once, into a typed object; run() never reads an input. Any problem fails the step.
 */
import * as core from '@actions/core'
import { readInputs } from './action/inputs.js'
import { failStep, run } from './action/main.js'
import { checkWorkerBeside } from './threads/check-pool.js'

let inputs
try {
  inputs = readInputs((name) => core.getInput(name), process.env)
} catch (e) {
  failStep(e)
}
if (inputs) await run(inputs, checkWorkerBeside(import.meta.url))
