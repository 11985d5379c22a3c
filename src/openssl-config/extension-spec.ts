/**
 * The typed form of an extension section: one spec per extension mtls-ca models, and the entries
 * it skipped (unmapped or ignored) with the reason.
 */

export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const
export type KeyUsageName = (typeof KEY_USAGES)[number]

/** How an authorityKeyIdentifier part is included: `keyid`, `keyid:always`, or not at all. */
export type AkiOption = 'omit' | 'if_available' | 'always'

export type SanSpec =
  | { readonly type: 'DNS' | 'IP' | 'email' | 'URI'; readonly value: string }
  /** `email:copy`: the subject's emailAddress values, copied in at issuance. */
  | { readonly type: 'email:copy' }

export interface SpecBase {
  /** The extension name as written (`basicConstraints`). */
  readonly name: string
  readonly critical: boolean
  readonly line: number
}

export type ExtensionSpec =
  | (SpecBase & { readonly kind: 'basicConstraints'; readonly ca: boolean; readonly pathlen?: number })
  | (SpecBase & { readonly kind: 'keyUsage'; readonly usages: readonly KeyUsageName[] })
  | (SpecBase & {
      readonly kind: 'extendedKeyUsage'
      /** OpenSSL short names (`serverAuth`), or the dotted OID when the purpose has no name here. */
      readonly usages: readonly string[]
      readonly oids: readonly string[]
    })
  | (SpecBase & { readonly kind: 'subjectKeyIdentifier'; readonly method: 'hash' | 'none' })
  | (SpecBase & {
      readonly kind: 'authorityKeyIdentifier'
      readonly keyid: AkiOption
      readonly issuer: AkiOption
    })
  | (SpecBase & { readonly kind: 'subjectAltName'; readonly names: readonly SanSpec[] })
  | (SpecBase & {
      readonly kind: 'crlDistributionPoints'
      /** One entry per DistributionPoint, each with its fullName URIs. */
      readonly points: readonly { readonly uris: readonly string[] }[]
    })
  | (SpecBase & {
      readonly kind: 'authorityInfoAccess'
      readonly ocsp: readonly string[]
      readonly caIssuers: readonly string[]
    })

/** An entry of the section that produced no spec, and why. */
export interface SkippedExtension {
  readonly section: string
  readonly name: string
  readonly value: string
  readonly line: number
  readonly reason: string
}

export interface ExtensionSection {
  readonly section: string
  /** In the section's order (OpenSSL adds extensions in that order). */
  readonly extensions: readonly ExtensionSpec[]
  /** Obsolete extensions accepted and deliberately not emitted (nsCertType, nsComment). */
  readonly ignored: readonly SkippedExtension[]
  /** Extensions OpenSSL would add that mtls-ca does not model: adoption must look at each. */
  readonly unmapped: readonly SkippedExtension[]
  readonly notes: readonly string[]
}
