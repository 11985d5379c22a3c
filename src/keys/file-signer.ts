/**
 * The embedded key backend: CA keys as PEM files (PKCS#8, or the PKCS#1/SEC1 files older OpenSSL
 * writes) under `rootCA/private/` and `intermediateCA/private/`. Signing uses node:crypto directly, which is what the raw signing rate
 * of the machine is measured with.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  constants,
  type KeyObject,
} from 'node:crypto'
import { CaError } from '../ca/errors.js'
import type { SignatureScheme, Signer } from '../ca/signer.js'

export type KeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p256' | 'ec-p384'
export const KEY_TYPES: readonly KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384']

/** A new private key as PKCS#8 PEM. */
export function generatePrivateKeyPem(type: KeyType): string {
  const { privateKey } = type.startsWith('rsa')
    ? generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)), publicExponent: 0x10001 })
    : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
}

/** The scheme a key signs with unless told otherwise: RS256 for RSA, ES256/384/512 by curve. */
export function defaultScheme(key: KeyObject): SignatureScheme {
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256'
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384'
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512'
  }
  throw new CaError(
    'signer.unavailable',
    `a CA key must be RSA or EC P-256/P-384/P-521, not ${describe(key)}`,
  )
}

function describe(key: KeyObject): string {
  return [key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve].filter(Boolean).join(' ')
}

/** A Signer over a private key PEM; `ref` names where it came from. */
export function fileSigner(pem: string | Buffer, ref: string, scheme?: SignatureScheme): Signer {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch (cause) {
    throw new CaError(
      'signer.unavailable',
      `${ref} is not a readable private key (encrypted keys are not supported)`,
      {
        cause,
      },
    )
  }
  const chosen = scheme ?? defaultScheme(key)
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }))
  const hash = `sha${chosen.slice(2)}`
  const options = chosen.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(chosen.slice(2)) / 8 }
    : chosen.startsWith('ES')
      ? { key, dsaEncoding: 'ieee-p1363' as const }
      : { key }
  return {
    ref,
    spki,
    scheme: chosen,
    // With a callback, node:crypto signs on libuv's thread pool: a batch's signatures use every core
    // while this thread builds the next certificates.
    sign: (data) =>
      new Promise((resolve, reject) => {
        nodeSign(hash, data, options, (error, signature) => {
          if (error) reject(error)
          else resolve(new Uint8Array(signature))
        })
      }),
  }
}
