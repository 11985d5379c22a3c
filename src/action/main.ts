/** The Action: reads its inputs once and runs the same commands as the CLI. */
import * as core from '@actions/core'

export async function run(): Promise<void> {
  core.setFailed('mtls-ca: the Action has no events wired yet')
}
