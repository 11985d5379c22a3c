/**
 * The parts of ca.yml the engine reads, stated by the engine. src/config parses ca.yml (with zod and
 * openssl-config's names) into a CaConfig that has this shape and more; the core says here what it
 * needs so that it imports nothing from that edge, and tsc checks that a CaConfig fits wherever the
 * edge passes one in.
 */
import type { KeyUsageName } from './extensions.js'
import type { KeyPolicy } from './key-policy.js'
import type { SanPolicy } from './san-policy.js'
import type { SubjectPolicyField } from './subject-policy.js'

/** ca.yml `profiles.<name>`, or a built-in profile. */
export interface ProfileConfig {
  /** EKU names (serverAuth, clientAuth, …) or dotted OIDs. */
  extendedKeyUsage: string[]
  /** Key usages; absent: those that fit the key type. */
  keyUsage?: KeyUsageName[] | undefined
  days?: number | undefined
  requireSan: boolean
  copyCommonName: boolean
  /** Narrows issuance.sans for this profile; absent: issuance.sans alone decides. */
  sans?: SanPolicy | undefined
}

/** What issuance reads of ca.yml. */
export interface IssuanceConfig {
  issuance: {
    profile: string
    days: number
    keys: KeyPolicy
    sans: SanPolicy
    crlUrls: string[]
    ocspUrls: string[]
    caIssuersUrls: string[]
  }
  /** The issuing CA's side of ca.yml. */
  intermediate: {
    policy: SubjectPolicyField[]
    preserveDn: boolean
    emailInDn: boolean
    uniqueSubject: boolean
    serials: 'random' | 'sequential'
  }
  profiles: Readonly<Record<string, ProfileConfig>>
}
