/**
 * Reading a certificate signing request as untrusted input: size, PEM framing, DER structure, the
 * self-signature (proof of possession of the key), the signature hash, and the names in it. Nothing
 * in a CSR is trusted until it has passed here; its requested extensions are only reported, except
 * the SANs, which issuance checks against the allow-list.
 */
import 'reflect-metadata'
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificationRequest } from '@peculiar/asn1-csr'
import {
  AlgorithmIdentifier,
  SubjectPublicKeyInfo,
  Extensions,
  Extension,
  SubjectAlternativeName,
  id_ce_subjectAltName,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  BasicConstraints,
} from '@peculiar/asn1-x509'
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9'
import { RsaSaPssParams } from '@peculiar/asn1-rsa'
import { readTlv } from './der-bytes.js'
import { importPublicKey } from './public-key.js'
import { CaError } from './errors.js'
import { describeKey, formatKeyInfo, type KeyInfo } from './key-policy.js'
import { parseSubjectAlternativeName } from './subject-alt-name.js'
import { fromAsnName, hasControlCharacters, shortName, type DistinguishedName } from './distinguished-name.js'

export const MAX_CSR_BYTES = 64 * 1024

export interface ParsedCsr {
  subject: DistinguishedName
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array
  /** The key, described and found sound (not yet checked against the CA's key policy). */
  key: KeyInfo
  /** SubjectAltName GeneralNames the CSR asked for (unchecked). */
  requestedSan: SubjectAlternativeName | undefined
  /** Extensions asked for that will be ignored, e.g. "basicConstraints CA:TRUE". */
  ignoredRequests: string[]
  signatureAlgorithm: string
  der: Uint8Array
}

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

/** Strict PEM: one CERTIFICATE REQUEST block, nothing but whitespace around it, clean base64 inside. */
export function decodeCsrPem(input: Uint8Array | string): Uint8Array {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)
  if (bytes.length > MAX_CSR_BYTES) {
    throw new CaError('csr.too_large', `the file is ${bytes.length} bytes; a CSR is at most ${MAX_CSR_BYTES}`)
  }
  if (bytes.includes(0)) throw new CaError('csr.not_pem', 'the file contains NUL bytes: it is not a PEM CSR')
  const text = bytes.toString('latin1')
  const begins = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)]
  if (begins.length === 0)
    throw new CaError('csr.not_pem', 'no PEM block found: expected -----BEGIN CERTIFICATE REQUEST-----')
  if (begins.length > 1) {
    throw new CaError(
      'csr.multiple_blocks',
      `the file holds ${begins.length} PEM blocks; put exactly one CSR in it`,
    )
  }
  const begin = begins[0] as RegExpMatchArray
  const label = begin[1] as string
  if (label !== 'CERTIFICATE REQUEST' && label !== 'NEW CERTIFICATE REQUEST') {
    throw new CaError('csr.not_pem', `the PEM block is a ${label}, not a CERTIFICATE REQUEST`)
  }
  const start = (begin.index ?? 0) + begin[0].length
  const endMarker = `-----END ${label}-----`
  const end = text.indexOf(endMarker, start)
  if (end < 0) throw new CaError('csr.not_pem', `the PEM block is truncated: no ${endMarker} line`)
  if (text.slice(0, begin.index).trim() !== '') {
    throw new CaError('csr.trailing_data', 'there is text before the PEM block')
  }
  if (text.slice(end + endMarker.length).trim() !== '') {
    throw new CaError('csr.trailing_data', 'there is data after the END line')
  }
  const body = text.slice(start, end).replace(/[\r\n\t ]/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
    throw new CaError('csr.malformed', 'the PEM body is not valid base64')
  }
  return new Uint8Array(Buffer.from(body, 'base64'))
}

/** Parses and checks a CSR (PEM). Throws CaError; `file` is attached by the caller. */
export function parseCsr(input: Uint8Array | string): ParsedCsr {
  const der = decodeCsrPem(input)
  let req: CertificationRequest
  try {
    req = AsnConvert.parse(der, CertificationRequest)
  } catch (cause) {
    throw new CaError('csr.malformed', 'the DER inside the PEM is not a PKCS#10 certification request', {
      cause,
    })
  }
  // Re-encoding must give the same bytes: catches trailing bytes and non-DER (BER) encodings.
  const reencoded = new Uint8Array(AsnConvert.serialize(req))
  if (!Buffer.from(reencoded).equals(Buffer.from(der))) {
    throw new CaError(
      'csr.malformed',
      'the request is not DER-encoded (trailing bytes or a non-canonical encoding)',
    )
  }
  const info = req.certificationRequestInfo
  if (info.version !== 0) throw new CaError('csr.malformed', `unsupported CSR version ${info.version}`)

  // The DER is canonical (checked above), so the info and the SPKI are slices of it: no re-encoding.
  const parts = infoAndSpki(der)
  const spki = parts.spki
  // The key first: a DSA or SM2 key is refused for what it is, not for the algorithm it signed with.
  const key = describeKey(spki, { fromCsr: true })
  const alg = signatureAlgorithmFor(req.signatureAlgorithm, key)
  verifySelfSignature(req, parts.info, spki, alg)

  const subject: DistinguishedName = fromAsnName(info.subject)
  for (const a of subject) {
    if (hasControlCharacters(a.value)) {
      throw new CaError(
        'policy.name_invalid',
        `the subject's ${shortName(a.oid)} contains a control character`,
      )
    }
  }

  const { san, ignored } = requestedExtensions(req)
  return {
    subject,
    spki,
    key,
    requestedSan: san,
    ignoredRequests: ignored,
    signatureAlgorithm: alg.name,
    der,
  }
}

/**
 * certificationRequestInfo and its subjectPKInfo as slices of the (canonical) DER:
 * SEQUENCE { SEQUENCE { version, subject, subjectPKInfo, [0] attributes }, algorithm, signature }.
 */
function infoAndSpki(der: Uint8Array): { info: Uint8Array; spki: Uint8Array } {
  const outer = readTlv(der, 0)
  const info = readTlv(der, outer.contentStart, outer.end)
  const version = readTlv(der, info.contentStart, info.end)
  const subject = readTlv(der, version.end, info.end)
  const spki = readTlv(der, subject.end, info.end)
  if (outer.tag !== 0x30 || info.tag !== 0x30 || spki.tag !== 0x30) {
    throw new CaError('csr.malformed', 'the DER inside the PEM is not a PKCS#10 certification request')
  }
  return { info: der.slice(info.start, info.end), spki: der.slice(spki.start, spki.end) }
}

/** How the self-signature is verified: with a hash, or RSASSA-PSS with its parameters. */
type Verification = { name: string; hash: string | null } | { name: string; pss: PssVerification }
type PssVerification = { hash: string; saltLength: number; params: ArrayBuffer }

/**
 * The CSR's signature algorithm, refused unless it is strong (`csr.weak_signature`), fits the key
 * (`csr.algorithm_mismatch`) and has the parameters its RFC allows (`csr.malformed`).
 */
function signatureAlgorithmFor(algorithm: AlgorithmIdentifier, key: KeyInfo): Verification {
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

function verifySelfSignature(
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

function requestedExtensions(req: CertificationRequest): {
  san: SubjectAlternativeName | undefined
  ignored: string[]
} {
  const ignored: string[] = []
  let san: SubjectAlternativeName | undefined
  for (const attr of req.certificationRequestInfo.attributes) {
    if (attr.type !== id_pkcs9_at_extensionRequest) continue
    for (const value of attr.values) {
      let exts: Extensions
      try {
        exts = AsnConvert.parse(value, Extensions)
      } catch (cause) {
        throw new CaError('csr.malformed', 'the requested extensions cannot be parsed', { cause })
      }
      for (const ext of exts as Extension[]) {
        if (ext.extnID === id_ce_subjectAltName) {
          if (san) throw new CaError('csr.malformed', 'the CSR asks for subjectAltName twice')
          try {
            san = parseSubjectAlternativeName(ext.extnValue.buffer)
          } catch (cause) {
            const why = cause instanceof CaError ? cause.message : 'it cannot be parsed'
            throw new CaError('csr.malformed', `the requested subjectAltName is refused: ${why}`, { cause })
          }
        } else if (ext.extnID === id_ce_basicConstraints) {
          const bc = safeParse(ext.extnValue.buffer, BasicConstraints)
          ignored.push(
            bc?.cA
              ? `basicConstraints CA:TRUE${bc.pathLenConstraint !== undefined ? `, pathlen:${bc.pathLenConstraint}` : ''}`
              : 'basicConstraints',
          )
        } else if (ext.extnID === id_ce_keyUsage) {
          ignored.push('keyUsage')
        } else {
          ignored.push(ext.extnID)
        }
      }
    }
  }
  return { san, ignored }
}

function safeParse<T>(data: ArrayBuffer, type: new () => T): T | undefined {
  try {
    return AsnConvert.parse(data, type)
  } catch {
    return undefined
  }
}
