/**
 * Reading a file that someone else may have put there. A pull request can commit a symbolic link
 * anywhere in a working tree, add a 1 GiB sparse file, a FIFO (opening it for reading would wait for a
 * writer forever) or a folder where a file should be; the store and the commands look at every such
 * name through this module: its kind without following it (lstat), an open that neither follows a
 * last-segment link (O_NOFOLLOW) nor blocks on a FIFO (O_NONBLOCK), fstat on the opened file, and a
 * read bounded by the caller.
 */
import { constants } from 'node:fs'
import { lstat, open, type FileHandle } from 'node:fs/promises'
import { CaError } from '../ca/errors.js'
import { errorCode } from './durable-fs.js'

export type Kind = 'absent' | 'file' | 'folder' | 'symlink' | 'other'

const NOFOLLOW = constants.O_NOFOLLOW ?? 0
// A FIFO opened without O_NONBLOCK blocks until a writer appears; with it the open returns and the
// fstat refuses it.
const NONBLOCK = constants.O_NONBLOCK ?? 0

/** What `path` is, without following it. */
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

export interface BoundedReadOptions {
  /** Refuse with `state.too_large` a file larger than this many bytes. Absent: no bound. */
  maxBytes?: number | undefined
  /** Do not follow a symbolic link at the last segment (ELOOP is the caller's to report). */
  noFollow?: boolean
  /** The file as messages name it. */
  shown: string
}

type BoundedRead =
  { kind: 'file'; data: Buffer } | { kind: 'not-a-file'; type: string } | { kind: 'too-large'; size: string }

/** Opens, fstats and reads at most `maxBytes` (+1, to see a file that grows); open errors are thrown. */
async function readBounded(
  path: string,
  maxBytes: number | undefined,
  noFollow: boolean,
): Promise<BoundedRead> {
  const handle = await open(path, constants.O_RDONLY | NONBLOCK | (noFollow ? NOFOLLOW : 0))
  try {
    const st = await handle.stat()
    if (!st.isFile()) return { kind: 'not-a-file', type: fileType(st) }
    if (maxBytes === undefined) return { kind: 'file', data: await handle.readFile() }
    if (st.size > maxBytes) return { kind: 'too-large', size: String(st.size) }
    const data = await readAtMost(handle, maxBytes + 1)
    if (data.length > maxBytes) return { kind: 'too-large', size: `over ${maxBytes}` }
    return { kind: 'file', data }
  } finally {
    await handle.close()
  }
}

/**
 * The bytes of the regular file at `path`. Throws `state.corrupt` for anything else (folder, FIFO,
 * device, socket), `state.too_large` when it is over `maxBytes` (checked on fstat before reading,
 * and again while reading at most maxBytes + 1 bytes, for a file that grows), and the raw fs error
 * when it cannot be opened.
 */
export async function readRegularFile(path: string, options: BoundedReadOptions): Promise<Buffer> {
  const read = await readBounded(path, options.maxBytes, options.noFollow ?? false)
  if (read.kind === 'file') return read.data
  if (read.kind === 'not-a-file') {
    throw new CaError('state.corrupt', `${options.shown} is not a regular file (${read.type})`, {
      file: options.shown,
    })
  }
  throw new CaError(
    'state.too_large',
    `the file is ${read.size} bytes, more than the ${options.maxBytes} allowed`,
    { file: options.shown },
  )
}

/**
 * The bytes of `path` when it is a regular file reached without a symbolic link at its last segment,
 * undefined when it is absent, and 'not-a-file' when it is a symbolic link, anything else, or over
 * `maxBytes`. For files the store wrote itself and reads back: anything else there is not its own.
 */
export async function readOwnFile(
  path: string,
  maxBytes?: number,
): Promise<Buffer | undefined | 'not-a-file'> {
  let read: BoundedRead
  try {
    read = await readBounded(path, maxBytes, true)
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined
    if (errorCode(e) === 'ELOOP' || errorCode(e) === 'ENOTDIR') return 'not-a-file'
    throw e
  }
  return read.kind === 'file' ? read.data : 'not-a-file'
}

async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit)
  let filled = 0
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, null)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return buffer.subarray(0, filled)
}

/** What a non-regular file is, for messages. */
export function fileType(st: {
  isDirectory(): boolean
  isFIFO(): boolean
  isSocket(): boolean
  isCharacterDevice(): boolean
  isBlockDevice(): boolean
  isSymbolicLink(): boolean
}): string {
  if (st.isDirectory()) return 'a folder'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  if (st.isSymbolicLink()) return 'a symbolic link'
  return 'not a file'
}
