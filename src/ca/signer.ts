/**
 * The Signer port: what the engine needs from a CA key, wherever it lives (a file, Azure Key Vault,
 * later PKCS#11). The engine never sees key material: it hands over the bytes to be signed (the DER
 * of a TBSCertificate or TBSCertList) and gets a signature back.
 * The port belongs to the core; its adapters (src/keys/) import it, so the engine imports no adapter.
 */

/** Signature schemes a CA key can use; names follow JOSE/Key Vault. */
export type SignatureScheme =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512'

export interface Signer {
  /** Where the key is, for messages: `file:rootCA/private/ca.key.pem`, a Key Vault key id, … */
  readonly ref: string
  /** The public key as DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
  readonly scheme: SignatureScheme
  /**
   * Signs `data` (hashing it as the scheme says). ECDSA signatures are returned raw (r‖s, as WebCrypto
   * and Key Vault return them); RSA signatures as the usual big-endian octets.
   */
  sign(data: Uint8Array): Promise<Uint8Array>
}

/** WebCrypto's description of a scheme: what @peculiar/x509 puts in signatureAlgorithm. */
export function webCryptoAlgorithm(scheme: SignatureScheme): {
  name: string
  hash: { name: string }
  saltLength?: number
  namedCurve?: string
} {
  const bits = scheme.slice(2)
  const hash = { name: `SHA-${bits}` }
  switch (scheme.slice(0, 2)) {
    case 'RS':
      return { name: 'RSASSA-PKCS1-v1_5', hash }
    case 'PS':
      return { name: 'RSA-PSS', hash, saltLength: Number(bits) / 8 }
    default:
      return { name: 'ECDSA', hash }
  }
}
