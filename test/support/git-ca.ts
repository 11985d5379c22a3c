/**
 * Test support: a CA repository on a real bare git remote. `caRemote()` makes a CA with `mtls-ca init`,
 * commits it to `main` of a bare repository in a temp dir, and `clone()` gives a working copy of it
 * with the (git-ignored) key files copied in, as a runner would have them. Every git call here runs
 * with no global or system configuration, like the Action itself.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeCsr, runCli, tempDir } from './ca-fixture.js'

const ENV = {
  PATH: process.env.PATH ?? '',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Requester',
  GIT_AUTHOR_EMAIL: 'requester@example.com',
  GIT_COMMITTER_NAME: 'Requester',
  GIT_COMMITTER_EMAIL: 'requester@example.com',
}

/** git in `dir` as a person would run it (not the Action's identity). */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8' })
}

export interface CaRemote {
  /** The bare repository. */
  remote: string
  /** The folder the CA was made in (holds the key files). */
  seed: string
  /** A working copy of main, keys copied in unless `keys` is false (a pull request's run has none). */
  clone(options?: { keys?: boolean }): string
  /** Adds files (path → content) to main on the remote in one commit, as a merged pull request does. */
  merge(files: Record<string, string | Buffer>, message?: string): string
  head(): string
}

const KEY_DIRS = ['rootCA/private', 'intermediateCA/private']

export async function caRemote(
  initArgs: string[] = ['--allow-dns', '.example.com'],
  env: Record<string, string | undefined> = process.env,
  /** The CA's folder inside the repository ('' for the top). */
  prefix = '',
): Promise<CaRemote> {
  const seed = tempDir()
  const caDir = prefix ? join(seed, prefix) : seed
  const init = await runCli(['init', '--dir', caDir, ...initArgs], caDir, env)
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`)
  const remote = join(tempDir('mtls-ca-remote-'), 'ca.git')
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote], { env: ENV })
  git(seed, 'init', '--quiet', '--initial-branch=main')
  git(seed, 'add', '-A')
  git(seed, 'commit', '--quiet', '-m', 'A new CA')
  git(seed, 'remote', 'add', 'origin', remote)
  git(seed, 'push', '--quiet', 'origin', 'main')
  const clone = (): string => {
    const dir = join(tempDir('mtls-ca-clone-'), 'repo')
    execFileSync('git', ['clone', '--quiet', remote, dir], { env: ENV })
    for (const d of KEY_DIRS.map((k) => (prefix ? `${prefix}/${k}` : k))) {
      if (existsSync(join(seed, d))) cpSync(join(seed, d), join(dir, d), { recursive: true })
    }
    return dir
  }
  const head = () => git(remote, 'rev-parse', 'refs/heads/main').trim()
  const merge = (files: Record<string, string | Buffer>, message = 'Merge a request'): string => {
    const dir = clone()
    for (const [path, data] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true })
      writeFileSync(join(dir, path), data)
    }
    git(dir, 'add', '-A')
    git(dir, 'commit', '--quiet', '-m', message)
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main')
    return git(dir, 'rev-parse', 'HEAD').trim()
  }
  return { remote, seed, clone, merge, head }
}

/** A CSR for CN=<name>.example.com made by openssl, as the bytes a requester commits. */
export function csrFor(name: string, sans: string[] = [`DNS:${name}.example.com`]): Buffer {
  const dir = tempDir()
  const file = makeCsr(dir, name, { subject: `/CN=${name}.example.com`, sans })
  return readFileSync(file)
}

/**
 * A pull request's checkout: a clone without keys at a commit that adds `files` on top of main (and,
 * with `merge`, GitHub's merge commit of it into main, as actions/checkout checks out for pull_request).
 */
export function pullRequestCheckout(
  ca: CaRemote,
  files: Record<string, string | Buffer>,
  options: { merge?: boolean } = {},
): { dir: string; base: string; head: string; sha: string } {
  const dir = ca.clone({ keys: false })
  const base = git(dir, 'rev-parse', 'HEAD').trim()
  git(dir, 'checkout', '--quiet', '-b', 'request')
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), data)
  }
  // Forced, as a pull request can commit files the repository's .gitignore would leave out.
  git(dir, 'add', '--force', '--', ...Object.keys(files))
  git(dir, 'commit', '--quiet', '-m', 'Request a certificate')
  const head = git(dir, 'rev-parse', 'HEAD').trim()
  if (!options.merge) return { dir, base, head, sha: head }
  git(dir, 'checkout', '--quiet', '--detach', base)
  git(dir, 'merge', '--quiet', '--no-ff', '--no-edit', 'request')
  return { dir, base, head, sha: git(dir, 'rev-parse', 'HEAD').trim() }
}
