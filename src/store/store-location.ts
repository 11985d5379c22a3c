/**
 * Where a directory store keeps its own folder (lock and journal), so that nothing a pull request can
 * commit is ever replayed as a journal:
 *
 * - A CA directory inside a git work tree (the Action's checkout, the common case): in the
 *   repository's git dir, `<git dir>/mtls-ca/<id>/`, where `<id>` is the SHA-256 of the CA
 *   directory's path relative to the top of the work tree. Git never checks a file out there, and
 *   refuses any path with a `.git` segment, so no commit can plant or link anything in it. The
 *   working tree's `.mtls-ca/` is then not the store's folder at all: it is never read, written or
 *   deleted (a planted one is harmless, like any other file in the tree).
 * - A CA directory outside any git work tree (a laptop's folder): `.mtls-ca/` inside it, as only
 *   the local user can write there.
 *
 * The git dir is found as git finds it, walking up from the CA directory's real path: `.git` is
 * either the repository's folder or a file `gitdir: PATH` (worktrees, submodules). A `.git` that is
 * a symbolic link or anything else is refused rather than trusted. GIT_DIR is not consulted: the
 * CA directory's own repository is what protects it, whatever the caller's environment says.
 */
import { createHash } from 'node:crypto'
import { realpath } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { CaError } from '../ca/errors.js'
import { kindOf, readOwnFile } from './untrusted-file.js'
import { STORE_DIR } from './store-path.js'

export interface StoreLocation {
  /** The store's folder: lock file and `journal/`. */
  dir: string
  /** 'git': under the repository's git dir; 'local': `.mtls-ca/` of a CA outside any work tree. */
  kind: 'git' | 'local'
  /** Folders to create (outermost first, each checked not to be a link) before `dir` can be used. */
  parents: string[]
}

const GIT_FOLDER = 'mtls-ca'
const GITDIR_FILE_LIMIT = 4096

/** Finds the store folder of the CA directory `root` (which must exist). */
export async function locateStoreFolder(root: string): Promise<StoreLocation> {
  const real = await realpath(root)
  for (let dir = real; ; dir = dirname(dir)) {
    const gitDir = await gitDirAt(dir)
    if (gitDir !== undefined) {
      const key = relative(dir, real).split(sep).join('/') || '.'
      const id = createHash('sha256').update(key).digest('hex').slice(0, 32)
      const base = join(gitDir, GIT_FOLDER)
      return { dir: join(base, id), kind: 'git', parents: [base] }
    }
    if (dirname(dir) === dir) break
  }
  return { dir: join(root, STORE_DIR), kind: 'local', parents: [] }
}

/** The git dir that `dir/.git` names, or undefined when there is none. */
async function gitDirAt(dir: string): Promise<string | undefined> {
  const dotGit = join(dir, '.git')
  const refuse = (why: string): never => {
    throw new CaError(
      'state.untrusted_journal',
      `${dotGit} ${why}; expected the repository's folder or a "gitdir: PATH" file, so the store's journal cannot be placed safely`,
      { file: dotGit },
    )
  }
  const kind = await kindOf(dotGit)
  if (kind === 'absent') return undefined
  if (kind === 'folder') return dotGit
  if (kind !== 'file') return refuse(kind === 'symlink' ? 'is a symbolic link' : 'is not a folder or a file')
  const data = await readOwnFile(dotGit, GITDIR_FILE_LIMIT)
  if (data === undefined || data === 'not-a-file') return refuse('cannot be read as a file')
  const m = /^gitdir: ([^\n\0]+)\n?$/.exec(data.toString('utf8'))
  if (m === null) return refuse('is a file without a "gitdir:" line')
  const target = resolve(dir, m[1] as string)
  if ((await kindOf(target)) !== 'folder') return refuse(`names ${target}, which is not a folder`)
  return target
}
