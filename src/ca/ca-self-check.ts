/**
 * The CA checks itself before it signs anything: the root is a valid self-signed CA, and the
 * intermediate is a different certificate, issued and signed by that root, allowed to issue, and
 * valid now. What must hold is what `openssl verify -x509_strict -check_ss_sig` demands of the chain
 * a leaf will be verified against; checking it before the signature means a broken ca.yml costs no
 * Key Vault signature and leaves no certificate behind that nobody can verify.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { certificateNames, sameName } from './chain-verification.js'
import { verifiesWith } from './certificate.js'
import { CaError } from './errors.js'

export interface CaCertificateFile {
  certificate: x509.X509Certificate
  /** The file ca.yml names for it, for messages (e.g. intermediateCA/certs/intermediate.cert.pem). */
  file: string
}

export interface CaSelfCheckInput {
  root: CaCertificateFile
  /** Absent when only the root signs (the root's CRL, a new intermediate). */
  intermediate?: CaCertificateFile
  now: Date
}

/** Throws the first problem found, root first: nothing issued under a broken root can verify. */
export function checkCaCertificates(input: CaSelfCheckInput): void {
  const { root, intermediate, now } = input
  checkRoot(root)
  checkMayIssue(root, 'root', 1)
  checkValidity(root, 'root', now)
  if (intermediate === undefined) return
  checkIsIntermediate(intermediate, root)
  checkSignedByRoot(intermediate, root)
  checkMayIssue(intermediate, 'intermediate', 0)
  checkValidity(intermediate, 'intermediate', now)
}

function checkRoot(root: CaCertificateFile): void {
  const { certificate: cert, file } = root
  const names = certificateNames(cert)
  if (!sameName(names.issuer, names.subject)) {
    throw new CaError(
      'ca.root_not_self_signed',
      `the root certificate ${cert.subject} is not self-signed (issued by ${cert.issuer}): ` +
        'root.certificate in ca.yml must name the self-signed root',
      { file },
    )
  }
  if (!verifiesWith(cert.rawData, spkiOf(cert))) {
    throw new CaError(
      'ca.root_not_self_signed',
      `the self-signature of the root certificate ${cert.subject} does not verify: the file is damaged or forged`,
      { file },
    )
  }
}

function checkIsIntermediate(intermediate: CaCertificateFile, root: CaCertificateFile): void {
  const { certificate: cert, file } = intermediate
  const sameCertificate = Buffer.from(cert.rawData).equals(Buffer.from(root.certificate.rawData))
  if (sameCertificate || Buffer.from(spkiOf(cert)).equals(Buffer.from(spkiOf(root.certificate)))) {
    throw new CaError(
      'ca.not_intermediate',
      `ca.yml names the root ${sameCertificate ? 'certificate' : 'key'} as the intermediate ` +
        `(intermediate.certificate = ${file}, root.certificate = ${root.file}): leaves must be issued by ` +
        'an intermediate with its own key, signed by the root',
      { file },
    )
  }
  const names = certificateNames(cert)
  if (sameName(names.issuer, names.subject) && verifiesWith(cert.rawData, spkiOf(cert))) {
    throw new CaError(
      'ca.not_intermediate',
      `the intermediate ${cert.subject} is self-signed, a root of its own: ` +
        `intermediate.certificate must be a certificate signed by the root ${root.certificate.subject}`,
      { file },
    )
  }
}

function checkSignedByRoot(intermediate: CaCertificateFile, root: CaCertificateFile): void {
  const { certificate: cert, file } = intermediate
  const fix = `intermediate.certificate must be signed by the root in ${root.file}`
  if (!sameName(certificateNames(cert).issuer, certificateNames(root.certificate).subject)) {
    throw new CaError(
      'ca.not_signed_by_root',
      `the intermediate was issued by ${cert.issuer}, not by the root ${root.certificate.subject}: ${fix}`,
      { file },
    )
  }
  const aki = akiOf(cert)
  const ski = skiOf(root.certificate)
  if (aki === undefined) {
    throw new CaError(
      'ca.not_signed_by_root',
      'the intermediate has no authority key identifier (openssl verify -x509_strict refuses it): ' +
        'reissue it with authorityKeyIdentifier = keyid',
      { file },
    )
  }
  if (ski !== undefined && aki !== ski) {
    throw new CaError(
      'ca.not_signed_by_root',
      `the intermediate names another key as its issuer: its authority key identifier ${aki} is not ` +
        `the root's subject key identifier ${ski}: ${fix}`,
      { file },
    )
  }
  if (!verifiesWith(cert.rawData, spkiOf(root.certificate))) {
    throw new CaError(
      'ca.not_signed_by_root',
      `the intermediate's signature does not verify with the root's key: ${fix}`,
      { file },
    )
  }
}

/** RFC 5280 §6.1.4 with -x509_strict: critical CA:TRUE, keyCertSign and cRLSign, key ids, pathlen. */
function checkMayIssue(ca: CaCertificateFile, role: 'root' | 'intermediate', casBelow: number): void {
  const { certificate: cert, file } = ca
  const refuse = (what: string) =>
    new CaError(
      'ca.not_a_ca',
      `the ${role} certificate ${cert.subject} may not issue certificates: ${what}; reissue it with the ` +
        `CA extensions (basicConstraints = critical, CA:true; keyUsage = keyCertSign, cRLSign)`,
      { file },
    )
  const bc = cert.getExtension(x509.BasicConstraintsExtension)
  if (bc === null || !bc.ca) throw refuse('basicConstraints is not CA:TRUE')
  if (!bc.critical) throw refuse('basicConstraints is not critical')
  if (bc.pathLength !== undefined && bc.pathLength < casBelow) {
    throw refuse(`its pathlen ${bc.pathLength} allows no intermediate below it`)
  }
  const ku = cert.getExtension(x509.KeyUsagesExtension)
  if (ku === null) throw refuse('it has no keyUsage')
  const missing = (
    [
      ['keyCertSign', x509.KeyUsageFlags.keyCertSign],
      ['cRLSign', x509.KeyUsageFlags.cRLSign],
    ] as const
  )
    .filter(([, flag]) => (ku.usages & flag) === 0)
    .map(([name]) => name)
  if (missing.length) throw refuse(`its keyUsage lacks ${missing.join(' and ')}`)
  if (skiOf(cert) === undefined) {
    throw refuse('it has no subject key identifier')
  }
}

function checkValidity(ca: CaCertificateFile, role: 'root' | 'intermediate', now: Date): void {
  const { certificate: cert, file } = ca
  if (cert.notBefore.getTime() > now.getTime()) {
    throw new CaError(
      'ca.not_yet_valid',
      `the ${role} certificate ${cert.subject} is not valid before ${isoSeconds(cert.notBefore)}: ` +
        `what it signed now would start before its issuer; wait, or check this machine's clock`,
      { file },
    )
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    const fix = role === 'root' ? 'make a new root' : 'rotate it (mtls-ca rotate-intermediate)'
    throw new CaError(
      'ca.expired',
      `the ${role} certificate ${cert.subject} expired on ${isoSeconds(cert.notAfter)}: ${fix}`,
      { file },
    )
  }
}

function spkiOf(cert: x509.X509Certificate): Uint8Array {
  return new Uint8Array(cert.publicKey.rawData)
}

function akiOf(cert: x509.X509Certificate): string | undefined {
  return keyId(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId)
}

function skiOf(cert: x509.X509Certificate): string | undefined {
  return keyId(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId)
}

function keyId(hex: string | undefined): string | undefined {
  return hex === undefined || hex === '' ? undefined : hex.toLowerCase()
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
