/**
 * `pull_request`: what a pull request changes, judged by the base branch. The changed files come from
 * git (the diff between the base commit and the pull request's merge commit, modes included), the
 * requests' bytes from the pull request's tree and everything else — ca.yml, the CA certificates, the
 * database — from the base commit's tree, so a pull request cannot widen the policy that judges it.
 * No key, no secret and no working-tree file is used.
 */
import { posix } from 'node:path'
import { CaError } from '../ca/errors.js'
import { MAX_CSR_BYTES } from '../ca/csr.js'
import { parseCaConfig, type CaConfig } from '../config/ca-config.js'
import { CERTS_DIR, CONFIG_FILE, REQUESTS_DIR, databaseFiles } from '../config/layout.js'
import { requestName } from '../commands/sign.js'
import { validateRequests, type RequestVerdict } from '../commands/validate.js'
import type { Git } from '../store/git-command.js'
import { isRegularFileMode, openGitTreeStore } from '../store/git-tree-store.js'
import { STORE_DIR } from '../store/store-path.js'

export interface PullRequestInput {
  git: Git
  /** The base branch's commit named by the event (pull_request.base.sha): the policy that judges. */
  baseSha: string
  /** The commit checked out for the pull request (GITHUB_SHA: its merge commit, or its head). */
  headSha: string
  /** The CA's folder inside the repository, '' for the top ('/'-separated). */
  caPrefix: string
  now: Date
}

export interface ChangedFile {
  /** Relative to the repository's top. */
  path: string
  status: string
  mode: string
}

export interface PullRequestReport {
  /** The commit whose ca.yml judged the requests. */
  base: string
  requests: RequestVerdict[]
  /** Changes a pull request may not make (CA state, symlinks, stray files in requests/). */
  refusals: CaError[]
  /** Changes to the policy or the workflows: allowed, but for an owner to review. */
  policyChanges: string[]
  ok: boolean
}

/** The size of a file in a commit, or undefined when the commit has no such file. */
async function blobSize(git: Git, commit: string, path: string): Promise<number | undefined> {
  const r = await git.run(['cat-file', '-s', `${commit}:${path}`])
  return r.code === 0 ? Number(r.stdout.trim()) : undefined
}

async function ensureCommit(git: Git, sha: string): Promise<void> {
  const present = await git.run(['cat-file', '-e', `${sha}^{commit}`])
  if (present.code === 0) return
  await git.ok(['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', sha])
}

/** `git diff --raw` between two commits: every path added, changed or deleted, with its new mode. */
export async function changedFiles(git: Git, base: string, head: string): Promise<ChangedFile[]> {
  const out = await git.ok(['diff', '--raw', '-z', '--no-renames', '--no-abbrev', base, head])
  const parts = out.split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i] as string
    const path = parts[i + 1] as string
    if (!meta.startsWith(':')) break
    const [, newMode = '', , , status = ''] = meta.slice(1).split(' ')
    files.push({ path, status, mode: newMode })
  }
  return files
}

/** Files and folders (relative to the CA folder) that only the CA writes. */
function stateLocations(config: CaConfig): { files: string[]; folders: string[] } {
  const folders = [CERTS_DIR, STORE_DIR]
  const files: string[] = []
  for (const side of [config.root, config.intermediate]) {
    files.push(side.certificate)
    if (side.crl) files.push(side.crl.file, side.crl.file.replace(/(\.crl)?\.pem$/, '') + '.crl.der')
    if (side.dir !== undefined) {
      folders.push(side.dir)
      const db = databaseFiles({ ...side, dir: side.dir })
      files.push(db.index, db.attr, db.serial, db.crlnumber)
      folders.push(db.newcerts)
    }
  }
  files.push(config.intermediate.chain)
  for (const p of config.intermediate.previous) folders.push(p.dir)
  return { files: files.map((f) => posix.normalize(f)), folders: folders.map((f) => posix.normalize(f)) }
}

function isStatePath(rel: string, state: { files: string[]; folders: string[] }): boolean {
  // index.txt.old, serial.old and the like are openssl ca's backups of the same state.
  if (state.files.some((f) => rel === f || rel.startsWith(`${f}.`))) return true
  return state.folders.some((d) => rel === d || rel.startsWith(`${d}/`))
}

const POLICY_FILES = /(^|\/)(CODEOWNERS|\.gitattributes|\.gitignore|action\.ya?ml)$/

/** Validates a pull request against its base branch; never throws for a refusal, only for broken input. */
export async function validatePullRequest(input: PullRequestInput): Promise<PullRequestReport> {
  const { git } = input
  // The base is the event's, never a parent of the checked-out commit: a pull request's own merge
  // commit could name any parent. GitHub's merge commit has it as its first parent, so the diff is
  // exactly the pull request; should the base have moved since, the diff shows more, and fails closed.
  const base = input.baseSha
  await ensureCommit(git, base)
  const baseStore = openGitTreeStore(git, base, input.caPrefix)
  const configText = await baseStore.read(CONFIG_FILE)
  if (configText === undefined) {
    throw new CaError(
      'state.missing',
      `the base commit ${base.slice(0, 12)} has no ${CONFIG_FILE}: no CA to judge by`,
      {
        file: posix.join(input.caPrefix, CONFIG_FILE),
      },
    )
  }
  const config = parseCaConfig(configText.toString('utf8'), posix.join(input.caPrefix, CONFIG_FILE))
  const state = stateLocations(config)
  const refusals: CaError[] = []
  const policyChanges: string[] = []
  const names: string[] = []
  const inCa = (path: string) =>
    input.caPrefix === ''
      ? path
      : path.startsWith(`${input.caPrefix}/`)
        ? path.slice(input.caPrefix.length + 1)
        : undefined
  const refuse = (file: string, message: string) =>
    refusals.push(new CaError('github.pr_refused', message, { file }))

  for (const f of await changedFiles(git, base, input.headSha)) {
    const deleted = f.status === 'D'
    if (!deleted && !isRegularFileMode(f.mode)) {
      refuse(
        f.path,
        `${f.mode === '120000' ? 'a symbolic link' : 'a submodule or special file'}: a pull request may add regular files only`,
      )
      continue
    }
    if (f.path.startsWith('.github/') || POLICY_FILES.test(f.path)) {
      policyChanges.push(f.path)
      continue
    }
    const rel = inCa(f.path)
    if (rel === undefined) continue
    if (rel === CONFIG_FILE) {
      policyChanges.push(f.path)
      continue
    }
    if (isStatePath(rel, state)) {
      refuse(
        f.path,
        `changes the CA's state (${deleted ? 'deleted' : 'written'}): only the Action writes it, after the merge`,
      )
      continue
    }
    if (rel.startsWith(`${REQUESTS_DIR}/`)) {
      const file = rel.slice(REQUESTS_DIR.length + 1)
      if (deleted) continue
      if (file.includes('/') || !/\.csr\.pem$|\.yml$/.test(file)) {
        refuse(f.path, `requests/ holds <name>.csr.pem and <name>.yml files only, not "${file}"`)
        continue
      }
      let name: string
      try {
        name = requestName(file.replace(/\.yml$/, '.csr.pem'))
      } catch (e) {
        if (!(e instanceof CaError)) throw e
        refusals.push(new CaError(e.code, e.message, { file: f.path }))
        continue
      }
      if (!names.includes(name)) names.push(name)
    }
  }

  // The requests' own files from the pull request, checked against everything else from the base.
  const headStore = openGitTreeStore(git, input.headSha, input.caPrefix)
  const overlay = new Map<string, Buffer>()
  const readable: string[] = []
  for (const name of names) {
    try {
      for (const path of [`${REQUESTS_DIR}/${name}.csr.pem`, `${REQUESTS_DIR}/${name}.yml`]) {
        // Sized before it is read: a pull request's blob can be of any size.
        const size = await blobSize(git, input.headSha, posix.join(input.caPrefix, path))
        if (size !== undefined && size > MAX_CSR_BYTES) {
          throw new CaError(
            'csr.too_large',
            `the file is ${size} bytes; a request file is at most ${MAX_CSR_BYTES}`,
            {
              file: posix.join(input.caPrefix, path),
            },
          )
        }
        const data = await headStore.read(path)
        if (data !== undefined) overlay.set(path, data)
      }
      readable.push(name)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      refusals.push(e)
    }
  }
  const requests = await validateRequests(
    openGitTreeStore(git, base, input.caPrefix, overlay),
    readable,
    input.now,
  )
  const ok = refusals.length === 0 && requests.every((r) => r.verdict === 'accepted')
  return { base, requests, refusals, policyChanges, ok }
}
