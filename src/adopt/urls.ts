/**
 * CDP and AIA URLs of the leaf sections: ca.yml has one set of them for every profile, so each
 * section's URLs are gathered, and the sets of all sections joined.
 */
import type { ExtensionSpec } from '../openssl-config/index.js'
import type { Findings } from './findings.js'
import type { ExtensionUrls } from './types.js'

const KINDS = ['crl', 'ocsp', 'caIssuers'] as const

/** Adds the URLs of a crlDistributionPoints or authorityInfoAccess spec; false for any other kind. */
export function addExtensionUrls(ext: ExtensionSpec, at: string, urls: ExtensionUrls, f: Findings): boolean {
  switch (ext.kind) {
    case 'crlDistributionPoints': {
      const all = ext.points.flatMap((pt) => pt.uris)
      if (ext.points.some((pt) => pt.uris.length > 1)) {
        f.notes.push(`${at}: a distribution point with several names becomes one point per URL`)
      }
      addAll(urls.crl, all)
      f.map('issuance.crlUrls', all.join(', '), at)
      return true
    }
    case 'authorityInfoAccess':
      addAll(urls.ocsp, ext.ocsp)
      addAll(urls.caIssuers, ext.caIssuers)
      if (ext.ocsp.length) f.map('issuance.ocspUrls', ext.ocsp.join(', '), at)
      if (ext.caIssuers.length) f.map('issuance.caIssuersUrls', ext.caIssuers.join(', '), at)
      return true
    default:
      return false
  }
}

/** The union of every section's URLs, in the order first seen; a note when the sections differ. */
export function joinUrls(perSection: readonly ExtensionUrls[], into: ExtensionUrls, f: Findings): void {
  const sets = new Set(perSection.map((u) => JSON.stringify(u)))
  for (const own of perSection) for (const k of KINDS) addAll(into[k], own[k])
  if (sets.size > 1) {
    f.notes.push(
      'the leaf sections differ in their crlDistributionPoints / authorityInfoAccess: ca.yml has one set of URLs ' +
        'for every profile, the union of them all',
    )
  }
}

function addAll(list: string[], urls: readonly string[]): void {
  for (const u of urls) if (!list.includes(u)) list.push(u)
}
