/**
 * The key policy: what kind of public key a requester may have certified. Reads a DER
 * SubjectPublicKeyInfo into a small `KeyInfo` (RSA with its modulus size, EC on a NIST curve, or
 * Ed25519), refusing everything else by name (`key.unsupported`); checks it against the CA's
 * `KeyPolicy` (`key.too_small`, `key.unsupported`); and says which leaf key usages fit the key.
 *
 * Beyond the algorithm, a key must be sound to be certified: a CSR's self-signature proves nothing
 * for a key whose signatures anyone can make, and a key weaker than its size says is not what the
 * certificate would claim. So: an RSA modulus positive, odd and without a prime factor below 2^12,
 * the public exponent odd and from 3 to 2^256 - 1 (FIPS 186-5's upper bound); an EC point
 * uncompressed (Go's crypto/x509 cannot read compressed points) and on its curve; explicit EC domain
 * parameters refused (RFC 5480 forbids them); an Ed25519 point canonically encoded (y < 2^255 - 19)
 * and not one of the eight points of small order (signatures for those are made without any private
 * key). The key material is also loaded with node:crypto (OpenSSL), which checks what the ASN.1
 * reading does not, such as the point being on the curve.
 */
import { createPublicKey } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { KeyUsageFlags, SubjectPublicKeyInfo, type KeyUsageType } from '@peculiar/asn1-x509'
import { ECParameters } from '@peculiar/asn1-ecc'
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { CaError } from './errors.js'

export type EcCurve = 'P-256' | 'P-384' | 'P-521'

export type KeyInfo = { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: EcCurve } | { kind: 'ed25519' }

export interface KeyPolicy {
  rsaMinBits: number
  rsaMaxBits: number
  /** Curve names: `P-256`, `P-384`, `P-521`. */
  ecCurves: string[]
  ed25519: boolean
}

export const DEFAULT_KEY_POLICY: Readonly<KeyPolicy> = Object.freeze({
  rsaMinBits: 2048,
  rsaMaxBits: 8192,
  ecCurves: Object.freeze(['P-256', 'P-384', 'P-521']) as unknown as string[],
  ed25519: true,
})

/** No policy may go below this: NIST SP 800-131A disallows RSA under 2048 bits. */
const RSA_FLOOR_BITS = 2048
/** Nor above this: bigger keys make every verification slow and few libraries accept them. */
const RSA_CEILING_BITS = 16384

const OID_RSA = '1.2.840.113549.1.1.1'
const OID_EC = '1.2.840.10045.2.1'
const OID_ED25519 = '1.3.101.112'

const CURVES: ReadonlyMap<string, { name: EcCurve; octets: number }> = new Map([
  ['1.2.840.10045.3.1.7', { name: 'P-256', octets: 32 }],
  ['1.3.132.0.34', { name: 'P-384', octets: 48 }],
  ['1.3.132.0.35', { name: 'P-521', octets: 66 }],
])

/** Names for the algorithms and curves we refuse, so that the refusal says what was sent. */
const ALGORITHM_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10040.4.1', 'DSA'],
  ['1.2.840.10046.2.1', 'Diffie-Hellman (X9.42)'],
  ['1.2.840.113549.1.3.1', 'Diffie-Hellman (PKCS #3)'],
  ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
  ['1.2.840.113549.1.1.7', 'RSAES-OAEP'],
  ['1.3.101.110', 'X25519'],
  ['1.3.101.111', 'X448'],
  ['1.3.101.113', 'Ed448'],
  ['1.3.132.1.12', 'ECDH (id-ecDH)'],
  ['1.3.132.1.13', 'ECMQV (id-ecMQV)'],
  ['1.2.156.10197.1.301', 'SM2'],
  ['1.2.643.7.1.1.1.1', 'GOST R 34.10-2012 (256 bits)'],
  ['1.2.643.7.1.1.1.2', 'GOST R 34.10-2012 (512 bits)'],
  ['2.16.840.1.101.3.4.3.17', 'ML-DSA-44'],
  ['2.16.840.1.101.3.4.3.18', 'ML-DSA-65'],
  ['2.16.840.1.101.3.4.3.19', 'ML-DSA-87'],
  ['2.16.840.1.101.3.4.4.1', 'ML-KEM-512'],
  ['2.16.840.1.101.3.4.4.2', 'ML-KEM-768'],
  ['2.16.840.1.101.3.4.4.3', 'ML-KEM-1024'],
])
const CURVE_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.3.132.0.10', 'secp256k1'],
  ['1.2.840.10045.3.1.1', 'P-192 (prime192v1)'],
  ['1.3.132.0.33', 'P-224 (secp224r1)'],
  ['1.3.36.3.3.2.8.1.1.1', 'brainpoolP160r1'],
  ['1.3.36.3.3.2.8.1.1.3', 'brainpoolP192r1'],
  ['1.3.36.3.3.2.8.1.1.5', 'brainpoolP224r1'],
  ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1'],
  ['1.3.36.3.3.2.8.1.1.9', 'brainpoolP320r1'],
  ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1'],
  ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1'],
  ['1.2.156.10197.1.301', 'SM2'],
])

const SUPPORTED = 'RSA, EC on P-256/P-384/P-521, or Ed25519'

function unsupported(message: string, cause?: unknown): CaError {
  return new CaError('key.unsupported', message, cause === undefined ? {} : { cause })
}

/**
 * Reads a DER SubjectPublicKeyInfo. Throws `key.unsupported` for any key this CA does not certify.
 * `fromCsr`: the bytes are the SPKI of a CSR that parseCsr is reading, which has proven them DER (the
 * whole request re-encodes to the same bytes) and loads them with node:crypto right after, to check
 * its signature; those two checks are not made here.
 */
export function describeKey(spki: Uint8Array, options: { fromCsr?: boolean } = {}): KeyInfo {
  let info: SubjectPublicKeyInfo
  try {
    info = AsnConvert.parse(spki, SubjectPublicKeyInfo)
  } catch (e) {
    throw unsupported('the public key is not a DER SubjectPublicKeyInfo', e)
  }
  if (!options.fromCsr && !equalBytes(new Uint8Array(AsnConvert.serialize(info)), spki)) {
    throw unsupported(
      'the public key is not a DER SubjectPublicKeyInfo (it is not DER, or has trailing bytes)',
    )
  }
  const oid = info.algorithm.algorithm
  const params = info.algorithm.parameters
  const key = new Uint8Array(info.subjectPublicKey)
  let result: KeyInfo
  switch (oid) {
    case OID_RSA:
      result = describeRsa(params, key)
      break
    case OID_EC:
      result = describeEc(params, key)
      break
    case OID_ED25519:
      // asn1-x509 reads an encoded NULL as `null` and absent parameters as `undefined`.
      if (params !== undefined) {
        throw unsupported('the Ed25519 key has algorithm parameters, which RFC 8410 forbids')
      }
      if (key.length !== 32) throw unsupported(`the Ed25519 key is ${key.length} octets long, not 32`)
      checkEd25519Point(key)
      result = { kind: 'ed25519' }
      break
    default: {
      const name = ALGORITHM_NAMES.get(oid)
      throw unsupported(
        `${name === undefined ? `the key algorithm ${oid} is unknown` : `${name} keys (${oid}) are not supported`}: use ${SUPPORTED}`,
      )
    }
  }
  if (options.fromCsr) return result
  try {
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  } catch (e) {
    throw unsupported(`the ${formatKeyInfo(result)} public key is not valid (OpenSSL cannot load it)`, e)
  }
  return result
}

function describeRsa(params: ArrayBuffer | null | undefined, key: Uint8Array): KeyInfo {
  // RFC 3279 says NULL; some encoders leave parameters out, which is harmless.
  if (
    params !== undefined &&
    params !== null &&
    !equalBytes(new Uint8Array(params), Uint8Array.of(0x05, 0x00))
  ) {
    throw unsupported('the RSA key has algorithm parameters other than NULL')
  }
  let rsa: RSAPublicKey
  try {
    rsa = AsnConvert.parse(key, RSAPublicKey)
  } catch (e) {
    throw unsupported('the RSA public key is not a DER RSAPublicKey', e)
  }
  const modulus = new Uint8Array(rsa.modulus)
  const exponent = new Uint8Array(rsa.publicExponent)
  if (isNegative(modulus) || isNegative(exponent))
    throw unsupported('the RSA key has a negative modulus or exponent')
  const n = toBigInt(modulus)
  const e = toBigInt(exponent)
  if (n % 2n === 0n) throw unsupported('the RSA modulus is even, so it is not a product of two odd primes')
  if (e < 3n) throw unsupported(`the RSA public exponent ${e} is less than 3`)
  if (e % 2n === 0n) throw unsupported(`the RSA public exponent ${e} is even`)
  if (e >= 1n << 256n)
    throw unsupported('the RSA public exponent is 2^256 or more (FIPS 186-5 allows at most 2^256 - 1)')
  if (e >= n) throw unsupported('the RSA public exponent is not smaller than the modulus')
  const factor = smallFactorOf(n)
  if (factor !== undefined) {
    throw unsupported(`the RSA modulus is divisible by ${factor}, so it is not a product of two large primes`)
  }
  return { kind: 'rsa', bits: n.toString(2).length }
}

function describeEc(params: ArrayBuffer | null | undefined, key: Uint8Array): KeyInfo {
  if (params === undefined || params === null) throw unsupported('the EC key has no curve parameters')
  let ecParams: ECParameters
  try {
    ecParams = AsnConvert.parse(params, ECParameters)
  } catch (e) {
    throw unsupported('the EC key parameters are not DER ECParameters', e)
  }
  const curveOid = ecParams.namedCurve
  if (curveOid === undefined) {
    throw unsupported(
      'the EC key uses explicit or implicit curve parameters; RFC 5480 requires a named curve',
    )
  }
  const curve = CURVES.get(curveOid)
  if (curve === undefined) {
    const name = CURVE_NAMES.get(curveOid)
    throw unsupported(
      `${name === undefined ? `the EC curve ${curveOid} is unknown` : `EC keys on ${name} (${curveOid}) are not supported`}: use ${SUPPORTED}`,
    )
  }
  if (key[0] === 0x02 || key[0] === 0x03) {
    throw unsupported(
      `the ${curve.name} key is a compressed point; send it uncompressed (many TLS stacks cannot read it)`,
    )
  }
  if (key[0] !== 0x04 || key.length !== 1 + 2 * curve.octets) {
    throw unsupported(
      `the ${curve.name} public key is not an uncompressed point of ${1 + 2 * curve.octets} octets`,
    )
  }
  return { kind: 'ec', curve: curve.name }
}

/**
 * The odd primes below 2^12, multiplied into groups below 2^53: one BigInt remainder per group (a
 * Number from then on) tests every prime in it: about 0.03 ms for a 2048-bit modulus, 0.06 ms for
 * 4096 bits. A gcd with the primorial would read better, but BigInt has no native gcd: Euclid over
 * 2048-bit numbers costs 0.3 ms, and the primes up to 2^16 cost 0.4 ms even grouped like this.
 */
const SMALL_PRIME_GROUPS: ReadonlyArray<{ product: bigint; primes: readonly number[] }> = (() => {
  const bound = 1 << 12
  const composite = new Uint8Array(bound)
  const groups: { product: bigint; primes: number[] }[] = []
  let primes: number[] = []
  let product = 1
  for (let i = 3; i < bound; i += 2) {
    if (composite[i]) continue
    for (let j = i * i; j < bound; j += 2 * i) composite[j] = 1
    if (product * i > Number.MAX_SAFE_INTEGER) {
      groups.push({ product: BigInt(product), primes })
      primes = []
      product = 1
    }
    primes.push(i)
    product *= i
  }
  groups.push({ product: BigInt(product), primes })
  return groups
})()

/** The smallest odd prime below 2^12 that divides `n`, if any. */
function smallFactorOf(n: bigint): number | undefined {
  for (const group of SMALL_PRIME_GROUPS) {
    const r = Number(n % group.product)
    for (const p of group.primes) if (r % p === 0) return p
  }
  return undefined
}

/** The field prime of Curve25519. */
const P25519 = (1n << 255n) - 19n
/**
 * The y-coordinate of the order-8 points (RFC 8032 little-endian encoding; it is a root of
 * d·y^4 + 2·y^2 = 1, which the tests check). With 0 (order 4), 1 (the identity) and -1 (order 2), and their
 * negatives, these are the y-coordinates of all eight points of small order, whatever x's sign bit.
 */
const Y_ORDER_8 = toBigInt(
  Uint8Array.from(
    Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'),
  ).reverse(),
)
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([0n, 1n, P25519 - 1n, Y_ORDER_8, P25519 - Y_ORDER_8])

/**
 * Refuses Ed25519 points that prove nothing. A small-order point A makes [k]A one of eight points, so
 * a signature (R, S) = (identity, 0) verifies for about one message in eight, and for the identity for
 * every message; OpenSSL accepts them. A y of 2^255 - 19 or more is a second encoding of a smaller y
 * (the twins of the identity and of the order-4 point are among them), which RFC 8032 forbids.
 * Checking y alone covers every sign bit, including x = 0 with the sign bit set (only y = ±1 has x = 0).
 */
function checkEd25519Point(key: Uint8Array): void {
  const y = toBigInt(Uint8Array.from(key).reverse()) & ((1n << 255n) - 1n)
  if (y >= P25519) {
    throw unsupported(
      'the Ed25519 key is not canonically encoded (its y is 2^255 - 19 or more): expected an RFC 8032 encoding',
    )
  }
  if (SMALL_ORDER_Y.has(y)) {
    throw unsupported(
      'the Ed25519 key is a point of small order, for which signatures can be made without a private key',
    )
  }
}

function isNegative(bytes: Uint8Array): boolean {
  return bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** `RSA 2048`, `EC P-256`, `Ed25519`: for messages and PR comments. */
export function formatKeyInfo(info: KeyInfo): string {
  switch (info.kind) {
    case 'rsa':
      return `RSA ${info.bits}`
    case 'ec':
      return `EC ${info.curve}`
    case 'ed25519':
      return 'Ed25519'
  }
}

/** Checks a key policy from configuration; `config.invalid` when it is malformed or unsafe. */
export function validateKeyPolicy(policy: KeyPolicy): void {
  const { rsaMinBits, rsaMaxBits, ecCurves, ed25519 } = policy
  if (!Number.isInteger(rsaMinBits) || rsaMinBits < RSA_FLOOR_BITS) {
    throw new CaError(
      'config.invalid',
      `the key policy's rsaMinBits ${rsaMinBits} must be a whole number of at least ${RSA_FLOOR_BITS}`,
    )
  }
  if (!Number.isInteger(rsaMaxBits) || rsaMaxBits < rsaMinBits || rsaMaxBits > RSA_CEILING_BITS) {
    throw new CaError(
      'config.invalid',
      `the key policy's rsaMaxBits ${rsaMaxBits} must be a whole number from rsaMinBits (${rsaMinBits}) to ${RSA_CEILING_BITS}`,
    )
  }
  if (!Array.isArray(ecCurves))
    throw new CaError('config.invalid', "the key policy's ecCurves must be a list")
  const known = [...CURVES.values()].map((c) => c.name as string)
  for (const c of ecCurves) {
    if (!known.includes(c)) {
      throw new CaError(
        'config.invalid',
        `the key policy's ecCurves has "${String(c)}" (expected ${known.join(', ')})`,
      )
    }
  }
  if (typeof ed25519 !== 'boolean')
    throw new CaError('config.invalid', "the key policy's ed25519 must be true or false")
}

/** Checks a described key against the policy: `key.too_small` or `key.unsupported`. */
export function checkKey(info: KeyInfo, policy: KeyPolicy): void {
  validateKeyPolicy(policy)
  switch (info.kind) {
    case 'rsa':
      if (info.bits < policy.rsaMinBits) {
        throw new CaError(
          'key.too_small',
          `the RSA key is ${info.bits} bits; the minimum is ${policy.rsaMinBits} bits`,
        )
      }
      if (info.bits > policy.rsaMaxBits) {
        throw new CaError(
          'key.unsupported',
          `the RSA key is ${info.bits} bits; the maximum is ${policy.rsaMaxBits} bits`,
        )
      }
      return
    case 'ec':
      if (!policy.ecCurves.includes(info.curve)) {
        const allowed =
          policy.ecCurves.length === 0 ? 'no EC keys are allowed' : `allowed: ${policy.ecCurves.join(', ')}`
        throw new CaError(
          'key.unsupported',
          `EC keys on ${info.curve} are not allowed by the key policy (${allowed})`,
        )
      }
      return
    case 'ed25519':
      if (!policy.ed25519)
        throw new CaError('key.unsupported', 'Ed25519 keys are not allowed by the key policy')
      return
  }
}

/**
 * The key usages of a leaf certificate for this key: every key signs (TLS handshakes); an RSA key may
 * also be used for TLS 1.2 RSA key exchange, which needs keyEncipherment. EC and Ed25519 keys never
 * encipher, and asserting keyEncipherment for them is an error many linters flag.
 */
export function keyUsageFor(info: KeyInfo): readonly KeyUsageType[] {
  return info.kind === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']
}

/** `keyUsageFor` as asn1-x509 `KeyUsageFlags` bits, for `new KeyUsage(flags)`. */
export function keyUsageFlagsFor(info: KeyInfo): number {
  return keyUsageFor(info).reduce(
    (flags, usage) => flags | KeyUsageFlags[usage === 'crlSign' ? 'cRLSign' : usage],
    0,
  )
}
