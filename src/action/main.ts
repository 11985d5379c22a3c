/**
 * The Action: given the inputs read once by index.ts, the adapters are built (Octokit, git, Key Vault, the
 * runner's log and summary), then the event decides what runs — each run is one of src/github's,
 * built on the CLI's commands. One catch at the edge: a CaError fails the step with its code and
 * message, nothing is swallowed.
 */
import * as core from '@actions/core'
import { CaError, isCaError } from '../ca/errors.js'
import { systemRuntime, type Runtime } from '../commands/runtime.js'
import type { ActionEvent } from '../github/event.js'
import type { GitHubApi } from '../github/github-api.js'
import { logSafe } from '../github/markdown.js'
import { runMerge } from '../github/merge-run.js'
import { octokitApi } from '../github/octokit-api.js'
import { runPullRequest } from '../github/pull-request-run.js'
import { runRevokeIssue } from '../github/revoke-run.js'
import type { Reporter, RunContext } from '../github/run-context.js'
import { runCrlRenewal, runExpiryReport } from '../github/schedule-run.js'
import { keyVaultRuntime } from '../keys/key-vault-runtime.js'
import { openGit, type Git } from '../store/git-command.js'
import { revParse } from '../store/git-transaction.js'
import { configuredChecker } from '../threads/check-pool.js'
import { listCertificates } from '../commands/list.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { OUTPUT, type ActionCommand, type ActionInputs } from './inputs.js'

/** What `auto` runs for an event; undefined when the event (or its action) is not one to act on. */
type Job = Exclude<ActionCommand, 'auto'> | 'maintain'

function autoJob(event: ActionEvent): Job | undefined {
  switch (event.name) {
    case 'pull_request':
      return ['opened', 'synchronize', 'reopened'].includes(event.action) ? 'validate' : undefined
    case 'push':
      return 'sign'
    case 'issues':
      return event.action === 'labeled' ? 'revoke' : undefined
    case 'schedule':
    case 'workflow_dispatch':
      return 'maintain'
    default:
      throw new CaError(
        'github.event_invalid',
        `the ${event.eventName || 'unnamed'} event is not one mtls-ca acts on: use pull_request, push, issues, schedule or workflow_dispatch, or set command`,
      )
  }
}

/** The branch a run pushes to: the pushed branch, else the run's ref, else the default branch. */
function targetBranch(inputs: ActionInputs): string {
  const { event, ref } = inputs.github
  const defaultBranch = 'defaultBranch' in event ? event.defaultBranch : undefined
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length)
  if (defaultBranch) return defaultBranch
  throw new CaError(
    'github.event_invalid',
    `GITHUB_REF '${ref}' is not a branch: there is nothing to push to`,
  )
}

export interface ActionDeps {
  api: GitHubApi
  runtime: Runtime
  reporter: Reporter
  git: Git
}

export async function runWith(inputs: ActionInputs, deps: ActionDeps): Promise<void> {
  const { event } = inputs.github
  const job = inputs.command === 'auto' ? autoJob(event) : inputs.command
  if (job === undefined) {
    deps.reporter.info(logSafe(`Nothing to do for ${event.name} ${'action' in event ? event.action : ''}.`))
    return
  }
  if (job === 'list') {
    // Read-only, and needs neither git nor GitHub: the certificates as `mtls-ca list` shows them.
    const certificates = await listCertificates(openDirectoryStore(inputs.caDir), deps.runtime.now())
    for (const c of certificates) deps.reporter.info(`${c.status}\t${c.serial}\t${c.notAfter}\t${c.subject}`)
    deps.reporter.output(OUTPUT.certificates, JSON.stringify(certificates))
    return
  }
  const startHead = await revParse(deps.git, inputs.github.sha || 'HEAD')
  const ctx: RunContext = {
    ...deps,
    caDir: inputs.caDir,
    caPrefix: inputs.caPrefix,
    branch: job === 'validate' ? '' : targetBranch(inputs),
    startHead,
    dryRun: inputs.dryRun,
    revokeLabel: inputs.revokeLabel,
  }
  switch (job) {
    case 'validate': {
      if (event.name !== 'pull_request') throw wrongEvent(job, event, 'pull_request')
      await runPullRequest(ctx, { ...event, headSha: startHead })
      return
    }
    case 'sign': {
      if (event.name === 'push' && event.ref !== `refs/heads/${event.defaultBranch}`) {
        throw new CaError(
          'github.event_invalid',
          logSafe(
            `a push to ${event.ref} is not to the default branch ${event.defaultBranch}: only merged requests are signed`,
          ),
        )
      }
      const r = await runMerge(ctx)
      deps.reporter.output(OUTPUT.issued, JSON.stringify(r.issued))
      deps.reporter.output(OUTPUT.commit, r.commit ?? '')
      return
    }
    case 'revoke': {
      if (event.name !== 'issues') throw wrongEvent(job, event, 'issues')
      const r = await runRevokeIssue(ctx, event)
      const revoked = r.revoked
        ? [{ serial: r.revoked.serial, subject: r.revoked.subject, revocation: r.revoked.revocation }]
        : []
      deps.reporter.output(OUTPUT.revoked, JSON.stringify(revoked))
      deps.reporter.output(OUTPUT.crlNumber, r.revoked?.crl?.crlNumber ?? '')
      deps.reporter.output(OUTPUT.commit, r.commit ?? '')
      return
    }
    case 'crl':
    case 'maintain': {
      const r = await runCrlRenewal(ctx, job === 'crl')
      deps.reporter.output(OUTPUT.crlNumber, r.crl?.crlNumber ?? '')
      deps.reporter.output(OUTPUT.commit, r.commit ?? '')
      if (job === 'maintain') await runExpiryReport(ctx)
      return
    }
    case 'report':
      await runExpiryReport(ctx)
      return
  }
}

function wrongEvent(job: string, event: ActionEvent, expected: string): CaError {
  const name = event.name === 'other' ? event.eventName : event.name
  return new CaError('github.event_invalid', `command ${job} acts on ${expected} events, not on ${name}`)
}

/** The runner's log, annotations, job summary and outputs. */
export const runnerReporter: Reporter = {
  info: (line) => core.info(logSafe(line)),
  annotate: (a) => {
    const props = { ...(a.file ? { file: a.file } : {}), ...(a.title ? { title: a.title } : {}) }
    if (a.level === 'error') core.error(a.message, props)
    else if (a.level === 'warning') core.warning(a.message, props)
    else core.notice(a.message, props)
  },
  summary: async (markdown) => {
    if (!process.env.GITHUB_STEP_SUMMARY) return
    await core.summary.addRaw(markdown, true).write()
  },
  output: (name, value) => core.setOutput(name, value),
}

/** Key Vault keys through GitHub OIDC when an Azure identity is given, else the SDK's default chain. */
function actionRuntime(inputs: ActionInputs, checkWorker: URL | undefined): Runtime {
  const checker = configuredChecker(process.env, checkWorker)
  const { openKeyVault, keyVault } = keyVaultRuntime(process.env, {
    getIdToken: (audience) => core.getIDToken(audience),
    ...(inputs.azure ?? {}),
  })
  return { ...systemRuntime, openKeyVault, keyVault, ...(checker ? { checker } : {}) }
}

/** Fails the step: a CaError with its code (and every detail), anything else with its stack. */
export function failStep(e: unknown): void {
  if (isCaError(e)) core.setFailed(`${e.toLine()}${e.details.map((d) => `\n  ${d.toLine()}`).join('')}`)
  else core.setFailed(e instanceof Error ? (e.stack ?? e.message) : String(e))
}

/** The Action's run; `checkWorker` is dist/check-worker.js, for MTLS_CA_CHECK_THREADS (threads/check-pool.ts). */
export async function run(inputs: ActionInputs, checkWorker?: URL): Promise<void> {
  try {
    if (inputs.token) core.setSecret(inputs.token)
    const git = openGit({
      dir: inputs.workspace,
      identity: inputs.identity,
      token: inputs.token,
      serverUrl: inputs.github.serverUrl,
    })
    const api = octokitApi({
      token: inputs.token,
      owner: inputs.github.owner,
      repo: inputs.github.repo,
      baseUrl: inputs.github.apiUrl,
    })
    await runWith(inputs, { api, git, reporter: runnerReporter, runtime: actionRuntime(inputs, checkWorker) })
  } catch (e) {
    failStep(e)
  }
}
