/**
 * Subject alternative names as the engine handles them: the four kinds a private mTLS CA issues (DNS,
 * IP, email, URI) as plain values, with IP addresses held in one canonical text form (dotted IPv4,
 * RFC 5952 IPv6) so that equal addresses compare equal. Converts to and from @peculiar/asn1-x509's
 * `GeneralName[]` / `SubjectAlternativeName`, parses the `DNS:a.example.com` form used on the command
 * line and in configuration (and in `openssl x509 -text` output), and formats SANs for display.
 *
 * Syntax rules for each kind (LDH labels, wildcards, mailbox syntax, …) and the allow-list live in
 * san-policy.ts; this module only refuses what it cannot represent: unsupported GeneralName kinds, IP
 * addresses that are not 4 or 16 octets, non-ASCII octets in IA5String names, and a subjectAltName
 * value that holds more than one GeneralNames.
 */
import { isIP } from 'node:net'
import { domainToASCII } from 'node:url'
import * as asn1js from 'asn1js'
import { AsnConvert } from '@peculiar/asn1-schema'
import { GeneralName, SubjectAlternativeName } from '@peculiar/asn1-x509'
import { CaError } from './errors.js'

export const SAN_TYPES = ['dns', 'ip', 'email', 'uri'] as const
export type SanType = (typeof SAN_TYPES)[number]

export type SanEntry =
  | { type: 'dns'; value: string }
  /** `value` is canonical text: dotted IPv4, or RFC 5952 IPv6 (`::ffff:192.0.2.1` for mapped IPv4). */
  | { type: 'ip'; value: string }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }

/** How each kind is called in messages and in OpenSSL's config syntax. */
export const SAN_TYPE_LABEL: Readonly<Record<SanType, string>> = {
  dns: 'DNS',
  ip: 'IP',
  email: 'email',
  uri: 'URI',
}

// ---------------------------------------------------------------------------------------------------
// IP addresses

/**
 * The octets of an IPv4 or IPv6 address written as text. Refuses zone ids (`fe80::1%eth0`),
 * brackets, leading zeros in IPv4 (`010.0.0.1`, which some parsers read as octal) and anything
 * `node:net` does not accept.
 */
export function parseIpAddress(text: string): Uint8Array {
  const version = text.includes('%') ? 0 : isIP(text)
  if (version === 4) return Uint8Array.from(text.split('.').map(Number))
  if (version === 6) return parseIpv6(text)
  throw new CaError(
    'policy.name_invalid',
    `"${text}" is not an IP address (expected dotted IPv4 such as 192.0.2.1 or IPv6 such as 2001:db8::1, without brackets or zone id)`,
  )
}

function parseIpv6(text: string): Uint8Array {
  let head = text
  const out = new Uint8Array(16)
  const groups: number[] = []
  // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = head.lastIndexOf(':')
  const tail = head.slice(lastColon + 1)
  let v4: number[] | undefined
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number)
    head = head.slice(0, lastColon + 1) + '0:0'
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined]
  const leftGroups = left === '' || left === undefined ? [] : left.split(':')
  const rightGroups = right === undefined || right === '' ? [] : right.split(':')
  const fill = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length
  for (const g of leftGroups) groups.push(parseInt(g, 16))
  for (let i = 0; i < fill; i++) groups.push(0)
  for (const g of rightGroups) groups.push(parseInt(g, 16))
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  })
  if (v4 !== undefined) out.set(v4, 12)
  return out
}

/** Dotted IPv4 for 4 octets, RFC 5952 text for 16; any other length is refused. */
export function formatIpAddress(octets: Uint8Array): string {
  if (octets.length === 4) return Array.from(octets).join('.')
  if (octets.length !== 16) {
    throw new CaError(
      'policy.name_invalid',
      `an IP address must be 4 or 16 octets, not ${octets.length} (8 and 32 are name-constraint ranges)`,
    )
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted tail.
  if (octets.subarray(0, 10).every((b) => b === 0) && octets[10] === 0xff && octets[11] === 0xff) {
    return `::ffff:${Array.from(octets.subarray(12)).join('.')}`
  }
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((octets[i] as number) << 8) | (octets[i + 1] as number))
  // The longest run of two or more zero groups becomes `::`; the first one on a tie (RFC 5952 §4.2.3).
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/** The canonical text of an IP address given as text (`2001:DB8:0::1` → `2001:db8::1`). */
export function canonicalIpAddress(text: string): string {
  return formatIpAddress(parseIpAddress(text))
}

// ---------------------------------------------------------------------------------------------------
// Construction

/** A SAN entry with its value in canonical form where there is one (IP addresses). */
export function sanEntry(type: SanType, value: string): SanEntry {
  switch (type) {
    case 'ip':
      return { type, value: canonicalIpAddress(value) }
    case 'dns':
    case 'email':
    case 'uri':
      return { type, value }
  }
}

// ---------------------------------------------------------------------------------------------------
// GeneralName conversions

const UNSUPPORTED_KINDS: ReadonlyArray<[keyof GeneralName, string]> = [
  ['otherName', 'otherName'],
  ['x400Address', 'x400Address'],
  ['directoryName', 'directoryName'],
  ['ediPartyName', 'ediPartyName'],
  ['registeredID', 'registeredID'],
]

/** Reads GeneralNames (e.g. a CSR's requested SAN extension); kinds other than DNS/IP/email/URI are refused. */
export function sansFromGeneralNames(names: readonly GeneralName[]): SanEntry[] {
  return names.map((gn) => {
    if (gn.dNSName !== undefined) return { type: 'dns', value: ia5Value('dNSName', gn.dNSName) }
    if (gn.rfc822Name !== undefined) return { type: 'email', value: ia5Value('rfc822Name', gn.rfc822Name) }
    if (gn.uniformResourceIdentifier !== undefined)
      return { type: 'uri', value: ia5Value('uniformResourceIdentifier', gn.uniformResourceIdentifier) }
    if (gn.iPAddress !== undefined) {
      // asn1-x509 has already turned the octets into text; 8/32-octet ranges come out as `a.b.c.d/n`
      // and other lengths as hex, neither of which is an address.
      const text = gn.iPAddress
      if (text.includes('%') || isIP(text) === 0) {
        throw new CaError(
          'policy.name_invalid',
          `the iPAddress SAN "${text}" is not a 4-octet IPv4 or 16-octet IPv6 address`,
        )
      }
      return { type: 'ip', value: canonicalIpAddress(text) }
    }
    const kind = UNSUPPORTED_KINDS.find(([field]) => gn[field] !== undefined)?.[1] ?? 'unknown'
    throw new CaError(
      'policy.san_not_allowed',
      `a SAN of type ${kind} was requested: only DNS, IP, email and URI names are supported`,
    )
  })
}

/**
 * dNSName, rfc822Name and URI are IA5Strings (ASCII). asn1-x509 hands their octets over one per
 * character, so UTF-8 arrives as Latin-1 mojibake: refuse it here, showing the octets as the UTF-8
 * the requester most likely meant, and the A-label when it is a host name.
 */
function ia5Value(field: string, decoded: string): string {
  if (!/[\u0080-\uffff]/.test(decoded)) return decoded
  const octets = Buffer.from(decoded, 'latin1')
  let meant: string
  try {
    meant = new TextDecoder('utf-8', { fatal: true }).decode(octets)
  } catch {
    meant = [...octets]
      .map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('')
  }
  const ascii = field === 'dNSName' ? domainToASCII(meant) : ''
  throw new CaError(
    'policy.name_invalid',
    `the ${field} SAN "${meant}" has non-ASCII octets, which an IA5String cannot hold` +
      (ascii !== '' && ascii !== meant ? `; write the internationalised name as its A-label (${ascii})` : ''),
  )
}

/** GeneralNames for a certificate's SAN extension, in the order given. */
export function sansToGeneralNames(sans: readonly SanEntry[]): GeneralName[] {
  return sans.map((san) => {
    switch (san.type) {
      case 'dns':
        return new GeneralName({ dNSName: san.value })
      case 'email':
        return new GeneralName({ rfc822Name: san.value })
      case 'uri':
        return new GeneralName({ uniformResourceIdentifier: san.value })
      case 'ip':
        return new GeneralName({ iPAddress: converterText(parseIpAddress(san.value)) })
    }
  })
}

/**
 * asn1-x509 encodes `iPAddress` from text with a parser that does not understand an embedded IPv4
 * tail, so IPv6 is handed over as eight full hex groups, which it parses correctly.
 */
function converterText(octets: Uint8Array): string {
  if (octets.length === 4) return Array.from(octets).join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2)
    groups.push((((octets[i] as number) << 8) | (octets[i + 1] as number)).toString(16))
  return groups.join(':')
}

export function toSubjectAlternativeName(sans: readonly SanEntry[]): SubjectAlternativeName {
  return new SubjectAlternativeName(sansToGeneralNames(sans))
}

/**
 * Parses the DER value (extnValue contents) of a subjectAltName extension as exactly one GeneralNames.
 * asn1-schema stops after the first element, so a second list appended after it would be silently
 * dropped here yet could be read by another parser: anything after the first is refused.
 */
export function parseSubjectAlternativeName(der: Uint8Array | ArrayBuffer): SubjectAlternativeName {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der)
  const outer = asn1js.fromBER(bytes)
  if (outer.offset === -1) {
    throw new CaError('policy.name_invalid', 'the subjectAltName extension is not valid DER GeneralNames')
  }
  if (outer.offset !== bytes.byteLength) {
    throw new CaError(
      'policy.name_invalid',
      `the subjectAltName extension has ${bytes.byteLength - outer.offset} octets after its GeneralNames (a second list or trailing data); expected exactly one GeneralNames`,
    )
  }
  try {
    return AsnConvert.parse(bytes, SubjectAlternativeName)
  } catch (e) {
    throw new CaError('policy.name_invalid', 'the subjectAltName extension is not valid DER GeneralNames', {
      cause: e,
    })
  }
}

/** Reads the DER value (extnValue contents) of a subjectAltName extension. */
export function sansFromExtensionValue(der: Uint8Array | ArrayBuffer): SanEntry[] {
  return sansFromGeneralNames(parseSubjectAlternativeName(der))
}

/** The DER value (extnValue contents) of a subjectAltName extension. */
export function sansToExtensionValue(sans: readonly SanEntry[]): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(toSubjectAlternativeName(sans)))
}

// ---------------------------------------------------------------------------------------------------
// Text forms

const TEXT_PREFIXES: ReadonlyArray<[string, SanType]> = [
  ['dns', 'dns'],
  ['ip address', 'ip'], // what `openssl x509 -text` prints
  ['ip', 'ip'],
  ['email', 'email'],
  ['uri', 'uri'],
]
const UNSUPPORTED_PREFIXES: ReadonlyArray<[string, string]> = [
  ['othername', 'otherName'],
  ['dirname', 'directoryName'],
  ['rid', 'registeredID'],
  ['registered id', 'registeredID'],
  ['x400name', 'x400Address'],
  ['edipartyname', 'ediPartyName'],
]

/**
 * Parses one SAN in OpenSSL's config syntax: `DNS:a.example.com`, `IP:10.0.0.1`, `email:a@example.com`,
 * `URI:spiffe://example.org/x`. The type is case-insensitive; `IP Address:` (as printed by
 * `openssl x509 -text`) is accepted too. The value is taken as it is: syntax is checked by san-policy.
 */
export function parseSanText(text: string): SanEntry {
  const colon = text.indexOf(':')
  const prefix = colon < 0 ? '' : text.slice(0, colon).trim().toLowerCase()
  const value = colon < 0 ? '' : text.slice(colon + 1).trim()
  const unsupported = UNSUPPORTED_PREFIXES.find(([p]) => p === prefix)
  if (unsupported !== undefined) {
    throw new CaError(
      'policy.san_not_allowed',
      `"${text}": SANs of type ${unsupported[1]} are not supported (only DNS, IP, email and URI)`,
    )
  }
  const known = TEXT_PREFIXES.find(([p]) => p === prefix)
  if (known === undefined) {
    throw new CaError(
      'policy.name_invalid',
      `"${text}" is not a SAN: expected TYPE:value with TYPE one of DNS, IP, email, URI (e.g. DNS:www.example.com)`,
    )
  }
  if (value === '') throw new CaError('policy.name_invalid', `"${text}" has an empty value`)
  return sanEntry(known[1], value)
}

/** Parses a comma-separated list, as in `subjectAltName = DNS:a.example.com, IP:10.0.0.1`. */
export function parseSanList(text: string): SanEntry[] {
  if (text.trim() === '') return []
  return text.split(',').map((part) => parseSanText(part.trim()))
}

/** One SAN in the config syntax that `parseSanText` reads back: `DNS:a.example.com`, `IP:2001:db8::1`. */
export function formatSan(san: SanEntry): string {
  return `${SAN_TYPE_LABEL[san.type]}:${san.value}`
}

/** A list for messages, PR comments and listings: `DNS:a.example.com, IP:10.0.0.1`. */
export function formatSans(sans: readonly SanEntry[]): string {
  return sans.map(formatSan).join(', ')
}
