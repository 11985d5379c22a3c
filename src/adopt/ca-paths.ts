/**
 * Paths of a configuration as paths inside the CA directory. A relative path is relative to the
 * directory `openssl ca` ran from, taken to be the current directory (as for `.include`); every path
 * must lie inside the CA directory, because ca.yml paths, like all state paths, are relative to it.
 */
import { resolve, sep } from 'node:path'
import { CaError } from '../ca/errors.js'
import { realPrefix, within } from '../openssl-config/config-files.js'
import { at } from './config-location.js'
import type { ParsedConfig } from './types.js'

/** Where relative paths start, and the CA directory they must stay in. */
export interface PathBase {
  cwd: string
  root: string
}

/** A path of the configuration as a path inside the CA directory, or `adopt.unsupported`. */
export function inside(base: PathBase, p: ParsedConfig, key: string, value: string): string {
  const full = resolve(base.cwd, value)
  const rel = insideRoot(base.root, full) ?? insideRoot(realish(base.root), realish(full))
  if (rel === undefined || rel === '') {
    throw new CaError(
      'adopt.unsupported',
      `${at(p, key)}: ${value}${value === full ? '' : ` (${full})`} is ` +
        `${rel === '' ? 'the CA directory itself' : `outside ${base.root}`}; ` +
        'mtls-ca keeps every file of a CA inside the CA directory (relative paths are read from the current ' +
        'directory, as openssl ca does): adopt with --dir set to the folder that holds them all',
      { file: p.source.file },
    )
  }
  return rel
}

/** `full` relative to `root`, '/'-separated as ca.yml paths are; '' for root itself, undefined when outside. */
function insideRoot(root: string, full: string): string | undefined {
  return within(root, full)?.split(sep).join('/')
}

/** Sees through symlinked folders like /tmp; a path that cannot be resolved is compared as it is. */
function realish(path: string): string {
  try {
    return realPrefix(path)
  } catch {
    return path
  }
}
