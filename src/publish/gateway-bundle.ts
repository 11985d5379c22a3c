/**
 * The chain bundle as Application Gateway judges it: one PEM file holding exactly one root plus the
 * intermediates under it, CA certificates only, no private key, at most 25 KB. The bundle is checked
 * here before any PUT, so that a gateway is never sent a file it would refuse (or, worse, accept and
 * then trust the wrong thing): every block a CERTIFICATE, every certificate a CA, one self-signed root,
 * every other certificate verifying up to it, nothing expired, and a warning when the current
 * intermediate is within 30 days of its notAfter. The PEM text is input like any other: it is built
 * from files in the CA repository, which a pull request can change.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { createHash } from 'node:crypto'
import { certificateNames, sameName } from '../ca/chain-verification.js'
import { verifiesWith } from '../ca/certificate.js'
import { CaError } from '../ca/errors.js'

/** The gateway's limit for one trusted client certificate file. */
export const MAX_BUNDLE_BYTES = 25 * 1024
/** An intermediate this close to its notAfter gets a warning: clients will soon stop connecting. */
export const EXPIRY_WARNING_DAYS = 30

export interface BundleCertificate {
  /** RFC 4514 form. */
  subject: string
  /** SHA-256 of the DER, upper-case hex in pairs separated by ':' (as `openssl x509 -fingerprint`). */
  fingerprint: string
  notAfter: Date
  role: 'root' | 'intermediate'
}

export interface CheckedBundle {
  pem: string
  /** In the file's order. */
  certificates: BundleCertificate[]
  warnings: string[]
}

export function sha256Fingerprint(der: ArrayBuffer | Uint8Array): string {
  const hex = createHash('sha256').update(new Uint8Array(der)).digest('hex').toUpperCase()
  return hex.match(/../g)!.join(':')
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g

/**
 * The PEM blocks of a text, refusing anything the gateway would not take: a private key, another kind
 * of block, or text outside the blocks (which could hide one). `what` names the text in messages.
 */
export function pemBlocks(pem: string, what: string): { label: string; der: Buffer }[] {
  if (/PRIVATE KEY/.test(pem)) {
    throw new CaError(
      'publish.bundle_invalid',
      `${what} contains a private key; expected CA certificates only`,
    )
  }
  const blocks: { label: string; der: Buffer }[] = []
  let end = 0
  for (const m of pem.matchAll(BLOCK)) {
    if (pem.slice(end, m.index).trim() !== '') {
      throw new CaError(
        'publish.bundle_invalid',
        `${what} has text outside its PEM blocks; expected PEM CERTIFICATE blocks only`,
      )
    }
    end = m.index + m[0].length
    const label = m[1]!
    if (label !== 'CERTIFICATE') {
      throw new CaError(
        'publish.bundle_invalid',
        `${what} contains a PEM ${label} block; expected CERTIFICATE blocks only`,
      )
    }
    blocks.push({ label, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') })
  }
  if (pem.slice(end).trim() !== '') {
    throw new CaError(
      'publish.bundle_invalid',
      `${what} has text outside its PEM blocks; expected PEM CERTIFICATE blocks only`,
    )
  }
  if (blocks.length === 0) {
    throw new CaError('publish.bundle_invalid', `${what} holds no certificate`)
  }
  return blocks
}

function parseDer(der: Buffer, what: string, n: number): x509.X509Certificate {
  try {
    return new x509.X509Certificate(der)
  } catch (cause) {
    throw new CaError(
      'publish.bundle_invalid',
      `${what}: certificate ${n} is not a valid X.509 certificate`,
      {
        cause,
      },
    )
  }
}

export interface BundleCheckOptions {
  now: Date
  /** The current intermediate's fingerprint: it alone gets the near-expiry warning. */
  currentIntermediate?: string | undefined
  /** Names the bundle in messages. */
  what?: string
}

/** One file of the bundle: its text and, for messages, where it came from. */
export interface BundlePart {
  pem: string
  file?: string | undefined
}

/**
 * Checks a bundle as the gateway will; throws `publish.bundle_invalid` naming the first problem and,
 * when the bundle was assembled from files, the file that holds it.
 */
export function checkGatewayBundle(
  input: string | readonly BundlePart[],
  options: BundleCheckOptions,
): CheckedBundle {
  const what = options.what ?? 'the chain bundle'
  const parts = typeof input === 'string' ? [{ pem: input }] : input
  const pem = parts.map((p) => (p.pem.endsWith('\n') ? p.pem : p.pem + '\n')).join('')
  const size = Buffer.byteLength(pem, 'utf8')
  if (size > MAX_BUNDLE_BYTES) {
    throw new CaError(
      'publish.bundle_invalid',
      `${what} is ${size} bytes; Application Gateway takes at most ${MAX_BUNDLE_BYTES} (25 KB) per trusted client certificate`,
    )
  }
  const parsed = parts.flatMap((part) => {
    const at = (e: unknown) => (e instanceof CaError && part.file ? e.withFile(part.file) : e)
    try {
      return pemBlocks(part.pem, part.file ? `this file of ${what}` : what).map((b, i) => {
        const cert = parseDer(b.der, part.file ? `this file of ${what}` : what, i + 1)
        const names = certificateNames(cert)
        const spki = new Uint8Array(cert.publicKey.rawData)
        const selfSigned = sameName(names.issuer, names.subject) && verifiesWith(cert.rawData, spki)
        return {
          cert,
          names,
          spki,
          selfSigned,
          fingerprint: sha256Fingerprint(cert.rawData),
          file: part.file,
        }
      })
    } catch (e) {
      throw at(e)
    }
  })
  const refuse = (message: string, p?: { file?: string | undefined }) =>
    new CaError('publish.bundle_invalid', message, p?.file ? { file: p.file } : {})

  const seen = new Set<string>()
  for (const p of parsed) {
    const bc = p.cert.getExtension(x509.BasicConstraintsExtension)
    if (bc === null || !bc.ca) {
      throw refuse(
        `${what} contains ${p.cert.subject}, which is not a CA certificate (basicConstraints CA:TRUE missing); ` +
          'the gateway takes CA certificates only, never a leaf',
        p,
      )
    }
    if (seen.has(p.fingerprint)) throw refuse(`${what} contains ${p.cert.subject} twice`, p)
    seen.add(p.fingerprint)
  }
  const roots = parsed.filter((p) => p.selfSigned)
  if (roots.length !== 1) {
    const listed = roots.map((r) => `${r.cert.subject}${r.file ? ` in ${r.file}` : ''}`).join('; ')
    throw refuse(
      `${what} has ${roots.length} root certificates (${listed || 'none'}); ` +
        'the gateway takes exactly one root per trusted client certificate',
    )
  }
  const root = roots[0]!
  // Every other certificate must lead up to the root through certificates of the bundle.
  for (const p of parsed) {
    let at = p
    for (let depth = 0; at !== root; depth++) {
      const issuer = parsed.find(
        (q) =>
          q !== at && sameName(q.names.subject, at.names.issuer) && verifiesWith(at.cert.rawData, q.spki),
      )
      if (issuer === undefined || depth >= parsed.length) {
        throw refuse(
          `${what}: ${at.cert.subject} does not chain to the root ${root.cert.subject} (no certificate in the bundle signed it)`,
          at,
        )
      }
      at = issuer
    }
  }

  const warnings: string[] = []
  for (const p of parsed) {
    if (p.cert.notAfter.getTime() <= options.now.getTime()) {
      throw refuse(`${what}: ${p.cert.subject} expired on ${p.cert.notAfter.toISOString()}`, p)
    }
    if (p.cert.notBefore.getTime() > options.now.getTime()) {
      throw refuse(`${what}: ${p.cert.subject} is not valid before ${p.cert.notBefore.toISOString()}`, p)
    }
  }
  const current = parsed.find((p) => p.fingerprint === options.currentIntermediate)
  if (current) {
    const days = (current.cert.notAfter.getTime() - options.now.getTime()) / 86_400_000
    if (days < EXPIRY_WARNING_DAYS) {
      warnings.push(
        `the intermediate ${current.cert.subject} expires on ${current.cert.notAfter.toISOString()} ` +
          `(in ${Math.floor(days)} days): rotate it (mtls-ca rotate-intermediate) and publish again`,
      )
    }
  }
  return {
    pem,
    certificates: parsed.map((p) => ({
      subject: p.cert.subject,
      fingerprint: p.fingerprint,
      notAfter: p.cert.notAfter,
      role: p === root ? 'root' : 'intermediate',
    })),
    warnings,
  }
}

/**
 * The certificates of a bundle read back from a gateway, for comparison only: lenient (a gateway may
 * hold a file that mtls-ca would not write), but it never throws on bad input; what it cannot read is
 * reported as `unreadable`.
 */
export function readGatewayBundle(pem: string): { certificates: BundleCertificate[]; unreadable: boolean } {
  const certificates: BundleCertificate[] = []
  let unreadable = false
  const matches = [...pem.matchAll(BLOCK)]
  for (const m of matches) {
    if (m[1] !== 'CERTIFICATE') continue
    try {
      const cert = new x509.X509Certificate(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'))
      const names = certificateNames(cert)
      certificates.push({
        subject: cert.subject,
        fingerprint: sha256Fingerprint(cert.rawData),
        notAfter: cert.notAfter,
        role: sameName(names.issuer, names.subject) ? 'root' : 'intermediate',
      })
    } catch {
      unreadable = true
    }
  }
  if (matches.length === 0 && pem.trim() !== '') unreadable = true
  return { certificates, unreadable }
}
