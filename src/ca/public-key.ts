/**
 * Loading a DER SubjectPublicKeyInfo into a node:crypto KeyObject, the fast way for the keys CSRs
 * carry. `createPublicKey({ format: 'der' })` goes through OpenSSL 3's decoder framework, which costs
 * 0.1 ms per key and takes locks that serialise the worker threads checking a batch (issue #5: two
 * threads checked no faster than one). The same key given as a JWK is built from its numbers directly:
 * about 4× faster for RSA, and it scales with the threads. Every CSR's key is loaded once, to verify
 * its self-signature, so this is on the hot path of issuance.
 *
 * Only exact, canonical encodings take the JWK path — RSA with NULL parameters and minimal positive
 * integers, EC on P-256/P-384/P-521 with an uncompressed point, Ed25519 — and they denote the same key
 * either way (the tests compare both loads on real keys). Anything else is handed to the DER decoder
 * unchanged, so what is refused, and how, stays OpenSSL's decision.
 *
 * Loading is not judging: OpenSSL loads an Ed25519 point of small order or an RSA modulus divisible by
 * 3 either way. A key is described (describeKey, which refuses those) before it is loaded here;
 * parseCsr does so before it verifies the self-signature.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { readTlv } from './der-bytes.js'

const hex = (s: string) => Buffer.from(s, 'hex')

/** AlgorithmIdentifier DER → how the BIT STRING's content becomes a JWK. */
const ALGORITHMS: ReadonlyArray<{ der: Buffer; jwk: (key: Uint8Array) => JsonWebKey | undefined }> = [
  { der: hex('300d06092a864886f70d0101010500'), jwk: rsaJwk },
  { der: hex('301306072a8648ce3d020106082a8648ce3d030107'), jwk: (k) => ecJwk(k, 'P-256', 32) },
  { der: hex('301006072a8648ce3d020106052b81040022'), jwk: (k) => ecJwk(k, 'P-384', 48) },
  { der: hex('301006072a8648ce3d020106052b81040023'), jwk: (k) => ecJwk(k, 'P-521', 66) },
  { der: hex('300506032b6570'), jwk: (k) => (k.length === 32 ? okp(k) : undefined) },
]

/** The key of `spki`; throws what node:crypto throws for a key it cannot load. */
export function importPublicKey(spki: Uint8Array): KeyObject {
  const jwk = canonicalJwk(spki)
  if (jwk !== undefined) return createPublicKey({ key: jwk, format: 'jwk' })
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
}

/** The JWK of a canonical SPKI this module handles, or undefined (then the DER decoder decides). */
export function canonicalJwk(spki: Uint8Array): JsonWebKey | undefined {
  try {
    const outer = readTlv(spki, 0)
    if (outer.tag !== 0x30 || outer.end !== spki.length) return undefined
    const alg = readTlv(spki, outer.contentStart, outer.end)
    const bits = readTlv(spki, alg.end, outer.end)
    if (bits.tag !== 0x03 || bits.end !== outer.end || spki[bits.contentStart] !== 0) return undefined
    const algDer = spki.subarray(alg.start, alg.end)
    const known = ALGORITHMS.find((a) => a.der.equals(algDer))
    return known?.jwk(spki.subarray(bits.contentStart + 1, bits.end))
  } catch {
    return undefined // not even well-formed TLVs: the DER decoder says why
  }
}

function rsaJwk(key: Uint8Array): JsonWebKey | undefined {
  const seq = readTlv(key, 0)
  if (seq.tag !== 0x30 || seq.end !== key.length) return undefined
  const n = readTlv(key, seq.contentStart, seq.end)
  const e = readTlv(key, n.end, seq.end)
  if (e.end !== seq.end) return undefined
  const nBytes = positiveInteger(key, n)
  const eBytes = positiveInteger(key, e)
  if (nBytes === undefined || eBytes === undefined) return undefined
  return { kty: 'RSA', n: base64url(nBytes), e: base64url(eBytes) }
}

/** The magnitude of a DER INTEGER that is positive and minimally encoded, else undefined. */
function positiveInteger(der: Uint8Array, t: { tag: number; contentStart: number; end: number }) {
  if (t.tag !== 0x02 || t.end <= t.contentStart) return undefined
  const first = der[t.contentStart] as number
  if (first >= 0x80) return undefined // negative
  if (first === 0) {
    // A leading zero only where the next octet has its top bit set; zero itself is no key.
    if (t.end - t.contentStart < 2 || (der[t.contentStart + 1] as number) < 0x80) return undefined
    return der.subarray(t.contentStart + 1, t.end)
  }
  return der.subarray(t.contentStart, t.end)
}

function ecJwk(point: Uint8Array, crv: string, size: number): JsonWebKey | undefined {
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) return undefined // compressed or odd: DER decoder
  return {
    kty: 'EC',
    crv,
    x: base64url(point.subarray(1, 1 + size)),
    y: base64url(point.subarray(1 + size)),
  }
}

function okp(key: Uint8Array): JsonWebKey {
  return { kty: 'OKP', crv: 'Ed25519', x: base64url(key) }
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}
