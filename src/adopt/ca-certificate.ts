/**
 * A CA's certificate and key as adopt checks them: the certificate file holds a CA certificate of
 * the right kind (a self-signed root, or an intermediate that is not), the key file holds its key,
 * unencrypted, and the key type and `default_md` give the signature scheme ca.yml names.
 */
import 'reflect-metadata'
import { X509Certificate as NodeCertificate, createPrivateKey, type KeyObject } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { CaError } from '../ca/errors.js'
import { where } from './config-location.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

export interface LoadedCertificate {
  path: string
  pem: string
  node: NodeCertificate
  x509: x509.X509Certificate
}

/** The CA certificate in `text` (the file at `path`; undefined when it does not exist). */
export function caCertificate(
  p: ParsedConfig,
  setting: string,
  path: string,
  text: string | undefined,
  role: Role,
  f: Findings,
): LoadedCertificate {
  if (text === undefined) {
    throw new CaError('adopt.ca_invalid', `${setting}: ${path} does not exist`, { file: p.source.file })
  }
  const blocks = pemCertificates(text)
  const first = blocks[0]
  if (first === undefined) {
    throw new CaError('adopt.ca_invalid', `${setting}: ${path} holds no PEM certificate`, {
      file: p.source.file,
    })
  }
  if (blocks.length > 1)
    f.notes.push(`${path} holds ${blocks.length} certificates: the first is the ${role}'s`)
  const cert = loadCertificate(p, setting, path, first)
  const bc = cert.x509.getExtension(x509.BasicConstraintsExtension)
  const ku = cert.x509.getExtension(x509.KeyUsagesExtension)
  if (bc?.ca !== true || (ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0)) {
    throw new CaError(
      'adopt.ca_invalid',
      `${setting}: ${path} is not a CA certificate (${bc?.ca !== true ? 'no basicConstraints CA:TRUE' : 'no keyCertSign'}): ` +
        `${cert.node.subject.replace(/\n/g, ', ')}`,
      { file: p.source.file },
    )
  }
  const selfSigned = isSelfSigned(cert.node)
  if (role === 'root' && !selfSigned) {
    throw new CaError('adopt.ca_invalid', `${setting}: ${path} is not self-signed, so it is not a root`, {
      file: p.source.file,
    })
  }
  if (role === 'intermediate' && selfSigned) {
    throw new CaError(
      'adopt.unsupported',
      `${setting}: ${path} is self-signed: mtls-ca issues from an intermediate under a root, not from a root`,
      { file: p.source.file },
    )
  }
  return cert
}

export function loadCertificate(
  p: ParsedConfig,
  setting: string,
  path: string,
  pem: string,
): LoadedCertificate {
  try {
    return { path, pem, node: new NodeCertificate(pem), x509: new x509.X509Certificate(pem) }
  } catch (cause) {
    throw new CaError('adopt.ca_invalid', `${setting}: ${path} is not a readable certificate`, {
      file: p.source.file,
      cause,
    })
  }
}

/** The key file (`data` undefined: it does not exist) must be readable by mtls-ca and be the certificate's key. */
export function checkPrivateKey(
  p: ParsedConfig,
  setting: string,
  path: string,
  data: Buffer | undefined,
  cert: LoadedCertificate,
): void {
  if (data === undefined) {
    throw new CaError('adopt.ca_invalid', `${setting}: ${path} does not exist`, { file: p.source.file })
  }
  let key: KeyObject
  try {
    key = createPrivateKey(data)
  } catch (cause) {
    const encrypted =
      (cause as { code?: string }).code === 'ERR_MISSING_PASSPHRASE' ||
      /ENCRYPTED/.test(data.toString('latin1'))
    throw encrypted
      ? new CaError(
          'adopt.unsupported',
          `${setting}: ${path} is encrypted; mtls-ca needs the key unencrypted (openssl pkey -in KEY -out KEY, ` +
            'mode 0400, outside git) or in Key Vault',
          { file: p.source.file, cause },
        )
      : new CaError('adopt.ca_invalid', `${setting}: ${path} is not a private key`, {
          file: p.source.file,
          cause,
        })
  }
  let matches: boolean
  try {
    matches = cert.node.checkPrivateKey(key)
  } catch {
    matches = false // a key of another type
  }
  if (!matches) {
    throw new CaError(
      'adopt.ca_invalid',
      `${setting}: ${path} is not the key of the certificate ${cert.path}`,
      {
        file: p.source.file,
      },
    )
  }
}

/** `default_md` and the key type give the signature scheme (openssl ca has no PSS setting of its own). */
export function signatureScheme(p: ParsedConfig, role: Role, cert: LoadedCertificate, f: Findings): string {
  const type = cert.node.publicKey.asymmetricKeyType
  const curve = cert.node.publicKey.asymmetricKeyDetails?.namedCurve
  let prefix: string
  if (type === 'rsa') prefix = 'RS'
  else if (type === 'rsa-pss') prefix = 'PS'
  else if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(curve ?? '')) prefix = 'ES'
  else {
    throw new CaError(
      'adopt.unsupported',
      `${cert.path}: the ${role} key is ${[type, curve].filter(Boolean).join(' ')}; mtls-ca signs with RSA or EC P-256/P-384/P-521 keys`,
      { file: p.source.file },
    )
  }
  const md = p.ca.default_md
  const m = md === undefined ? undefined : /^sha-?(256|384|512)$/i.exec(md)
  let bits = '256'
  if (m?.[1] !== undefined) bits = m[1]
  else if (md === undefined || md === 'default') {
    f.notes.push(`${p.source.file}: default_md ${md ?? 'not set'}: the ${role} signs with SHA-256`)
  } else {
    f.notes.push(
      `${where(p, 'default_md')}: default_md = ${md} is not one mtls-ca signs with: the ${role} signs with SHA-256`,
    )
  }
  const scheme = `${prefix}${bits}`
  f.map(
    `${role}.signature`,
    scheme,
    `${where(p, 'default_md', 'default_md (not set)')} and the ${type} key of ${cert.path}`,
  )
  return scheme
}

export function pemCertificates(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (b) => `${b}\n`,
  )
}

export function isSelfSigned(cert: NodeCertificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey)
}

export function verifiedBy(cert: NodeCertificate, issuer: NodeCertificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    return false
  }
}
