/**
 * `.include` as conf_def.c does it: OPENSSL_CONF_INCLUDE or `.pragma includedir` as the prefix of a
 * relative path, `.pragma abspath`, a missing file ignored with a note, and a directory read for its
 * `*.cnf` and `*.conf` files (not nested). The caller's reader decides what a path holds.
 */
import { CaError, type ErrorCode } from '../ca/errors.js'
import { expand } from './nconf-expansion.js'
import type { ParseState, Place } from './nconf-state.js'
import { trimWs, eatWs } from './nconf-text.js'

/** Reads an included file's text into the configuration (inDirectory: it came from an included folder). */
export type IncludedFileReader = (
  text: string | Uint8Array,
  path: string,
  inDirectory: boolean,
  place: Place,
) => void

export function include(
  state: ParseState,
  line: string,
  at: number,
  section: string,
  place: Place,
  readIncluded: IncludedFileReader,
): void {
  let p = at
  if (line[p] === '=') p = eatWs(line, p + 1)
  const expanded = expand(state, trimWs(line.slice(p)), section, place)
  if (expanded.environment.length > 0 && state.options.sealEnvironment) {
    throw state.environmentRefusal(place, 'the .include path', expanded.environment)
  }
  let path = expanded.value
  if (path === '') {
    throw state.error(place, '.include without a path (OpenSSL would silently ignore the line)')
  }
  const fromEnv = state.env['OPENSSL_CONF_INCLUDE']
  const prefix = fromEnv ?? state.includedir
  if (prefix !== undefined && !path.startsWith('/')) {
    if (fromEnv !== undefined && state.options.sealEnvironment) {
      throw new CaError(
        'adopt.env_in_value',
        `${state.where(place)}: the relative .include ${JSON.stringify(path)} would take its folder from ` +
          'OPENSSL_CONF_INCLUDE in the environment, and included paths are copied into ca.yml: unset ' +
          'OPENSSL_CONF_INCLUDE, or write the path in full',
        state.fileOption(),
      )
    }
    path = (prefix.endsWith('/') ? prefix : `${prefix}/`) + path
  }
  if (state.abspath && !path.startsWith('/')) {
    throw state.error(
      place,
      `.include ${JSON.stringify(path)} is relative, and ".pragma abspath" requires absolute paths`,
    )
  }
  const read = state.options.readInclude
  if (read === undefined) {
    throw new CaError(
      'adopt.unsupported',
      `${state.where(place)}: .include ${JSON.stringify(path)}: this configuration includes other files; ` +
        'pass a reader for them to adopt it',
      state.fileOption(),
    )
  }
  if (state.includeStack.includes(path)) {
    throw state.error(
      place,
      `.include ${JSON.stringify(path)} includes itself (OpenSSL would loop until it runs out of files)`,
    )
  }
  const target = read(path)
  if (target.kind === 'refused') throw includeRefusal(state, place, path, target)
  if (target.kind === 'missing') {
    state.notes.push(
      `${state.where(place)}: included ${JSON.stringify(path)} does not exist; OpenSSL ignores a missing include`,
    )
    return
  }
  if (target.kind === 'file') {
    readIncluded(target.text, path, place.file.inDirectory, place)
    return
  }
  if (place.file.inDirectory) {
    state.notes.push(
      `${state.where(place)}: directory ${JSON.stringify(path)} included from a file that was itself read from an ` +
        'included directory; OpenSSL refuses such nesting and ignores it',
    )
    return
  }
  // OpenSSL reads *.cnf and *.conf in readdir order, which the file system decides.
  const names = target.entries
    .filter((n) => (n.length > 5 && /\.conf$/i.test(n)) || (n.length > 4 && /\.cnf$/i.test(n)))
    .sort()
  if (names.length > 1) {
    state.notes.push(
      `${state.where(place)}: directory ${JSON.stringify(path)} was read in name order (${names.join(', ')}); ` +
        'OpenSSL uses the order the directory lists them in, which can differ',
    )
  }
  const dir = path.endsWith('/') ? path : `${path}/`
  for (const name of names) {
    const entry = read(dir + name)
    if (entry.kind === 'file') readIncluded(entry.text, dir + name, true, place)
    else if (entry.kind === 'refused') throw includeRefusal(state, place, dir + name, entry)
    else
      throw state.error(
        place,
        `${JSON.stringify(dir + name)} in an included directory is ${entry.kind === 'missing' ? 'gone' : 'a directory'}, ` +
          'not a regular file',
        'adopt.include_not_regular',
      )
  }
}

function includeRefusal(
  state: ParseState,
  place: Place,
  path: string,
  target: { code: ErrorCode; reason: string },
): CaError {
  return new CaError(
    target.code,
    `${state.where(place)}: .include ${JSON.stringify(path)}: ${target.reason}`,
    state.fileOption(),
  )
}
