/**
 * Lint of a certificate template before it is signed: the DESIGN.md rules that must hold whatever the
 * profile or configuration said. A lint failure is a bug in mtls-ca or a broken config, never the
 * requester's fault, so it stops issuance with `lint.failed` and every finding listed.
 */
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  BasicConstraints,
  KeyUsage,
  KeyUsageFlags,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509'
import { CaError } from './errors.js'
import type { CertificateTemplate } from './certificate.js'

const MAX_SERIAL = (1n << 159n) - 1n

function findings(template: CertificateTemplate, issuerNotAfter: Date | undefined): string[] {
  const out: string[] = []
  const t = template
  if (t.serial <= 0n || t.serial > MAX_SERIAL) out.push('serial must be positive and fit in 20 octets')
  if (!(t.notBefore < t.notAfter)) out.push('notBefore must be before notAfter')
  if (issuerNotAfter && t.notAfter > issuerNotAfter) out.push("notAfter is after the issuer's notAfter")
  if (t.notAfter.getUTCFullYear() > 9999) out.push('notAfter is past 9999')
  const ids = t.extensions.map((e) => e.type)
  const dup = ids.find((id, i) => ids.indexOf(id) !== i)
  if (dup) out.push(`extension ${dup} appears twice`)
  return out
}

function extension(template: CertificateTemplate, oid: string) {
  return template.extensions.find((e) => e.type === oid)
}

function basic(template: CertificateTemplate): BasicConstraints | undefined {
  const e = extension(template, id_ce_basicConstraints)
  return e ? AsnConvert.parse(e.value, BasicConstraints) : undefined
}

function usages(template: CertificateTemplate): number {
  const e = extension(template, id_ce_keyUsage)
  return e ? AsnConvert.parse(e.value, KeyUsage).toNumber() : 0
}

function fail(kind: string, list: string[]): void {
  if (list.length)
    throw new CaError(
      'lint.failed',
      `the ${kind} certificate about to be signed is wrong: ${list.join('; ')}`,
    )
}

export function lintLeaf(
  template: CertificateTemplate,
  opts: { issuerNotAfter: Date; requireSan: boolean },
): void {
  const out = findings(template, opts.issuerNotAfter)
  const bc = basic(template)
  if (!bc || bc.cA) out.push('a leaf must have basicConstraints CA:FALSE')
  const ku = usages(template)
  if (!ku) out.push('a leaf must have keyUsage')
  if (ku & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign))
    out.push('a leaf must not have keyCertSign or cRLSign')
  if (!extension(template, id_ce_extKeyUsage)) out.push('a leaf must have extendedKeyUsage')
  if (!extension(template, id_ce_authorityKeyIdentifier)) out.push('a leaf must have authorityKeyIdentifier')
  if (!extension(template, id_ce_subjectKeyIdentifier)) out.push('a leaf must have subjectKeyIdentifier')
  if (opts.requireSan && !extension(template, id_ce_subjectAltName)) out.push('this profile requires a SAN')
  if (template.subject.length === 0) out.push('a leaf must have a subject')
  fail('leaf', out)
}

export function lintCa(
  template: CertificateTemplate,
  opts: { selfSigned: boolean; pathLength: number | undefined; issuerNotAfter?: Date },
): void {
  const out = findings(template, opts.issuerNotAfter)
  const bc = basic(template)
  const e = extension(template, id_ce_basicConstraints)
  if (!bc || !bc.cA || !e?.critical) out.push('a CA must have critical basicConstraints CA:TRUE')
  if (bc && bc.pathLenConstraint !== opts.pathLength)
    out.push(`pathlen must be ${opts.pathLength ?? 'absent'}`)
  const ku = usages(template)
  if ((ku & KeyUsageFlags.keyCertSign) === 0 || (ku & KeyUsageFlags.cRLSign) === 0) {
    out.push('a CA must have keyUsage keyCertSign and cRLSign')
  }
  if (!extension(template, id_ce_subjectKeyIdentifier)) out.push('a CA must have subjectKeyIdentifier')
  if (!opts.selfSigned && !extension(template, id_ce_authorityKeyIdentifier)) {
    out.push('a certificate signed by another must have authorityKeyIdentifier')
  }
  if (template.subject.length === 0) out.push('a CA must have a subject')
  fail('CA', out)
}
