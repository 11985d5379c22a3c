/**
 * What `openssl ca` (OpenSSL 3.0 apps/ca.c) takes from a parsed configuration: the CA section named
 * by `[ ca ] default_ca`, its paths and defaults, and its policy section as an ordered rule list.
 * Values are looked up the way ca.c does (the section, then `[default]`), including its quirks:
 * `preserve` is read from `[ ca ]`, not from the CA section; `email_in_dn` is off only for exactly
 * `no`; any `rand_serial` value turns random serials on. Where ca.c would misread a value silently
 * (`default_days = 30d` is 30, `default_days = thirty` is "not set") this module refuses it.
 * Extension sections are read by ./extension-section.ts, re-exported here.
 */

import { CaError } from '../ca/errors.js'
import { DN_ATTRIBUTES, objectResolver } from './object-names.js'
import type { ConfigEntry, OpenSslConfig } from './parse.js'
import { lookupEntry } from './parse.js'

export { extensionSection } from './extension-section.js'
export { KEY_USAGES } from './extension-spec.js'
export type {
  AkiOption,
  ExtensionSection,
  ExtensionSpec,
  KeyUsageName,
  SanSpec,
  SkippedExtension,
} from './extension-spec.js'

export type PolicyRule = 'match' | 'supplied' | 'optional'

export interface PolicyField {
  /** OpenSSL's long name (`countryName`), or the dotted OID for attributes without one here. */
  readonly field: string
  readonly oid: string
  readonly rule: PolicyRule
  /** The name as written in the section (`C`, `countryName`, …). */
  readonly name: string
  readonly line: number
}

export type CopyExtensions = 'none' | 'copy' | 'copyall'

/**
 * The CA section as `openssl ca` uses it. Field names are OpenSSL's; paths are as the configuration
 * expands them (a relative path is relative to the directory `openssl ca` was run from).
 */
export interface CaConfig {
  /** The CA section: `[ ca ] default_ca`, or the `name` option (`openssl ca -name`). */
  readonly section: string
  readonly dir: string | undefined
  readonly certs: string | undefined
  readonly crl_dir: string | undefined
  readonly database: string | undefined
  readonly serial: string | undefined
  readonly crlnumber: string | undefined
  readonly certificate: string | undefined
  readonly private_key: string | undefined
  readonly new_certs_dir: string | undefined
  readonly crl: string | undefined
  readonly default_days: number | undefined
  readonly default_crl_days: number | undefined
  readonly default_crl_hours: number | undefined
  readonly default_md: string | undefined
  /** Name of the policy section. */
  readonly policy: string
  /** The policy section's rules, in OpenSSL's order (which is also the order of the issued subject). */
  readonly policyFields: readonly PolicyField[]
  readonly unique_subject: boolean
  readonly copy_extensions: CopyExtensions
  readonly preserve: boolean
  readonly email_in_dn: boolean
  /** `rand_serial` present (with any value): serials are random and the serial file is not used. */
  readonly rand_serial: boolean
  readonly crl_extensions: string | undefined
  readonly x509_extensions: string | undefined
  /** Things a person adopting this CA should know. */
  readonly notes: readonly string[]
}

export interface ReadCaConfigOptions {
  /** The CA section to use instead of `[ ca ] default_ca`, like `openssl ca -name`. */
  name?: string
}

/** Keys of the CA section that `openssl ca` reads; anything else there is only a variable. */
const CA_KEYS = new Set([
  'dir',
  'certs',
  'crl_dir',
  'database',
  'new_certs_dir',
  'certificate',
  'serial',
  'rand_serial',
  'crlnumber',
  'crl',
  'private_key',
  'RANDFILE',
  'default_days',
  'default_startdate',
  'default_enddate',
  'default_crl_days',
  'default_crl_hours',
  'default_md',
  'policy',
  'x509_extensions',
  'crl_extensions',
  'name_opt',
  'cert_opt',
  'copy_extensions',
  'email_in_dn',
  'unique_subject',
  'string_mask',
  'utf8',
  'preserve',
  'msie_hack',
])

/** ~8,000 years: X509_time_adj_ex cannot go past year 9999 anyway. */
const MAX_DAYS = 3_000_000

/** Reads the CA section; throws CaError `adopt.config_invalid` (or `adopt.unsupported`) naming the line. */
export function readCaConfig(config: OpenSslConfig, options: ReadCaConfigOptions = {}): CaConfig {
  const notes: string[] = [...config.notes]
  const fail = (what: string): CaError => new CaError('adopt.config_invalid', what, fileOf(config))
  const at = (e: ConfigEntry): string =>
    `line ${e.line}${e.includedFrom ? ` of included ${JSON.stringify(e.includedFrom)}` : ''}`

  let section = options.name
  if (section === undefined) {
    const entry = lookupEntry(config, 'ca', 'default_ca')
    if (entry === undefined) {
      throw fail(
        config.sections.has('ca')
          ? '[ ca ] has no default_ca naming the CA section (openssl ca: "variable lookup failed for ca::default_ca")'
          : 'no [ ca ] section with default_ca: this is not an "openssl ca" configuration',
      )
    }
    section = entry.value
    if (!config.sections.has(section)) {
      throw fail(`${at(entry)}: default_ca names section [${section}], which is not defined`)
    }
  } else if (!config.sections.has(section)) {
    throw fail(`CA section [${section}] is not defined`)
  }
  const caSection = section
  const get = (key: string): ConfigEntry | undefined => lookupEntry(config, caSection, key)
  const str = (key: string): string | undefined => get(key)?.value

  for (const entry of config.sections.get(caSection)?.entries ?? []) {
    if (entry.name === 'RANDFILE') {
      notes.push(
        `RANDFILE (${at(entry)}) is ignored: mtls-ca uses the system CSPRNG (OpenSSL 3.0 reads it from [ ca ])`,
      )
    } else if (!CA_KEYS.has(entry.name)) {
      notes.push(
        `[${caSection}] ${entry.name} (${at(entry)}) is not read by openssl ca; it only serves as a variable`,
      )
    }
  }

  const number = (key: string, unit: string, max: number): number | undefined => {
    const entry = get(key)
    if (entry === undefined) return undefined
    if (!/^[0-9]+$/.test(entry.value)) {
      // NCONF_get_number reads the leading digits and stops; no digits at all is 0, "not set".
      const lead = /^[0-9]*/.exec(entry.value)?.[0] ?? ''
      throw fail(
        `${at(entry)}: ${key} = ${JSON.stringify(entry.value)} is not a whole number of ${unit} ` +
          `(OpenSSL would read it as ${lead === '' ? '0, meaning "not set"' : Number(lead)})`,
      )
    }
    const n = Number(entry.value)
    if (n > max) throw fail(`${at(entry)}: ${key} = ${entry.value} ${unit} is beyond year 9999`)
    if (n === 0) {
      notes.push(`${key} = 0 (${at(entry)}) means "not set" to openssl ca`)
      return undefined
    }
    return n
  }

  // Policy: required to issue, and ca.c resolves each name with OBJ_txt2nid.
  const policyEntry = get('policy')
  if (policyEntry === undefined) {
    throw fail(`[${caSection}] has no policy (openssl ca refuses to issue without one)`)
  }
  const policySection = config.sections.get(policyEntry.value)
  if (policySection === undefined) {
    throw fail(`${at(policyEntry)}: policy names section [${policyEntry.value}], which is not defined`)
  }
  const objects = objectResolver(config)
  const policyFields: PolicyField[] = policySection.entries.map((e) => {
    if (e.value !== 'match' && e.value !== 'supplied' && e.value !== 'optional') {
      throw fail(
        `${at(e)}: policy [${policySection.name}] ${e.name} = ${JSON.stringify(e.value)}: ` +
          'the rule must be match, supplied or optional (exactly, in lower case)',
      )
    }
    const attr = objects.resolve(DN_ATTRIBUTES, e.name)
    if (attr === undefined) {
      throw new CaError(
        'adopt.unsupported',
        `${at(e)}: policy [${policySection.name}] names ${JSON.stringify(e.name)}, ` +
          'which is not a distinguished-name attribute mtls-ca knows',
        fileOf(config),
      )
    }
    return {
      field: DN_ATTRIBUTES.includes(attr) ? attr.ln : attr.oid,
      oid: attr.oid,
      rule: e.value,
      name: e.name,
      line: e.line,
    }
  })
  if (policyFields.length === 0) {
    notes.push(
      `policy [${policySection.name}] is empty: without preserve, openssl ca issues certificates with an empty subject`,
    )
  } else {
    notes.push(
      `openssl ca builds the subject from the policy's fields in the policy's order and drops fields the policy ` +
        'does not list, unless preserve is on',
    )
  }

  // unique_subject: parse_yesno with default yes; index.txt.attr overrides it.
  const uniqueEntry = get('unique_subject')
  let unique_subject = true
  if (uniqueEntry !== undefined) {
    if (/^[fFnN0]/.test(uniqueEntry.value)) unique_subject = false
    else if (!/^[tTyY1]/.test(uniqueEntry.value)) {
      notes.push(
        `unique_subject = ${JSON.stringify(uniqueEntry.value)} (${at(uniqueEntry)}) is not yes/no; openssl ca reads it as yes`,
      )
    }
  }
  notes.push('unique_subject in index.txt.attr, when that file exists, overrides the configuration')

  const copyEntry = get('copy_extensions')
  let copy_extensions: CopyExtensions = 'none'
  if (copyEntry !== undefined) {
    const v = copyEntry.value.toLowerCase()
    if (v !== 'none' && v !== 'copy' && v !== 'copyall') {
      throw fail(
        `${at(copyEntry)}: copy_extensions = ${JSON.stringify(copyEntry.value)}: expected none, copy or copyall`,
      )
    }
    copy_extensions = v
  }
  if (copy_extensions === 'none') {
    notes.push("copy_extensions is none: openssl ca drops the CSR's extensions, subjectAltName included")
  } else if (copy_extensions === 'copyall') {
    notes.push(
      "copy_extensions = copyall lets a CSR replace the profile's extensions (basicConstraints included): " +
        'mtls-ca never copies more than the SANs that pass its allow-list',
    )
  }

  // ca.c reads preserve (and msie_hack) from [ ca ], never from the CA section.
  const preserveEntry = lookupEntry(config, 'ca', 'preserve')
  const preserve = preserveEntry !== undefined && /^[yY]/.test(preserveEntry.value)
  const ownPreserve = config.sections.get(caSection)?.values.get('preserve')
  if (caSection !== 'ca' && ownPreserve !== undefined && ownPreserve !== preserveEntry) {
    notes.push(
      `preserve = ${ownPreserve.value} in [${caSection}] (${at(ownPreserve)}) is ignored: openssl ca reads preserve ` +
        `from [ ca ] (then [default]); preserve is ${preserve ? 'on' : 'off'}`,
    )
  }
  if (lookupEntry(config, 'ca', 'msie_hack') !== undefined) {
    notes.push('msie_hack is set: mtls-ca does not reproduce it')
  }

  const emailEntry = get('email_in_dn')
  const email_in_dn = emailEntry?.value !== 'no'
  if (emailEntry !== undefined && emailEntry.value !== 'no' && emailEntry.value !== 'yes') {
    notes.push(
      `email_in_dn = ${JSON.stringify(emailEntry.value)} (${at(emailEntry)}): openssl ca removes the email only for ` +
        'exactly "no", so emails stay in the subject',
    )
  }

  const randEntry = get('rand_serial')
  if (randEntry !== undefined) {
    notes.push(`rand_serial is present (${at(randEntry)}): openssl ca uses random serials whatever its value`)
  }

  const sectionRef = (key: string): string | undefined => {
    const entry = get(key)
    if (entry === undefined) return undefined
    if (!config.sections.has(entry.value)) {
      throw fail(`${at(entry)}: ${key} names section [${entry.value}], which is not defined`)
    }
    return entry.value
  }
  const x509_extensions = sectionRef('x509_extensions')
  const crl_extensions = sectionRef('crl_extensions')
  if (x509_extensions === undefined) {
    notes.push('no x509_extensions: openssl ca adds extensions only from the section given with -extensions')
  }

  const ca: CaConfig = {
    section: caSection,
    dir: str('dir'),
    certs: str('certs'),
    crl_dir: str('crl_dir'),
    database: str('database'),
    serial: str('serial'),
    crlnumber: str('crlnumber'),
    certificate: str('certificate'),
    private_key: str('private_key'),
    new_certs_dir: str('new_certs_dir'),
    crl: str('crl'),
    default_days: number('default_days', 'days', MAX_DAYS),
    default_crl_days: number('default_crl_days', 'days', MAX_DAYS),
    default_crl_hours: number('default_crl_hours', 'hours', MAX_DAYS * 24),
    default_md: str('default_md'),
    policy: policyEntry.value,
    policyFields,
    unique_subject,
    copy_extensions,
    preserve,
    email_in_dn,
    rand_serial: randEntry !== undefined,
    crl_extensions,
    x509_extensions,
    notes,
  }

  for (const key of ['database', 'certificate', 'private_key', 'new_certs_dir'] as const) {
    if (ca[key] === undefined) notes.push(`no ${key} in [${caSection}]: openssl ca cannot issue without it`)
  }
  if (ca.serial === undefined && !ca.rand_serial) notes.push(`no serial in [${caSection}] and no rand_serial`)
  if (ca.default_md === undefined)
    notes.push('no default_md: openssl ca needs -md unless the key type has no digest')
  else if (/^(md2|md4|md5|sha1|sha)$/i.test(ca.default_md))
    notes.push(`default_md = ${ca.default_md} is a broken digest`)
  if (ca.default_days === undefined) notes.push('no default_days: every openssl ca run had to pass -days')
  if (ca.default_crl_days === undefined && ca.default_crl_hours === undefined) {
    notes.push('neither default_crl_days nor default_crl_hours: openssl ca -gencrl needed -crldays')
  }
  for (const key of ['default_startdate', 'default_enddate'] as const) {
    const e = get(key)
    if (e !== undefined)
      notes.push(
        `${key} = ${e.value} (${at(e)}) fixes validity dates for every certificate; mtls-ca does not`,
      )
  }
  const relative = (
    ['database', 'serial', 'crlnumber', 'certificate', 'private_key', 'new_certs_dir'] as const
  ).filter((k) => ca[k] !== undefined && !(ca[k] as string).startsWith('/'))
  if (relative.length > 0) {
    notes.push(
      `${relative.join(', ')}: relative to the directory openssl ca was run from, not to the configuration file`,
    )
  }
  return ca
}

/**
 * How `openssl req` reads a name in a distinguished-name section: anything up to the first `.`,
 * `:` or `,` is a prefix that lets a field appear twice (`0.organizationName`, `1.organizationName`),
 * and a leading `+` joins the previous RDN.
 */
export function dnFieldType(name: string): { type: string; multiValued: boolean } {
  let type = name
  const sep = name.search(/[.:,]/)
  if (sep >= 0 && sep + 1 < name.length) type = name.slice(sep + 1)
  return type.startsWith('+') ? { type: type.slice(1), multiValued: true } : { type, multiValued: false }
}

function fileOf(config: OpenSslConfig): { file?: string } {
  return config.file === undefined ? {} : { file: config.file }
}
