/**
 * Changing a CA that lives on a git branch: run an operation on a clean working copy of the branch
 * head, commit what it wrote as one commit, and push it only as a fast-forward of that head
 * (compare-and-swap with `--force-with-lease=<ref>:<head>`). When another run pushed first, the work
 * is thrown away — signed bytes included, they were never published — and the operation is redone
 * on the new head, a bounded number of times. index.txt is never merged or rebased: a union of two
 * runs' lines would duplicate serials. A run that fails leaves the branch as it was.
 */
import { CaError } from '../ca/errors.js'
import type { Git } from './git-command.js'
import type { FileWrite, StateStore } from './state-store.js'

export const DEFAULT_ATTEMPTS = 5

export interface GitTransactionOptions {
  git: Git
  /** The branch to push, e.g. `main`. */
  branch: string
  /** The commit this run started from (GITHUB_SHA): the first attempt must fast-forward it. */
  startHead: string
  /** How many times the operation runs before the run gives up with `git.conflict`. */
  attempts?: number
  remote?: string
  /** Dry run: the operation's files stay in the working copy, uncommitted; nothing is pushed. */
  noPush?: boolean
  /**
   * Folders that git must not track (the state store's own folder): a commit that holds files there
   * was forced in, and the run refuses to work on it rather than trust them.
   */
  untracked?: string[]
}

export interface AttemptOutcome<T> {
  result: T
  /** The commit message; the commit is made only when the operation wrote something. */
  message: string
  /** Paths written, relative to the working copy's top folder. */
  paths: string[]
}

export interface TransactionResult<T> {
  result: T
  /** The pushed commit, or undefined when the operation changed nothing. */
  commit: string | undefined
  /** The head the operation finally ran on. */
  head: string
  attempts: number
}

/** A store that remembers the paths of every commit, so that exactly those files are committed. */
export function recordingStore(
  store: StateStore,
  prefix: string,
): { store: StateStore; written: () => string[] } {
  const written = new Set<string>()
  const wrapped: StateStore = {
    root: store.root,
    read: (path) => store.read(path),
    list: (dir) => store.list(dir),
    locked: (fn) => store.locked(fn),
    async commit(writes: FileWrite[]) {
      await store.commit(writes)
      for (const w of writes) written.add(prefix ? `${prefix}/${w.path}` : w.path)
    },
  }
  return { store: wrapped, written: () => [...written].sort() }
}

/** Puts the working copy exactly at `commit`: tracked files restored, untracked ones removed. */
export async function resetWorkingCopy(git: Git, commit: string): Promise<void> {
  await git.ok(['checkout', '--quiet', '--force', '--detach', commit])
  // Not -x: ignored files (private key files, the store's own folder) are not the run's to delete.
  await git.ok(['clean', '-ffdq'])
}

async function refuseTracked(git: Git, head: string, folders: string[]): Promise<void> {
  if (folders.length === 0) return
  const tracked = (
    await git.ok(['ls-tree', '-r', '-z', '--name-only', '--full-tree', head, '--', ...folders])
  )
    .split('\0')
    .filter(Boolean)
  if (tracked.length > 0) {
    throw new CaError(
      'state.corrupt',
      `commit ${head.slice(0, 12)} tracks ${tracked[0]}: the store's own folder is never committed; remove it from the branch`,
      { file: tracked[0] },
    )
  }
}

export async function revParse(git: Git, rev: string): Promise<string> {
  return (await git.ok(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim()
}

/** The branch's head on the remote now. */
async function fetchHead(git: Git, remote: string, branch: string): Promise<string> {
  await git.ok(['fetch', '--quiet', '--no-tags', remote, `+refs/heads/${branch}:refs/mtls-ca/remote-head`])
  return revParse(git, 'refs/mtls-ca/remote-head')
}

type PushOutcome = { outcome: 'pushed' | 'lost-race' } | { outcome: 'refused'; message: string }

async function push(
  git: Git,
  remote: string,
  branch: string,
  commit: string,
  expected: string,
): Promise<PushOutcome> {
  const ref = `refs/heads/${branch}`
  const r = await git.run([
    'push',
    '--porcelain',
    '--no-verify',
    `--force-with-lease=${ref}:${expected}`,
    remote,
    `${commit}:${ref}`,
  ])
  if (r.code === 0) return { outcome: 'pushed' }
  const line = r.stdout.split('\n').find((l) => l.startsWith('!\t')) ?? ''
  if (/\[rejected\]/.test(line)) return { outcome: 'lost-race' }
  const text = `${r.stdout}\n${r.stderr}`
  if (/GH006|GH013|protected branch|rule violations|ruleset/i.test(text)) {
    throw new CaError(
      'git.push_protected',
      `the push to ${branch} was refused by branch protection or a ruleset (${remoteMessage(text)}). ` +
        `Give the Action a token that may bypass it (a GitHub App on the ruleset's bypass list, ` +
        `passed as github-token), or allow the workflow's identity to push to ${branch}`,
    )
  }
  // A push that lost to a concurrent one at the server's ref lock is refused without "[rejected]".
  return { outcome: 'refused', message: remoteMessage(text) }
}

/** What the server said: its `remote: error:` lines, else the porcelain status line. */
function remoteMessage(text: string): string {
  const lines = text.split('\n').map((l) => l.trim())
  const errors = lines.filter((l) => /^remote: (error|fatal)/i.test(l) || /^(error|fatal):/.test(l))
  const status = lines.find((l) => l.startsWith('!'))
  return (
    errors.length ? errors.join(' ') : (status ?? lines.filter(Boolean).at(-1) ?? 'no message')
  ).replace(/\s+/g, ' ')
}

/**
 * Runs `operation` on the branch head and publishes what it wrote as one fast-forward commit.
 * `operation` is called once per attempt on a clean working copy and must compute everything from
 * the files it finds there.
 */
export async function commitAndPush<T>(
  options: GitTransactionOptions,
  operation: (attempt: number) => Promise<AttemptOutcome<T>>,
): Promise<TransactionResult<T>> {
  const { git, branch } = options
  const remote = options.remote ?? 'origin'
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS
  let head = await revParse(git, options.startHead)
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await resetWorkingCopy(git, head)
      await refuseTracked(git, head, options.untracked ?? [])
      const outcome = await operation(attempt)
      if (options.noPush) return { result: outcome.result, commit: undefined, head, attempts: attempt }
      if (outcome.paths.length > 0) await git.ok(['add', '--force', '--', ...outcome.paths])
      const staged = await git.run(['diff', '--cached', '--quiet'])
      if (staged.code === 0) return { result: outcome.result, commit: undefined, head, attempts: attempt }
      await git.ok(['commit', '--quiet', '--no-verify', '-m', outcome.message])
      const commit = await revParse(git, 'HEAD')
      const pushed = await push(git, remote, branch, commit, head)
      if (pushed.outcome === 'pushed') return { result: outcome.result, commit, head, attempts: attempt }
      const newHead = await fetchHead(git, remote, branch)
      if (pushed.outcome === 'refused' && newHead === head) {
        throw new CaError('git.failed', `the remote refused the push to ${branch}: ${pushed.message}`)
      }
      head = newHead
    }
  } catch (e) {
    await resetWorkingCopy(git, options.startHead).catch(() => undefined)
    throw e
  }
  await resetWorkingCopy(git, options.startHead).catch(() => undefined)
  throw new CaError(
    'git.conflict',
    `${branch} moved ${attempts} times while this run worked on it; nothing was pushed. Run it again`,
  )
}
