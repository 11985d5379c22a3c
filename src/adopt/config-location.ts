/**
 * Where a setting stands, in the words the report and the errors use: `[CA_default] certificate
 * (line 12)`, with the included file it came from when it did.
 */
import { lookupEntry, type ConfigEntry } from '../openssl-config/index.js'
import type { ParsedConfig } from './types.js'

export function entryOf(p: ParsedConfig, section: string, key: string): ConfigEntry | undefined {
  return lookupEntry(p.config, section, key)
}

/** `file [CA_default] certificate (line 12)` of the CA section, or `fallback` when the key is not set. */
export function where(p: ParsedConfig, key: string, fallback?: string): string {
  return whereIn(p, p.ca.section, key, fallback)
}

export function whereIn(p: ParsedConfig, section: string, key: string, fallback?: string): string {
  const e = entryOf(p, section, key)
  if (e === undefined) return `${p.source.file} ${fallback ?? `${key} (not set)`}`
  return `${e.includedFrom ?? p.source.file} [${e.section}] ${key} (line ${e.line})`
}

/** `[CA_default] certificate (line 12)`, for errors (which name the configuration file already). */
export function at(p: ParsedConfig, key: string): string {
  const e = entryOf(p, p.ca.section, key)
  if (e === undefined) return `[${p.ca.section}] ${key}`
  const included = e.includedFrom === undefined ? '' : ` of included ${JSON.stringify(e.includedFrom)}`
  return `[${e.section}] ${key} (line ${e.line}${included})`
}

/** The file a section's entries come from (an included file, or the configuration itself). */
export function sectionFile(p: ParsedConfig, section: string): string {
  return p.config.sections.get(section)?.entries[0]?.includedFrom ?? p.source.file
}
