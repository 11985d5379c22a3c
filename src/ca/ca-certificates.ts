/**
 * The two CA profiles of the tutorial, fixed by rule: the root (v3_ca: self-signed, CA:TRUE,
 * keyCertSign + cRLSign) and the intermediate (v3_intermediate_ca: CA:TRUE pathlen:0, digitalSignature +
 * keyCertSign + cRLSign, signed by the root). Both get SKI and AKI; the intermediate never outlives the root.
 */
import type * as x509 from '@peculiar/x509'
import type { DistinguishedName } from './distinguished-name.js'
import { akiExtension, basicConstraints, keyUsage, skiExtension, subjectKeyIdentifier } from './extensions.js'
import { signCertificate, type CertificateTemplate } from './certificate.js'
import { lintCa } from './lint.js'
import type { Signer } from './signer.js'
import type { Issuer } from './issue.js'

export const ROOT_DAYS = 7300
export const INTERMEDIATE_DAYS = 3650

function validity(now: Date, days: number, limit?: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000)
  const wanted = new Date(notBefore.getTime() + days * 86_400_000)
  return { notBefore, notAfter: limit && wanted > limit ? limit : wanted }
}

export async function createRootCertificate(opts: {
  subject: DistinguishedName
  signer: Signer
  serial: bigint
  now: Date
  days?: number
}): Promise<x509.X509Certificate> {
  const keyId = subjectKeyIdentifier(opts.signer.spki)
  const template: CertificateTemplate = {
    serial: opts.serial,
    subject: opts.subject,
    issuer: opts.subject,
    ...validity(opts.now, opts.days ?? ROOT_DAYS),
    spki: opts.signer.spki,
    extensions: [
      skiExtension(keyId),
      akiExtension(keyId),
      basicConstraints(true),
      keyUsage(['keyCertSign', 'cRLSign']),
    ],
  }
  lintCa(template, { selfSigned: true, pathLength: undefined })
  return signCertificate(template, opts.signer)
}

export async function createIntermediateCertificate(opts: {
  subject: DistinguishedName
  /** The intermediate's public key (from its signer, or from a Key Vault CSR). */
  spki: Uint8Array
  root: Issuer
  serial: bigint
  now: Date
  days?: number
}): Promise<x509.X509Certificate> {
  const template: CertificateTemplate = {
    serial: opts.serial,
    subject: opts.subject,
    issuer: opts.root.subject,
    ...validity(opts.now, opts.days ?? INTERMEDIATE_DAYS, opts.root.certificate.notAfter),
    spki: opts.spki,
    extensions: [
      skiExtension(subjectKeyIdentifier(opts.spki)),
      akiExtension(opts.root.keyId),
      basicConstraints(true, 0),
      keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
    ],
  }
  lintCa(template, { selfSigned: false, pathLength: 0, issuerNotAfter: opts.root.certificate.notAfter })
  return signCertificate(template, opts.root.signer)
}
