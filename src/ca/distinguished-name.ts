/**
 * Distinguished names as the engine handles them: an ordered list of single-valued attributes, each
 * remembering the ASN.1 string type it came with. Converts to and from @peculiar/asn1-x509's `Name`,
 * parses the `/C=US/O=…/CN=…` form people type (as `openssl req -subj` does), and prints OpenSSL's
 * X509_NAME_oneline form, which is what `openssl ca` writes into index.txt.
 */
import { Name, RelativeDistinguishedName, AttributeTypeAndValue, AttributeValue } from '@peculiar/asn1-x509'
import { CaError } from './errors.js'

export type StringTag = 'utf8' | 'printable' | 'ia5' | 'teletex' | 'bmp' | 'universal'

export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  oid: string
  value: string
  /** The ASN.1 string type; chosen by `defaultTag` when the attribute is new. */
  tag: StringTag
}

export type DistinguishedName = readonly NameAttribute[]

/** OpenSSL's short and long names, in the order of its objects table where it matters. */
const ATTRIBUTES: ReadonlyArray<{ oid: string; short: string; long: string }> = [
  { oid: '2.5.4.6', short: 'C', long: 'countryName' },
  { oid: '2.5.4.8', short: 'ST', long: 'stateOrProvinceName' },
  { oid: '2.5.4.7', short: 'L', long: 'localityName' },
  { oid: '2.5.4.10', short: 'O', long: 'organizationName' },
  { oid: '2.5.4.11', short: 'OU', long: 'organizationalUnitName' },
  { oid: '2.5.4.3', short: 'CN', long: 'commonName' },
  { oid: '1.2.840.113549.1.9.1', short: 'emailAddress', long: 'emailAddress' },
  { oid: '2.5.4.5', short: 'serialNumber', long: 'serialNumber' },
  { oid: '2.5.4.9', short: 'street', long: 'streetAddress' },
  { oid: '2.5.4.12', short: 'title', long: 'title' },
  { oid: '2.5.4.17', short: 'postalCode', long: 'postalCode' },
  { oid: '2.5.4.42', short: 'GN', long: 'givenName' },
  { oid: '2.5.4.4', short: 'SN', long: 'surname' },
  { oid: '2.5.4.43', short: 'initials', long: 'initials' },
  { oid: '2.5.4.44', short: 'generationQualifier', long: 'generationQualifier' },
  { oid: '2.5.4.46', short: 'dnQualifier', long: 'dnQualifier' },
  { oid: '2.5.4.65', short: 'pseudonym', long: 'pseudonym' },
  { oid: '2.5.4.41', short: 'name', long: 'name' },
  { oid: '2.5.4.15', short: 'businessCategory', long: 'businessCategory' },
  { oid: '0.9.2342.19200300.100.1.25', short: 'DC', long: 'domainComponent' },
  { oid: '0.9.2342.19200300.100.1.1', short: 'UID', long: 'userId' },
]

const BY_OID = new Map(ATTRIBUTES.map((a) => [a.oid, a]))
const BY_NAME = new Map(
  ATTRIBUTES.flatMap((a) => [[a.short.toLowerCase(), a] as const, [a.long.toLowerCase(), a] as const]),
)

/** The OID for an OpenSSL short or long attribute name (`CN`, `commonName`), or a dotted OID. */
export function attributeOid(name: string): string | undefined {
  if (/^\d+(\.\d+)+$/.test(name)) return name
  return BY_NAME.get(name.toLowerCase())?.oid
}

/** OpenSSL's short name for an attribute (`CN`), or the dotted OID when it has none. */
export function shortName(oid: string): string {
  return BY_OID.get(oid)?.short ?? oid
}

/** OpenSSL's long name (`commonName`), as used in policy sections. */
export function longName(oid: string): string {
  return BY_OID.get(oid)?.long ?? oid
}

/** The string type OpenSSL uses with `string_mask = utf8only`. */
export function defaultTag(oid: string): StringTag {
  if (oid === '2.5.4.6' || oid === '2.5.4.5' || oid === '2.5.4.46') return 'printable'
  if (oid === '1.2.840.113549.1.9.1' || oid === '0.9.2342.19200300.100.1.25') return 'ia5'
  return 'utf8'
}

export function getAttribute(dn: DistinguishedName, oid: string): string | undefined {
  return dn.find((a) => a.oid === oid)?.value
}

export const OID_COMMON_NAME = '2.5.4.3'
export const OID_EMAIL = '1.2.840.113549.1.9.1'

/** Reads an ASN.1 Name; multi-valued RDNs and non-string values are refused. */
export function fromAsnName(name: Name): DistinguishedName {
  const out: NameAttribute[] = []
  for (const rdn of name) {
    if (rdn.length !== 1) {
      throw new CaError(
        'policy.subject_invalid',
        'the subject has a multi-valued RDN, which is not supported',
      )
    }
    const atv = rdn[0] as AttributeTypeAndValue
    out.push({ oid: atv.type, ...readValue(atv.type, atv.value) })
  }
  return out
}

function readValue(oid: string, v: AttributeValue): { value: string; tag: StringTag } {
  if (v.utf8String !== undefined) return { value: v.utf8String, tag: 'utf8' }
  if (v.printableString !== undefined) return { value: v.printableString, tag: 'printable' }
  if (v.ia5String !== undefined) return { value: v.ia5String, tag: 'ia5' }
  if (v.teletexString !== undefined) return { value: v.teletexString, tag: 'teletex' }
  if (v.bmpString !== undefined) return { value: v.bmpString, tag: 'bmp' }
  if (v.universalString !== undefined) return { value: v.universalString, tag: 'universal' }
  throw new CaError('policy.subject_invalid', `the subject attribute ${shortName(oid)} is not a string`)
}

export function toAsnName(dn: DistinguishedName): Name {
  return new Name(
    dn.map(
      (a) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type: a.oid, value: new AttributeValue(valueField(a)) }),
        ]),
    ),
  )
}

function valueField(a: NameAttribute): Partial<AttributeValue> {
  switch (a.tag) {
    case 'utf8':
      return { utf8String: a.value }
    case 'printable':
      return { printableString: a.value }
    case 'ia5':
      return { ia5String: a.value }
    case 'teletex':
      return { teletexString: a.value }
    case 'bmp':
      return { bmpString: a.value }
    case 'universal':
      return { universalString: a.value }
  }
}

/**
 * Parses `/C=US/O=Example Corp/CN=Root CA` (OpenSSL's `-subj` form: `\` escapes the next character).
 * Types may be short or long names or dotted OIDs. Values get OpenSSL's utf8only string types.
 */
export function parseSlashDn(text: string): DistinguishedName {
  if (!text.startsWith('/')) {
    throw new CaError(
      'usage.invalid',
      `"${text}" is not a DN: expected the form /C=US/O=Example Corp/CN=Name`,
    )
  }
  const parts: string[] = []
  let cur = ''
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]
    } else if (c === '/') {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  parts.push(cur)
  return parts.map((part) => {
    const eq = part.indexOf('=')
    const type = eq > 0 ? part.slice(0, eq).trim() : ''
    const oid = attributeOid(type)
    if (eq <= 0 || oid === undefined) {
      throw new CaError(
        'usage.invalid',
        `"${part}" in "${text}" is not TYPE=value with a known attribute type`,
      )
    }
    const value = part.slice(eq + 1)
    if (value === '') throw new CaError('usage.invalid', `${type} in "${text}" has an empty value`)
    if (hasControlCharacters(value)) {
      throw new CaError('policy.name_invalid', `${type} in the DN contains a control character`)
    }
    return { oid, value, tag: defaultTag(oid) }
  })
}

/** NUL, C0/C1 controls and DEL have no place in a name. */
export function hasControlCharacters(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return /[\u0000-\u001f\u007f-\u009f]/.test(s)
}

/**
 * OpenSSL's X509_NAME_oneline: `/CN=…/O=…` in encoding order; bytes outside printable ASCII as `\xHH`
 * (upper case), `/` and `+` escaped with a backslash. The bytes are those of the encoded string type.
 */
export function formatOneline(dn: DistinguishedName): string {
  let out = ''
  for (const a of dn) {
    out += `/${shortName(a.oid)}=`
    for (const b of encodedBytes(a)) {
      if (b < 0x20 || b > 0x7e) out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`
      else if (b === 0x2f || b === 0x2b) out += `\\${String.fromCharCode(b)}`
      else out += String.fromCharCode(b)
    }
  }
  return out
}

function encodedBytes(a: NameAttribute): Uint8Array {
  switch (a.tag) {
    case 'bmp':
      return Buffer.from(a.value, 'utf16le').swap16()
    case 'universal': {
      const cps = [...a.value].map((c) => c.codePointAt(0) as number)
      const buf = Buffer.alloc(cps.length * 4)
      cps.forEach((cp, i) => buf.writeUInt32BE(cp, i * 4))
      return buf
    }
    case 'teletex':
      return Buffer.from(a.value, 'latin1')
    default:
      return Buffer.from(a.value, 'utf8')
  }
}

/** A readable form for messages and listings: `CN=www.example.com, O=Example Corp, C=US` (top-down). */
export function formatDisplay(dn: DistinguishedName): string {
  return dn.map((a) => `${shortName(a.oid)}=${a.value}`).join(', ')
}
