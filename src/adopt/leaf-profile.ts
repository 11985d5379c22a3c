/**
 * A leaf profile of ca.yml from an extension section with extendedKeyUsage: its purposes, its key
 * usage (or "by key type"), whether it needs a SAN, and notes where mtls-ca writes the extensions
 * otherwise than the section says.
 */
import { BUILTIN_PROFILES, EKU_OIDS } from '../ca/profiles.js'
import type { ExtensionSection } from '../openssl-config/index.js'
import { sectionFile } from './config-location.js'
import type { Findings } from './findings.js'
import type { AdoptedProfile, ExtensionUrls, ParsedConfig } from './types.js'
import { addExtensionUrls } from './urls.js'

/** The usages mtls-ca gives an RSA leaf by key type (an EC leaf gets digitalSignature only). */
const KEY_TYPE_USAGES = ['digitalSignature', 'keyEncipherment']

/** `server_cert` → `server-cert`: what ca.yml allows as a profile name. */
export function profileName(section: string): string {
  const name = section
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
  return /^[a-z]/.test(name) ? name : `profile-${name || 'x'}`
}

/** The profile of `section`, named apart from those in `taken`; its CDP/AIA URLs go to `urls`. */
export function leafProfile(
  p: ParsedConfig,
  section: ExtensionSection,
  taken: Set<string>,
  urls: ExtensionUrls,
  f: Findings,
): AdoptedProfile {
  const sectionName = section.section
  let name = profileName(sectionName)
  for (let i = 2; taken.has(name); i++) name = `${profileName(sectionName)}-${i}`
  taken.add(name)
  const file = sectionFile(p, sectionName)
  const from = `${file} [${sectionName}] line ${section.extensions[0]?.line ?? 0}`
  if (Object.hasOwn(BUILTIN_PROFILES, name)) {
    f.notes.push(`${from}: the profile ${name} replaces mtls-ca's built-in profile of that name`)
  }
  let extendedKeyUsage: string[] = []
  let keyUsage: string[] | undefined
  for (const ext of section.extensions) {
    const at = `${file} [${sectionName}] line ${ext.line}`
    if (addExtensionUrls(ext, at, urls, f)) continue
    switch (ext.kind) {
      case 'extendedKeyUsage':
        // A name ca.yml knows stays a name; any other purpose is written as its OID.
        extendedKeyUsage = ext.usages.map((u, i) =>
          Object.hasOwn(EKU_OIDS, u) ? u : (ext.oids[i] as string),
        )
        if (ext.critical)
          f.notes.push(`${at}: extendedKeyUsage is critical there; mtls-ca writes it non-critical`)
        break
      case 'keyUsage': {
        const isCaUsage = (u: string): boolean => u === 'keyCertSign' || u === 'cRLSign'
        const forbidden = ext.usages.filter(isCaUsage)
        const usages = ext.usages.filter((u) => !isCaUsage(u))
        if (forbidden.length) {
          f.extensionItem(
            p,
            f.unmapped,
            sectionName,
            ext,
            'mtls-ca never gives a leaf keyCertSign or cRLSign',
            forbidden.join(', '),
          )
        }
        if (sameSet(usages, KEY_TYPE_USAGES)) {
          f.notes.push(
            `${at}: keyUsage ${usages.join(', ')} becomes "by key type": RSA keys get exactly that, EC keys ` +
              'digitalSignature only (they cannot encipher)',
          )
        } else if (usages.length) {
          keyUsage = usages
          if (usages.includes('keyEncipherment')) {
            f.notes.push(`${at}: keyUsage includes keyEncipherment, which EC keys get too under this profile`)
          }
        }
        if (!ext.critical) f.notes.push(`${at}: keyUsage is not critical there; mtls-ca writes it critical`)
        break
      }
      case 'subjectKeyIdentifier':
        if (ext.method === 'none')
          f.notes.push(`${at}: subjectKeyIdentifier = none; mtls-ca always writes one`)
        break
      case 'authorityKeyIdentifier':
        if (ext.issuer !== 'omit') {
          f.notes.push(`${at}: authorityKeyIdentifier issuer: mtls-ca writes the key identifier only`)
        }
        break
      case 'subjectAltName':
        f.extensionItem(
          p,
          f.unmapped,
          sectionName,
          ext,
          'fixed SANs in a profile: mtls-ca takes SANs from the CSR (and the CN), checked against issuance.sans',
        )
        break
    }
  }
  if (!section.extensions.some((e) => e.kind === 'subjectKeyIdentifier')) {
    f.notes.push(`${from}: [${sectionName}] has no subjectKeyIdentifier; mtls-ca always writes one`)
  }
  const requireSan = extendedKeyUsage.includes('serverAuth')
  if (requireSan) {
    f.notes.push(
      `${from}: ${name} certificates always carry a SAN in mtls-ca: the CN when it is a hostname, plus the ` +
        "CSR's SANs that pass issuance.sans",
    )
  }
  f.map(
    `profiles.${name}`,
    [
      `extendedKeyUsage ${extendedKeyUsage.join(',')}`,
      `keyUsage ${keyUsage?.join(',') ?? 'by key type'}`,
      requireSan ? 'requireSan' : '',
    ]
      .filter(Boolean)
      .join('; '),
    from,
  )
  return { name, section: sectionName, from, extendedKeyUsage, keyUsage, requireSan, default: false }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}
