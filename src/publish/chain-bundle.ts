/**
 * Which CA certificates the gateway must trust, read from the CA repository: the current intermediate,
 * every previous intermediate (`rotate-intermediate`, ca.yml `intermediate.previous`) that still has
 * unexpired, unrevoked certificates — so a rotation never locks out clients whose certificates the
 * old intermediate issued — and the root, last. Each certificate is taken as its file holds it (not
 * re-encoded), so that whatever else a file carries reaches the gateway checks of gateway-bundle.ts.
 */
import { indexTimeMs } from '../ca/index-time.js'
import { serialFromHex, serialToHex } from '../ca/serial-number.js'
import type { StateStore } from '../store/state-store.js'
import { loadCa, loadDatabase, requireText, type LoadedCa } from '../commands/ca-state.js'
import { checkGatewayBundle, sha256Fingerprint, type CheckedBundle } from './gateway-bundle.js'

export interface BundleMember {
  /** The file it came from. */
  file: string
  role: 'intermediate' | 'previous intermediate' | 'root'
  /** Why a previous intermediate is in the bundle or left out. */
  note?: string
}

export interface ChainBundle extends CheckedBundle {
  members: BundleMember[]
  /** Previous intermediates left out, and why. */
  omitted: BundleMember[]
}

function sameSerial(a: string, b: string): boolean {
  try {
    return serialToHex(serialFromHex(a)) === serialToHex(serialFromHex(b))
  } catch {
    return false
  }
}

/** Builds and checks the bundle; throws `publish.bundle_invalid` when the gateway would refuse it. */
export async function buildChainBundle(store: StateStore, now: Date): Promise<ChainBundle> {
  const ca = await loadCa(store)
  const members: BundleMember[] = [{ file: ca.config.intermediate.certificate, role: 'intermediate' }]
  const omitted: BundleMember[] = []
  const rootIndex = await rootDatabase(ca)
  for (const previous of ca.config.intermediate.previous) {
    const member: BundleMember = { file: previous.certificate, role: 'previous intermediate' }
    const retired = rootIndex?.find((e) => sameSerial(e.serial, previous.serial))
    if (retired?.status === 'R') {
      omitted.push({ ...member, note: `intermediate ${previous.serial} is revoked in the root's database` })
      continue
    }
    const { index } = await loadDatabase(store, { dir: previous.dir, newCertsDir: previous.newCertsDir })
    const live = index.filter((e) => e.status === 'V' && indexTimeMs(e.expiry) > now.getTime())
    if (live.length === 0) {
      omitted.push({
        ...member,
        note: `intermediate ${previous.serial} has no unexpired, unrevoked certificates`,
      })
      continue
    }
    members.push({
      ...member,
      note: `intermediate ${previous.serial} still has ${live.length} valid certificate(s)`,
    })
  }
  members.push({ file: ca.config.root.certificate, role: 'root' })

  const parts = await Promise.all(
    members.map(async (m) => ({ pem: await requireText(store, m.file), file: m.file })),
  )
  const checked = checkGatewayBundle(parts, {
    now,
    currentIntermediate: sha256Fingerprint(ca.intermediate.certificate.rawData),
  })
  return { ...checked, members, omitted }
}

async function rootDatabase(ca: LoadedCa) {
  const root = ca.config.root
  if (root.dir === undefined) return undefined
  return (await loadDatabase(ca.store, { ...root, dir: root.dir })).index
}
