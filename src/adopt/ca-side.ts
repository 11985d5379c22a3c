/**
 * One CA of an adoption (the intermediate, or the root when its configuration is given): its files
 * read through the store and checked, and its ca.yml section, composed from the mapping modules in
 * the order the report lists them.
 */
import type { IndexEntry } from '../ca/index-entry.js'
import type { StateStore } from '../store/state-store.js'
import { caCertificate, checkPrivateKey, signatureScheme, type LoadedCertificate } from './ca-certificate.js'
import { indexEntries, uniqueSubject } from './ca-database.js'
import { inside, type PathBase } from './ca-paths.js'
import { caFiles, caSectionItems, copyExtensionsNote, crlFile, required } from './ca-section.js'
import { at, where } from './config-location.js'
import { readFile, readText } from './file-reads.js'
import type { Findings } from './findings.js'
import { serialMode } from './serial-mode.js'
import { subjectRules } from './subject-policy.js'
import type { ParsedConfig, Role } from './types.js'
import { crlDays } from './validity.js'

export interface AdoptedSide {
  yml: Record<string, unknown>
  dir: string
  certificate: LoadedCertificate
  index: IndexEntry[]
  nextSerial: bigint | undefined
}

export async function adoptSide(
  store: StateStore,
  base: PathBase,
  role: Role,
  p: ParsedConfig,
  f: Findings,
): Promise<AdoptedSide> {
  const { ca } = p
  const files = caFiles(base, p, role, f)
  const { yml, dir, database, serialFile } = files

  // The certificate and its key.
  const certPath = files.certificate
  const certificate = caCertificate(
    p,
    at(p, 'certificate'),
    certPath,
    await readText(store, p, certPath),
    role,
    f,
  )
  yml.certificate = certPath
  f.map(`${role}.certificate`, certPath, where(p, 'certificate'))
  if (ca.private_key === undefined && role === 'root') {
    f.notes.push(
      `${p.source.file}: [${ca.section}] has no private_key: the root key is left out (offline root)`,
    )
  } else {
    const keyPath = inside(base, p, 'private_key', required(p, 'private_key'))
    checkPrivateKey(p, at(p, 'private_key'), keyPath, await readFile(store, p, keyPath), certificate)
    yml.key = `file:${keyPath}`
    f.map(`${role}.key`, `file:${keyPath}`, where(p, 'private_key'))
    yml.signature = signatureScheme(p, role, certificate, f)
  }

  // The database as openssl ca left it.
  const index = indexEntries(p, database, await readText(store, p, database), f)
  const serialText =
    !ca.rand_serial && serialFile !== undefined ? await readText(store, p, serialFile) : undefined
  const serials = serialMode(p, role, serialFile, serialText, index, f)
  yml.serials = serials.serials
  const attrPath = `${database}.attr`
  yml.uniqueSubject = uniqueSubject(p, role, attrPath, await readText(store, p, attrPath), f)

  const rules = subjectRules(p, role, f)
  yml.policy = rules.policy
  yml.preserveDn = rules.preserveDn
  yml.emailInDn = rules.emailInDn

  const crl = crlFile(base, p, role, dir, f)
  yml.crl = { file: crl, days: crlDays(p, role, f) }
  f.map(`${role}.crl.file`, crl, where(p, 'crl', 'crl (not set)'))

  copyExtensionsNote(p, role, f)
  caSectionItems(p, role, f)
  return { yml, dir, certificate, index, nextSerial: serials.nextSerial }
}
