/**
 * Signing a digest someone else computed, as Key Vault's HSMs do: node's `crypto.sign` always hashes
 * its input, so the double builds the encodings itself. RSASSA-PKCS1-v1_5 is DigestInfo‖digest under
 * type-1 padding (`privateEncrypt`), RSASSA-PSS is EMSA-PSS (salt = hash length, MGF1 with the same
 * hash) under the raw RSA operation, and ECDSA takes k·G from ECDH (native scalar multiplication) and
 * the rest in BigInt. Every path is checked in the tests against node's own verifier.
 */
import { constants, createECDH, createHash, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto'

export type DigestAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512'

export const HASH_OF: Record<DigestAlgorithm, 'sha256' | 'sha384' | 'sha512'> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
}

const DIGEST_INFO_PREFIX = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
}

export const CURVES = {
  'P-256': {
    ecdhName: 'prime256v1',
    fieldBytes: 32,
    order: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  },
  'P-384': {
    ecdhName: 'secp384r1',
    fieldBytes: 48,
    order: BigInt(
      '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    ),
  },
  'P-521': {
    ecdhName: 'secp521r1',
    fieldBytes: 66,
    order: BigInt(
      '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    ),
  },
} as const

export type Curve = keyof typeof CURVES

export function rsaPkcs1SignDigest(
  key: KeyObject,
  hash: keyof typeof DIGEST_INFO_PREFIX,
  digest: Buffer,
): Buffer {
  return privateEncrypt(
    { key, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]),
  )
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = []
  for (let counter = 0, size = 0; size < length; counter++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(counter)
    const block = createHash(hash).update(seed).update(c).digest()
    blocks.push(block)
    size += block.length
  }
  return Buffer.concat(blocks).subarray(0, length)
}

/** RFC 8017 §9.1.1 EMSA-PSS-ENCODE, then the raw RSA private operation. */
export function rsaPssSignDigest(key: KeyObject, hash: string, digest: Buffer): Buffer {
  const modBits = key.asymmetricKeyDetails?.modulusLength
  if (!modBits) throw new Error('not an RSA key')
  const hLen = digest.length
  const sLen = hLen
  const emBits = modBits - 1
  const emLen = Math.ceil(emBits / 8)
  const salt = randomBytes(sLen)
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest()
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt])
  const mask = mgf1(h, emLen - hLen - 1, hash)
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!
  db[0]! &= 0xff >> (8 * emLen - emBits)
  const em = Buffer.concat([db, h, Buffer.from([0xbc])])
  const modLen = Math.ceil(modBits / 8)
  return privateEncrypt(
    { key, padding: constants.RSA_NO_PADDING },
    Buffer.concat([Buffer.alloc(modLen - em.length), em]),
  )
}

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m

function invert(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m]
  let [x0, x1] = [1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[x0, x1] = [x1, x0 - q * x1]
  }
  return mod(x0, m)
}

const toBigInt = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`)
const toBytes = (n: bigint, size: number) => Buffer.from(n.toString(16).padStart(size * 2, '0'), 'hex')

/** ECDSA over a given digest; the signature raw r‖s, as Key Vault returns it. */
export function ecdsaSignDigest(key: KeyObject, curve: Curve, digest: Buffer): Buffer {
  const { ecdhName, fieldBytes, order } = CURVES[curve]
  const d = key.export({ format: 'jwk' }).d
  if (!d) throw new Error('not an EC private key')
  const priv = toBigInt(Buffer.from(d, 'base64url'))
  const orderBits = order.toString(2).length
  let e = toBigInt(digest)
  if (digest.length * 8 > orderBits) e >>= BigInt(digest.length * 8 - orderBits)
  for (;;) {
    const k = mod(toBigInt(randomBytes(fieldBytes + 16)), order - 1n) + 1n
    const ecdh = createECDH(ecdhName)
    ecdh.setPrivateKey(toBytes(k, fieldBytes))
    const x = toBigInt(ecdh.getPublicKey().subarray(1, 1 + fieldBytes))
    const r = mod(x, order)
    if (r === 0n) continue
    const s = mod(invert(k, order) * (e + r * priv), order)
    if (s === 0n) continue
    return Buffer.concat([toBytes(r, fieldBytes), toBytes(s, fieldBytes)])
  }
}
