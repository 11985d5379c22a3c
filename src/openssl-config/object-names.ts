/**
 * The OpenSSL object names (short name, long name, OID) that adopted configurations use in policy
 * sections and extension values, plus the names a configuration defines itself in its
 * `oid_section`. OpenSSL knows about a thousand objects; this is the subset that makes sense in a
 * private CA. A name outside it is reported as not understood, never guessed.
 */

import type { OpenSslConfig } from './parse.js'
import { lookupValue } from './parse.js'

export interface ObjectName {
  /** OpenSSL's short name (`CN`, `serverAuth`). */
  readonly sn: string
  /** OpenSSL's long name (`commonName`, `TLS Web Server Authentication`). */
  readonly ln: string
  readonly oid: string
}

/** Attribute types of distinguished names, as OBJ_txt2nid resolves them in a policy section. */
export const DN_ATTRIBUTES: readonly ObjectName[] = [
  { sn: 'C', ln: 'countryName', oid: '2.5.4.6' },
  { sn: 'ST', ln: 'stateOrProvinceName', oid: '2.5.4.8' },
  { sn: 'L', ln: 'localityName', oid: '2.5.4.7' },
  { sn: 'O', ln: 'organizationName', oid: '2.5.4.10' },
  { sn: 'OU', ln: 'organizationalUnitName', oid: '2.5.4.11' },
  { sn: 'CN', ln: 'commonName', oid: '2.5.4.3' },
  { sn: 'emailAddress', ln: 'emailAddress', oid: '1.2.840.113549.1.9.1' },
  { sn: 'serialNumber', ln: 'serialNumber', oid: '2.5.4.5' },
  { sn: 'SN', ln: 'surname', oid: '2.5.4.4' },
  { sn: 'GN', ln: 'givenName', oid: '2.5.4.42' },
  { sn: 'initials', ln: 'initials', oid: '2.5.4.43' },
  { sn: 'title', ln: 'title', oid: '2.5.4.12' },
  { sn: 'description', ln: 'description', oid: '2.5.4.13' },
  { sn: 'street', ln: 'streetAddress', oid: '2.5.4.9' },
  { sn: 'postalCode', ln: 'postalCode', oid: '2.5.4.17' },
  { sn: 'name', ln: 'name', oid: '2.5.4.41' },
  { sn: 'dnQualifier', ln: 'dnQualifier', oid: '2.5.4.46' },
  { sn: 'pseudonym', ln: 'pseudonym', oid: '2.5.4.65' },
  { sn: 'generationQualifier', ln: 'generationQualifier', oid: '2.5.4.44' },
  { sn: 'businessCategory', ln: 'businessCategory', oid: '2.5.4.15' },
  { sn: 'organizationIdentifier', ln: 'organizationIdentifier', oid: '2.5.4.97' },
  { sn: 'DC', ln: 'domainComponent', oid: '0.9.2342.19200300.100.1.25' },
  { sn: 'UID', ln: 'userId', oid: '0.9.2342.19200300.100.1.1' },
  { sn: 'unstructuredName', ln: 'unstructuredName', oid: '1.2.840.113549.1.9.2' },
  { sn: 'jurisdictionC', ln: 'jurisdictionCountryName', oid: '1.3.6.1.4.1.311.60.2.1.3' },
  { sn: 'jurisdictionST', ln: 'jurisdictionStateOrProvinceName', oid: '1.3.6.1.4.1.311.60.2.1.2' },
  { sn: 'jurisdictionL', ln: 'jurisdictionLocalityName', oid: '1.3.6.1.4.1.311.60.2.1.1' },
]

/** Extended key usage purposes (OBJ_txt2obj accepts either name). */
export const EXTENDED_KEY_USAGES: readonly ObjectName[] = [
  { sn: 'serverAuth', ln: 'TLS Web Server Authentication', oid: '1.3.6.1.5.5.7.3.1' },
  { sn: 'clientAuth', ln: 'TLS Web Client Authentication', oid: '1.3.6.1.5.5.7.3.2' },
  { sn: 'codeSigning', ln: 'Code Signing', oid: '1.3.6.1.5.5.7.3.3' },
  { sn: 'emailProtection', ln: 'E-mail Protection', oid: '1.3.6.1.5.5.7.3.4' },
  { sn: 'ipsecEndSystem', ln: 'IPSec End System', oid: '1.3.6.1.5.5.7.3.5' },
  { sn: 'ipsecTunnel', ln: 'IPSec Tunnel', oid: '1.3.6.1.5.5.7.3.6' },
  { sn: 'ipsecUser', ln: 'IPSec User', oid: '1.3.6.1.5.5.7.3.7' },
  { sn: 'timeStamping', ln: 'Time Stamping', oid: '1.3.6.1.5.5.7.3.8' },
  { sn: 'OCSPSigning', ln: 'OCSP Signing', oid: '1.3.6.1.5.5.7.3.9' },
  { sn: 'ipsecIKE', ln: 'ipsec Internet Key Exchange', oid: '1.3.6.1.5.5.7.3.17' },
  { sn: 'secureShellClient', ln: 'SSH Client', oid: '1.3.6.1.5.5.7.3.21' },
  { sn: 'secureShellServer', ln: 'SSH Server', oid: '1.3.6.1.5.5.7.3.22' },
  { sn: 'anyExtendedKeyUsage', ln: 'Any Extended Key Usage', oid: '2.5.29.37.0' },
  { sn: 'msSmartcardLogin', ln: 'Microsoft Smartcard Login', oid: '1.3.6.1.4.1.311.20.2.2' },
  { sn: 'msCodeInd', ln: 'Microsoft Individual Code Signing', oid: '1.3.6.1.4.1.311.2.1.21' },
  { sn: 'msCodeCom', ln: 'Microsoft Commercial Code Signing', oid: '1.3.6.1.4.1.311.2.1.22' },
  { sn: 'msEFS', ln: 'Microsoft Encrypted File System', oid: '1.3.6.1.4.1.311.10.3.4' },
]

/** Access methods of authorityInfoAccess. */
export const ACCESS_METHODS: readonly ObjectName[] = [
  { sn: 'OCSP', ln: 'OCSP', oid: '1.3.6.1.5.5.7.48.1' },
  { sn: 'caIssuers', ln: 'CA Issuers', oid: '1.3.6.1.5.5.7.48.2' },
]

/** A dotted OID as OBJ_txt2obj(…, 0) accepts it: at least two arcs, the first 0–2. */
export function isDottedOid(s: string): boolean {
  return /^[0-2](\.(0|[1-9][0-9]*))+$/.test(s) && (s.startsWith('2') || Number(s.split('.')[1]) < 40)
}

/** Resolves a name against a table, the configuration's oid_section, or as a dotted OID. */
export interface ObjectResolver {
  resolve(table: readonly ObjectName[], text: string): ObjectName | undefined
}

/**
 * OpenSSL registers `oid_section` entries (`name = OID` or `name = long name, OID`) before it reads
 * policies and extensions, so those names are valid there.
 */
export function objectResolver(config: OpenSslConfig): ObjectResolver {
  const custom: ObjectName[] = []
  const sectionName = lookupValue(config, 'default', 'oid_section')
  const section = sectionName === undefined ? undefined : config.sections.get(sectionName)
  for (const entry of section?.entries ?? []) {
    const comma = entry.value.lastIndexOf(',')
    const oid = (comma < 0 ? entry.value : entry.value.slice(comma + 1)).trim()
    const ln = comma < 0 ? entry.name : entry.value.slice(0, comma).trim()
    if (isDottedOid(oid)) custom.push({ sn: entry.name, ln, oid })
  }
  return {
    resolve(table, text) {
      const known = table.find((o) => o.sn === text || o.ln === text)
      if (known) return known
      if (isDottedOid(text)) return table.find((o) => o.oid === text) ?? { sn: text, ln: text, oid: text }
      return custom.find((o) => o.sn === text || o.ln === text)
    },
  }
}
