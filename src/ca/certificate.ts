/**
 * Building and signing one certificate from a template. The template is everything the certificate
 * will say; it is linted before the one signature is made, and the signature is checked against the
 * issuer's public key afterwards, so a misconfigured remote key can never produce a bad certificate
 * that then gets recorded.
 */
import 'reflect-metadata'
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier } from '@peculiar/asn1-x509'
import { RsaSaPssParams } from '@peculiar/asn1-rsa'
import { CaError } from './errors.js'
import { toAsnName, type DistinguishedName } from './distinguished-name.js'
import type { Signer } from '../keys/signer.js'
import { x509Signing } from '../keys/x509-signing.js'
import { parseLimitsFor } from './asn1-limits.js'

export interface CertificateTemplate {
  serial: bigint
  subject: DistinguishedName
  issuer: DistinguishedName
  notBefore: Date
  notAfter: Date
  /** DER SubjectPublicKeyInfo of the subject. */
  spki: Uint8Array
  extensions: x509.Extension[]
}

export function serialHexForX509(serial: bigint): string {
  const hex = serial.toString(16)
  return hex.length % 2 ? `0${hex}` : hex
}

function x509Name(dn: DistinguishedName): x509.Name {
  return new x509.Name(AsnConvert.serialize(toAsnName(dn)))
}

/** Signs the template with the signer: exactly one call to `signer.sign`. */
export async function signCertificate(
  template: CertificateTemplate,
  signer: Signer,
): Promise<x509.X509Certificate> {
  const { crypto, signingKey, signingAlgorithm } = x509Signing(signer)
  let cert: x509.X509Certificate
  try {
    cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialHexForX509(template.serial),
        subject: x509Name(template.subject),
        issuer: x509Name(template.issuer),
        notBefore: template.notBefore,
        notAfter: template.notAfter,
        publicKey: template.spki,
        signingKey,
        signingAlgorithm,
        extensions: template.extensions,
      },
      crypto,
    )
  } catch (cause) {
    if (cause instanceof CaError) throw cause
    throw new CaError('signer.failed', `signing with ${signer.ref} failed: ${(cause as Error).message}`, {
      cause,
    })
  }
  if (!verifiesWith(cert.rawData, signer.spki)) {
    throw new CaError(
      'signer.mismatch',
      `the signature made by ${signer.ref} does not verify with the CA certificate's public key: is it the right key?`,
    )
  }
  return cert
}

/** Verifies a certificate's or CRL's outer signature with a public key, using node:crypto. */
export function verifiesWith(der: ArrayBuffer, issuerSpki: Uint8Array): boolean {
  // Certificate and CertificateList share the outer shape: SEQUENCE { tbs, algorithm, signature }.
  const parsed = parseSigned(new Uint8Array(der))
  const key = createPublicKey({ key: Buffer.from(issuerSpki), format: 'der', type: 'spki' })
  const alg = parsed.algorithm
  try {
    if (alg.name === 'RSA-PSS') {
      return nodeVerify(
        alg.hash,
        parsed.tbs,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength },
        parsed.signature,
      )
    }
    return nodeVerify(alg.hash, parsed.tbs, key, parsed.signature)
  } catch {
    return false
  }
}

const SIG_OIDS: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}
const HASH_OIDS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
}

/** The outer shape shared by Certificate and CertificateList, with the TBS kept as raw bytes. */
class SignedObject {
  @AsnProp({ type: AsnPropTypes.Any })
  tbs: ArrayBuffer = new ArrayBuffer(0)
  @AsnProp({ type: AlgorithmIdentifier })
  algorithm = new AlgorithmIdentifier()
  @AsnProp({ type: AsnPropTypes.BitString })
  signature: ArrayBuffer = new ArrayBuffer(0)
}

function parseSigned(der: Uint8Array): {
  tbs: Uint8Array
  signature: Uint8Array
  algorithm: { name: string; hash: string; saltLength?: number }
} {
  // A CRL can list many thousands of entries: the node limit grows with the input (see crl.ts).
  const signed = AsnConvert.parse(der, SignedObject, parseLimitsFor(der.byteLength))
  return {
    tbs: new Uint8Array(signed.tbs),
    signature: new Uint8Array(signed.signature),
    algorithm: algorithmOf(signed.algorithm),
  }
}

function algorithmOf(alg: AlgorithmIdentifier): { name: string; hash: string; saltLength?: number } {
  const hash = SIG_OIDS[alg.algorithm]
  if (hash) return { name: 'PKCS1/ECDSA', hash }
  if (alg.algorithm === '1.2.840.113549.1.1.10' && alg.parameters) {
    const p = AsnConvert.parse(alg.parameters, RsaSaPssParams)
    return { name: 'RSA-PSS', hash: HASH_OIDS[p.hashAlgorithm.algorithm] ?? 'sha1', saltLength: p.saltLength }
  }
  throw new CaError('signer.failed', `unsupported signature algorithm ${alg.algorithm}`)
}
