/**
 * The lexical rules for paths inside a state store: relative, '/'-separated, no `.` or `..`
 * segments, nothing inside the store's own hidden folder. Checked on every read and write and on
 * every path read back from a journal, so that no path can name a file outside the CA directory.
 * (node:path's normalize would silently turn `a/../b` into `b`; a CA should refuse it instead.)
 */
import { CaError } from '../ca/errors.js'

/** The store's own folder inside the CA directory: lock and journal. It ignores itself for git. */
export const STORE_DIR = '.mtls-ca'

const MAX_PATH_LENGTH = 1024

/** The segments of a valid store path, or `state.path_invalid` naming what is wrong with it. */
export function storePathSegments(path: string): string[] {
  const refuse = (why: string): never => {
    throw new CaError('state.path_invalid', `refused path "${path}": ${why}`, { file: path })
  }
  if (typeof path !== 'string' || path === '') refuse('it is empty')
  if (path.length > MAX_PATH_LENGTH) refuse(`it is longer than ${MAX_PATH_LENGTH} characters`)
  if (path.includes('\0')) refuse('it contains a NUL character')
  if (path.includes('\\')) refuse("it contains '\\'; store paths are '/'-separated")
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    refuse('it is absolute; store paths are relative to the CA directory')
  const segments = path.split('/')
  for (const s of segments) {
    if (s === '') refuse("it has an empty segment ('//' or a trailing '/')")
    if (s === '.' || s === '..') refuse(`it has a "${s}" segment`)
  }
  if (segments[0] === STORE_DIR) refuse(`${STORE_DIR}/ belongs to the store itself`)
  return segments
}

/** `dir` for list(): '' (or '.') is the root, anything else a store path. */
export function storeFolderSegments(dir: string): string[] {
  return dir === '' || dir === '.' ? [] : storePathSegments(dir)
}

/**
 * Whether a store path names a private key: anything under a `private/` folder or named `*.key.pem`
 * (case-insensitively, for case-insensitive file systems). The journal never holds such a path, so
 * recovery can never write a key; keys are created as new files by commit() itself (FileWrite.key).
 */
export function isKeyPath(segments: readonly string[]): boolean {
  const lower = segments.map((s) => s.toLowerCase())
  return lower.includes('private') || (lower[lower.length - 1] ?? '').endsWith('.key.pem')
}
