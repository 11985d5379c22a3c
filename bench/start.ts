/**
 * Scenario `start`: how long the shipped bundles take to do nothing much — `node dist/cli.js list` on
 * a small CA, and the Action (`node dist/index.js` with the inputs and GITHUB_* variables the runner
 * sets) listing the same CA — as medians of fresh processes, beside `node -e 0` for node's own start,
 * and the bundle sizes.
 */
import { statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { median, round, run, tempDir } from './support.js'

export interface StartEntry {
  wall_s: number
  bundle_bytes: number
  runs_s: number[]
}

export interface StartResult {
  /** The slower of the CLI and the Action. */
  wall_s: number
  /** Both bundles together. */
  bundle_bytes: number
  cli: StartEntry
  action: StartEntry
  node_baseline_s: number
}

function timed(
  runs: number,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  check: (stdout: string) => void,
): number[] {
  const out: number[] = []
  for (let i = 0; i <= runs; i++) {
    const r = run(cmd, args, { env })
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`)
    check(r.stdout)
    if (i > 0) out.push(r.seconds) // the first run warms the file cache
  }
  return out
}

export function startScenario(repo: string, smallCa: string, runs: number): StartResult {
  const cli = join(repo, 'dist/cli.js')
  const action = join(repo, 'dist/index.js')
  const env = { ...process.env }
  const cliRuns = timed(runs, process.execPath, [cli, 'list', '--dir', smallCa], env, (stdout) => {
    if (!/bench\.example/.test(stdout)) throw new Error(`mtls-ca list printed no certificate: ${stdout}`)
  })
  const output = join(tempDir('start'), 'github-output')
  writeFileSync(output, '')
  const actionEnv = {
    ...process.env,
    INPUT_COMMAND: 'list',
    INPUT_CONFIG: `${basename(smallCa)}/ca.yml`,
    GITHUB_REPOSITORY: 'bench/ca',
    GITHUB_WORKSPACE: dirname(smallCa),
    GITHUB_OUTPUT: output,
  }
  const actionRuns = timed(runs, process.execPath, [action], actionEnv, (stdout) => {
    if (/::error::/.test(stdout) || !/bench\.example/.test(stdout))
      throw new Error(`the Action failed: ${stdout}`)
  })
  const baseline = timed(runs, process.execPath, ['-e', '0'], env, () => undefined)
  const cliEntry = {
    wall_s: round(median(cliRuns)),
    bundle_bytes: statSync(cli).size,
    runs_s: cliRuns.map((x) => round(x)),
  }
  const actionEntry = {
    wall_s: round(median(actionRuns)),
    bundle_bytes: statSync(action).size,
    runs_s: actionRuns.map((x) => round(x)),
  }
  return {
    wall_s: Math.max(cliEntry.wall_s, actionEntry.wall_s),
    bundle_bytes: cliEntry.bundle_bytes + actionEntry.bundle_bytes,
    cli: cliEntry,
    action: actionEntry,
    node_baseline_s: round(median(baseline)),
  }
}
