/**
 * Reading one file that someone else may have put there: only a regular file is opened, and never
 * more than the caller's bound is read. A pull request can add a 1 GiB sparse file, a FIFO (opening
 * it for reading would wait for a writer forever) or a folder where a request should be.
 */
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { CaError } from '../ca/errors.js'

const NOFOLLOW = constants.O_NOFOLLOW ?? 0
// A FIFO opened without O_NONBLOCK blocks until a writer appears; with it the open returns and the
// fstat below refuses it.
const NONBLOCK = constants.O_NONBLOCK ?? 0

export interface BoundedReadOptions {
  /** Refuse with `state.too_large` a file larger than this many bytes. Absent: no bound. */
  maxBytes?: number | undefined
  /** Do not follow a symbolic link at the last segment (ELOOP is the caller's to report). */
  noFollow?: boolean
  /** The file as messages name it. */
  shown: string
}

/**
 * The bytes of the regular file at `path`. Throws `state.corrupt` for anything else (folder, FIFO,
 * device, socket), `state.too_large` when it is over `maxBytes` (checked on fstat before reading,
 * and again while reading at most maxBytes + 1 bytes, for a file that grows), and the raw fs error
 * when it cannot be opened.
 */
export async function readRegularFile(path: string, options: BoundedReadOptions): Promise<Buffer> {
  const flags = constants.O_RDONLY | NONBLOCK | (options.noFollow ? NOFOLLOW : 0)
  const handle = await open(path, flags)
  try {
    const st = await handle.stat()
    if (!st.isFile()) {
      throw new CaError('state.corrupt', `${options.shown} is not a regular file (${fileType(st)})`, {
        file: options.shown,
      })
    }
    const { maxBytes } = options
    if (maxBytes === undefined) return await handle.readFile()
    if (st.size > maxBytes) throw tooLarge(options.shown, String(st.size), maxBytes)
    const data = await readAtMost(handle, maxBytes + 1)
    if (data.length > maxBytes) throw tooLarge(options.shown, `over ${maxBytes}`, maxBytes)
    return data
  } finally {
    await handle.close()
  }
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

function tooLarge(shown: string, size: string, maxBytes: number): CaError {
  return new CaError('state.too_large', `the file is ${size} bytes, more than the ${maxBytes} allowed`, {
    file: shown,
  })
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
