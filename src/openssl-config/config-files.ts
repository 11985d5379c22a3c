/**
 * Reading OpenSSL configuration files from disk for adoption, where the files are untrusted input:
 * only regular files, their size checked (lstat, then fstat of what was opened) before a byte is
 * read, opened non-blocking so that a FIFO swapped in cannot hang the process, read no further than
 * the size allows; and `.include` confined to the CA directory, symbolic links resolved first.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  opendirSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { CaError } from '../ca/errors.js'
import { MAX_CONFIG_FILE_BYTES, type IncludeReader, type IncludeTarget } from './parse.js'

/** An included directory with more entries than this is not a folder of configuration snippets. */
export const MAX_INCLUDED_DIRECTORY_ENTRIES = 4096

type Refusal = Extract<IncludeTarget, { kind: 'refused' }>

/**
 * The configuration file named on the command line (relative to cwd). It may be a symbolic link
 * (the user named it), but what it leads to must be a regular file of at most MAX_CONFIG_FILE_BYTES.
 */
export function readConfigFile(path: string, cwd: string): Uint8Array {
  const full = resolve(cwd, path)
  let result: Uint8Array | Refusal | undefined
  try {
    result = readRegularFile(full, true)
  } catch (cause) {
    throw new CaError('adopt.config_invalid', 'cannot read the configuration file', { file: path, cause })
  }
  if (result === undefined) throw new CaError('adopt.config_invalid', 'does not exist', { file: path })
  if (!(result instanceof Uint8Array)) throw new CaError(result.code, result.reason, { file: path })
  return result
}

/**
 * `.include` as OpenSSL resolves it (a relative path is relative to the current directory), refusing
 * anything but regular files and directories, and never following a symbolic link: give it real
 * paths (confineIncludes does).
 */
export function includeReader(cwd: string): IncludeReader {
  return (path) => {
    const full = resolve(cwd, path)
    try {
      let st: Stats
      try {
        st = lstatSync(full)
      } catch (e) {
        if (isNotFound(e)) return { kind: 'missing' }
        throw e
      }
      if (st.isDirectory()) return listDirectory(full)
      const result = readRegularFile(full, false)
      if (result === undefined) return { kind: 'missing' }
      return result instanceof Uint8Array ? { kind: 'file', text: result } : result
    } catch (e) {
      // A permission or I/O error: OpenSSL fails on it too.
      const code = (e as { code?: string }).code ?? String(e)
      return { kind: 'refused', code: 'adopt.config_invalid', reason: `cannot read ${full} (${code})` }
    }
  }
}

/**
 * Lets `read` see only paths inside `root`: each included path is resolved against cwd, its
 * symbolic links resolved, and refused when the result is outside the real `root`; `read` gets the
 * real path, so a link cannot lead elsewhere between the check and the read.
 */
export function confineIncludes(read: IncludeReader, cwd: string, root: string): IncludeReader {
  return (path) => {
    const realRoot = realpathSync(root)
    const real = realPrefix(resolve(cwd, path))
    if (within(realRoot, real) === undefined) {
      return {
        kind: 'refused',
        code: 'adopt.include_outside',
        reason:
          `${real} is outside the CA directory ${realRoot}; adopt reads included files only from inside it ` +
          '(copy the file into the CA directory and include it from there)',
      }
    }
    return read(real)
  }
}

/**
 * The bytes of a regular file, undefined when there is none, or why it is refused. Size and type
 * are checked on the path first, so a FIFO or a device is never opened, then again on the open
 * descriptor, which must be the same file.
 */
function readRegularFile(full: string, followLinks: boolean): Uint8Array | Refusal | undefined {
  let st: Stats
  try {
    st = followLinks ? statSync(full) : lstatSync(full)
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
  const refused = refuseStats(full, st)
  if (refused) return refused
  const fd = openSync(
    full,
    constants.O_RDONLY | constants.O_NONBLOCK | (followLinks ? 0 : constants.O_NOFOLLOW),
  )
  try {
    const opened = fstatSync(fd)
    if (opened.dev !== st.dev || opened.ino !== st.ino) {
      return notRegular(`${full} was replaced while it was opened`)
    }
    const again = refuseStats(full, opened)
    if (again) return again
    // One byte more than the size: a file that grows while it is read is refused, not truncated.
    const buffer = Buffer.alloc(opened.size + 1)
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length === buffer.length) return tooLarge(`${full} grew while it was read`)
    }
    return buffer.subarray(0, length)
  } finally {
    closeSync(fd)
  }
}

function refuseStats(full: string, st: Stats): Refusal | undefined {
  if (!st.isFile()) return notRegular(`${full} is ${kindOf(st)}, not a regular file`)
  if (st.size > MAX_CONFIG_FILE_BYTES) {
    return tooLarge(`${full} has ${st.size} bytes; a configuration file has at most ${MAX_CONFIG_FILE_BYTES}`)
  }
  return undefined
}

function listDirectory(full: string): IncludeTarget {
  const dir = opendirSync(full)
  try {
    const entries: string[] = []
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      if (entries.length === MAX_INCLUDED_DIRECTORY_ENTRIES) {
        return tooLarge(`the directory ${full} has more than ${MAX_INCLUDED_DIRECTORY_ENTRIES} entries`)
      }
      entries.push(entry.name)
    }
    return { kind: 'directory', entries }
  } finally {
    dir.closeSync()
  }
}

function notRegular(reason: string): Refusal {
  return {
    kind: 'refused',
    code: 'adopt.include_not_regular',
    reason: `${reason}; expected a regular configuration file`,
  }
}

function tooLarge(reason: string): Refusal {
  return { kind: 'refused', code: 'adopt.config_too_large', reason }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  if (st.isSymbolicLink()) return 'a symbolic link'
  return 'not a file'
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string }).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** `full` relative to `root`, '' for root itself, undefined when outside. */
export function within(root: string, full: string): string | undefined {
  const rel = relative(root, full)
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined
  return rel
}

/** The real path of the longest existing prefix, plus the rest (a missing include is still placed). */
export function realPrefix(path: string): string {
  const rest: string[] = []
  let p = path
  for (;;) {
    try {
      return resolve(realpathSync(p), ...rest.reverse())
    } catch (e) {
      if (!isNotFound(e)) throw e
      const parent = dirname(p)
      if (parent === p) return path
      rest.push(basename(p))
      p = parent
    }
  }
}
