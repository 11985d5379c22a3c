/**
 * GeneralName values as v2i_GENERAL_NAME_ex reads them (`DNS:`, `IP:`, `email:`, `URI:`), the forms
 * a private CA uses; the others are valid for OpenSSL and not modelled.
 */
import { isIPv6 } from 'node:net'
import type { CaError } from '../ca/errors.js'
import { nameIs, Unmapped, type ListItem } from './extension-list.js'

/** The section being read, for notes and refusals that name its line. */
export interface NameContext {
  readonly section: string
  readonly notes: string[]
  invalid(line: number, what: string): CaError
}

/** v2i_GENERAL_NAME_ex; only the forms a private CA uses are modelled. */
export function generalName(
  item: ListItem,
  ext: string,
  at: NameContext,
): { type: 'DNS' | 'IP' | 'email' | 'URI'; value: string } {
  const type = (['email', 'URI', 'DNS', 'RID', 'IP', 'dirName', 'otherName'] as const).find((t) =>
    nameIs(item.name, t),
  )
  if (type === undefined)
    throw at.invalid(item.line, `${ext}: unsupported name type ${JSON.stringify(item.name)}`)
  const value = item.value
  if (value === undefined) throw at.invalid(item.line, `${ext}: ${item.name} without a value`)
  if (type === 'RID' || type === 'dirName' || type === 'otherName') {
    throw new Unmapped(`${ext}: ${type} names are not modelled by mtls-ca`)
  }
  if (value === '')
    throw at.invalid(item.line, `${ext}: empty ${type} name (OpenSSL would encode an empty name)`)
  if (type === 'IP') return { type, value: ipAddress(item, ext, value, at) }
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw at.invalid(item.line, `${ext}: ${type}:${value} is not printable ASCII (an IA5String)`)
  }
  return { type, value }
}

/** a2i_IPADDRESS: a dotted quad (leading zeros are decimal) or an IPv6 address. */
function ipAddress(item: ListItem, ext: string, value: string, at: NameContext): string {
  if (value.includes(':')) {
    if (isIPv6(value)) return value
  } else {
    const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value)
    if (parts && parts.slice(1).every((p) => Number(p) <= 255)) {
      const canonical = parts.slice(1).map(Number).join('.')
      if (canonical !== value) {
        at.notes.push(
          `[${at.section}] line ${item.line}: IP:${value} is read by OpenSSL as ${canonical} (decimal)`,
        )
      }
      return canonical
    }
  }
  throw at.invalid(item.line, `${ext}: ${JSON.stringify(value)} is not an IP address`)
}
