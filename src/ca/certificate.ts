/**
 * Building and signing one certificate from a template. The template is everything the certificate
 * will say; it is linted before the one signature is made, and the signature is checked against the
 * issuer's public key afterwards, so a misconfigured remote key can never produce a bad certificate
 * that then gets recorded.
 */
import 'reflect-metadata'
import { createPublicKey, verify as nodeVerify, constants, type KeyObject } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509'
import { RsaSaPssParams } from '@peculiar/asn1-rsa'
import { CaError } from './errors.js'
import { toAsnName, type DistinguishedName } from './distinguished-name.js'
import { webCryptoAlgorithm, type Signer } from './signer.js'
import { x509Signing } from './x509-signing.js'
import { parseLimitsFor } from './asn1-limits.js'
import { bitString, wrap } from './der-bytes.js'

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
  return new x509.Name(nameDer(dn))
}

/**
 * The DER of a name. An issuer's name is the same object for every certificate of a batch, so its
 * encoding is kept per object (a DistinguishedName is never mutated once built).
 */
const nameCache = new WeakMap<DistinguishedName, Uint8Array>()
function nameDer(dn: DistinguishedName): Uint8Array {
  let der = nameCache.get(dn)
  if (der === undefined) {
    der = new Uint8Array(AsnConvert.serialize(toAsnName(dn)))
    nameCache.set(dn, der)
  }
  return der
}

/**
 * The straightforward path: @peculiar/x509's generator (used for templates the lean path does not
 * handle, and kept as the reference the fast path is tested against).
 */
export async function generateCertificate(
  template: CertificateTemplate,
  signer: Signer,
): Promise<x509.X509Certificate> {
  const { crypto, signingKey, signingAlgorithm } = x509Signing(signer)
  return x509.X509CertificateGenerator.create(
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
}

/** Signs the template with the signer: exactly one call to `signer.sign`. */
export async function signCertificate(
  template: CertificateTemplate,
  signer: Signer,
): Promise<x509.X509Certificate> {
  const lean = leanEncodable(template)
  let der: Uint8Array | undefined
  let cert: x509.X509Certificate | undefined
  try {
    if (lean) der = await signLean(template, signer)
    else cert = await generateCertificate(template, signer)
  } catch (cause) {
    if (cause instanceof CaError) throw cause
    throw new CaError('signer.failed', `signing with ${signer.ref} failed: ${(cause as Error).message}`, {
      cause,
    })
  }
  if (der !== undefined) return new LazyCertificate(der)
  // The straightforward path, for templates outside what the lean writer handles.
  if (!verifiesWith((cert as x509.X509Certificate).rawData, signer.spki)) throw mismatch(signer)
  return cert as x509.X509Certificate
}

function mismatch(signer: Signer): CaError {
  return new CaError(
    'signer.mismatch',
    `the signature made by ${signer.ref} does not verify with the CA certificate's public key: is it the right key?`,
  )
}

/**
 * What the lean writer encodes exactly as the generator does: at least one extension, a positive
 * serial, whole-second times from 1950 to 9999. Anything else (never produced by mtls-ca's own
 * templates) goes through X509CertificateGenerator.
 */
function leanEncodable(t: CertificateTemplate): boolean {
  const timeOk = (d: Date) => {
    const ms = d.getTime()
    return Number.isFinite(ms) && ms % 1000 === 0 && d.getUTCFullYear() >= 1950 && d.getUTCFullYear() <= 9999
  }
  return t.extensions.length > 0 && t.serial > 0n && timeOk(t.notBefore) && timeOk(t.notAfter)
}

/**
 * An X509Certificate over DER we just wrote, parsed only when something reads a field: callers of
 * a batch mostly want `rawData`/`toString('pem')`, which need no parse. The base constructor is given a
 * placeholder instead of the DER (so it parses nothing); `asn` is an accessor on this prototype that
 * parses the DER with the library's Certificate schema on first read, so every other getter of
 * X509Certificate behaves exactly as on `new X509Certificate(der)`.
 */
const lazyDer = new WeakMap<object, ArrayBuffer>()
const lazyAsn = new WeakMap<object, Certificate>()
const PLACEHOLDER = Object.freeze({})

class LazyCertificate extends x509.X509Certificate {
  constructor(der: Uint8Array) {
    super(PLACEHOLDER as unknown as Certificate)
    lazyDer.set(this, der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer)
  }

  override get rawData(): ArrayBuffer {
    return lazyDer.get(this) as ArrayBuffer
  }
}

Object.defineProperty(LazyCertificate.prototype, 'asn', {
  configurable: true,
  get(this: object): Certificate | undefined {
    let asn = lazyAsn.get(this)
    if (asn === undefined) {
      const der = lazyDer.get(this)
      // Read by the base constructor (for its no-op onInit) before the DER is attached.
      if (der === undefined) return undefined
      asn = AsnConvert.parse(der, Certificate)
      lazyAsn.set(this, asn)
    }
    return asn
  },
  set(this: object, value: unknown) {
    if (value !== PLACEHOLDER) lazyAsn.set(this, value as Certificate)
  },
})

/**
 * The lean path (issue #5): the TBSCertificate is written straight from DER pieces — the extensions'
 * own DER, the SPKI as given, the names' DER, the signature AlgorithmIdentifier encoded once per
 * scheme by @peculiar/x509 — instead of parsing each piece back into schema objects, serialising the
 * TBS twice and parsing the finished certificate as X509CertificateGenerator does. The signature is
 * then checked over the TBS bytes in hand with the issuer key imported once per signer. The output is
 * byte for byte what the generator makes (test/issuance-fast-path.test.ts compares the two).
 */
async function signLean(template: CertificateTemplate, signer: Signer): Promise<Uint8Array> {
  const scheme = schemeInfo(signer)
  const tbs = encodeTbs(template, scheme.algorithmDer)
  const raw = await signer.sign(tbs)
  const signature = scheme.ecdsa ? ecdsaDer(raw) : raw
  if (!verifyOver(tbs, signature, scheme, signer.spki)) throw mismatch(signer)
  return wrap(0x30, [tbs, scheme.algorithmDer, bitString(signature)])
}

interface SchemeInfo {
  algorithmDer: Uint8Array
  ecdsa: boolean
  pss: boolean
  hash: string
  saltLength?: number
}

const schemeCache = new Map<string, SchemeInfo>()
function schemeInfo(signer: Signer): SchemeInfo {
  let info = schemeCache.get(signer.scheme)
  if (info === undefined) {
    const algorithm = webCryptoAlgorithm(signer.scheme)
    const asn = new x509.AlgorithmProvider().toAsnAlgorithm(algorithm)
    info = {
      algorithmDer: new Uint8Array(AsnConvert.serialize(asn)),
      ecdsa: algorithm.name === 'ECDSA',
      pss: algorithm.name === 'RSA-PSS',
      hash: `sha${signer.scheme.slice(2)}`,
      saltLength: algorithm.saltLength,
    }
    schemeCache.set(signer.scheme, info)
  }
  return info
}

const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02)

function encodeTbs(t: CertificateTemplate, algorithmDer: Uint8Array): Buffer {
  if (t.extensions.length === 0) throw new Error('a certificate without extensions is not made here')
  const extensions = t.extensions.map((e) => new Uint8Array(e.rawData))
  return wrap(0x30, [
    VERSION_3,
    serialDer(t.serial),
    algorithmDer,
    nameDer(t.issuer),
    wrap(0x30, [timeDer(t.notBefore), timeDer(t.notAfter)]),
    nameDer(t.subject),
    t.spki,
    wrap(0xa3, [wrap(0x30, extensions)]),
  ])
}

/** INTEGER of a positive serial, as the generator writes it (minimal octets, 0x00 before a high bit). */
function serialDer(serial: bigint): Buffer {
  if (serial <= 0n) throw new Error('the serial must be positive')
  const bytes = Buffer.from(serialHexForX509(serial), 'hex')
  return bytes[0]! > 0x7f ? wrap(0x02, [Uint8Array.of(0), bytes]) : wrap(0x02, [bytes])
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050, whole seconds. */
function timeDer(d: Date): Buffer {
  const ms = d.getTime()
  if (!Number.isFinite(ms) || ms % 1000 !== 0) throw new Error('certificate times are whole seconds')
  const year = d.getUTCFullYear()
  if (year < 1950 || year > 9999) throw new Error('certificate time out of range')
  const two = (n: number) => String(n).padStart(2, '0')
  const rest =
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    'Z'
  return year < 2050
    ? wrap(0x17, [Buffer.from(two(year % 100) + rest, 'latin1')])
    : wrap(0x18, [Buffer.from(String(year) + rest, 'latin1')])
}

/** A raw r‖s ECDSA signature as DER Ecdsa-Sig-Value (exported for the tests). */
export function ecdsaDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error('an ECDSA signature is r‖s of equal sizes')
  const half = raw.length / 2
  return wrap(0x30, [derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))])
}

function derInteger(unsigned: Uint8Array): Buffer {
  let i = 0
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++
  const v = unsigned.subarray(i)
  return v[0]! > 0x7f ? wrap(0x02, [Uint8Array.of(0), v]) : wrap(0x02, [v])
}

/**
 * Public keys imported by node:crypto, per SPKI: an issuer's key is imported once, not once per
 * certificate. Keyed by the SPKI's bytes (base64), bounded so a long-lived process cannot grow it.
 */
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_MAX = 64
function publicKeyOf(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64')
  let key = keyCache.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string)
    keyCache.set(id, key)
  }
  return key
}

function verifyOver(
  tbs: Uint8Array,
  signature: Uint8Array,
  alg: { hash: string; pss: boolean; saltLength?: number },
  spki: Uint8Array,
): boolean {
  try {
    const key = publicKeyOf(spki)
    if (alg.pss) {
      return nodeVerify(
        alg.hash,
        tbs,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength },
        signature,
      )
    }
    return nodeVerify(alg.hash, tbs, key, signature)
  } catch {
    return false
  }
}

/** Verifies a certificate's or CRL's outer signature with a public key, using node:crypto. */
export function verifiesWith(der: ArrayBuffer, issuerSpki: Uint8Array): boolean {
  // Certificate and CertificateList share the outer shape: SEQUENCE { tbs, algorithm, signature }.
  const parsed = parseSigned(new Uint8Array(der))
  const alg = parsed.algorithm
  return verifyOver(
    parsed.tbs,
    parsed.signature,
    { hash: alg.hash, pss: alg.name === 'RSA-PSS', saltLength: alg.saltLength },
    issuerSpki,
  )
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
