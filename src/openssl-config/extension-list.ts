/**
 * The value syntax shared by extensions: X509V3_parse_list's `name:value, …` items, general-name
 * types as ossl_v3_name_cmp compares them, and the signal that an extension is valid for OpenSSL but
 * not modelled by mtls-ca.
 */

export interface ListItem {
  readonly name: string
  readonly value: string | undefined
  /** Line of the item: the extension's line, or the line in an `@section`. */
  readonly line: number
}

/** Raised inside a reader when the extension is valid for OpenSSL but not modelled here. */
export class Unmapped {
  constructor(readonly reason: string) {}
}

/** ossl_v3_name_cmp: `DNS`, `DNS.1`, `DNS.anything` all name the DNS type. */
export function nameIs(name: string, type: string): boolean {
  return name === type || name.startsWith(`${type}.`)
}

/**
 * X509V3_parse_list: comma-separated `name` or `name:value` items (only the first `:` splits),
 * spaces around each part trimmed, and everything from the first CR or LF on ignored.
 */
export function parseList(
  line: string,
  fail: (what: string) => Error,
): { name: string; value: string | undefined }[] {
  const items: { name: string; value: string | undefined }[] = []
  const cut = line.search(/[\r\n]/)
  const text = cut < 0 ? line : line.slice(0, cut)
  const strip = (s: string): string => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '')
  let name: string | undefined
  let start = 0
  for (let i = 0; i <= text.length; i++) {
    const c = text[i]
    const atEnd = i === text.length
    if (name === undefined) {
      if (c === ':' || c === ',' || atEnd) {
        const n = strip(text.slice(start, i))
        if (n === '') throw fail('empty name in the list')
        start = i + 1
        if (c === ':') name = n
        else items.push({ name: n, value: undefined })
      }
    } else if (c === ',' || atEnd) {
      const v = strip(text.slice(start, i))
      if (v === '') throw fail(`${name}: empty value`)
      items.push({ name, value: v })
      name = undefined
      start = i + 1
    }
  }
  return items
}
