/**
 * What every event handler gets: the GitHub API, the git working copy, where the CA is in it, the
 * runtime (clock, randomness, Key Vault) and a Reporter for the log, annotations, the job summary and
 * the step's outputs. Built once by the Action's entry (src/action/main.ts).
 */
import type { Runtime } from '../commands/runtime.js'
import type { Git } from '../store/git-command.js'
import type { GitTransactionOptions } from '../store/git-transaction.js'
import { STORE_DIR } from '../store/store-path.js'
import type { GitHubApi } from './github-api.js'

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  /** Relative to the repository's top. */
  file?: string | undefined
  title?: string
}

export interface Reporter {
  /** One log line; untrusted parts must already be passed through logSafe(). */
  info(line: string): void
  annotate(annotation: Annotation): void
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>
  output(name: string, value: string): void
}

export interface RunContext {
  api: GitHubApi
  git: Git
  reporter: Reporter
  runtime: Runtime
  /** Absolute path of the CA folder (the folder of ca.yml). */
  caDir: string
  /** The CA folder relative to the repository's top, '' for the top. */
  caPrefix: string
  /** The branch state is pushed to. */
  branch: string
  /** The commit the run started from. */
  startHead: string
  dryRun: boolean
  revokeLabel: string
}

/** A CA-relative path as the repository names it (for annotations and messages). */
export function repoPath(ctx: Pick<RunContext, 'caPrefix'>, path: string): string {
  return ctx.caPrefix ? `${ctx.caPrefix}/${path}` : path
}

/** How a run commits: on its branch, from its start, never onto a commit that tracks the store's folder. */
export function transactionOptions(ctx: RunContext): GitTransactionOptions {
  return {
    git: ctx.git,
    branch: ctx.branch,
    startHead: ctx.startHead,
    noPush: ctx.dryRun,
    untracked: [repoPath(ctx, STORE_DIR)],
  }
}
