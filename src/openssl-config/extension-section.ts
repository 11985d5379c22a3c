/**
 * Reads an X.509v3 extension section of an adopted configuration (`[ v3_intermediate_ca ]`,
 * `[ server_cert ]`, `[ crl_ext ]`) into typed specifications, following OpenSSL 3.0's
 * X509V3_EXT_nconf: the `critical,` prefix, `@section` lists, X509V3_parse_list's `name:value, …`
 * syntax and the per-extension value rules. What OpenSSL would refuse is refused
 * (`adopt.config_invalid`, naming the line); what it accepts but mtls-ca does not model lands in
 * `unmapped`; obsolete Netscape extensions land in `ignored`. Nothing is dropped silently.
 */

import { CaError } from '../ca/errors.js'
import type { ObjectName, ObjectResolver } from './object-names.js'
import { ACCESS_METHODS, EXTENDED_KEY_USAGES, objectResolver } from './object-names.js'
import type { ConfigEntry, OpenSslConfig } from './parse.js'
import { KEY_USAGE_LONG_NAMES, NS_CERT_TYPES, OTHER_KNOWN_EXTENSIONS } from './extension-names.js'
import { nameIs, parseList, Unmapped, type ListItem } from './extension-list.js'
import {
  KEY_USAGES,
  type AkiOption,
  type ExtensionSection,
  type ExtensionSpec,
  type KeyUsageName,
  type SanSpec,
  type SkippedExtension,
  type SpecBase,
} from './extension-spec.js'
import { generalName, type NameContext } from './general-name.js'

// What importers of this module have always found here (src/config reads the key usage names).
export { KEY_USAGES, type KeyUsageName } from './extension-spec.js'

/** Parses extension section `name`; throws `adopt.config_invalid` where OpenSSL would fail. */
export function extensionSection(config: OpenSslConfig, name: string): ExtensionSection {
  const section = config.sections.get(name)
  if (section === undefined) {
    throw new CaError('adopt.config_invalid', `extension section [${name}] is not defined`, fileOf(config))
  }
  const reader = new SectionReader(config, name)
  for (const entry of section.entries) reader.entry(entry)
  return reader.result()
}

class SectionReader {
  private readonly extensions: ExtensionSpec[] = []
  private readonly ignored: SkippedExtension[] = []
  private readonly unmapped: SkippedExtension[] = []
  private readonly notes: string[] = []
  private readonly objects: ObjectResolver
  private readonly names: NameContext

  constructor(
    private readonly config: OpenSslConfig,
    private readonly section: string,
  ) {
    this.objects = objectResolver(config)
    this.names = { section, notes: this.notes, invalid: (line, what) => this.invalid(line, what) }
  }

  result(): ExtensionSection {
    const kinds = new Set(this.extensions.map((e) => e.kind))
    const eku = this.extensions.find((e) => e.kind === 'extendedKeyUsage')
    if (
      eku?.kind === 'extendedKeyUsage' &&
      eku.usages.includes('serverAuth') &&
      !kinds.has('subjectAltName')
    ) {
      this.notes.push(
        `[${this.section}] is for TLS servers but has no subjectAltName: certificates get SANs only if ` +
          'copy_extensions copies them from the CSR, and clients ignore the CN',
      )
    }
    if (this.extensions.length === 0 && this.ignored.length === 0 && this.unmapped.length === 0) {
      this.notes.push(`[${this.section}] is empty: OpenSSL adds no extensions from it`)
    }
    return {
      section: this.section,
      extensions: this.extensions,
      ignored: this.ignored,
      unmapped: this.unmapped,
      notes: this.notes,
    }
  }

  entry(entry: ConfigEntry): void {
    let value = entry.value
    let critical = false
    // v3_check_critical: exactly "critical," at the start, then optional spaces.
    if (value.startsWith('critical,')) {
      critical = true
      value = value.slice('critical,'.length).replace(/^[ \t\n\v\f\r]+/, '')
    }
    const base = { name: entry.name, critical, line: entry.line }
    const skip = (list: SkippedExtension[], reason: string): void => {
      list.push({ section: this.section, name: entry.name, value: entry.value, line: entry.line, reason })
    }
    if (value.startsWith('DER:') || value.startsWith('ASN1:')) {
      skip(this.unmapped, 'a raw DER/ASN1 extension value, which mtls-ca does not interpret')
      return
    }
    try {
      const spec = this.spec(entry, base, value)
      if (spec !== undefined) this.extensions.push(spec)
      else if (entry.name === 'nsCertType' || entry.name === 'nsComment') {
        const reason = `${entry.name} is an obsolete Netscape extension: accepted, and mtls-ca emits nothing for it`
        skip(this.ignored, reason)
        this.notes.push(`[${this.section}] line ${entry.line}: ${reason}`)
      } else if (OTHER_KNOWN_EXTENSIONS.has(entry.name)) {
        skip(this.unmapped, `${entry.name} is not modelled by mtls-ca`)
      } else {
        skip(
          this.unmapped,
          `${JSON.stringify(entry.name)} is not an extension name mtls-ca knows (OpenSSL refuses names it does not know)`,
        )
      }
    } catch (e) {
      if (e instanceof Unmapped) skip(this.unmapped, e.reason)
      else throw e
    }
  }

  private spec(entry: ConfigEntry, base: SpecBase, value: string): ExtensionSpec | undefined {
    switch (entry.name) {
      case 'basicConstraints':
        return this.basicConstraints(base, this.list(entry, value))
      case 'keyUsage':
        return { ...base, kind: 'keyUsage', usages: this.keyUsage(this.list(entry, value)) }
      case 'extendedKeyUsage':
        return this.extendedKeyUsage(base, this.list(entry, value))
      case 'subjectKeyIdentifier':
        return this.subjectKeyIdentifier(base, value)
      case 'authorityKeyIdentifier':
        return this.authorityKeyIdentifier(base, this.list(entry, value))
      case 'subjectAltName':
        return { ...base, kind: 'subjectAltName', names: this.subjectAltName(this.list(entry, value)) }
      case 'crlDistributionPoints':
        return {
          ...base,
          kind: 'crlDistributionPoints',
          points: this.distributionPoints(this.list(entry, value)),
        }
      case 'authorityInfoAccess':
        return this.authorityInfoAccess(base, this.list(entry, value))
      case 'nsCertType':
        for (const item of this.list(entry, value)) {
          if (!NS_CERT_TYPES.has(item.name)) throw this.invalid(item.line, `unknown nsCertType ${item.name}`)
        }
        return undefined
      default:
        return undefined
    }
  }

  /** do_ext_nconf: `@section` takes that section's entries, anything else is an X509V3_parse_list. */
  private list(entry: ConfigEntry, value: string): ListItem[] {
    if (value.startsWith('@')) {
      const name = value.slice(1)
      const section = this.config.sections.get(name)
      if (section === undefined) {
        throw this.invalid(entry.line, `${entry.name} refers to section [${name}], which is not defined`)
      }
      if (section.entries.length === 0) {
        throw this.invalid(entry.line, `${entry.name} refers to section [${name}], which is empty`)
      }
      return section.entries.map((e) => ({ name: e.name, value: e.value, line: e.line }))
    }
    const items = parseList(value, (what) => this.invalid(entry.line, `${entry.name}: ${what}`))
    return items.map((i) => ({ ...i, line: entry.line }))
  }

  private basicConstraints(base: SpecBase, items: ListItem[]): ExtensionSpec {
    let ca = false
    let pathlen: number | undefined
    for (const item of items) {
      if (item.name === 'CA') {
        ca = this.bool(item)
      } else if (item.name === 'pathlen') {
        const text = item.value ?? ''
        const m = /^(-?)(?:0[xX]([0-9A-Fa-f]+)|([0-9]+))$/.exec(text)
        if (!m)
          throw this.invalid(item.line, `basicConstraints: pathlen ${JSON.stringify(text)} is not a number`)
        if (m[1] === '-') {
          throw this.invalid(
            item.line,
            `basicConstraints: negative pathlen ${text} (OpenSSL 3.0 encodes it anyway, which RFC 5280 forbids)`,
          )
        }
        pathlen = m[2] !== undefined ? parseInt(m[2], 16) : Number(m[3])
        if (!Number.isSafeInteger(pathlen))
          throw this.invalid(item.line, `basicConstraints: pathlen ${text} is absurd`)
      } else {
        throw this.invalid(
          item.line,
          `basicConstraints: ${JSON.stringify(item.name)} is neither CA nor pathlen` +
            (/^critical$/i.test(item.name)
              ? ' ("critical," must come first, in lower case, directly followed by ",")'
              : ''),
        )
      }
    }
    if (ca && !base.critical) {
      this.notes.push(
        `[${this.section}] line ${base.line}: basicConstraints CA:TRUE is not critical (RFC 5280 requires it)`,
      )
    }
    if (!ca && pathlen !== undefined) {
      this.notes.push(
        `[${this.section}] line ${base.line}: pathlen without CA:TRUE is meaningless (RFC 5280 forbids it)`,
      )
    }
    return pathlen === undefined
      ? { ...base, kind: 'basicConstraints', ca }
      : { ...base, kind: 'basicConstraints', ca, pathlen }
  }

  /** X509V3_get_value_bool: exactly these spellings. */
  private bool(item: ListItem): boolean {
    const v = item.value
    if (v !== undefined && ['TRUE', 'true', 'Y', 'y', 'YES', 'yes'].includes(v)) return true
    if (v !== undefined && ['FALSE', 'false', 'N', 'n', 'NO', 'no'].includes(v)) return false
    throw this.invalid(
      item.line,
      `${item.name}:${v ?? ''} is not a boolean OpenSSL accepts (TRUE/true/Y/y/YES/yes or FALSE/false/N/n/NO/no)`,
    )
  }

  private keyUsage(items: ListItem[]): KeyUsageName[] {
    const set = new Set<KeyUsageName>()
    for (const item of items) {
      const usage = (KEY_USAGES as readonly string[]).includes(item.name)
        ? (item.name as KeyUsageName)
        : KEY_USAGE_LONG_NAMES.get(item.name)
      if (usage === undefined)
        throw this.invalid(item.line, `keyUsage: unknown usage ${JSON.stringify(item.name)}`)
      set.add(usage)
    }
    return KEY_USAGES.filter((u) => set.has(u))
  }

  private extendedKeyUsage(base: SpecBase, items: ListItem[]): ExtensionSpec {
    const usages: string[] = []
    const oids: string[] = []
    for (const item of items) {
      const text = item.value ?? item.name // v2i_EXTENDED_KEY_USAGE: the value if there is one
      const purpose = this.objects.resolve(EXTENDED_KEY_USAGES, text)
      if (purpose === undefined)
        throw new Unmapped(`extendedKeyUsage: ${JSON.stringify(text)} is not a purpose mtls-ca knows`)
      if (!oids.includes(purpose.oid)) {
        usages.push(EXTENDED_KEY_USAGES.includes(purpose) ? purpose.sn : purpose.oid)
        oids.push(purpose.oid)
      }
    }
    return { ...base, kind: 'extendedKeyUsage', usages, oids }
  }

  private subjectKeyIdentifier(base: SpecBase, value: string): ExtensionSpec {
    if (base.critical) this.criticalNote(base)
    if (value === 'hash' || value === 'none') return { ...base, kind: 'subjectKeyIdentifier', method: value }
    if (/^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2})*$/.test(value)) {
      throw new Unmapped('subjectKeyIdentifier: an explicit key identifier, the same for every certificate')
    }
    throw this.invalid(
      base.line,
      `subjectKeyIdentifier: ${JSON.stringify(value)} is neither hash, none nor hex`,
    )
  }

  private authorityKeyIdentifier(base: SpecBase, items: ListItem[]): ExtensionSpec {
    if (base.critical) this.criticalNote(base)
    let keyid: AkiOption = 'omit'
    let issuer: AkiOption = 'omit'
    for (const item of items) {
      if (item.name !== 'keyid' && item.name !== 'issuer' && item.name !== 'none') {
        throw this.invalid(item.line, `authorityKeyIdentifier: unknown option ${JSON.stringify(item.name)}`)
      }
      if (item.value !== undefined && item.value !== 'always') {
        this.notes.push(
          `[${this.section}] line ${item.line}: authorityKeyIdentifier ${item.name}:${item.value} is read by ` +
            `OpenSSL 3.0 as plain ${item.name} (later versions refuse it)`,
        )
      }
      const option: AkiOption = item.value === 'always' ? 'always' : 'if_available'
      if (item.name === 'keyid') keyid = option
      else if (item.name === 'issuer') issuer = option
    }
    return { ...base, kind: 'authorityKeyIdentifier', keyid, issuer }
  }

  private subjectAltName(items: ListItem[]): SanSpec[] {
    const names: SanSpec[] = []
    for (const item of items) {
      if (nameIs(item.name, 'email') && item.value === 'copy') names.push({ type: 'email:copy' })
      else if (nameIs(item.name, 'email') && item.value === 'move') {
        throw new Unmapped('subjectAltName: email:move also removes the address from the subject')
      } else names.push(generalName(item, 'subjectAltName', this.names))
    }
    return names
  }

  private distributionPoints(items: ListItem[]): { uris: string[] }[] {
    const points: { uris: string[] }[] = []
    for (const item of items) {
      if (item.value !== undefined) {
        points.push({ uris: [this.uri(generalName(item, 'crlDistributionPoints', this.names))] })
        continue
      }
      // v2i_crld: a bare name is a section describing one distribution point.
      const section = this.config.sections.get(item.name)
      if (section === undefined) {
        throw this.invalid(item.line, `crlDistributionPoints: section [${item.name}] is not defined`)
      }
      const uris: string[] = []
      for (const e of section.entries) {
        if (e.name !== 'fullname') {
          throw new Unmapped(
            `crlDistributionPoints: [${item.name}] uses ${e.name}, which mtls-ca does not model`,
          )
        }
        const list = e.value.startsWith('@')
          ? this.list(e, e.value)
          : parseList(e.value, (what) => this.invalid(e.line, `fullname: ${what}`)).map((i) => ({
              ...i,
              line: e.line,
            }))
        for (const gn of list) uris.push(this.uri(generalName(gn, 'crlDistributionPoints', this.names)))
      }
      if (uris.length === 0) throw new Unmapped(`crlDistributionPoints: [${item.name}] has no fullname`)
      points.push({ uris })
    }
    return points
  }

  private uri(gn: { type: string; value: string }): string {
    if (gn.type !== 'URI') throw new Unmapped(`crlDistributionPoints: a ${gn.type} name, not a URI`)
    return gn.value
  }

  private authorityInfoAccess(base: SpecBase, items: ListItem[]): ExtensionSpec {
    const ocsp: string[] = []
    const caIssuers: string[] = []
    for (const item of items) {
      const semi = item.name.indexOf(';')
      if (semi < 0) {
        throw this.invalid(
          item.line,
          `authorityInfoAccess: ${JSON.stringify(item.name)} is not method;type (e.g. OCSP;URI)`,
        )
      }
      const method: ObjectName | undefined = this.objects.resolve(ACCESS_METHODS, item.name.slice(0, semi))
      const gn = generalName({ ...item, name: item.name.slice(semi + 1) }, 'authorityInfoAccess', this.names)
      if (gn.type !== 'URI') throw new Unmapped(`authorityInfoAccess: a ${gn.type} location, not a URI`)
      if (method?.oid === '1.3.6.1.5.5.7.48.1') ocsp.push(gn.value)
      else if (method?.oid === '1.3.6.1.5.5.7.48.2') caIssuers.push(gn.value)
      else
        throw new Unmapped(`authorityInfoAccess: access method ${item.name.slice(0, semi)} is not modelled`)
    }
    return { ...base, kind: 'authorityInfoAccess', ocsp, caIssuers }
  }

  private criticalNote(base: SpecBase): void {
    this.notes.push(
      `[${this.section}] line ${base.line}: ${base.name} is marked critical (RFC 5280: must not be)`,
    )
  }

  private invalid(line: number, what: string): CaError {
    return new CaError('adopt.config_invalid', `[${this.section}] line ${line}: ${what}`, fileOf(this.config))
  }
}

function fileOf(config: OpenSslConfig): { file?: string } {
  return config.file === undefined ? {} : { file: config.file }
}
