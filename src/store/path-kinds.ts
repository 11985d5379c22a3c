/**
 * What a name in the file system is, told without following it (lstat), and reading a file only when
 * it is a regular file reached without a symbolic link (O_NOFOLLOW, then fstat). Everything the store
 * touches is looked at this way: a pull request can put a symlink anywhere in a working tree.
 */
import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { errorCode } from './durable-fs.js'

export type Kind = 'absent' | 'file' | 'folder' | 'symlink' | 'other'

const NOFOLLOW = constants.O_NOFOLLOW ?? 0

export async function kindOf(path: string): Promise<Kind> {
  try {
    const s = await lstat(path)
    if (s.isSymbolicLink()) return 'symlink'
    if (s.isDirectory()) return 'folder'
    return s.isFile() ? 'file' : 'other'
  } catch (e) {
    if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return 'absent'
    throw e
  }
}

/**
 * The bytes of `path` when it is a regular file, undefined when it is absent, and 'not-a-file' when
 * it is a symbolic link or anything else. At most `limit` bytes are accepted (more is 'not-a-file').
 */
export async function readRegularFile(
  path: string,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<Buffer | undefined | 'not-a-file'> {
  let handle
  try {
    handle = await open(path, constants.O_RDONLY | NOFOLLOW)
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined
    if (errorCode(e) === 'ELOOP' || errorCode(e) === 'ENOTDIR') return 'not-a-file'
    throw e
  }
  try {
    const s = await handle.stat()
    if (!s.isFile() || s.size > limit) return 'not-a-file'
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}
