/**
 * conf_def.c's value expansion: quotes, escapes and `$var`, `${var}`, `$(var)`, `$section::var`
 * and `$ENV::var`, against what is defined above the line, within OpenSSL's 65536-byte limit.
 * Every value carries the environment variables it took something from.
 */
import { MAX_CONF_VALUE_LENGTH } from './config-model.js'
import type { Expanded, ParseState, Place } from './nconf-state.js'
import { isAlnum, isQuote, utf8Length } from './nconf-text.js'

/**
 * conf_def.c str_copy: quotes, escapes and variable expansion of one value. `section` is where
 * plain `$name` is looked up first (null for a section header: [default] only).
 */
export function expand(
  state: ParseState,
  from: string,
  section: string | null,
  place: Place,
  defining?: string,
): Expanded {
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
        throw state.error(
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
    } else if (c === '$' && (!state.dollarid || from[i + 1] === '{' || from[i + 1] === '(')) {
      const ref = reference(state, from, i, section, place, defining)
      const newSize = utf8Length(ref.value) + bufLength - (ref.end - i)
      if (newSize > MAX_CONF_VALUE_LENGTH) {
        throw state.error(
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

function reference(
  state: ParseState,
  from: string,
  at: number,
  section: string | null,
  place: Place,
  defining: string | undefined,
): Expanded & { end: number } {
  const nameChar = (ch: string | undefined): boolean => isAlnum(ch) || (state.dollarid && ch === '$')
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
      throw state.error(
        place,
        `${JSON.stringify(from.slice(at, e + 1))}: no closing "${close}" right after the name`,
      )
    }
    e++
  }
  const text = from.slice(at, e)
  const fallbackEntry = state.sections.get('default')?.values.get(name)
  if (explicit && cp !== 'ENV' && cp !== null && !state.sections.has(cp)) {
    throw state.error(
      place,
      `${text} refers to section [${cp}], which is not defined above this line` +
        (fallbackEntry !== undefined && fallbackEntry.environment.length === 0
          ? ` (OpenSSL would silently use ${name} = ${JSON.stringify(fallbackEntry.value)} from [default])`
          : ''),
    )
  }
  if (cp !== null) {
    const v = state.sections.get(cp)?.values.get(name)
    if (v !== undefined) return { value: v.value, environment: v.environment, end: e }
    if (cp === 'ENV') {
      const envValue = state.env[name]
      if (envValue !== undefined) {
        // The name only: the value may be a secret, and notes are printed and kept.
        state.notes.push(
          `${state.where(place)}: ${text} is taken from the environment; ` +
            'OpenSSL used whatever the environment held when it ran',
        )
        return { value: envValue, environment: [name], end: e }
      }
    }
  }
  const fallback = fallbackEntry
  if (fallback !== undefined) {
    if (explicit) {
      state.notes.push(
        `${state.where(place)}: ${text} has no value in [${cp}], so OpenSSL takes ${name} from [default]`,
      )
    }
    return { value: fallback.value, environment: fallback.environment, end: e }
  }
  const scope = cp === null || cp === 'default' ? '[default]' : `[${cp}] or [default]`
  const self = defining !== undefined && name === defining && (!explicit || cp === section)
  throw state.error(
    place,
    name === '' && !explicit
      ? '"$" not followed by a variable name (write \\$ for a literal dollar sign, or use ".pragma dollarid:on")'
      : self
        ? `${text} refers to the variable being defined, which has no value yet`
        : `${text} has no value: ${cp === 'ENV' ? 'not in the environment, ' : ''}nothing named ${JSON.stringify(name)} ` +
          `is defined in ${scope} above this line (OpenSSL expands variables while reading)`,
  )
}
