/**
 * `mtls-ca list`: the intermediate's certificates as index.txt records them, enriched from the
 * certificate files (SANs, profile by EKU, name under certs/).
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { parseIndexTime } from '../ca/index-time.js'
import { type IndexEntry } from '../ca/index-entry.js'
import { serialFromHex } from '../ca/serial-number.js'
import { sansFromExtensionValue, formatSan } from '../ca/subject-alt-name.js'
import { EKU_OIDS } from '../ca/profiles.js'
import { CERTS_DIR, databaseFiles, newCertPath, type DatabaseFiles } from '../config/layout.js'
import type { StateStore } from '../store/state-store.js'
import { loadCa, loadDatabase, readText } from './ca-state.js'

export interface ListedCertificate {
  status: 'valid' | 'revoked' | 'expired'
  serial: string
  subject: string
  name: string | undefined
  sans: string[]
  profile: string | undefined
  notAfter: string
  revocation: string | undefined
}

function profileOf(cert: x509.X509Certificate): string | undefined {
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)
  if (!eku) return undefined
  const usages = eku.usages.map(String)
  const server = usages.includes(EKU_OIDS.serverAuth as string)
  const client = usages.includes(EKU_OIDS.clientAuth as string)
  return server && client ? 'server-client' : server ? 'server' : client ? 'client' : usages.join(',')
}

export async function listCertificates(store: StateStore, now: Date): Promise<ListedCertificate[]> {
  // Under the lock: a consistent view, and an interrupted commit is recovered first.
  return store.locked(() => list(store, now))
}

async function list(store: StateStore, now: Date): Promise<ListedCertificate[]> {
  const ca = await loadCa(store)
  const files = databaseFiles(ca.config.intermediate)
  const db = await loadDatabase(store, ca.config.intermediate)
  const names = new Map<bigint, string>()
  for (const file of await store.list(CERTS_DIR)) {
    if (!file.endsWith('.cert.pem')) continue
    const pem = await readText(store, `${CERTS_DIR}/${file}`)
    try {
      if (pem)
        names.set(
          serialFromHex(new x509.X509Certificate(pem).serialNumber),
          file.slice(0, -'.cert.pem'.length),
        )
    } catch {
      // a file that is not a certificate is not ours to list
    }
  }
  const out: ListedCertificate[] = []
  for (const entry of db.index) out.push(await describe(store, files, entry, names, now))
  return out
}

async function describe(
  store: StateStore,
  files: DatabaseFiles,
  entry: IndexEntry,
  names: Map<bigint, string>,
  now: Date,
): Promise<ListedCertificate> {
  const expired = parseIndexTime(entry.expiry) <= now
  const status = entry.status === 'R' ? 'revoked' : entry.status === 'E' || expired ? 'expired' : 'valid'
  let sans: string[] = []
  let profile: string | undefined
  const pem = await readText(store, newCertPath(files, entry.serial))
  if (pem) {
    try {
      const cert = new x509.X509Certificate(pem)
      const san = cert.getExtension('2.5.29.17')
      if (san) sans = sansFromExtensionValue(san.value).map(formatSan)
      profile = profileOf(cert)
    } catch {
      // listed from index.txt alone
    }
  }
  return {
    status,
    serial: entry.serial,
    subject: entry.subject,
    name: names.get(serialFromHex(entry.serial)),
    sans,
    profile,
    notAfter: parseIndexTime(entry.expiry).toISOString(),
    revocation: entry.revocation || undefined,
  }
}
