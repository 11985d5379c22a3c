/**
 * Every extension section of a configuration, sorted by what it is: the CRL extensions, a CA
 * profile (CA:TRUE, whose extensions mtls-ca's fixed CA profiles replace), a leaf profile (made by
 * ./leaf-profile.ts), or something mtls-ca cannot adopt; then the default leaf profile.
 */
import { extensionSection, lookupEntry, type ExtensionSection } from '../openssl-config/index.js'
import { sectionFile, where } from './config-location.js'
import type { Findings } from './findings.js'
import { leafProfile } from './leaf-profile.js'
import { noUrls, type ExtensionUrls, type ParsedConfig, type Role } from './types.js'
import { joinUrls } from './urls.js'

/** Extensions of a CA section that mtls-ca's fixed CA profiles write anyway. */
const CA_PROFILE_KINDS = new Set([
  'basicConstraints',
  'keyUsage',
  'subjectKeyIdentifier',
  'authorityKeyIdentifier',
])

/**
 * Reads every extension section; leaf profiles go to `f.profiles` and their URLs to `urls`.
 * Returns the default profile's name ('' for the root, which issues no leaves).
 */
export function adoptExtensionSections(
  p: ParsedConfig,
  role: Role,
  urls: ExtensionUrls,
  f: Findings,
): string {
  const { config, ca } = p
  const reqX509 = lookupEntry(config, 'req', 'x509_extensions')?.value
  const reqExtensions = lookupEntry(config, 'req', 'req_extensions')?.value
  const leafSections: ExtensionSection[] = []
  for (const name of config.sections.keys()) {
    if (name === 'default') continue
    const entries = config.sections.get(name)?.entries ?? []
    const named = name === ca.x509_extensions || name === ca.crl_extensions || name === reqX509
    const looksLikeExtensions = entries.some(
      (e) => e.name === 'basicConstraints' || e.name === 'extendedKeyUsage',
    )
    if (!named && !looksLikeExtensions) continue
    if (name === reqExtensions && !named) {
      f.notes.push(
        `${p.source.file}: [${name}] holds what openssl req puts into CSRs: not a certificate profile`,
      )
      continue
    }
    const section = extensionSection(config, name)
    for (const n of section.notes) f.notes.push(`${p.source.file}: ${n}`)
    for (const s of section.ignored) f.skipped(p, f.ignored, s)
    for (const s of section.unmapped) f.skipped(p, f.unmapped, s)
    if (name === ca.crl_extensions) {
      crlSection(p, role, section, f)
      continue
    }
    const bc = section.extensions.find((e) => e.kind === 'basicConstraints')
    const eku = section.extensions.find((e) => e.kind === 'extendedKeyUsage')
    if (bc?.kind === 'basicConstraints' && bc.ca) {
      caSection(p, section, f)
    } else if (role === 'root') {
      f.sectionItem(
        p,
        f.unmapped,
        section,
        "a leaf profile in the root's configuration: in mtls-ca only the intermediate issues leaves",
      )
    } else if (eku === undefined) {
      f.sectionItem(
        p,
        f.unmapped,
        section,
        'a leaf profile without extendedKeyUsage (any purpose): mtls-ca profiles name their purposes; add one to ca.yml by hand',
      )
    } else {
      leafSections.push(section)
    }
  }
  if (role === 'root') return ''

  const taken = new Set<string>()
  const perSection = leafSections.map((section) => {
    const own = noUrls()
    f.profiles.push(leafProfile(p, section, taken, own, f))
    return own
  })
  joinUrls(perSection, urls, f)
  return defaultProfile(p, f)
}

/** x509_extensions, else the only leaf profile, else the built-in server. */
function defaultProfile(p: ParsedConfig, f: Findings): string {
  const { ca } = p
  const profiles = f.profiles
  let chosen = profiles.find((pr) => pr.section === ca.x509_extensions)
  let why: string
  if (chosen) why = where(p, 'x509_extensions')
  else if (profiles.length === 1) {
    chosen = profiles[0]
    why = `the only leaf section (openssl ca was run with -extensions ${chosen?.section ?? ''})`
  } else {
    why =
      profiles.length === 0
        ? 'no leaf section: the built-in server profile'
        : `no x509_extensions names a leaf section: the built-in server profile (adopted: ${profiles.map((x) => x.name).join(', ')})`
  }
  if (ca.x509_extensions !== undefined && !profiles.some((pr) => pr.section === ca.x509_extensions)) {
    f.notes.push(
      `${where(p, 'x509_extensions')}: [${ca.x509_extensions}] is not a leaf profile mtls-ca can adopt, so it is not the default`,
    )
  }
  if (chosen) chosen.default = true
  const name = chosen?.name ?? 'server'
  f.map('issuance.profile', name, why)
  return name
}

function caSection(p: ParsedConfig, section: ExtensionSection, f: Findings): void {
  const bc = section.extensions.find((e) => e.kind === 'basicConstraints')
  f.notes.push(
    `${sectionFile(p, section.section)} [${section.section}] line ${bc?.line ?? 0} is a CA profile (CA:TRUE): mtls-ca's fixed CA ` +
      'profiles apply (critical CA:TRUE, pathlen:0 for the intermediate, keyCertSign and cRLSign, SKI, AKI)',
  )
  for (const ext of section.extensions) {
    if (CA_PROFILE_KINDS.has(ext.kind)) continue
    f.extensionItem(
      p,
      f.unmapped,
      section.section,
      ext,
      "an extension of a CA certificate: mtls-ca's CA profiles are fixed and do not write it",
    )
  }
}

function crlSection(p: ParsedConfig, role: Role, section: ExtensionSection, f: Findings): void {
  f.map(
    `${role}.crl (extensions)`,
    'AKI keyid, CRL number (always)',
    `${where(p, 'crl_extensions')} → [${section.section}]`,
  )
  for (const ext of section.extensions) {
    if (ext.kind === 'authorityKeyIdentifier') {
      if (ext.issuer !== 'omit') {
        f.notes.push(
          `${sectionFile(p, section.section)} [${section.section}] line ${ext.line}: authorityKeyIdentifier issuer: mtls-ca CRLs carry the key identifier only`,
        )
      }
      continue
    }
    f.extensionItem(p, f.unmapped, section.section, ext, 'not an extension of a CRL that mtls-ca writes')
  }
}
