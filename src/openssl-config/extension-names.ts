/**
 * Names OpenSSL 3.0 accepts in extension values and sections: the long names of the key usage bits,
 * the nsCertType bits, and the extensions it knows that mtls-ca does not model. Maps, not object
 * literals, so a name from a configuration ("constructor", "__proto__") finds nothing it did not list.
 */
import type { KeyUsageName } from './extension-spec.js'

function entries<T>(record: Record<string, T>): ReadonlyMap<string, T> {
  return new Map(Object.entries(record))
}

/** OpenSSL's long names for the key usage bits (v3_bitst.c accepts both). */
export const KEY_USAGE_LONG_NAMES: ReadonlyMap<string, KeyUsageName> = entries({
  'Digital Signature': 'digitalSignature',
  'Non Repudiation': 'nonRepudiation',
  'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment',
  'Key Agreement': 'keyAgreement',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
  'Encipher Only': 'encipherOnly',
  'Decipher Only': 'decipherOnly',
})

export const NS_CERT_TYPES: ReadonlyMap<string, string> = entries({
  client: 'client',
  'SSL Client': 'client',
  server: 'server',
  'SSL Server': 'server',
  email: 'email',
  'S/MIME': 'email',
  objsign: 'objsign',
  'Object Signing': 'objsign',
  reserved: 'reserved',
  Unused: 'reserved',
  sslCA: 'sslCA',
  'SSL CA': 'sslCA',
  emailCA: 'emailCA',
  'S/MIME CA': 'emailCA',
  objCA: 'objCA',
  'Object Signing CA': 'objCA',
})

/** Extensions OpenSSL 3.0 knows by name that mtls-ca does not model (they go to `unmapped`). */
export const OTHER_KNOWN_EXTENSIONS = new Set([
  'issuerAltName',
  'freshestCRL',
  'subjectInfoAccess',
  'certificatePolicies',
  'policyMappings',
  'policyConstraints',
  'inhibitAnyPolicy',
  'nameConstraints',
  'nsBaseUrl',
  'nsRevocationUrl',
  'nsCaRevocationUrl',
  'nsRenewalUrl',
  'nsCaPolicyUrl',
  'nsSslServerName',
  'crlNumber',
  'deltaCRL',
  'CRLReason',
  'invalidityDate',
  'issuingDistributionPoint',
  'certificateIssuer',
  'noCheck',
  'tlsfeature',
  'proxyCertInfo',
  'sbgp-ipAddrBlock',
  'sbgp-autonomousSysNum',
  'ct_precert_scts',
  'ct_precert_poison',
  'ct_cert_scts',
  'qcStatements',
  'biometricInfo',
])
