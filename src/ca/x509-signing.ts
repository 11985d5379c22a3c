/**
 * Lets @peculiar/x509's generators sign through any Signer. The generators only call
 * `crypto.subtle.sign(algorithm, key, tbs)`, so a Crypto-shaped object whose `sign` forwards the TBS
 * bytes to the Signer is all they need; the key "handle" only carries the algorithm (with the curve
 * for EC, which the library needs to DER-encode the raw r‖s signature).
 */
import { createPublicKey, type webcrypto } from 'node:crypto'
import { webCryptoAlgorithm, type Signer } from './signer.js'

export interface X509Signing {
  crypto: webcrypto.Crypto
  signingKey: webcrypto.CryptoKey
  signingAlgorithm: webcrypto.Algorithm
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

export function x509Signing(signer: Signer): X509Signing {
  const algorithm: Record<string, unknown> = { ...webCryptoAlgorithm(signer.scheme) }
  if (algorithm.name === 'ECDSA') {
    const curve = createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' })
      .asymmetricKeyDetails?.namedCurve
    algorithm.namedCurve = CURVES[curve ?? ''] ?? curve
  }
  const signingKey = {
    algorithm,
    type: 'private',
    extractable: false,
    usages: ['sign'],
  } as unknown as webcrypto.CryptoKey
  const subtle = {
    sign: async (_alg: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView) => {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data)
      const sig = await signer.sign(bytes)
      return sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength)
    },
  }
  return {
    crypto: { subtle } as unknown as webcrypto.Crypto,
    signingKey,
    signingAlgorithm: algorithm as unknown as webcrypto.Algorithm,
  }
}
