/** `index.txt.attr`, the database's one setting that openssl ca keeps beside it: `unique_subject`. */
import { CaError } from './errors.js'

export interface IndexAttributes {
  /** Refuse a second valid certificate with the same subject. OpenSSL's default is yes. */
  uniqueSubject: boolean
}

/**
 * Reads index.txt.attr, a small OpenSSL config file. A missing key means "use the CA config's value",
 * as in OpenSSL. Values are read by their first letter as OpenSSL's parse_yesno does (y/t/1, n/f/0).
 */
export function parseIndexAttr(text: string): Partial<IndexAttributes> {
  const attributes: Partial<IndexAttributes> = {}
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/#.*$/, '').trim()
    if (line === '') return
    const m = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line)
    if (m === null) {
      throw new CaError('state.corrupt', `line ${i + 1}: expected 'name = value', found '${line}'`)
    }
    if (m[1] !== 'unique_subject') return
    const value = m[2] ?? ''
    if (/^[yYtT1]/.test(value)) attributes.uniqueSubject = true
    else if (/^[nNfF0]/.test(value)) attributes.uniqueSubject = false
    else {
      throw new CaError('state.corrupt', `line ${i + 1}: unique_subject = '${value}' is neither yes nor no`)
    }
  })
  return attributes
}

/** What `openssl ca` writes (save_index): `unique_subject = yes\n` or `unique_subject = no\n`. */
export function formatIndexAttr(attributes: IndexAttributes): string {
  return `unique_subject = ${attributes.uniqueSubject ? 'yes' : 'no'}\n`
}
