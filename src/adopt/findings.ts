/**
 * What an adoption has found so far: ca.yml values with their origin, notes, and the items it did
 * not carry over (`unmapped`) or that change nothing in mtls-ca (`ignored`). Every mapping module
 * writes into one of these, in the order the report shows them.
 */
import type { SkippedExtension, ExtensionSection } from '../openssl-config/index.js'
import { entryOf } from './config-location.js'
import type { AdoptedProfile, AdoptItem, MappedValue, ParsedConfig } from './types.js'

export class Findings {
  readonly mapped: MappedValue[] = []
  readonly notes: string[] = []
  readonly unmapped: AdoptItem[] = []
  readonly ignored: AdoptItem[] = []
  readonly profiles: AdoptedProfile[] = []

  map(key: string, value: string, from: string): void {
    this.mapped.push({ key, value, from })
  }

  /** The entry `key` of `section` with a reason, when it is set. */
  item(p: ParsedConfig, list: AdoptItem[], section: string, key: string, reason: string): void {
    const e = entryOf(p, section, key)
    if (e === undefined) return
    list.push({
      file: e.includedFrom ?? p.source.file,
      section: e.section,
      line: e.line,
      name: key,
      value: e.value,
      reason,
    })
  }

  skipped(p: ParsedConfig, list: AdoptItem[], s: SkippedExtension): void {
    list.push({
      file: fileOfLine(p, s.section, s.name),
      section: s.section,
      line: s.line,
      name: s.name,
      value: s.value,
      reason: s.reason,
    })
  }

  /** A whole section, when none of it is carried over. */
  sectionItem(p: ParsedConfig, list: AdoptItem[], section: ExtensionSection, reason: string): void {
    const entries = p.config.sections.get(section.section)?.entries ?? []
    list.push({
      file: entries[0]?.includedFrom ?? p.source.file,
      section: section.section,
      line: entries[0]?.line ?? 0,
      name: `[${section.section}]`,
      value: entries.map((e) => e.name).join(', '),
      reason,
    })
  }

  /** One extension of a section, by its name, as it stands in the configuration. */
  extensionItem(
    p: ParsedConfig,
    list: AdoptItem[],
    section: string,
    ext: { name: string; line: number },
    reason: string,
    value = valueOf(p, section, ext.name),
  ): void {
    list.push({
      file: fileOfLine(p, section, ext.name),
      section,
      line: ext.line,
      name: ext.name,
      value,
      reason,
    })
  }
}

function fileOfLine(p: ParsedConfig, section: string, name: string): string {
  return p.config.sections.get(section)?.values.get(name)?.includedFrom ?? p.source.file
}

function valueOf(p: ParsedConfig, section: string, name: string): string {
  return p.config.sections.get(section)?.values.get(name)?.value ?? ''
}
