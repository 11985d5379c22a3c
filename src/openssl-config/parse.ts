/**
 * Reads OpenSSL configuration text (the NCONF "default" method) the way OpenSSL 3.0's
 * crypto/conf/conf_def.c does, so an existing `openssl ca` directory can be adopted without
 * guessing: the same comment, quote, escape and continuation rules, `$var` expansion at read time
 * against what is defined so far, the 65536-byte expansion limit, `.pragma` and `.include`.
 * There is no maintained npm library that parses NCONF faithfully (the INI parsers get quoting,
 * escapes, `$section::var` and the duplicate-key order wrong), hence this module.
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

import { CaError, type ErrorCode } from '../ca/errors.js'

/** OpenSSL's MAX_CONF_VALUE_LENGTH: no value may grow past this many bytes through expansion. */
export const MAX_CONF_VALUE_LENGTH = 65536
/** A configuration file larger than this is not a configuration file. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024
/** The main file and its included files together. */
export const MAX_CONFIG_TOTAL_BYTES = 4 * 1024 * 1024
/** Physical lines of the main file and its included files together (the tutorial's has about 130). */
export const MAX_CONFIG_LINES = 100_000
/** Files read through `.include`, all together. */
export const MAX_INCLUDED_FILES = 64
/** All values of one configuration together (guards against many lines each expanding to 64 KiB). */
export const MAX_TOTAL_VALUE_LENGTH = 16 * 1024 * 1024

export interface ConfigEntry {
  readonly section: string
  readonly name: string
  /** After quotes, escapes and `$var` expansion, as OpenSSL stores it. */
  readonly value: string
  /** The included file the entry came from; undefined for the main text. */
  readonly includedFrom: string | undefined
  /** 1-based physical line where the (possibly continued) line starts. */
  readonly line: number
  /**
   * The environment variables (names only) the value takes something from, through `$ENV::X` or a
   * variable defined from one. With `sealEnvironment`, reading `value` of such an entry throws.
   */
  readonly environment: readonly string[]
}

export interface ConfigSection {
  readonly name: string
  /** OpenSSL's order: a name defined twice sits where its last definition is (the last wins). */
  readonly entries: readonly ConfigEntry[]
  readonly values: ReadonlyMap<string, ConfigEntry>
}

export interface OpenSslConfig {
  /** The name given by the caller for the main text, if any (errors cite it). */
  readonly file: string | undefined
  /** In order of first appearance; `default` is always first and always present. */
  readonly sections: ReadonlyMap<string, ConfigSection>
  /** Included files that were read, in reading order. */
  readonly included: readonly string[]
  /** Things a person adopting this configuration should know (fallbacks, ignored includes, …). */
  readonly notes: readonly string[]
}

/** What the caller found at an included path. */
export type IncludeTarget =
  | { readonly kind: 'file'; readonly text: string | Uint8Array }
  | { readonly kind: 'directory'; readonly entries: readonly string[] }
  | { readonly kind: 'missing' }
  /** The caller would not read it: `reason` says what the path is and what was expected. */
  | {
      readonly kind: 'refused'
      readonly code:
        | 'adopt.config_invalid'
        | 'adopt.config_too_large'
        | 'adopt.include_not_regular'
        | 'adopt.include_outside'
      readonly reason: string
    }

/**
 * Reads an included path exactly as given (after OPENSSL_CONF_INCLUDE / `includedir` are
 * applied). OpenSSL resolves a relative path against the directory `openssl` was run from, not the
 * directory of the including file; the caller decides what that directory is.
 */
export type IncludeReader = (path: string) => IncludeTarget

export interface ParseOptions {
  /** Name of the main text, for errors (CaError.file). */
  file?: string
  /** The environment OpenSSL would have seen: `$ENV::X` and OPENSSL_CONF_INCLUDE. */
  env?: Readonly<Record<string, string | undefined>>
  /** Without it `.include` is refused with `adopt.unsupported`. */
  readInclude?: IncludeReader
  /**
   * For callers that copy values where others read them (ca.yml is committed): reading `value` of
   * an entry that took anything from the environment throws `adopt.env_in_value`, naming the line
   * and the variable but never its value, and an `.include` path or an OPENSSL_CONF_INCLUDE prefix
   * from the environment is refused while parsing.
   */
  sealEnvironment?: boolean
}

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

// Character classes of conf_def.h's CONF_type_default table; bytes above 127 belong to none.
const WS = 1
const ALNUM = 2
const PUNCT = 4
const QUOTE = 8
const CLASSES = new Uint8Array(128)
for (const c of ' \t\r\n') CLASSES[c.charCodeAt(0)] = WS
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_')
  CLASSES[c.charCodeAt(0)] = ALNUM
for (const c of '!%&*+,-./;?@^|~') CLASSES[c.charCodeAt(0)] = PUNCT
for (const c of '"\'`') CLASSES[c.charCodeAt(0)] = QUOTE
const is = (c: string | undefined, cls: number): boolean =>
  c !== undefined && c.length > 0 && ((CLASSES[c.charCodeAt(0)] ?? 0) & cls) !== 0
const isWs = (c: string | undefined): boolean => is(c, WS)
const isAlnum = (c: string | undefined): boolean => is(c, ALNUM)
const isAlnumPunct = (c: string | undefined): boolean => is(c, ALNUM | PUNCT)
const isQuote = (c: string | undefined): boolean => is(c, QUOTE)

/** Bytes a string takes in UTF-8 (OpenSSL counts bytes). */
function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

interface FileContext {
  /** undefined for the main text */
  readonly path: string | undefined
  readonly inDirectory: boolean
}

interface Place {
  readonly file: FileContext
  readonly first: number
  readonly last: number
}

/** A value after expansion, and the environment variables it took something from. */
interface Expanded {
  readonly value: string
  readonly environment: readonly string[]
}

/** An entry as the parser keeps it: the value stays readable here even when the entry is sealed. */
interface Stored extends Expanded {
  readonly entry: ConfigEntry
}

class MutableSection {
  readonly values = new Map<string, Stored>()
  constructor(readonly name: string) {}
}

class Parser {
  private readonly sections = new Map<string, MutableSection>()
  private readonly notes: string[] = []
  private readonly included: string[] = []
  private readonly includeStack: string[] = []
  private readonly env: Readonly<Record<string, string | undefined>>
  private current = 'default'
  private dollarid = false
  private abspath = false
  private includedir: string | undefined
  private totalLength = 0
  private totalBytes = 0
  private totalLines = 0

  constructor(private readonly options: ParseOptions) {
    this.env = options.env ?? {}
    this.sections.set('default', new MutableSection('default'))
  }

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
    const name = this.strCopy(line.slice(start, end), null, place).value
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
      this.include(line, p, section, place)
      return
    }
    if (line[p] !== '=') {
      throw this.error(place, `missing "=" (at: ${JSON.stringify(line.slice(p, p + 40))})`)
    }
    const name = line.slice(nameStart, end)
    const rawValue = trimWs(line.slice(eatWs(line, p + 1)))
    const expanded = this.strCopy(rawValue, section, place, name)
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

  private include(line: string, at: number, section: string, place: Place): void {
    let p = at
    if (line[p] === '=') p = eatWs(line, p + 1)
    const expanded = this.strCopy(trimWs(line.slice(p)), section, place)
    if (expanded.environment.length > 0 && this.options.sealEnvironment) {
      throw this.environmentRefusal(place, 'the .include path', expanded.environment)
    }
    let path = expanded.value
    if (path === '') {
      throw this.error(place, '.include without a path (OpenSSL would silently ignore the line)')
    }
    const fromEnv = this.env['OPENSSL_CONF_INCLUDE']
    const prefix = fromEnv ?? this.includedir
    if (prefix !== undefined && !path.startsWith('/')) {
      if (fromEnv !== undefined && this.options.sealEnvironment) {
        throw new CaError(
          'adopt.env_in_value',
          `${this.where(place)}: the relative .include ${JSON.stringify(path)} would take its folder from ` +
            'OPENSSL_CONF_INCLUDE in the environment, and included paths are copied into ca.yml: unset ' +
            'OPENSSL_CONF_INCLUDE, or write the path in full',
          this.fileOption(),
        )
      }
      path = (prefix.endsWith('/') ? prefix : `${prefix}/`) + path
    }
    if (this.abspath && !path.startsWith('/')) {
      throw this.error(
        place,
        `.include ${JSON.stringify(path)} is relative, and ".pragma abspath" requires absolute paths`,
      )
    }
    const read = this.options.readInclude
    if (read === undefined) {
      throw new CaError(
        'adopt.unsupported',
        `${this.where(place)}: .include ${JSON.stringify(path)}: this configuration includes other files; ` +
          'pass a reader for them to adopt it',
        this.fileOption(),
      )
    }
    if (this.includeStack.includes(path)) {
      throw this.error(
        place,
        `.include ${JSON.stringify(path)} includes itself (OpenSSL would loop until it runs out of files)`,
      )
    }
    const target = read(path)
    if (target.kind === 'refused') throw this.includeRefusal(place, path, target)
    if (target.kind === 'missing') {
      this.notes.push(
        `${this.where(place)}: included ${JSON.stringify(path)} does not exist; OpenSSL ignores a missing include`,
      )
      return
    }
    if (target.kind === 'file') {
      this.readIncluded(target.text, path, place.file.inDirectory, place)
      return
    }
    if (place.file.inDirectory) {
      this.notes.push(
        `${this.where(place)}: directory ${JSON.stringify(path)} included from a file that was itself read from an ` +
          'included directory; OpenSSL refuses such nesting and ignores it',
      )
      return
    }
    // OpenSSL reads *.cnf and *.conf in readdir order, which the file system decides.
    const names = target.entries
      .filter((n) => (n.length > 5 && /\.conf$/i.test(n)) || (n.length > 4 && /\.cnf$/i.test(n)))
      .sort()
    if (names.length > 1) {
      this.notes.push(
        `${this.where(place)}: directory ${JSON.stringify(path)} was read in name order (${names.join(', ')}); ` +
          'OpenSSL uses the order the directory lists them in, which can differ',
      )
    }
    const dir = path.endsWith('/') ? path : `${path}/`
    for (const name of names) {
      const entry = read(dir + name)
      if (entry.kind === 'file') this.readIncluded(entry.text, dir + name, true, place)
      else if (entry.kind === 'refused') throw this.includeRefusal(place, dir + name, entry)
      else
        throw this.error(
          place,
          `${JSON.stringify(dir + name)} in an included directory is ${entry.kind === 'missing' ? 'gone' : 'a directory'}, ` +
            'not a regular file',
          'adopt.include_not_regular',
        )
    }
  }

  private includeRefusal(place: Place, path: string, target: { code: ErrorCode; reason: string }): CaError {
    return new CaError(
      target.code,
      `${this.where(place)}: .include ${JSON.stringify(path)}: ${target.reason}`,
      this.fileOption(),
    )
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

  /**
   * conf_def.c str_copy: quotes, escapes and variable expansion of one value. `section` is where
   * plain `$name` is looked up first (null for a section header: [default] only).
   */
  private strCopy(from: string, section: string | null, place: Place, defining?: string): Expanded {
    let out = ''
    const environment = new Set<string>()
    let bufLength = utf8Length(from) + 1 // OpenSSL's buffer: the raw text, then grown per expansion
    let i = 0
    const n = from.length
    while (i < n) {
      const c = from[i] as string
      if (isQuote(c)) {
        const start = i
        i++
        while (i < n && from[i] !== c) {
          if (from[i] === '\\') {
            i++
            if (i >= n) break
          }
          out += from.charAt(i)
          i++
        }
        if (from[i] === c) i++
        else {
          throw this.error(
            place,
            `unterminated ${c} quote starting at ${JSON.stringify(from.slice(start, start + 30))}` +
              // never echo what came from the environment
              (environment.size === 0 ? `; OpenSSL would read the value as ${JSON.stringify(out)}` : ''),
          )
        }
      } else if (c === '\\') {
        const v = from[i + 1]
        i += 2
        if (v === undefined) break
        out += v === 'r' ? '\r' : v === 'n' ? '\n' : v === 'b' ? '\b' : v === 't' ? '\t' : v
      } else if (c === '$' && (!this.dollarid || from[i + 1] === '{' || from[i + 1] === '(')) {
        const ref = this.reference(from, i, section, place, defining)
        const newSize = utf8Length(ref.value) + bufLength - (ref.end - i)
        if (newSize > MAX_CONF_VALUE_LENGTH) {
          throw this.error(
            place,
            `expanding ${from.slice(i, ref.end)} makes the value longer than ${MAX_CONF_VALUE_LENGTH} bytes ` +
              "(OpenSSL's limit on variable expansion)",
            'adopt.config_too_large',
          )
        }
        bufLength = newSize
        out += ref.value
        for (const name of ref.environment) environment.add(name)
        i = ref.end
      } else {
        out += c
        i++
      }
    }
    return { value: out, environment: [...environment] }
  }

  private reference(
    from: string,
    at: number,
    section: string | null,
    place: Place,
    defining: string | undefined,
  ): Expanded & { end: number } {
    const nameChar = (ch: string | undefined): boolean => isAlnum(ch) || (this.dollarid && ch === '$')
    let s = at + 1
    const close = from[s] === '{' ? '}' : from[s] === '(' ? ')' : undefined
    if (close) s++
    let cp = section
    let explicit = false
    let np = s
    let e = s
    while (e < from.length && nameChar(from[e])) e++
    if (from[e] === ':' && from[e + 1] === ':') {
      cp = from.slice(np, e)
      explicit = true
      e += 2
      np = e
      while (e < from.length && nameChar(from[e])) e++
    }
    const name = from.slice(np, e)
    if (close) {
      if (from[e] !== close) {
        throw this.error(
          place,
          `${JSON.stringify(from.slice(at, e + 1))}: no closing "${close}" right after the name`,
        )
      }
      e++
    }
    const text = from.slice(at, e)
    const fallbackEntry = this.sections.get('default')?.values.get(name)
    if (explicit && cp !== 'ENV' && cp !== null && !this.sections.has(cp)) {
      throw this.error(
        place,
        `${text} refers to section [${cp}], which is not defined above this line` +
          (fallbackEntry !== undefined && fallbackEntry.environment.length === 0
            ? ` (OpenSSL would silently use ${name} = ${JSON.stringify(fallbackEntry.value)} from [default])`
            : ''),
      )
    }
    if (cp !== null) {
      const v = this.sections.get(cp)?.values.get(name)
      if (v !== undefined) return { value: v.value, environment: v.environment, end: e }
      if (cp === 'ENV') {
        const envValue = this.env[name]
        if (envValue !== undefined) {
          // The name only: the value may be a secret, and notes are printed and kept.
          this.notes.push(
            `${this.where(place)}: ${text} is taken from the environment; ` +
              'OpenSSL used whatever the environment held when it ran',
          )
          return { value: envValue, environment: [name], end: e }
        }
      }
    }
    const fallback = fallbackEntry
    if (fallback !== undefined) {
      if (explicit) {
        this.notes.push(
          `${this.where(place)}: ${text} has no value in [${cp}], so OpenSSL takes ${name} from [default]`,
        )
      }
      return { value: fallback.value, environment: fallback.environment, end: e }
    }
    const scope = cp === null || cp === 'default' ? '[default]' : `[${cp}] or [default]`
    const self = defining !== undefined && name === defining && (!explicit || cp === section)
    throw this.error(
      place,
      name === '' && !explicit
        ? '"$" not followed by a variable name (write \\$ for a literal dollar sign, or use ".pragma dollarid:on")'
        : self
          ? `${text} refers to the variable being defined, which has no value yet`
          : `${text} has no value: ${cp === 'ENV' ? 'not in the environment, ' : ''}nothing named ${JSON.stringify(name)} ` +
            `is defined in ${scope} above this line (OpenSSL expands variables while reading)`,
    )
  }

  private sectionOf(name: string): MutableSection {
    let s = this.sections.get(name)
    if (!s) {
      s = new MutableSection(name)
      this.sections.set(name, s)
    }
    return s
  }

  private where(place: Place): string {
    const lines = place.first === place.last ? `line ${place.first}` : `lines ${place.first}-${place.last}`
    return place.file.path === undefined ? lines : `${lines} of included ${JSON.stringify(place.file.path)}`
  }

  private fileOption(): { file?: string } {
    return this.options.file === undefined ? {} : { file: this.options.file }
  }

  private error(place: Place, what: string, code: ErrorCode = 'adopt.config_invalid'): CaError {
    return new CaError(code, `${this.where(place)}: ${what}`, this.fileOption())
  }

  private environmentRefusal(place: Place, what: string, environment: readonly string[]): CaError {
    const refs = environment.map((n) => `$ENV::${n}`).join(', ')
    return new CaError(
      'adopt.env_in_value',
      `${this.where(place)}: ${what} takes ${refs} from the environment; adopt copies configuration values ` +
        `into ca.yml (which is committed) and its report, so it does not take them from the environment: ` +
        `replace ${refs} with the literal value`,
      this.fileOption(),
    )
  }
}

/** A C0 control character other than tab, CR and LF, or DEL: binary data, not configuration. */
function firstControlCharacter(s: string): number | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return c
  }
  return undefined
}

function eatWs(s: string, i: number): number {
  while (i < s.length && isWs(s[i])) i++
  return i
}

function trimWs(s: string): string {
  let end = s.length
  while (end > 0 && isWs(s[end - 1])) end--
  return s.slice(0, end)
}

/** eat_alpha_numeric: names are letters, digits and `_!%&*+,-./;?@^|~`; a backslash takes the next character with it. */
function eatAlnumPunct(s: string, i: number, dollarid: boolean): number {
  for (;;) {
    if (s[i] === '\\') {
      i = i + 1 >= s.length ? i + 1 : i + 2
      continue
    }
    if (!(isAlnumPunct(s[i]) || (dollarid && s[i] === '$'))) return i
    i++
  }
}

/** clear_comments: `#` starts a comment unless quoted or escaped. */
function clearComments(s: string): string {
  let i = eatWs(s, 0)
  while (i < s.length) {
    const c = s[i]
    if (c === '#') return s.slice(0, i)
    if (isQuote(c)) {
      i++
      while (i < s.length && s[i] !== c) {
        if (s[i] === '\\') {
          i++
          if (i >= s.length) return s
        }
        i++
      }
      if (s[i] === c) i++
    } else if (c === '\\') {
      i = i + 1 >= s.length ? i + 1 : i + 2
    } else i++
  }
  return s
}
