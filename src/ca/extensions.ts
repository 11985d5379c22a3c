/**
 * The X.509 extensions mtls-ca writes, built with @peculiar/x509's extension classes. Certificates get
 * their extensions from a profile here, never from what a CSR asked for (except SANs that passed policy).
 */
import 'reflect-metadata'
import { createHash } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  GeneralName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509'
import { readTlv } from './der-bytes.js'

/** The key usage names of RFC 5280 §4.2.1.3, as OpenSSL's configuration writes them. */
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly'

const KEY_USAGE_FLAGS: Record<KeyUsageName, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
  encipherOnly: x509.KeyUsageFlags.encipherOnly,
  decipherOnly: x509.KeyUsageFlags.decipherOnly,
}

/** RFC 5280 method 1, as OpenSSL's `subjectKeyIdentifier = hash`: SHA-1 of the subjectPublicKey bits. */
export function subjectKeyIdentifier(spki: Uint8Array): string {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest('hex')
}

/**
 * The subjectPublicKey BIT STRING's octets (after its unused-bits octet), read off the DER
 * (SEQUENCE { AlgorithmIdentifier, BIT STRING }) without building a schema object; anything unusual
 * goes through the schema parser as before.
 */
function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  try {
    const outer = readTlv(spki, 0)
    if (outer.tag === 0x30 && outer.end === spki.length) {
      const alg = readTlv(spki, outer.contentStart, outer.end)
      const bits = alg.tag === 0x30 ? readTlv(spki, alg.end, outer.end) : undefined
      if (bits && bits.tag === 0x03 && bits.end === outer.end && bits.end > bits.contentStart) {
        return spki.subarray(bits.contentStart + 1, bits.end)
      }
    }
  } catch {
    // fall through to the schema parser
  }
  return new Uint8Array(AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey)
}

export function basicConstraints(ca: boolean, pathLength?: number): x509.Extension {
  return new x509.BasicConstraintsExtension(ca, pathLength, true)
}

/** A critical keyUsage from names or from x509 flags. */
export function keyUsage(usages: readonly KeyUsageName[] | number): x509.Extension {
  const flags = typeof usages === 'number' ? usages : usages.reduce((f, u) => f | KEY_USAGE_FLAGS[u], 0)
  return new x509.KeyUsagesExtension(flags, true)
}

export function extendedKeyUsage(oids: readonly string[]): x509.Extension {
  return new x509.ExtendedKeyUsageExtension([...oids], false)
}

export function skiExtension(keyIdHex: string): x509.Extension {
  return new x509.SubjectKeyIdentifierExtension(keyIdHex, false)
}

export function akiExtension(keyIdHex: string): x509.Extension {
  return new x509.AuthorityKeyIdentifierExtension(keyIdHex, false)
}

export function crlDistributionPoints(urls: readonly string[]): x509.Extension | undefined {
  return urls.length ? new x509.CRLDistributionPointsExtension([...urls], false) : undefined
}

export function authorityInfoAccess(
  ocsp: readonly string[],
  caIssuers: readonly string[],
): x509.Extension | undefined {
  if (!ocsp.length && !caIssuers.length) return undefined
  return new x509.AuthorityInfoAccessExtension(
    {
      ocsp: ocsp.map((u) => new x509.GeneralName('url', u)),
      caIssuers: caIssuers.map((u) => new x509.GeneralName('url', u)),
    },
    false,
  )
}

export function subjectAltName(names: GeneralName[]): x509.Extension {
  return new x509.Extension(
    id_ce_subjectAltName,
    false,
    AsnConvert.serialize(new SubjectAlternativeName(names)),
  )
}
