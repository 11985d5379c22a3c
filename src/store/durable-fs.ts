/**
 * The few file system primitives durability is built from: a new file written and fsynced before
 * anyone can rely on it, a directory fsynced so that the names created or renamed in it survive a
 * power loss, and a file replaced atomically. Hand-written because node:fs offers none of them
 * whole and the store may not take dependencies (write-file-atomic does not fsync the directory).
 */
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

export function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e
    ? String((e as { code: unknown }).code)
    : undefined
}

/** Persists the entries of a directory (new names, renames, removals). */
export async function fsyncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory as a file; NTFS journals its metadata itself.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Creates `path` (it must not exist), writes `data` and fsyncs it. `mode`, when given, is applied
 * exactly: open() would narrow it by the umask.
 */
export async function writeNewFileSynced(path: string, data: Uint8Array, mode?: number): Promise<void> {
  const handle = await open(path, 'wx', mode ?? 0o666)
  try {
    if (mode !== undefined) await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Replaces `path` by a complete new file: temp file beside it, fsync, rename, fsync of the folder. */
export async function replaceFileAtomically(path: string, data: Uint8Array, mode?: number): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`
  try {
    await writeNewFileSynced(temp, data, mode)
    await rename(temp, path)
  } catch (e) {
    await rm(temp, { force: true })
    throw e
  }
  await fsyncDirectory(dirname(path))
}
