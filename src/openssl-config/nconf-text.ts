/**
 * The characters and scanning rules of conf_def.c: its CONF_type_default character classes, byte
 * lengths as OpenSSL counts them, names, white space and comments.
 */

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
export const isWs = (c: string | undefined): boolean => is(c, WS)
export const isAlnum = (c: string | undefined): boolean => is(c, ALNUM)
export const isAlnumPunct = (c: string | undefined): boolean => is(c, ALNUM | PUNCT)
export const isQuote = (c: string | undefined): boolean => is(c, QUOTE)

/** Bytes a string takes in UTF-8 (OpenSSL counts bytes). */
export function utf8Length(s: string): number {
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

/** A C0 control character other than tab, CR and LF, or DEL: binary data, not configuration. */
export function firstControlCharacter(s: string): number | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return c
  }
  return undefined
}

export function eatWs(s: string, i: number): number {
  while (i < s.length && isWs(s[i])) i++
  return i
}

export function trimWs(s: string): string {
  let end = s.length
  while (end > 0 && isWs(s[end - 1])) end--
  return s.slice(0, end)
}

/** eat_alpha_numeric: names are letters, digits and `_!%&*+,-./;?@^|~`; a backslash takes the next character with it. */
export function eatAlnumPunct(s: string, i: number, dollarid: boolean): number {
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
export function clearComments(s: string): string {
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
