/**
 * What may be written into a certificate's subject alternative names: the CA's allow-list of DNS
 * zones, IP ranges, mailboxes and URI hosts (refusals are `policy.san_not_allowed`), applied after the
 * syntax of san-syntax.ts (refusals are `policy.name_invalid`). Also the normal form of a SAN list
 * (lower-cased DNS names and mail domains, duplicates collapsed) that issuance writes.
 *
 * Allow-list semantics (close to step-ca's and Go's name constraints, stated here because they differ
 * between implementations):
 * - dns: `example.com` allows exactly that name; `.example.com` allows every name below it, at any
 *   depth and including wildcards (`*.example.com`, `*.a.example.com`), but not `example.com` itself.
 * - ip: CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. IPv4 ranges never match
 *   IPv4-mapped IPv6 addresses: an address is matched within its own family only.
 * - email: `user@example.com` (that mailbox; the domain is case-insensitive, the local part is not),
 *   `example.com` (any mailbox there), `.example.com` (any mailbox at a host below it).
 * - uri: `scheme://host` or `scheme://.parent`: the URI has that scheme and its host is that host or
 *   is below the parent; any path, query and port. A URI with userinfo is never allowed.
 * - Every kind is closed unless the policy opens it (step-ca's rule): a kind with a list allows what
 *   the list allows (an empty list allows nothing), a kind named in `unrestricted` allows every
 *   name of correct syntax, and a kind in neither allows no names. A kind cannot be in both.
 * - A profile may narrow the CA's policy with a policy of the same shape: a name must then pass both,
 *   and `unrestricted` in the profile means "as the CA's policy says".
 */
import { CaError } from './errors.js'
import {
  formatIpAddress,
  formatSan,
  parseIpAddress,
  SAN_TYPE_LABEL,
  SAN_TYPES,
  type SanEntry,
  type SanType,
} from './subject-alt-name.js'
import {
  isIpLiteral,
  parseUri,
  validateDnsName,
  validateEmailAddress,
  validateSanSyntax,
} from './san-syntax.js'

export interface SanPolicy {
  dns?: string[]
  ip?: string[]
  email?: string[]
  uri?: string[]
  /** Kinds that take any name of correct syntax. A kind neither listed nor here takes none. */
  unrestricted?: SanType[]
}

/** A policy and the ca.yml key it comes from, so that a refusal says what to change. */
export interface NamedSanPolicy {
  policy: SanPolicy
  /** `issuance.sans`, `profiles.client.sans`. */
  key: string
}

interface Cidr {
  octets: Uint8Array
  prefix: number
  text: string
}

function parseCidr(entry: string): Cidr {
  const slash = entry.indexOf('/')
  const addr = slash < 0 ? entry : entry.slice(0, slash)
  const octets = parseIpAddress(addr)
  const max = octets.length * 8
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new Error(`the prefix length "${prefixText}" is not a number from 0 to ${max}`)
  }
  const prefix = Number(prefixText)
  if (!sameBits(octets, new Uint8Array(octets.length), prefix, true)) {
    throw new Error(
      `it has bits set after the /${prefix} prefix (did you mean ${formatIpAddress(maskTo(octets, prefix))}/${prefix}?)`,
    )
  }
  return { octets, prefix, text: entry }
}

function maskTo(octets: Uint8Array, prefix: number): Uint8Array {
  return octets.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8))
    return b & ((0xff << (8 - keep)) & 0xff)
  })
}

/** With `hostBits`, checks that everything after the prefix is zero; otherwise that the prefixes are equal. */
function sameBits(a: Uint8Array, b: Uint8Array, prefix: number, hostBits = false): boolean {
  if (hostBits) return maskTo(a, prefix).every((x, i) => x === a[i])
  if (a.length !== b.length) return false
  return maskTo(a, prefix).every((x, i) => x === maskTo(b, prefix)[i])
}

/** `example.com` or `.example.com`, lower-cased; throws a plain Error with the reason. */
function parseDomainPattern(entry: string): { domain: string; below: boolean } {
  if (entry.startsWith('*'))
    throw new Error('write ".example.com" to allow names below example.com (wildcards are not patterns)')
  const below = entry.startsWith('.')
  const domain = (below ? entry.slice(1) : entry).toLowerCase()
  validateDnsName(domain)
  return { domain, below }
}

function parseUriPattern(entry: string): { scheme: string; domain: string; below: boolean } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@:]+)$/.exec(entry)
  if (m === null)
    throw new Error(
      'expected scheme://host or scheme://.parent (no path, port or userinfo), e.g. spiffe://example.org',
    )
  return { scheme: (m[1] as string).toLowerCase(), ...parseDomainPattern(m[2] as string) }
}

function parseEmailPattern(entry: string): { mailbox?: string; domain: string; below: boolean } {
  const at = entry.lastIndexOf('@')
  if (at >= 0) {
    validateEmailAddress(entry)
    return { mailbox: entry.slice(0, at), domain: entry.slice(at + 1).toLowerCase(), below: false }
  }
  return parseDomainPattern(entry)
}

const KNOWN_KEYS = new Set(['dns', 'ip', 'email', 'uri', 'unrestricted'])

/** Checks the allow-list itself (from ca.yml): every entry well-formed, lists of strings. `config.invalid` otherwise. */
export function validateSanPolicy(policy: SanPolicy): void {
  if (typeof policy !== 'object' || policy === null)
    throw new CaError('config.invalid', 'the SAN policy must be an object')
  for (const key of Object.keys(policy)) {
    if (!KNOWN_KEYS.has(key))
      throw new CaError(
        'config.invalid',
        `the SAN policy has an unknown key "${key}" (expected dns, ip, email, uri, unrestricted)`,
      )
  }
  const open: unknown = policy.unrestricted
  if (open !== undefined) {
    if (!Array.isArray(open))
      throw new CaError('config.invalid', "the SAN policy's unrestricted must be a list")
    for (const kind of open as unknown[]) {
      if (typeof kind !== 'string' || !(SAN_TYPES as readonly string[]).includes(kind)) {
        throw new CaError(
          'config.invalid',
          `the SAN policy's unrestricted list has "${String(kind)}" (expected dns, ip, email or uri)`,
        )
      }
      if (Object.hasOwn(policy, kind)) {
        throw new CaError(
          'config.invalid',
          `the SAN policy both lists ${kind} names and says ${kind} is unrestricted: keep one of the two`,
        )
      }
    }
  }
  const parsers: Record<SanType, (entry: string) => unknown> = {
    dns: parseDomainPattern,
    ip: parseCidr,
    email: parseEmailPattern,
    uri: parseUriPattern,
  }
  for (const key of ['dns', 'ip', 'email', 'uri'] as const) {
    const list = policy[key]
    if (list === undefined) continue
    if (!Array.isArray(list)) throw new CaError('config.invalid', `the SAN policy's ${key} must be a list`)
    for (const entry of list as unknown[]) {
      if (typeof entry !== 'string' || entry.trim() === '') {
        throw new CaError(
          'config.invalid',
          `the SAN policy's ${key} list has an entry that is not a non-empty string`,
        )
      }
      try {
        parsers[key](entry)
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e)
        throw new CaError(
          'config.invalid',
          `the SAN policy's ${key} entry "${entry}" is not valid: ${reason}`,
          { cause: e },
        )
      }
    }
  }
}

function domainAllowed(host: string, pattern: { domain: string; below: boolean }): boolean {
  return pattern.below ? host.endsWith(`.${pattern.domain}`) : host === pattern.domain
}

function notAllowed(san: SanEntry, reason: string): CaError {
  return new CaError('policy.san_not_allowed', `the SAN ${formatSan(san)} is not allowed: ${reason}`)
}

function describeList(key: string, type: SanType, list: readonly string[]): string {
  return ` (${key}.${type}: ${list.join(', ')})`
}

/**
 * Why `san` (syntax already checked) is not allowed by `named`, or undefined when it is. Also used
 * for the identities a subject carries (identity-policy.ts).
 */
export function sanRefusal(san: SanEntry, named: NamedSanPolicy): string | undefined {
  const { policy, key } = named
  const list = Object.hasOwn(policy, san.type) ? policy[san.type] : undefined
  const kind = SAN_TYPE_LABEL[san.type]
  if (list === undefined) {
    if (policy.unrestricted?.includes(san.type)) return undefined
    return `${key} allows no ${kind} names (it has no ${san.type} list, and ${san.type} is not in ${key}.unrestricted)`
  }
  if (list.length === 0) return `${key}.${san.type} is empty: it allows no ${kind} names`
  switch (san.type) {
    case 'dns': {
      const name = san.value.toLowerCase()
      if (list.some((entry) => domainAllowed(name, parseDomainPattern(entry)))) return undefined
      return `it is not one of the allowed DNS names or below an allowed domain${describeList(key, san.type, list)}`
    }
    case 'ip': {
      const octets = parseIpAddress(san.value)
      const inRange = list.some((entry) => {
        const cidr = parseCidr(entry)
        return cidr.octets.length === octets.length && sameBits(octets, cidr.octets, cidr.prefix)
      })
      return inRange ? undefined : `it is in none of the allowed ranges${describeList(key, san.type, list)}`
    }
    case 'email': {
      const at = san.value.lastIndexOf('@')
      const local = san.value.slice(0, at)
      const domain = san.value.slice(at + 1).toLowerCase()
      const ok = list.some((entry) => {
        const p = parseEmailPattern(entry)
        if (p.mailbox !== undefined) return p.mailbox === local && p.domain === domain
        return domainAllowed(domain, p)
      })
      return ok
        ? undefined
        : `it is not an allowed mailbox or at an allowed domain${describeList(key, san.type, list)}`
    }
    case 'uri': {
      const parts = parseUri(san.value)
      if (parts.userinfo !== undefined) return 'it has userinfo'
      const host = parts.host
      if (host === undefined || host === '' || host.startsWith('[') || isIpLiteral(host)) {
        return `${key}.uri only allows URIs with a DNS host${describeList(key, san.type, list)}`
      }
      const ok = list.some((entry) => {
        const p = parseUriPattern(entry)
        return p.scheme === parts.scheme && domainAllowed(host, p)
      })
      return ok
        ? undefined
        : `its scheme and host match none of the allowed patterns${describeList(key, san.type, list)}`
    }
  }
}

/** The CA's policy (ca.yml `issuance.sans`), then the profile's narrowing when it has one. */
export function sanPolicies(policy: SanPolicy, profile?: NamedSanPolicy): NamedSanPolicy[] {
  return profile === undefined
    ? [{ policy, key: 'issuance.sans' }]
    : [{ policy, key: 'issuance.sans' }, profile]
}

/**
 * Checks one SAN: its syntax, then the CA's policy and, when the profile has one, the profile's
 * (`policy.san_not_allowed` naming the ca.yml key that refused it).
 */
export function checkSan(san: SanEntry, policy: SanPolicy, profile?: NamedSanPolicy): void {
  validateSanSyntax(san)
  for (const named of sanPolicies(policy, profile)) {
    const reason = sanRefusal(san, named)
    if (reason !== undefined) throw notAllowed(san, reason)
  }
}

/**
 * Checks every SAN: syntax (`policy.name_invalid`) and each policy given, the CA's and then the
 * profile's (`policy.san_not_allowed`). The error names the first offending SAN; `details` holds one
 * error per offending SAN.
 */
export function checkSans(sans: readonly SanEntry[], policy: SanPolicy, profile?: NamedSanPolicy): void {
  for (const named of sanPolicies(policy, profile)) validateSanPolicy(named.policy)
  const errors: CaError[] = []
  for (const san of sans) {
    try {
      checkSan(san, policy, profile)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      errors.push(e)
    }
  }
  const first = errors[0]
  if (first === undefined) return
  if (errors.length === 1) throw first
  throw new CaError(
    first.code,
    `${first.message} (and ${errors.length - 1} more refused SAN${errors.length > 2 ? 's' : ''})`,
    {
      details: errors,
    },
  )
}

/**
 * The SANs as issuance writes them: DNS names and email domains lower-cased, IP addresses canonical,
 * duplicates removed (the first occurrence keeps its place).
 */
export function normaliseSans(sans: readonly SanEntry[]): SanEntry[] {
  const seen = new Set<string>()
  const out: SanEntry[] = []
  for (const san of sans) {
    const normal = normaliseSan(san)
    const key = `${normal.type}\u0000${normal.value}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(normal)
  }
  return out
}

function normaliseSan(san: SanEntry): SanEntry {
  switch (san.type) {
    case 'dns':
      return { type: 'dns', value: san.value.toLowerCase() }
    case 'email': {
      const at = san.value.lastIndexOf('@')
      if (at < 0) return san
      return { type: 'email', value: `${san.value.slice(0, at)}@${san.value.slice(at + 1).toLowerCase()}` }
    }
    case 'ip':
      return { type: 'ip', value: formatIpAddress(parseIpAddress(san.value)) }
    case 'uri':
      return san
  }
}
