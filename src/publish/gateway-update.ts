/**
 * One gateway brought to trust the bundle, safely on a production gateway: GET, compute the change
 * on what was just read, PUT only when something differs, and on a conflicting operation, throttling
 * or a transient failure start again from a fresh GET — never a blind retry, since there is no ETag
 * and a replayed PUT would revert whatever someone else changed in between. Bounded: a few tries with
 * exponential backoff (or the service's Retry-After, when longer), then an error naming the gateway
 * and the operation. A dry run stops after the plan; a check compares without planning a write.
 */
import { CaError } from '../ca/errors.js'
import { GatewayBusy, type GatewayApi } from './app-gateway-client.js'
import type { BundleCertificate } from './gateway-bundle.js'
import { gatewayEntry, planGatewayChange, profileReferences, type GatewayChange } from './gateway-change.js'
import type { GatewayTarget } from './gateway-target.js'

/** Waits before each new try after a 409, 429 or transient failure. */
export const GATEWAY_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000]

export interface GatewayUpdateOptions {
  dryRun?: boolean
  delaysMs?: readonly number[]
  sleep?: (ms: number) => Promise<void>
}

export type GatewayUpdate = Omit<GatewayChange, 'document'> & {
  resourceId: string
  /** `updated` (PUT done), `unchanged` (no PUT needed), `would-update` (dry run). */
  outcome: 'updated' | 'unchanged' | 'would-update'
  /** GETs and PUTs made, for the record. */
  gets: number
  puts: number
}

export async function updateGateway(
  api: GatewayApi,
  target: GatewayTarget,
  bundle: { pem: string; certificates: readonly BundleCertificate[] },
  options: GatewayUpdateOptions = {},
): Promise<GatewayUpdate> {
  const delays = options.delaysMs ?? GATEWAY_RETRY_DELAYS_MS
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  let gets = 0
  let puts = 0
  for (let attempt = 0; ; attempt++) {
    try {
      gets++
      const read = await api.get(target.resourceId)
      const { document, ...change } = planGatewayChange(read, target, bundle)
      const result = { ...change, resourceId: target.resourceId, gets, puts }
      if (!change.changed) return { ...result, outcome: 'unchanged' }
      if (options.dryRun) return { ...result, outcome: 'would-update' }
      puts++
      await api.put(target.resourceId, document)
      return { ...result, puts, outcome: 'updated' }
    } catch (e) {
      if (!(e instanceof GatewayBusy)) throw e
      const delay = delays[attempt]
      if (delay === undefined) {
        throw new CaError(
          e.code,
          `gateway ${target.resourceId}: gave up after ${attempt + 1} tries, each from a fresh GET; last: ${e.message}`,
          { cause: e },
        )
      }
      await sleep(Math.max(delay, e.retryAfterMs ?? 0))
    }
  }
}

export interface GatewayDrift {
  resourceId: string
  inSync: boolean
  /** In the repository's bundle but not in the gateway's entry. */
  missing: BundleCertificate[]
  /** In the gateway's entry but not in the repository's bundle. */
  unexpected: BundleCertificate[]
  /** What else differs, in words (no entry, unreadable entry, profile without the reference). */
  problems: string[]
}

/** Compares the gateway's trusted chain with the bundle; GETs only (retried like updates). */
export async function checkGateway(
  api: GatewayApi,
  target: GatewayTarget,
  bundle: { certificates: readonly BundleCertificate[] },
  options: Omit<GatewayUpdateOptions, 'dryRun'> = {},
): Promise<GatewayDrift> {
  const delays = options.delaysMs ?? GATEWAY_RETRY_DELAYS_MS
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  for (let attempt = 0; ; attempt++) {
    let read
    try {
      read = await api.get(target.resourceId)
    } catch (e) {
      const delay = delays[attempt]
      if (!(e instanceof GatewayBusy) || delay === undefined) throw e
      await sleep(Math.max(delay, e.retryAfterMs ?? 0))
      continue
    }
    const entry = gatewayEntry(read, target)
    const problems: string[] = []
    if (!entry) problems.push(`no trusted client certificate '${target.trustedClientCertificate}'`)
    else if (entry.unreadable)
      problems.push(`'${target.trustedClientCertificate}' holds data that is not PEM certificates`)
    const references = profileReferences(read, target)
    if (references === undefined) problems.push(`no SSL profile '${target.sslProfile}'`)
    else if (!references)
      problems.push(
        `SSL profile '${target.sslProfile}' does not reference '${target.trustedClientCertificate}'`,
      )
    if (references !== undefined) {
      // The client-auth options the target names, compared as a publish would set them.
      const wanted = planGatewayChange(read, target, { pem: '', certificates: bundle.certificates })
      for (const a of wanted.clientAuth)
        problems.push(
          `SSL profile '${target.sslProfile}' has clientAuthConfiguration.${a.field} ${String(a.from)}, not ${String(a.to)}`,
        )
    }
    const theirs = new Set(entry?.certificates.map((c) => c.fingerprint) ?? [])
    const ours = new Set(bundle.certificates.map((c) => c.fingerprint))
    const missing = bundle.certificates.filter((c) => !theirs.has(c.fingerprint))
    const unexpected = (entry?.certificates ?? []).filter((c) => !ours.has(c.fingerprint))
    return {
      resourceId: target.resourceId,
      inSync: problems.length === 0 && missing.length === 0 && unexpected.length === 0,
      missing,
      unexpected,
      problems,
    }
  }
}
