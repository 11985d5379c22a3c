/**
 * Reading a certificate signing request as untrusted input: size, PEM framing, DER structure, the
 * self-signature (proof of possession of the key), the signature hash, and the names in it. Nothing
 * in a CSR is trusted until it has passed here; its requested extensions are only reported, except
 * the SANs, which issuance checks against the allow-list.
 */
import 'reflect-metadata'
import { verify as nodeVerify, constants } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificationRequest } from '@peculiar/asn1-csr'
import {
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
import { readTlv } from './der-writer.js'
import { importPublicKey } from './public-key.js'
import { CaError } from './errors.js'
import { parseSubjectAlternativeName } from './subject-alt-name.js'
import { fromAsnName, hasControlCharacters, shortName, type DistinguishedName } from './distinguished-name.js'

export const MAX_CSR_BYTES = 64 * 1024

export interface ParsedCsr {
  subject: DistinguishedName
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array
  /** SubjectAltName GeneralNames the CSR asked for (unchecked). */
  requestedSan: SubjectAlternativeName | undefined
  /** Extensions asked for that will be ignored, e.g. "basicConstraints CA:TRUE". */
  ignoredRequests: string[]
  signatureAlgorithm: string
  der: Uint8Array
}

// Signature algorithm OIDs → the hash node:crypto verifies with; null for Ed25519 (no prehash).
const SIGNATURE_HASHES: Record<string, { hash: string | null; name: string }> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', name: 'sha256WithRSAEncryption' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', name: 'sha384WithRSAEncryption' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', name: 'sha512WithRSAEncryption' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', name: 'ecdsa-with-SHA256' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', name: 'ecdsa-with-SHA384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', name: 'ecdsa-with-SHA512' },
  '1.3.101.112': { hash: null, name: 'Ed25519' },
  '1.2.840.113549.1.1.10': { hash: 'pss', name: 'RSASSA-PSS' },
}

const WEAK_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsaWithSHA1',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
}

const HASH_OIDS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
}

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

  const algOid = req.signatureAlgorithm.algorithm
  const weak = WEAK_SIGNATURES[algOid]
  if (weak) {
    throw new CaError('csr.weak_signature', `the CSR is signed with ${weak}; sign it with SHA-256 or better`)
  }
  const alg = SIGNATURE_HASHES[algOid]
  if (!alg) throw new CaError('csr.weak_signature', `unsupported CSR signature algorithm ${algOid}`)

  // The DER is canonical (checked above), so the info and the SPKI are slices of it: no re-encoding.
  const parts = infoAndSpki(der)
  const spki = parts.spki
  verifySelfSignature(req, parts.info, spki, alg.hash)

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
  return { subject, spki, requestedSan: san, ignoredRequests: ignored, signatureAlgorithm: alg.name, der }
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

function verifySelfSignature(
  req: CertificationRequest,
  tbs: Uint8Array,
  spki: Uint8Array,
  hash: string | null,
): void {
  const signature = new Uint8Array(req.signature)
  let ok: boolean
  try {
    const key = importPublicKey(spki)
    if (hash === 'pss') {
      const params = AsnConvert.parse(req.signatureAlgorithm.parameters as ArrayBuffer, RsaSaPssParams)
      const pssHash = HASH_OIDS[params.hashAlgorithm.algorithm]
      if (!pssHash)
        throw new CaError('csr.weak_signature', 'the CSR uses RSASSA-PSS with an unsupported hash')
      ok = nodeVerify(
        pssHash,
        tbs,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
        signature,
      )
    } else {
      ok = nodeVerify(hash, tbs, key, signature)
    }
  } catch (cause) {
    if (cause instanceof CaError) throw cause
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
