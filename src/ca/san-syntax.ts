/**
 * The syntax of each kind of subject alternative name, whatever the CA allows: DNS names (wildcards
 * only as a whole left-most label, IDNs only as A-labels, no IP address or trailing dot), e-mail
 * addresses, URIs (RFC 3986) and IP addresses. Refusals are `policy.name_invalid`, naming the name
 * and what is wrong with it. The allow-list that comes after syntax is san-policy.ts.
 */
import { isIP } from 'node:net'
import { domainToASCII, domainToUnicode } from 'node:url'
import { CaError } from './errors.js'
import { hasControlCharacters } from './distinguished-name.js'
import { parseIpAddress, type SanEntry } from './subject-alt-name.js'

const MAX_NAME_OCTETS = 253
const MAX_LABEL_OCTETS = 63
const MAX_LOCAL_PART_OCTETS = 64
const MAX_EMAIL_OCTETS = 254
const MAX_URI_OCTETS = 2048

function nameInvalid(what: string, reason: string): CaError {
  return new CaError('policy.name_invalid', `${what} is not valid: ${reason}`)
}

/**
 * Checks a DNS name (as in a dNSName SAN, or the host of an email address or URI). Throws
 * `policy.name_invalid` saying why. `wildcard` allows `*` as the whole left-most label.
 */
export function validateDnsName(name: string, options: { wildcard?: boolean; what?: string } = {}): void {
  const what = options.what ?? `the DNS name "${name}"`
  if (name === '') throw nameInvalid(what, 'it is empty')
  if (/[^\x21-\x7e]/.test(name)) {
    if (name.includes(' ') || hasControlCharacters(name))
      throw nameInvalid(what, 'it contains a space or control character')
    const ascii = domainToASCII(name)
    throw nameInvalid(
      what,
      `it contains non-ASCII characters; write an internationalised name as its A-label${ascii === '' ? ' (xn--…)' : ` (${ascii})`}`,
    )
  }
  if (name.startsWith('[') || isIpLiteral(name)) {
    throw nameInvalid(what, 'it is an IP address; put IP addresses in an IP SAN, not a DNS one')
  }
  if (name.endsWith('.'))
    throw nameInvalid(what, 'it ends with a dot; write the name without the trailing dot')
  if (name.length > MAX_NAME_OCTETS)
    throw nameInvalid(what, `it is ${name.length} octets long, over ${MAX_NAME_OCTETS}`)
  const labels = name.toLowerCase().split('.')
  const lastLabel = labels[labels.length - 1] as string
  // RFC 3696 §2; also, URL parsers read `1.2.3`, `127.1` and `0x7f.1` as IPv4 addresses.
  if (/^(\d+|0x[0-9a-f]*)$/.test(lastLabel)) {
    throw nameInvalid(what, `its last label "${lastLabel}" is numeric, so it would be read as an IP address`)
  }
  labels.forEach((label, i) => {
    if (label === '') throw nameInvalid(what, 'it has an empty label (two dots together, or a leading dot)')
    if (label.includes('*')) {
      if (!options.wildcard) throw nameInvalid(what, 'a wildcard is not allowed here')
      if (label !== '*')
        throw nameInvalid(
          what,
          `"${label}" is a partial-label wildcard; only "*" as a whole label is allowed`,
        )
      if (i !== 0)
        throw nameInvalid(what, 'a wildcard is only allowed as the whole left-most label (*.example.com)')
      if (labels.length < 3) {
        throw nameInvalid(
          what,
          'a wildcard must be below a name of at least two labels (*.example.com, not *.com or *)',
        )
      }
      return
    }
    if (label.length > MAX_LABEL_OCTETS) {
      throw nameInvalid(what, `the label "${label}" is ${label.length} octets long, over ${MAX_LABEL_OCTETS}`)
    }
    if (label.includes('_'))
      throw nameInvalid(what, `the label "${label}" contains an underscore, which host names cannot`)
    if (!/^[a-z0-9-]+$/.test(label)) {
      throw nameInvalid(what, `the label "${label}" has characters other than letters, digits and hyphens`)
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      throw nameInvalid(what, `the label "${label}" starts or ends with a hyphen`)
    }
    if (label.slice(2, 4) === '--') {
      if (!label.startsWith('xn--')) {
        throw nameInvalid(
          what,
          `the label "${label}" has hyphens in the 3rd and 4th positions, which are reserved for A-labels (xn--)`,
        )
      }
      const unicode = domainToUnicode(label)
      if (unicode === '' || domainToASCII(unicode) !== label) {
        throw nameInvalid(what, `the label "${label}" is not a valid A-label (its punycode does not decode)`)
      }
    }
  })
}

/** What parseIpAddress accepts, without building the error it throws for everything else. */
export function isIpLiteral(text: string): boolean {
  return !text.includes('%') && isIP(text) !== 0
}

/** RFC 5321 dot-atom local parts; quoted local parts are refused. */
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/

/** Checks an rfc822Name: `local@domain`, ASCII only (SMTPUTF8 addresses belong in otherName). */
export function validateEmailAddress(address: string, what = `the email address "${address}"`): void {
  if (/[^\x21-\x7e]/.test(address)) {
    throw nameInvalid(
      what,
      'it contains a space, control or non-ASCII character (an rfc822Name is ASCII; internationalised domains go as A-labels)',
    )
  }
  const at = address.lastIndexOf('@')
  if (at < 0) throw nameInvalid(what, 'it has no "@"')
  const local = address.slice(0, at)
  const domain = address.slice(at + 1)
  if (local.startsWith('"')) throw nameInvalid(what, 'quoted local parts are not supported')
  if (local === '') throw nameInvalid(what, 'the part before "@" is empty')
  if (local.includes('@')) throw nameInvalid(what, 'it has more than one "@"')
  if (local.length > MAX_LOCAL_PART_OCTETS) {
    throw nameInvalid(
      what,
      `the part before "@" is ${local.length} octets long, over ${MAX_LOCAL_PART_OCTETS}`,
    )
  }
  if (address.length > MAX_EMAIL_OCTETS) throw nameInvalid(what, `it is over ${MAX_EMAIL_OCTETS} octets long`)
  if (local.split('.').some((atom) => !ATEXT.test(atom))) {
    throw nameInvalid(
      what,
      `"${local}" is not a valid local part (letters, digits, !#$%&'*+/=?^_\`{|}~- and single dots)`,
    )
  }
  validateDnsName(domain, { what: `the domain of the email address "${address}"` })
}

export interface ParsedUri {
  scheme: string
  /** Undefined when the URI has no authority (`urn:uuid:…`). Lower-cased. */
  host: string | undefined
  userinfo: string | undefined
  port: string | undefined
  path: string
  query: string | undefined
  fragment: string | undefined
}

// RFC 3986 appendix B, with the scheme syntax of §3.1.
const URI_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/

/** Splits an absolute URI into its parts, refusing what is not one (RFC 5280 §4.2.1.6). */
export function parseUri(uri: string, what = `the URI "${uri}"`): ParsedUri {
  if (uri === '') throw nameInvalid(what, 'it is empty')
  if (/[^\x21-\x7e]/.test(uri)) {
    throw nameInvalid(what, 'it contains a space, control or non-ASCII character (percent-encode them)')
  }
  if (uri.length > MAX_URI_OCTETS) throw nameInvalid(what, `it is over ${MAX_URI_OCTETS} octets long`)
  const m = URI_SHAPE.exec(uri)
  if (m === null) throw nameInvalid(what, 'it is not an absolute URI (scheme:…)')
  if (/[\\"<>^`{|}]/.test(uri) || /%(?![0-9A-Fa-f]{2})/.test(uri)) {
    throw nameInvalid(what, 'it has characters that URIs do not allow unencoded, or a broken %-escape')
  }
  const [, scheme, authority, path, query, fragment] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    string | undefined,
    string | undefined,
  ]
  let host: string | undefined
  let userinfo: string | undefined
  let port: string | undefined
  if (authority !== undefined) {
    let hostport = authority
    const at = authority.lastIndexOf('@')
    if (at >= 0) {
      userinfo = authority.slice(0, at)
      hostport = authority.slice(at + 1)
    }
    if (hostport.startsWith('[')) {
      const close = hostport.indexOf(']')
      if (close < 0) throw nameInvalid(what, 'its IP-literal host has no closing "]"')
      host = hostport.slice(0, close + 1)
      const rest = hostport.slice(close + 1)
      if (rest !== '' && !rest.startsWith(':'))
        throw nameInvalid(what, 'it has something after its IP-literal host')
      port = rest === '' ? undefined : rest.slice(1)
    } else {
      // A reg-name has no ":", so the last one starts the port.
      const colon = hostport.lastIndexOf(':')
      host = colon < 0 ? hostport : hostport.slice(0, colon)
      port = colon < 0 ? undefined : hostport.slice(colon + 1)
    }
    host = host.toLowerCase()
  }
  return { scheme: scheme.toLowerCase(), host, userinfo, port, path, query, fragment }
}

/**
 * Checks a URI SAN: an absolute URI whose host, when it has one, is a DNS name (or an IP literal),
 * without userinfo. `spiffe:` URIs must also be SPIFFE IDs (no port, query or fragment; a path of
 * non-empty segments other than `.` and `..`).
 */
export function validateUri(uri: string): ParsedUri {
  const what = `the URI "${uri}"`
  const parts = parseUri(uri, what)
  if (parts.userinfo !== undefined)
    throw nameInvalid(what, 'it has userinfo ("user@"), which a certificate name must not carry')
  if (parts.host !== undefined) {
    if (parts.host === '') throw nameInvalid(what, 'it has "//" but an empty host')
    if (parts.host.startsWith('[')) {
      if (!isIpLiteral(parts.host.slice(1, -1))) throw nameInvalid(what, 'its host is not a valid IP literal')
    } else if (!isIpLiteral(parts.host)) {
      validateDnsName(parts.host, { what: `the host of ${what}` })
    }
  }
  if (parts.port !== undefined && (!/^\d{1,5}$/.test(parts.port) || Number(parts.port) > 65535)) {
    throw nameInvalid(what, `its port "${parts.port}" is not a number from 0 to 65535`)
  }
  if (parts.scheme === 'spiffe') {
    if (parts.host === undefined || parts.host === '')
      throw nameInvalid(what, 'a SPIFFE ID needs a trust domain (spiffe://example.org/…)')
    if (!uri.startsWith(`spiffe://${parts.host}`))
      throw nameInvalid(what, 'a SPIFFE ID has a lower-case scheme and trust domain')
    if (parts.port !== undefined) throw nameInvalid(what, 'a SPIFFE ID has no port')
    if (parts.query !== undefined || parts.fragment !== undefined)
      throw nameInvalid(what, 'a SPIFFE ID has no query or fragment')
    if (
      parts.path !== '' &&
      parts.path
        .split('/')
        .slice(1)
        .some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw nameInvalid(what, 'a SPIFFE ID path has no empty, "." or ".." segments and no trailing slash')
    }
  }
  try {
    new URL(uri)
  } catch {
    throw nameInvalid(what, 'it does not parse as a URL')
  }
  return parts
}

/** Checks the syntax of one SAN; throws `policy.name_invalid`. */
export function validateSanSyntax(san: SanEntry): void {
  switch (san.type) {
    case 'dns':
      return validateDnsName(san.value, { wildcard: true })
    case 'email':
      return validateEmailAddress(san.value)
    case 'uri':
      validateUri(san.value)
      return
    case 'ip':
      parseIpAddress(san.value)
      return
  }
}
