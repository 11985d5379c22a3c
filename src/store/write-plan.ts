/**
 * Planning a directory store's commit: every check a batch must pass before anything is staged, so
 * that applying it after the commit point cannot fail for a reason that could have been seen. Each
 * folder on the way and each target is looked at with lstat (several at once), never through a link.
 */
import { join } from 'node:path'
import { CaError } from '../ca/errors.js'
import { forEachConcurrently } from './concurrency.js'
import type { StagedWrite } from './journal.js'
import type { FileWrite } from './state-store.js'
import { isKeyPath } from './store-path.js'
import { kindOf, type Kind } from './untrusted-file.js'

/** lstat calls in flight while a commit is planned. */
const LOOKUP_CONCURRENCY = 16

/** A write as the commit applies it: its bytes, and whether it is a key (made outside the journal). */
export type PlannedWrite = StagedWrite & { key: boolean }

/**
 * Checks a batch before anything is staged, so that applying it after the commit point cannot fail
 * for a reason that could have been seen: a path twice, a path that is also a folder of another,
 * a folder on the way that is a file or a symlink, a target that is a folder.
 */
export async function planWrites(
  root: string,
  checked: { write: FileWrite; segments: string[] }[],
): Promise<PlannedWrite[]> {
  const refuse = (path: string, why: string): never => {
    throw new CaError('state.path_invalid', `refused path "${path}": ${why}; nothing was written`, {
      file: path,
    })
  }
  const paths = new Set<string>()
  const folders = new Set<string>()
  for (const { segments } of checked) {
    const key = segments.join('/')
    if (paths.has(key)) refuse(key, 'it is written twice in one commit')
    paths.add(key)
    for (let k = 1; k < segments.length; k++) folders.add(segments.slice(0, k).join('/'))
  }
  for (const key of paths) if (folders.has(key)) refuse(key, 'it is both a file and a folder in this commit')

  const kinds = new Map<string, Kind>()
  const kindAt = async (segments: string[]): Promise<Kind> => {
    const key = segments.join('/')
    let kind = kinds.get(key)
    if (kind === undefined) {
      kind = await kindOf(join(root, ...segments))
      kinds.set(key, kind)
    }
    return kind
  }
  await lookUpKinds(root, checked, folders, kinds)
  const staged: PlannedWrite[] = []
  for (const { write, segments } of checked) {
    const path = segments.join('/')
    const key = write.key === true
    if (!key && isKeyPath(segments))
      refuse(
        path,
        'it names a key (a private/ folder or *.key.pem), which is only ever written as a new key file',
      )
    for (let k = 1; k < segments.length; k++) {
      const kind = await kindAt(segments.slice(0, k))
      if (kind === 'absent') break
      if (kind === 'symlink') refuse(path, `${segments.slice(0, k).join('/')} is a symbolic link`)
      if (kind !== 'folder') refuse(path, `${segments.slice(0, k).join('/')} is not a folder`)
    }
    const kind = await kindAt(segments)
    if (kind === 'folder') refuse(path, 'it is a folder')
    if (kind === 'symlink') refuse(path, 'it is a symbolic link')
    if (kind === 'other') refuse(path, 'it is not a regular file')
    if (key && kind !== 'absent') refuse(path, 'a key file is never replaced')
    const { mode } = write
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
      throw new CaError(
        'state.write_failed',
        `refused mode ${String(mode)} for ${path}; nothing was written`,
        {
          file: path,
        },
      )
    }
    const data = typeof write.data === 'string' ? Buffer.from(write.data, 'utf8') : Buffer.from(write.data)
    staged.push({ path, data, key, ...(mode === undefined ? {} : { mode }) })
  }
  return staged
}

/**
 * Fills `kinds` for planWrites(), several lstat calls at once (3,001 one after another took 0.2 s): the
 * folders level by level, each only under folders that are folders (never through a link), then
 * the targets whose folders all exist. planWrites() then checks in write order on these answers, so the
 * first problem it reports is the same as when it looked each path up in turn.
 */
async function lookUpKinds(
  root: string,
  checked: { segments: string[] }[],
  folders: ReadonlySet<string>,
  kinds: Map<string, Kind>,
): Promise<void> {
  const lookUp = (keys: string[]) =>
    forEachConcurrently(keys, LOOKUP_CONCURRENCY, async (key) => {
      kinds.set(key, await kindOf(join(root, ...key.split('/'))))
    })
  const parentIsFolder = (key: string) => {
    const cut = key.lastIndexOf('/')
    return cut < 0 || kinds.get(key.slice(0, cut)) === 'folder'
  }
  const byDepth = new Map<number, string[]>()
  for (const key of folders) {
    const depth = key.split('/').length
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), key])
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await lookUp((byDepth.get(depth) ?? []).filter(parentIsFolder))
  }
  await lookUp(checked.map(({ segments }) => segments.join('/')).filter(parentIsFolder))
}
