/**
 * The git binary behind a small interface: one working copy, every command run without a shell and
 * without the runner's git configuration (no system or global config: the identity, the credentials
 * and every setting that matters are given here). The push token travels as an HTTP header in the
 * environment of the git process, never in argv or in .git/config, so the checkout can use
 * `persist-credentials: false`.
 */
import { execFile } from 'node:child_process'
import { CaError } from '../ca/errors.js'

export interface GitIdentity {
  name: string
  email: string
}

/** github-actions[bot], as GitHub shows commits made with the workflow token. */
export const DEFAULT_IDENTITY: GitIdentity = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
}

export interface GitOptions {
  /** The working copy's top folder. */
  dir: string
  identity?: GitIdentity
  /** A token for HTTPS remotes (sent as `x-access-token` basic auth, as actions/checkout does). */
  token?: string | undefined
  /** The server the token is for, e.g. https://github.com; the header is sent to it only. */
  serverUrl?: string | undefined
}

export interface GitResult {
  code: number
  stdout: string
  stderr: string
}

export interface Git {
  readonly dir: string
  /** Runs git; resolves with the exit code (never rejects for a non-zero exit). */
  run(args: readonly string[], input?: Buffer): Promise<GitResult>
  /** Runs git and returns stdout; a non-zero exit is `git.failed` with git's message. */
  ok(args: readonly string[]): Promise<string>
  /** stdout as bytes (blobs). */
  bytes(args: readonly string[]): Promise<Buffer>
}

/** git settings that must not come from the repository or the runner. */
const FIXED_CONFIG: ReadonlyArray<[string, string]> = [
  ['commit.gpgsign', 'false'],
  ['core.autocrlf', 'false'],
  ['core.hooksPath', '/dev/null'],
  ['core.quotePath', 'false'],
  ['advice.detachedHead', 'false'],
  ['gc.auto', '0'],
]

export function openGit(options: GitOptions): Git {
  const identity = options.identity ?? DEFAULT_IDENTITY
  const config: Array<[string, string]> = [...FIXED_CONFIG, ['safe.directory', options.dir]]
  if (options.token) {
    const basic = Buffer.from(`x-access-token:${options.token}`).toString('base64')
    const server = (options.serverUrl ?? 'https://github.com').replace(/\/+$/, '')
    config.push([`http.${server}/.extraheader`, `AUTHORIZATION: basic ${basic}`])
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    GIT_CONFIG_COUNT: String(config.length),
  }
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key
    env[`GIT_CONFIG_VALUE_${i}`] = value
  })

  const exec = (args: readonly string[], input: Buffer | undefined) =>
    new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const child = execFile(
        'git',
        [...args],
        { cwd: options.dir, env, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0
          if (error && typeof error.code !== 'number') {
            reject(new CaError('git.failed', `cannot run git: ${error.message}`, { cause: error }))
            return
          }
          resolve({ code, stdout, stderr: stderr.toString('utf8') })
        },
      )
      if (input !== undefined) child.stdin?.end(input)
      else child.stdin?.end()
    })

  const failed = (args: readonly string[], r: { code: number; stderr: string }) =>
    new CaError(
      'git.failed',
      `git ${args[0]} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    )

  return {
    dir: options.dir,
    async run(args, input) {
      const r = await exec(args, input)
      return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr }
    },
    async ok(args) {
      const r = await exec(args, undefined)
      if (r.code !== 0) throw failed(args, r)
      return r.stdout.toString('utf8')
    },
    async bytes(args) {
      const r = await exec(args, undefined)
      if (r.code !== 0) throw failed(args, r)
      return r.stdout
    },
  }
}
