/**
 * The identities a certificate's subject carries, held to the same allow-list as its SANs. TLS stacks
 * still match a host name against the subject's CN when a certificate has no DNS SAN (OpenSSL,
 * Python's ssl, curl), and mail and client-auth software reads emailAddress, so a CN or emailAddress
 * is as much a name as a SAN is.
 *
 * The rules (README "What a request must satisfy"):
 * - emailAddress: an e-mail identity, checked like an email SAN (issuance.sans and the profile's).
 * - Each CN, in whatever string type, is classified from its NFKC form (so that full-width dots and
 *   at signs count): an IP address (or something an IP parser would read as one), an e-mail address
 *   (has "@"), a URI (`scheme:` with no white space), a DNS name (has a dot and no white space), or
 *   else a label such as "Web Server" or "alice". A name is checked, on its original value, with the
 *   syntax and allow-list rules of its SAN kind; non-ASCII names are refused as in SANs.
 * - Server profiles (serverAuth) are stricter, as step-ca is: every CN must be a DNS name or an IP
 *   address the policy allows, because that is how a TLS client reads it. Labels, e-mail addresses
 *   and URIs in the CN are refused there.
 * - Other profiles accept labels: a client certificate's CN is an account name, not a host.
 * Refusals are `policy.subject_name_not_allowed` (allow-list, or a CN a server profile cannot carry),
 * `policy.san_not_allowed` for a CN the profile copies into the SANs (it is refused as the SAN it would
 * become), and `policy.name_invalid` (syntax).
 */
import { isIP } from 'node:net'
import { CaError } from './errors.js'
import { OID_COMMON_NAME, OID_EMAIL, type DistinguishedName } from './distinguished-name.js'
import {
  sanPolicies,
  sanRefusal,
  validateSanPolicy,
  type NamedSanPolicy,
  type SanPolicy,
} from './san-policy.js'
import { validateSanSyntax } from './san-syntax.js'
import { sanEntry, SAN_TYPE_LABEL, type SanEntry, type SanType } from './subject-alt-name.js'

export type CommonNameKind = SanType | 'label'

export interface SubjectIdentityPolicy {
  /** ca.yml `issuance.sans`. */
  sans: SanPolicy
  /** The profile's narrowing, if any. */
  profileSans?: NamedSanPolicy | undefined
  profileName: string
  /** The profile has serverAuth. */
  server: boolean
  /** The profile copies the CN's DNS names and IP addresses into the SANs. */
  copyCommonName: boolean
}

// Dotted numbers that inet_aton and URL parsers read as IPv4 addresses (127.1, 0x7f.0.0.1, 0177.0.0.1).
const NUMERIC_DOTTED = /^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+)){1,3}\.?$/
const URI_LIKE = /^[a-z][a-z0-9+.-]*:\S*$/i
const IDEOGRAPHIC_FULL_STOP = /\u3002/g

/** What a TLS stack or a person could take a CN for. */
export function classifyCommonName(value: string): CommonNameKind {
  const folded = value.normalize('NFKC').replace(IDEOGRAPHIC_FULL_STOP, '.').toLowerCase()
  const bare = folded.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  if (isIP(bare) !== 0 || NUMERIC_DOTTED.test(folded)) return 'ip'
  if (folded.includes('@')) return 'email'
  if (/\s/u.test(folded)) return 'label'
  if (URI_LIKE.test(folded) && !/^[a-z0-9.-]+:\d*$/.test(folded)) return 'uri'
  if (folded.includes('.') || folded.includes(':')) return 'dns'
  return 'label'
}

/**
 * Checks every CN and emailAddress of the subject to be issued. Returns the DNS and IP names its CNs
 * hold (lower-cased DNS names, canonical IPs), for profiles that copy the CN into the SANs.
 */
export function checkSubjectIdentities(
  subject: DistinguishedName,
  policy: SubjectIdentityPolicy,
): SanEntry[] {
  for (const named of sanPolicies(policy.sans, policy.profileSans)) validateSanPolicy(named.policy)
  const names: SanEntry[] = []
  const errors: CaError[] = []
  for (const a of subject) {
    if (a.oid !== OID_COMMON_NAME && a.oid !== OID_EMAIL) continue
    if (a.value === '') continue
    const attribute = a.oid === OID_EMAIL ? 'emailAddress' : 'CN'
    try {
      const kind = attribute === 'emailAddress' ? 'email' : classifyCommonName(a.value)
      const name = checkOne(attribute, a.value, kind, policy)
      if (attribute === 'CN' && name !== undefined && (name.type === 'dns' || name.type === 'ip'))
        names.push(name)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      errors.push(e)
    }
  }
  const first = errors[0]
  if (first === undefined) return names
  if (errors.length === 1) throw first
  throw new CaError(first.code, `${first.message} (and ${errors.length - 1} more refused subject names)`, {
    details: errors,
  })
}

function checkOne(
  attribute: 'CN' | 'emailAddress',
  value: string,
  kind: CommonNameKind,
  policy: SubjectIdentityPolicy,
): SanEntry | undefined {
  const what = `the subject's ${attribute} "${value}"`
  if (kind === 'label') {
    if (!policy.server) return undefined
    throw new CaError(
      'policy.subject_name_not_allowed',
      `${what} is not a host name, but the ${policy.profileName} profile issues server certificates, whose CN TLS clients match as a host name: make the CN one of the certificate's DNS names or IP addresses`,
    )
  }
  if (policy.server && attribute === 'CN' && kind !== 'dns' && kind !== 'ip') {
    throw new CaError(
      'policy.subject_name_not_allowed',
      `${what} is ${kind === 'email' ? 'an e-mail address' : 'a URI'}, but the ${policy.profileName} profile issues server certificates, whose CN must be a DNS name or IP address: put it in a SAN instead`,
    )
  }
  let san: SanEntry
  try {
    san = kind === 'ip' ? sanEntry('ip', value) : { type: kind, value }
    if (kind === 'dns') san = { type: 'dns', value: value.toLowerCase() }
    validateSanSyntax(san)
  } catch (e) {
    if (!(e instanceof CaError)) throw e
    throw new CaError(
      'policy.name_invalid',
      `${what} reads as ${article(kind)} ${SAN_TYPE_LABEL[kind]} name, and as one it is not valid: ${e.message}`,
      { cause: e },
    )
  }
  for (const named of sanPolicies(policy.sans, policy.profileSans)) {
    const reason = sanRefusal(san, named)
    if (reason !== undefined) {
      // A name the profile copies into the SANs is refused as the SAN it would become, as before.
      const copied = attribute === 'CN' && policy.copyCommonName && (kind === 'dns' || kind === 'ip')
      throw new CaError(
        copied ? 'policy.san_not_allowed' : 'policy.subject_name_not_allowed',
        `${what} is ${article(kind)} ${SAN_TYPE_LABEL[kind]} name the CA does not allow: ${reason}`,
      )
    }
  }
  return san
}

function article(kind: SanType): string {
  return kind === 'dns' ? 'a' : kind === 'ip' ? 'an' : kind === 'email' ? 'an' : 'a'
}
