/**
 * The subject policy: which attributes of a requested subject DN the CA accepts and what the issued
 * subject is. Follows OpenSSL `ca`'s `policy` section (apps/ca.c, do_body): each field is `match`
 * (present, and equal to the issuer's value), `supplied` (present) or `optional`; without `preserve`
 * the issued subject is built in the policy's order from the fields the policy names (several values
 * of one type are all kept, in request order) and everything else is dropped; with `preserve` the
 * request's subject is kept as it is, the rules still checked. `emailInDn: false` is OpenSSL's
 * `email_in_dn = no`: emailAddress is checked by the policy, then removed from the issued subject.
 *
 * Where we deliberately differ from OpenSSL, to be safer or less surprising:
 * - `match` compares values only. OpenSSL compares the ASN.1 string types too (ASN1_STRING_cmp), so a
 *   request whose O is a UTF8String never "matches" a CA whose O is a PrintableString, with the
 *   infamous "field needed to be the same" error for two identical-looking values. The issued
 *   attribute is the issuer's (value and string type), as in OpenSSL.
 * - Every request attribute is checked whether or not the policy keeps it: no control characters
 *   (`policy.name_invalid`); values fit their string type, countryName is two upper-case letters,
 *   lengths within RFC 5280's upper bounds (256 characters for attributes without one), emailAddress
 *   is an IA5String holding a mailbox, no value that is blank or starts or ends with white space, at
 *   most 20 attributes and 1,024 characters in all (`policy.subject_invalid`).
 * - Which identities the CN and emailAddress may name is identity-policy.ts's concern.
 * - Empty values count as absent and are never issued (X.520 strings have at least one character).
 * - countryName is always issued as a PrintableString (RFC 5280 appendix A).
 * - A policy naming one field twice (OpenSSL would emit it twice) or none is `config.invalid`; an
 *   issued subject that would be empty is refused.
 */
import { CaError } from './errors.js'
import {
  attributeOid,
  hasControlCharacters,
  longName,
  shortName,
  type DistinguishedName,
  type NameAttribute,
} from './distinguished-name.js'
import { validateEmailAddress } from './san-syntax.js'

export type PolicyRule = 'match' | 'supplied' | 'optional'

export interface SubjectPolicyField {
  /** OpenSSL long or short name (`countryName` or `C`), or a dotted OID. */
  field: string
  rule: PolicyRule
}

export interface SubjectPolicyOptions {
  /** OpenSSL `preserve = yes`: keep the request's subject order and attributes. Default false. */
  preserve?: boolean
  /** OpenSSL `email_in_dn`: keep emailAddress in the issued subject. Default true. */
  emailInDn?: boolean
}

/** The tutorial's `policy_strict`, for a root CA signing intermediates. */
export const POLICY_STRICT: readonly SubjectPolicyField[] = Object.freeze([
  { field: 'countryName', rule: 'match' },
  { field: 'stateOrProvinceName', rule: 'match' },
  { field: 'organizationName', rule: 'match' },
  { field: 'organizationalUnitName', rule: 'optional' },
  { field: 'commonName', rule: 'supplied' },
  { field: 'emailAddress', rule: 'optional' },
])

/** The tutorial's `policy_loose`, for an intermediate CA signing leaves. */
export const POLICY_LOOSE: readonly SubjectPolicyField[] = Object.freeze([
  { field: 'countryName', rule: 'optional' },
  { field: 'stateOrProvinceName', rule: 'optional' },
  { field: 'localityName', rule: 'optional' },
  { field: 'organizationName', rule: 'optional' },
  { field: 'organizationalUnitName', rule: 'optional' },
  { field: 'commonName', rule: 'supplied' },
  { field: 'emailAddress', rule: 'optional' },
])

const OID_COUNTRY = '2.5.4.6'
const OID_EMAIL = '1.2.840.113549.1.9.1'
const RULES: ReadonlySet<string> = new Set(['match', 'supplied', 'optional'])

/** RFC 5280 appendix A upper bounds (characters), for the attributes that have a small one. */
const UPPER_BOUNDS: ReadonlyMap<string, number> = new Map([
  ['2.5.4.3', 64], // commonName
  ['2.5.4.7', 128], // localityName
  ['2.5.4.8', 128], // stateOrProvinceName
  ['2.5.4.10', 64], // organizationName
  ['2.5.4.11', 64], // organizationalUnitName
  ['2.5.4.12', 64], // title
  ['2.5.4.5', 64], // serialNumber
  ['2.5.4.65', 128], // pseudonym
  ['2.5.4.17', 40], // postalCode
  ['2.5.4.9', 128], // streetAddress
  ['2.5.4.15', 128], // businessCategory
  [OID_EMAIL, 255],
])

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

/**
 * Bounds on a whole subject, so that a request cannot make index.txt lines, listings and PR comments
 * enormous (500 OUs are 31 KB): real subjects have under ten attributes of tens of characters.
 */
export const MAX_SUBJECT_ATTRIBUTES = 20
/** For attributes without an RFC 5280 upper bound (dotted OIDs, DC, UID, …). */
export const MAX_ATTRIBUTE_CHARACTERS = 256
export const MAX_SUBJECT_CHARACTERS = 1024

export interface ResolvedField {
  oid: string
  rule: PolicyRule
  /** `countryName (C)`, for messages. */
  label: string
}

function label(oid: string): string {
  const long = longName(oid)
  const short = shortName(oid)
  return long === short ? long : `${long} (${short})`
}

/** Resolves and checks a policy (from ca.yml or an adopted openssl.cnf); `config.invalid` if malformed. */
export function validateSubjectPolicy(policy: readonly SubjectPolicyField[]): ResolvedField[] {
  if (!Array.isArray(policy) || policy.length === 0) {
    throw new CaError('config.invalid', 'the subject policy lists no fields (it needs at least commonName)')
  }
  const seen = new Map<string, string>()
  return policy.map((entry: SubjectPolicyField) => {
    const field = typeof entry?.field === 'string' ? entry.field.trim() : ''
    const oid = attributeOid(field)
    if (oid === undefined) {
      throw new CaError(
        'config.invalid',
        `the subject policy names an unknown attribute "${field}" (use an OpenSSL name such as countryName or C, or a dotted OID)`,
      )
    }
    if (typeof entry.rule !== 'string' || !RULES.has(entry.rule)) {
      throw new CaError(
        'config.invalid',
        `the subject policy gives ${field} the rule "${String(entry.rule)}" (expected match, supplied or optional)`,
      )
    }
    const before = seen.get(oid)
    if (before !== undefined) {
      throw new CaError(
        'config.invalid',
        `the subject policy names ${label(oid)} twice ("${before}" and "${field}")`,
      )
    }
    seen.set(oid, field)
    return { oid, rule: entry.rule, label: label(oid) }
  })
}

/**
 * Checks every attribute of a requested subject on its own: characters, string type, length,
 * countryName and emailAddress form. Throws `policy.name_invalid` or `policy.subject_invalid`.
 */
export function validateSubjectAttributes(dn: DistinguishedName): void {
  if (dn.length > MAX_SUBJECT_ATTRIBUTES) {
    throw new CaError(
      'policy.subject_invalid',
      `the subject has ${dn.length} attributes; at most ${MAX_SUBJECT_ATTRIBUTES} are accepted`,
    )
  }
  const total = dn.reduce((n, a) => n + [...a.value].length, 0)
  if (total > MAX_SUBJECT_CHARACTERS) {
    throw new CaError(
      'policy.subject_invalid',
      `the subject's values are ${total} characters long together; at most ${MAX_SUBJECT_CHARACTERS} are accepted`,
    )
  }
  for (const a of dn) {
    const what = `the subject's ${label(a.oid)}`
    if (hasControlCharacters(a.value)) {
      throw new CaError('policy.name_invalid', `${what} contains a control character (NUL, C0, DEL or C1)`)
    }
    if (a.value === '') continue
    // A blank or padded value looks like another value, or like none, in every listing.
    if (a.value.trim() === '') {
      throw new CaError('policy.subject_invalid', `${what} is only white space; give a value or leave it out`)
    }
    if (a.value.trim() !== a.value) {
      throw new CaError(
        'policy.subject_invalid',
        `${what} "${a.value}" starts or ends with white space; write it without`,
      )
    }
    if (a.tag === 'printable' && !PRINTABLE.test(a.value)) {
      throw new CaError(
        'policy.subject_invalid',
        `${what} "${a.value}" has characters a PrintableString cannot hold (letters, digits, space and '()+,-./:=? only)`,
      )
    }
    if (a.tag === 'ia5' && /\P{ASCII}/u.test(a.value)) {
      throw new CaError(
        'policy.subject_invalid',
        `${what} "${a.value}" is an IA5String with non-ASCII characters`,
      )
    }
    if (a.tag === 'bmp' && /[\u{10000}-\u{10ffff}]/u.test(a.value)) {
      throw new CaError('policy.subject_invalid', `${what} is a BMPString with characters outside the BMP`)
    }
    if (/[\ud800-\udfff]/u.test(a.value)) {
      throw new CaError(
        'policy.subject_invalid',
        `${what} contains an unpaired surrogate (not valid Unicode)`,
      )
    }
    const max = UPPER_BOUNDS.get(a.oid) ?? MAX_ATTRIBUTE_CHARACTERS
    const length = [...a.value].length
    if (length > max) {
      throw new CaError(
        'policy.subject_invalid',
        UPPER_BOUNDS.has(a.oid)
          ? `${what} is ${length} characters long; RFC 5280 allows at most ${max}`
          : `${what} is ${length} characters long; at most ${max} are accepted`,
      )
    }
    if (a.oid === OID_COUNTRY && !/^[A-Z]{2}$/.test(a.value)) {
      throw new CaError(
        'policy.subject_invalid',
        `${what} "${a.value}" must be two upper-case letters, an ISO 3166 code such as US or GB`,
      )
    }
    if (a.oid === OID_EMAIL) {
      if (a.tag !== 'ia5') {
        throw new CaError('policy.subject_invalid', `${what} must be an IA5String, not a ${a.tag} string`)
      }
      try {
        validateEmailAddress(a.value, `${what} "${a.value}"`)
      } catch (e) {
        if (!(e instanceof CaError)) throw e
        throw new CaError('policy.subject_invalid', e.message, { cause: e })
      }
    }
  }
}

function issued(a: NameAttribute): NameAttribute {
  // RFC 5280 appendix A: countryName is a PrintableString; anything else would fail strict verifiers.
  return a.oid === OID_COUNTRY ? { oid: a.oid, value: a.value, tag: 'printable' } : { ...a }
}

/**
 * Applies the subject policy to a requested subject and returns the subject to issue. `issuer` is the
 * signing CA's subject (for `match`). Throws `policy.subject_missing`, `policy.subject_mismatch`,
 * `policy.subject_invalid`, `policy.name_invalid`, or `config.invalid` for a broken policy.
 */
export function applySubjectPolicy(
  requested: DistinguishedName,
  issuer: DistinguishedName,
  policy: readonly SubjectPolicyField[],
  options: SubjectPolicyOptions = {},
): DistinguishedName {
  const fields = validateSubjectPolicy(policy)
  // A `match` on a field the issuer lacks is the CA's mistake, whatever the request says.
  for (const f of fields) {
    if (f.rule === 'match' && !issuer.some((a) => a.oid === f.oid && a.value !== '')) {
      throw new CaError(
        'config.invalid',
        `the subject policy says ${f.label} must match the issuer's, but the issuer's subject has none: the policy is misconfigured`,
      )
    }
  }
  validateSubjectAttributes(requested)
  const present = requested.filter((a) => a.value !== '')

  const built: NameAttribute[] = []
  for (const f of fields) {
    const values = present.filter((a) => a.oid === f.oid)
    if (f.rule === 'optional') {
      built.push(...values.map(issued))
      continue
    }
    if (values.length === 0) {
      const why = requested.some((a) => a.oid === f.oid) ? 'is empty' : 'is missing'
      const rule = f.rule === 'match' ? "must be present and equal the issuer's" : 'must be supplied'
      throw new CaError('policy.subject_missing', `the subject's ${f.label} ${rule}, but it ${why}`)
    }
    if (f.rule === 'supplied') {
      built.push(...values.map(issued))
      continue
    }
    const issuerValues = issuer.filter((a) => a.oid === f.oid && a.value !== '')
    for (const v of values) {
      const same = issuerValues.find((i) => i.value === v.value)
      if (same === undefined) {
        const expected = issuerValues.map((i) => `"${i.value}"`).join(' or ')
        throw new CaError(
          'policy.subject_mismatch',
          `the subject's ${f.label} must be ${expected}, the issuer's, but the request has "${v.value}"`,
        )
      }
      built.push(issued(same))
    }
  }

  let subject = options.preserve ? present.map(issued) : built
  if (options.emailInDn === false) subject = subject.filter((a) => a.oid !== OID_EMAIL)
  if (subject.length === 0) {
    throw new CaError(
      'policy.subject_missing',
      'after applying the subject policy the subject is empty; the request must supply at least the commonName',
    )
  }
  return subject
}
