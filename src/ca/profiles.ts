/**
 * Certificate profiles: what a certificate of each kind may do. Leaf profiles come built in (server,
 * client, server-client) and can be overridden or extended in ca.yml; the two CA profiles are fixed,
 * because a CA certificate's shape is a rule, not a preference (DESIGN.md "Rules a CA must not break").
 */
import { CaError } from './errors.js'
import type { NamedSanPolicy } from './san-policy.js'
import type { KeyUsageName } from './extensions.js'
import type { IssuanceConfig, ProfileConfig } from './issuance-config.js'

export interface LeafProfile {
  name: string
  /** EKU OIDs. */
  extendedKeyUsage: string[]
  keyUsage: KeyUsageName[] | undefined
  days: number | undefined
  requireSan: boolean
  copyCommonName: boolean
  /** serverAuth: TLS clients match the subject's CNs as host names (identity-policy.ts). */
  server: boolean
  /** The profile's narrowing of issuance.sans (ca.yml `profiles.<name>.sans`), if any. */
  sans: NamedSanPolicy | undefined
}

export const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
}

const ANY_EKU = '2.5.29.37.0'

const EKU_NAMES = new Map(Object.entries(EKU_OIDS).map(([name, oid]) => [oid, name]))

export function ekuName(oid: string): string {
  return EKU_NAMES.get(oid) ?? oid
}

export const BUILTIN_PROFILES: Readonly<Record<string, ProfileConfig>> = {
  server: { extendedKeyUsage: ['serverAuth'], requireSan: true, copyCommonName: true },
  client: { extendedKeyUsage: ['clientAuth'], requireSan: false, copyCommonName: false },
  'server-client': { extendedKeyUsage: ['serverAuth', 'clientAuth'], requireSan: true, copyCommonName: true },
}

export function profileNames(config: IssuanceConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_PROFILES), ...Object.keys(config.profiles)])]
}

/** A user-given key's value, never one inherited from Object.prototype ("constructor", "toString"). */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

export function resolveProfile(name: string, config: IssuanceConfig): LeafProfile {
  const p = own(config.profiles, name) ?? own(BUILTIN_PROFILES, name)
  if (!p) {
    throw new CaError(
      'policy.profile_unknown',
      `unknown profile "${name}" (known: ${profileNames(config).join(', ')})`,
    )
  }
  const extendedKeyUsage = p.extendedKeyUsage.map((e) => {
    const oid = own(EKU_OIDS, e) ?? (/^\d+(\.\d+)+$/.test(e) ? e : undefined)
    if (!oid) throw new CaError('config.invalid', `profile ${name}: unknown extended key usage "${e}"`)
    return oid
  })
  // A server certificate without a SAN is useless to every modern client: the rule is not optional.
  const serves = extendedKeyUsage.includes(EKU_OIDS.serverAuth as string)
  return {
    name,
    extendedKeyUsage,
    keyUsage: p.keyUsage,
    days: p.days,
    requireSan: p.requireSan || serves,
    copyCommonName: p.copyCommonName || serves,
    // anyExtendedKeyUsage lets TLS stacks use the certificate as a server's too.
    server: serves || extendedKeyUsage.includes(ANY_EKU),
    sans: p.sans === undefined ? undefined : { policy: p.sans, key: `profiles.${name}.sans` },
  }
}
