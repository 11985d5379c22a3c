/**
 * A read-only StateStore over one commit's tree: what a pull request is judged by. Files are read from
 * git's objects, never from the working tree, so a checkout's symlinks, ignored files or local edits
 * cannot change what is read. Only regular files count: a symlink or a submodule in the tree is
 * refused, and a path through one does not exist.
 */
import { posix } from 'node:path'
import { CaError } from '../ca/errors.js'
import type { Git } from './git-command.js'
import type { StateStore } from './state-store.js'
import { storeFolderSegments, storePathSegments } from './store-path.js'

export interface TreeEntry {
  mode: string
  type: string
  object: string
  path: string
}

/** `git ls-tree -z` lines of `commit` for the given paths (relative to the repository's top). */
export async function lsTree(git: Git, commit: string, args: readonly string[]): Promise<TreeEntry[]> {
  const out = await git.ok(['ls-tree', '-z', '--full-tree', commit, '--', ...args])
  return out
    .split('\0')
    .filter((l) => l !== '')
    .map((l) => {
      const tab = l.indexOf('\t')
      const [mode = '', type = '', object = ''] = l.slice(0, tab).split(' ')
      return { mode, type, object, path: l.slice(tab + 1) }
    })
}

export function isRegularFileMode(mode: string): boolean {
  return mode === '100644' || mode === '100755'
}

/**
 * The store of `commit`, rooted at `prefix` (the CA's folder inside the repository, '' for the top).
 * `overlay` replaces or adds files (store paths → bytes): a pull request's requests judged against
 * the base branch's CA.
 */
export function openGitTreeStore(
  git: Git,
  commit: string,
  prefix: string,
  overlay: ReadonlyMap<string, Buffer> = new Map(),
): StateStore {
  const full = (segments: string[]) => posix.join(prefix || '.', ...segments)
  return {
    root: `${commit.slice(0, 12)}:${prefix || '.'}`,
    async read(path) {
      const segments = storePathSegments(path)
      const extra = overlay.get(segments.join('/'))
      if (extra !== undefined) return extra
      const [entry] = await lsTree(git, commit, [full(segments)])
      if (entry === undefined || entry.path !== full(segments)) return undefined
      if (entry.type === 'tree') {
        throw new CaError('state.corrupt', `${path} is a folder, not a file`, { file: path })
      }
      if (!isRegularFileMode(entry.mode)) {
        throw new CaError(
          'state.path_invalid',
          `refused ${path}: it is ${entry.mode === '120000' ? 'a symbolic link' : 'not a regular file'} in commit ${commit.slice(0, 12)}`,
          { file: path },
        )
      }
      return git.bytes(['cat-file', 'blob', entry.object])
    },
    async list(dir) {
      const segments = storeFolderSegments(dir)
      const folder = segments.join('/')
      const names = new Set<string>()
      const entries = await lsTree(git, commit, segments.length || prefix ? [`${full(segments)}/`] : [])
      for (const e of entries) names.add(posix.basename(e.path))
      for (const path of overlay.keys()) {
        if (posix.dirname(path) === (folder || '.')) names.add(posix.basename(path))
      }
      return [...names].sort()
    },
    locked: (fn) => fn(),
    commit() {
      return Promise.reject(
        new CaError('state.write_failed', `the state of commit ${commit.slice(0, 12)} is read-only`),
      )
    },
  }
}
