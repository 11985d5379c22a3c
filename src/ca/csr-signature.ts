/**
 * The CSR's self-signature, its proof of possession: which signature algorithms a CSR may use, each
 * bound to the key kind it fits (so that a signature of one kind cannot pass under another's label),
 * the hash (SHA-256 or better), RSASSA-PSS parameters parsed strictly with their own MGF1 hash, and
 * the verification by node:crypto.
 */
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificationRequest } from '@peculiar/asn1-csr'
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { RsaSaPssParams } from '@peculiar/asn1-rsa'
import { importPublicKey } from './public-key.js'
import { CaError } from './errors.js'
import { formatKeyInfo, type KeyInfo } from './key-policy.js'

/**
 * The signature algorithms a CSR may use, with the key kind each one fits and the hash node:crypto
 * verifies with (null for Ed25519, which has no prehash; PSS reads its hash from its parameters).
 * Without the key kind, node:crypto verifies whatever the key is: an ECDSA signature labelled
 * sha256WithRSAEncryption, or a PKCS #1 signature labelled Ed25519, would pass as proof of possession.
 * `params`: what RFC 4055 / RFC 5758 / RFC 8410 allow in the AlgorithmIdentifier.
 */
const SIGNATURE_ALGORITHMS: ReadonlyMap<
  string,
  { name: string; key: KeyInfo['kind']; hash: string | null; params: 'null-or-absent' | 'absent' | 'pss' }
> = new Map([
  [
    '1.2.840.113549.1.1.11',
    { name: 'sha256WithRSAEncryption', key: 'rsa', hash: 'sha256', params: 'null-or-absent' },
  ],
  [
    '1.2.840.113549.1.1.12',
    { name: 'sha384WithRSAEncryption', key: 'rsa', hash: 'sha384', params: 'null-or-absent' },
  ],
  [
    '1.2.840.113549.1.1.13',
    { name: 'sha512WithRSAEncryption', key: 'rsa', hash: 'sha512', params: 'null-or-absent' },
  ],
  ['1.2.840.113549.1.1.10', { name: 'RSASSA-PSS', key: 'rsa', hash: null, params: 'pss' }],
  ['1.2.840.10045.4.3.2', { name: 'ecdsa-with-SHA256', key: 'ec', hash: 'sha256', params: 'absent' }],
  ['1.2.840.10045.4.3.3', { name: 'ecdsa-with-SHA384', key: 'ec', hash: 'sha384', params: 'absent' }],
  ['1.2.840.10045.4.3.4', { name: 'ecdsa-with-SHA512', key: 'ec', hash: 'sha512', params: 'absent' }],
  ['1.3.101.112', { name: 'Ed25519', key: 'ed25519', hash: null, params: 'absent' }],
])

/** The algorithm to sign with, for each key kind, for messages. */
const SIGN_WITH: Readonly<Record<KeyInfo['kind'], string>> = {
  rsa: 'sha256WithRSAEncryption or RSASSA-PSS',
  ec: 'ecdsa-with-SHA256, -SHA384 or -SHA512',
  ed25519: 'Ed25519',
}

const WEAK_SIGNATURES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsaWithSHA1'],
  ['1.2.840.113549.1.1.14', 'sha224WithRSAEncryption'],
  ['1.2.840.10045.4.3.1', 'ecdsa-with-SHA224'],
])

/** The hashes a signature is made over. */
const MESSAGE_HASHES: ReadonlyMap<string, string> = new Map([
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
])
const OID_SHA1 = '1.3.14.3.2.26'
/**
 * The hashes MGF1 may use inside RSASSA-PSS. SHA-1 is allowed there: MGF1 only stretches a hash into
 * a mask, which needs no collision resistance (RFC 8017 B.2.1), and SHA-1 is OpenSSL's and RFC 4055's
 * default. The message hash is still SHA-256 or better.
 */
const MGF1_HASHES: ReadonlySet<string> = new Set([OID_SHA1, ...MESSAGE_HASHES.keys()])
const OID_MGF1 = '1.2.840.113549.1.1.8'
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10'
type Verification = { name: string; hash: string | null } | { name: string; pss: PssVerification }
type PssVerification = { hash: string; saltLength: number; params: ArrayBuffer }

/**
 * The CSR's signature algorithm, refused unless it is strong (`csr.weak_signature`), fits the key
 * (`csr.algorithm_mismatch`) and has the parameters its RFC allows (`csr.malformed`).
 */
export function signatureAlgorithmFor(algorithm: AlgorithmIdentifier, key: KeyInfo): Verification {
  const oid = algorithm.algorithm
  const weak = WEAK_SIGNATURES.get(oid)
  if (weak !== undefined) {
    throw new CaError('csr.weak_signature', `the CSR is signed with ${weak}; sign it with SHA-256 or better`)
  }
  const alg = SIGNATURE_ALGORITHMS.get(oid)
  if (alg === undefined) {
    throw new CaError(
      'csr.weak_signature',
      `unsupported CSR signature algorithm ${oid}: for a ${formatKeyInfo(key)} key, sign with ${SIGN_WITH[key.kind]}`,
    )
  }
  if (alg.key !== key.kind) {
    throw new CaError(
      'csr.algorithm_mismatch',
      `the CSR is signed with ${alg.name}, which does not fit its ${formatKeyInfo(key)} key: sign with ${SIGN_WITH[key.kind]}`,
    )
  }
  const params: unknown = algorithm.parameters
  if (alg.params === 'pss') return { name: alg.name, pss: pssParameters(params) }
  // asn1-x509 reads an encoded NULL as `null` and absent parameters as `undefined`.
  if (params !== undefined && !(alg.params === 'null-or-absent' && params === null)) {
    throw new CaError(
      'csr.malformed',
      `the CSR's ${alg.name} signature algorithm has parameters; expected ${alg.params === 'absent' ? 'none' : 'NULL or none'}`,
    )
  }
  return { name: alg.name, hash: alg.hash }
}

/**
 * RSASSA-PSS-params (RFC 4055), checked, with their DER: it becomes the restriction of the key that
 * OpenSSL verifies with, so it carries the MGF1 hash there.
 */
function pssParameters(raw: unknown): PssVerification {
  if (!(raw instanceof ArrayBuffer)) {
    throw new CaError('csr.malformed', 'the CSR uses RSASSA-PSS without its parameters')
  }
  const params = parseExactly(raw, RsaSaPssParams, 'RSASSA-PSS parameters')
  const hashOid = params.hashAlgorithm.algorithm
  const hash = MESSAGE_HASHES.get(hashOid)
  if (hash === undefined) {
    throw new CaError(
      'csr.weak_signature',
      `the CSR uses RSASSA-PSS with ${hashOid === OID_SHA1 ? 'SHA-1' : `the hash ${hashOid}`}; use SHA-256 or better`,
    )
  }
  checkHashParameters(params.hashAlgorithm, 'hash')
  if (params.maskGenAlgorithm.algorithm !== OID_MGF1) {
    throw new CaError(
      'csr.weak_signature',
      `the CSR uses RSASSA-PSS with the mask generation function ${params.maskGenAlgorithm.algorithm}; expected MGF1`,
    )
  }
  const mgfParams: unknown = params.maskGenAlgorithm.parameters
  if (!(mgfParams instanceof ArrayBuffer)) {
    throw new CaError('csr.malformed', "the CSR's RSASSA-PSS MGF1 has no hash algorithm")
  }
  const mgf1 = parseExactly(mgfParams, AlgorithmIdentifier, 'RSASSA-PSS MGF1 hash')
  if (!MGF1_HASHES.has(mgf1.algorithm)) {
    throw new CaError(
      'csr.weak_signature',
      `the CSR uses RSASSA-PSS with MGF1 over the hash ${mgf1.algorithm}; expected SHA-1, SHA-256, SHA-384 or SHA-512`,
    )
  }
  checkHashParameters(mgf1, 'MGF1 hash')
  if (params.trailerField !== 1) {
    throw new CaError(
      'csr.malformed',
      `the CSR's RSASSA-PSS trailer field is ${params.trailerField}; RFC 4055 allows only 1`,
    )
  }
  // OpenSSL reads negative salt lengths as instructions (-1: the hash's length, -2: any).
  if (!Number.isSafeInteger(params.saltLength) || params.saltLength < 0) {
    throw new CaError(
      'csr.malformed',
      `the CSR's RSASSA-PSS salt length ${params.saltLength} is not a whole number of octets`,
    )
  }
  return { hash, saltLength: params.saltLength, params: raw }
}

/** A hash AlgorithmIdentifier's parameters: NULL or absent (RFC 4055 section 2.1). */
function checkHashParameters(algorithm: AlgorithmIdentifier, what: string): void {
  if (algorithm.parameters !== undefined && algorithm.parameters !== null) {
    throw new CaError('csr.malformed', `the CSR's RSASSA-PSS ${what} has parameters other than NULL`)
  }
}

/** Parses attacker-chosen DER that must be canonical (DER leaves DEFAULT values out). */
function parseExactly<T extends object>(raw: ArrayBuffer, type: new () => T, what: string): T {
  let value: T
  try {
    value = AsnConvert.parse(raw, type)
  } catch (cause) {
    throw new CaError('csr.malformed', `the CSR's ${what} cannot be parsed`, { cause })
  }
  if (!Buffer.from(AsnConvert.serialize(value)).equals(Buffer.from(raw))) {
    throw new CaError(
      'csr.malformed',
      `the CSR's ${what} are not DER-encoded (e.g. a default value is written out)`,
    )
  }
  return value
}

export function verifySelfSignature(
  req: CertificationRequest,
  tbs: Uint8Array,
  spki: Uint8Array,
  alg: Verification,
): void {
  const signature = new Uint8Array(req.signature)
  let ok: boolean
  try {
    if ('pss' in alg) {
      // node:crypto has no option for MGF1's hash; a key restricted to these parameters (RFC 4055
      // id-RSASSA-PSS) makes OpenSSL verify with them, and refuse any other hash.
      const key = createPublicKey({
        key: pssRestrictedSpki(spki, alg.pss.params),
        format: 'der',
        type: 'spki',
      })
      ok = nodeVerify(
        alg.pss.hash,
        tbs,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pss.saltLength },
        signature,
      )
    } else {
      ok = nodeVerify(alg.hash, tbs, importPublicKey(spki), signature)
    }
  } catch (cause) {
    throw new CaError('csr.bad_signature', 'the CSR signature cannot be verified with its own public key', {
      cause,
    })
  }
  if (!ok) {
    throw new CaError(
      'csr.bad_signature',
      'the CSR signature does not verify: the request was altered or not signed by its key',
    )
  }
}

/** The rsaEncryption key `spki` as an id-RSASSA-PSS key restricted to `params`. */
function pssRestrictedSpki(spki: Uint8Array, params: ArrayBuffer): Buffer {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo)
  const restricted = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID_RSASSA_PSS, parameters: params }),
    subjectPublicKey: info.subjectPublicKey,
  })
  return Buffer.from(AsnConvert.serialize(restricted))
}
