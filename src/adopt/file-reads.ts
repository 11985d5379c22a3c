/**
 * Reading the CA directory's files through the store (which refuses links, non-regular files and
 * oversized files), and the refusal of a state file that `openssl ca` could not have written.
 */
import { CaError } from '../ca/errors.js'
import type { StateStore } from '../store/state-store.js'
import type { ParsedConfig } from './types.js'

export async function readFile(
  store: StateStore,
  p: ParsedConfig,
  path: string,
): Promise<Buffer | undefined> {
  try {
    return await store.read(path)
  } catch (e) {
    if (!(e instanceof CaError)) throw e
    throw new CaError('adopt.unsupported', `${path}: ${e.message}`, { file: p.source.file, cause: e })
  }
}

export async function readText(
  store: StateStore,
  p: ParsedConfig,
  path: string,
): Promise<string | undefined> {
  return (await readFile(store, p, path))?.toString('utf8')
}

/** A CaError from reading a state file, as `adopt.ca_invalid` naming the file; anything else is rethrown. */
export function stateError(p: ParsedConfig, path: string, e: unknown): CaError {
  if (!(e instanceof CaError)) throw e
  return new CaError('adopt.ca_invalid', `${path}: ${e.message}`, { file: p.source.file, cause: e })
}
