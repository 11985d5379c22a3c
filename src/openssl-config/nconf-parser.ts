/**
 * The NCONF reader proper: a file's bytes to logical lines (UTF-8, continuation, the byte-order
 * mark, binary data refused), then section headers, assignments (the last definition wins, at its
 * place) and `.pragma`; `.include` and value expansion live in their own modules.
 */
import type { ConfigEntry, ConfigSection, OpenSslConfig } from './config-model.js'
import {
  MAX_CONFIG_FILE_BYTES,
  MAX_CONFIG_LINES,
  MAX_CONFIG_TOTAL_BYTES,
  MAX_INCLUDED_FILES,
  MAX_TOTAL_VALUE_LENGTH,
} from './config-model.js'
import { expand } from './nconf-expansion.js'
import { include } from './nconf-include.js'
import { ParseState, type Expanded, type FileContext, type Place } from './nconf-state.js'
import {
  clearComments,
  eatAlnumPunct,
  eatWs,
  firstControlCharacter,
  trimWs,
  utf8Length,
} from './nconf-text.js'

export class Parser extends ParseState {
  result(): OpenSslConfig {
    const sections = new Map<string, ConfigSection>()
    for (const [name, s] of this.sections) {
      const values = new Map([...s.values].map(([key, stored]) => [key, stored.entry]))
      sections.set(name, { name, entries: [...values.values()], values })
    }
    return { file: this.options.file, sections, included: this.included, notes: this.notes }
  }

  readFile(input: string | Uint8Array, path: string | undefined, inDirectory = false): void {
    const file: FileContext = { path, inDirectory }
    const start: Place = { file, first: 1, last: 1 }
    const bytes = typeof input === 'string' ? utf8Length(input) : input.length
    if (bytes > MAX_CONFIG_FILE_BYTES) {
      throw this.error(start, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`, 'adopt.config_too_large')
    }
    this.totalBytes += bytes
    if (this.totalBytes > MAX_CONFIG_TOTAL_BYTES) {
      throw this.error(
        start,
        `the configuration and its included files exceed ${MAX_CONFIG_TOTAL_BYTES} bytes together`,
        'adopt.config_too_large',
      )
    }
    let text = typeof input === 'string' ? input : this.decode(input, file)
    // Counted before splitting, so a file of newlines is refused before it becomes an array.
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.totalLines++
    if (!text.endsWith('\n') && text !== '') this.totalLines++
    if (this.totalLines > MAX_CONFIG_LINES) {
      throw this.error(
        start,
        `the configuration and its included files have more than ${MAX_CONFIG_LINES} lines together`,
        'adopt.config_too_large',
      )
    }
    if (text.startsWith('\uFEFF')) {
      // OpenSSL strips a UTF-8 byte-order mark only at the start of the main file.
      if (path !== undefined) {
        throw this.error(
          { file, first: 1, last: 1 },
          'starts with a byte-order mark, which OpenSSL strips only from the main file ' +
            '(here it fails with "missing equal sign")',
        )
      }
      text = text.slice(1)
    }
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()

    let buf = ''
    let first = 1
    let continued = false
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1
      const physical = (lines[i] ?? '').replace(/[\r\n]+$/, '')
      const bad = firstControlCharacter(physical)
      if (bad !== undefined) {
        const code = bad.toString(16).padStart(2, '0')
        throw this.error(
          { file, first: n, last: n },
          `binary data (byte 0x${code}) in a configuration file` +
            (bad === 0 ? '; OpenSSL would silently drop the rest of the line' : ''),
        )
      }
      if (!continued) first = n
      buf += physical
      // conf_def.c: a trailing backslash continues the line unless the character before it is
      // also a backslash (so `\\` ends a line with a literal backslash, and so does `\\\`).
      if (buf.endsWith('\\') && (buf.length <= 1 || buf[buf.length - 2] !== '\\')) {
        buf = buf.slice(0, -1)
        continued = true
        continue
      }
      this.logicalLine(buf, { file, first, last: n })
      buf = ''
      continued = false
    }
    if (continued) this.logicalLine(buf, { file, first, last: lines.length })
  }

  private decode(bytes: Uint8Array, file: FileContext): string {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
    } catch {
      // Find the line, so the message can point at it.
      let line = 1
      let start = 0
      for (let i = 0; i <= bytes.length; i++) {
        if (i === bytes.length || bytes[i] === 0x0a) {
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i))
          } catch {
            break
          }
          line++
          start = i + 1
        }
      }
      throw this.error({ file, first: line, last: line }, 'not UTF-8 text')
    }
  }

  private logicalLine(raw: string, place: Place): void {
    const line = clearComments(raw)
    const s = eatWs(line, 0)
    if (s >= line.length) return
    if (line[s] === '[') this.sectionHeader(line, s + 1, place)
    else this.assignment(line, s, place)
  }

  private sectionHeader(line: string, from: number, place: Place): void {
    const start = eatWs(line, from)
    let ss = start
    let end: number
    for (;;) {
      end = eatAlnumPunct(line, ss, this.dollarid)
      const p = eatWs(line, end)
      if (line[p] === ']') break
      if (p < line.length && ss !== p) {
        ss = p
        continue
      }
      throw this.error(place, `section header without a closing "]": ${line.trim()}`)
    }
    // Names cannot hold "$" followed by a variable name, so nothing here comes from the environment.
    const name = expand(this, line.slice(start, end), null, place).value
    this.current = name
    this.sectionOf(name)
  }

  private assignment(line: string, s: number, place: Place): void {
    let nameStart = s
    let end = eatAlnumPunct(line, s, this.dollarid)
    let section = this.current
    if (line[end] === ':' && line[end + 1] === ':') {
      section = line.slice(s, end)
      nameStart = end + 2
      end = eatAlnumPunct(line, nameStart, this.dollarid)
    }
    const p = eatWs(line, end)
    // conf_def.c tests the prefix, then whether anything separates it from what follows.
    if (line.startsWith('.pragma', nameStart) && (p !== nameStart + 7 || line[p] === '=')) {
      this.pragma(line, p, place)
      return
    }
    if (line.startsWith('.include', nameStart) && (p !== nameStart + 8 || line[p] === '=')) {
      include(this, line, p, section, place, (text, path, inDirectory, at) =>
        this.readIncluded(text, path, inDirectory, at),
      )
      return
    }
    if (line[p] !== '=') {
      throw this.error(place, `missing "=" (at: ${JSON.stringify(line.slice(p, p + 40))})`)
    }
    const name = line.slice(nameStart, end)
    const rawValue = trimWs(line.slice(eatWs(line, p + 1)))
    const expanded = expand(this, rawValue, section, place, name)
    this.totalLength += expanded.value.length
    if (this.totalLength > MAX_TOTAL_VALUE_LENGTH) {
      throw this.error(
        place,
        `the values of this configuration exceed ${MAX_TOTAL_VALUE_LENGTH} characters in total`,
        'adopt.config_too_large',
      )
    }
    const target = this.sectionOf(section)
    target.values.delete(name) // OpenSSL removes the older value from the section's list
    target.values.set(name, { ...expanded, entry: this.entry(section, name, expanded, place) })
  }

  private entry(section: string, name: string, expanded: Expanded, place: Place): ConfigEntry {
    const { value, environment } = expanded
    const entry = { section, name, includedFrom: place.file.path, line: place.first, environment }
    if (environment.length === 0 || !this.options.sealEnvironment) return { ...entry, value }
    // Refused where it is read, not here: a value only used to define others, or one the caller
    // never looks at, is harmless, and the error then points at the first use that would leak it.
    const refusal = this.environmentRefusal(place, `[${section}] ${name}`, environment)
    return Object.defineProperty(entry, 'value', {
      enumerable: true,
      get(): never {
        throw refusal
      },
    }) as ConfigEntry
  }

  private pragma(line: string, at: number, place: Place): void {
    let p = at
    if (line[p] === '=') p = eatWs(line, p + 1)
    const text = trimWs(line.slice(p))
    const colon = text.indexOf(':')
    if (colon <= 0 || colon === text.length - 1) {
      throw this.error(place, `invalid .pragma ${JSON.stringify(text)}: expected keyword:value`)
    }
    const key = trimWs(text.slice(0, colon))
    const value = text.slice(eatWs(text, colon + 1))
    const bool = (): boolean => {
      const v = value.toLowerCase()
      if (v === 'on' || v === 'true') return true
      if (v === 'off' || v === 'false') return false
      throw this.error(
        place,
        `invalid .pragma ${key} value ${JSON.stringify(value)}: expected on/true/off/false`,
      )
    }
    if (key === 'dollarid') this.dollarid = bool()
    else if (key === 'abspath') this.abspath = bool()
    else if (key === 'includedir') this.includedir = value
    else
      this.notes.push(`${this.where(place)}: unknown .pragma ${JSON.stringify(key)} ignored, as OpenSSL does`)
  }

  private readIncluded(text: string | Uint8Array, path: string, inDirectory: boolean, place: Place): void {
    if (this.included.length >= MAX_INCLUDED_FILES) {
      throw this.error(place, `more than ${MAX_INCLUDED_FILES} included files`, 'adopt.config_too_large')
    }
    this.included.push(path)
    this.includeStack.push(path)
    this.readFile(text, path, inDirectory)
    this.includeStack.pop()
  }
}
