/**
 * Reading a certificate signing request as untrusted input: size, PEM framing, DER structure, the
 * self-signature (proof of possession of the key), the signature hash, and the names in it. Nothing
 * in a CSR is trusted until it has passed here; its requested extensions are only reported, except
 * the SANs, which issuance checks against the allow-list. How the self-signature is checked is
 * csr-signature.ts.
 */
import 'reflect-metadata'
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
import { readTlv } from './der-bytes.js'
import { CaError } from './errors.js'
import { describeKey, type KeyInfo } from './key-policy.js'
import { parseSubjectAlternativeName } from './subject-alt-name.js'
import { fromAsnName, hasControlCharacters, shortName, type DistinguishedName } from './distinguished-name.js'
import { signatureAlgorithmFor, verifySelfSignature } from './csr-signature.js'

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
