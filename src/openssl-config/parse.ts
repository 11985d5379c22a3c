/**
 * Reads OpenSSL configuration text (the NCONF "default" method) the way OpenSSL 3.0's
 * crypto/conf/conf_def.c does, so an existing `openssl ca` directory can be adopted without
 * guessing: the same comment, quote, escape and continuation rules, `$var` expansion at read time
 * against what is defined so far, the 65536-byte expansion limit, `.pragma` and `.include`.
 * There is no maintained npm library that parses NCONF faithfully (the INI parsers get quoting,
 * escapes, `$section::var` and the duplicate-key order wrong), hence this module and the ones it
 * is made of: ./nconf-parser.ts (files to lines, headers, assignments, pragmas), ./nconf-expansion.ts
 * (quotes, escapes, `$var`), ./nconf-include.ts, ./nconf-text.ts (conf_def.c's character rules),
 * ./nconf-state.ts (what the reader knows so far) and ./config-model.ts (what parsing yields).
 *
 * Pure: the caller passes the text, the environment for `$ENV::X` and, to allow `.include`, a
 * function that reads an included path. Where OpenSSL silently accepts something that is almost
 * certainly a mistake (an unterminated quote, a reference to a section that does not exist, NUL
 * bytes) this parser refuses it with `adopt.config_invalid` and says what OpenSSL would have done.
 *
 * Hostile text is bounded: bytes per file and for all files together, lines, included files, the
 * length of each expanded value and of all values (`adopt.config_too_large`). Every value remembers
 * which environment variables it took something from, so that a caller that publishes values can
 * refuse those (`sealEnvironment`) instead of copying a secret out of the environment.
 */

import type { ConfigEntry, OpenSslConfig, ParseOptions } from './config-model.js'
import { Parser } from './nconf-parser.js'

export * from './config-model.js'

/** Parses configuration text; throws CaError `adopt.config_invalid` naming the line. */
export function parseOpensslConfig(text: string | Uint8Array, options: ParseOptions = {}): OpenSslConfig {
  const parser = new Parser(options)
  parser.readFile(text, undefined)
  return parser.result()
}

/** NCONF_get_string: the value in `section`, else in `[default]` — how every OpenSSL tool looks values up. */
export function lookupEntry(config: OpenSslConfig, section: string, name: string): ConfigEntry | undefined {
  return config.sections.get(section)?.values.get(name) ?? config.sections.get('default')?.values.get(name)
}

export function lookupValue(config: OpenSslConfig, section: string, name: string): string | undefined {
  return lookupEntry(config, section, name)?.value
}
