/**
 * `mtls-ca publish` (and the Action's `publish`): the chain bundle — root, current intermediate and
 * the previous intermediates that still have valid certificates — checked as Application Gateway will
 * check it, then published to each target gateway (ca.yml `publish.app_gateway`, or one target from
 * the flags): replaced or added as one trusted client certificate, referenced by the SSL profile. A
 * dry run says what would change; a check compares each gateway's trusted chain with the repository's
 * and reports drift. The CA directory is only read, under its lock; nothing in it is written.
 */
import { CaError } from '../ca/errors.js'
import { parseCaConfig } from '../config/ca-config.js'
import { CONFIG_FILE } from '../config/layout.js'
import type { GatewayApi } from '../publish/app-gateway-client.js'
import { buildChainBundle, type ChainBundle } from '../publish/chain-bundle.js'
import { checkTarget, type GatewayTarget } from '../publish/gateway-target.js'
import {
  checkGateway,
  updateGateway,
  type GatewayDrift,
  type GatewayUpdate,
} from '../publish/gateway-update.js'
import type { StateStore } from '../store/state-store.js'
import { requireText } from './ca-state.js'

export type PublishMode = 'publish' | 'dry-run' | 'check'

export interface PublishOptions {
  /** `publish` (default) writes; `dry-run` plans; `check` compares. */
  mode?: PublishMode
  /** Targets instead of ca.yml's `publish.app_gateway` (the CLI's flags). */
  targets?: GatewayTarget[] | undefined
}

export interface PublishRuntime {
  now(): Date
  gateways: GatewayApi
  /** Backoff between tries; tests make it instant. */
  sleep?: (ms: number) => Promise<void>
  delaysMs?: readonly number[]
}

export interface PublishResult {
  mode: PublishMode
  bundle: Pick<ChainBundle, 'certificates' | 'members' | 'omitted' | 'warnings'> & { bytes: number }
  /** One per target, in order (publish and dry-run). */
  updates: GatewayUpdate[]
  /** One per target (check). */
  drift: GatewayDrift[]
  /** True when a check found a gateway that differs from the repository. */
  drifted: boolean
}

/** The targets of ca.yml, checked. */
export function configuredTargets(configText: string): GatewayTarget[] {
  const config = parseCaConfig(configText, CONFIG_FILE)
  return (config.publish?.app_gateway ?? []).map((t, i) =>
    checkTarget(
      {
        resourceId: t.resource_id,
        trustedClientCertificate: t.trusted_client_certificate,
        sslProfile: t.ssl_profile,
        verifyClientRevocation: t.verify_client_revocation,
        verifyClientCertIssuerDN: t.verify_client_cert_issuer_dn,
      },
      `${CONFIG_FILE} publish.app_gateway[${i}]`,
    ),
  )
}

/**
 * Publishes (or plans, or checks) the bundle on every target. Gateways are handled one after the
 * other, and the first failure stops the run: each gateway is either updated whole or left as it was.
 */
export async function publishToGateways(
  store: StateStore,
  options: PublishOptions,
  runtime: PublishRuntime,
): Promise<PublishResult> {
  const mode = options.mode ?? 'publish'
  const now = runtime.now()
  const { bundle, targets } = await store.locked(async () => {
    const targets = options.targets ?? configuredTargets(await requireText(store, CONFIG_FILE))
    return { bundle: await buildChainBundle(store, now), targets }
  })
  if (targets.length === 0) {
    throw new CaError(
      'publish.target_invalid',
      `no gateway to publish to: add ${CONFIG_FILE} publish.app_gateway, or give --app-gateway, ` +
        '--trusted-client-certificate and --ssl-profile',
      { file: CONFIG_FILE },
    )
  }
  const retry = {
    ...(runtime.sleep ? { sleep: runtime.sleep } : {}),
    ...(runtime.delaysMs ? { delaysMs: runtime.delaysMs } : {}),
  }
  const updates: GatewayUpdate[] = []
  const drift: GatewayDrift[] = []
  for (const target of targets) {
    if (mode === 'check') drift.push(await checkGateway(runtime.gateways, target, bundle, retry))
    else
      updates.push(
        await updateGateway(runtime.gateways, target, bundle, { ...retry, dryRun: mode === 'dry-run' }),
      )
  }
  return {
    mode,
    bundle: {
      certificates: bundle.certificates,
      members: bundle.members,
      omitted: bundle.omitted,
      warnings: bundle.warnings,
      bytes: Buffer.byteLength(bundle.pem, 'utf8'),
    },
    updates,
    drift,
    drifted: drift.some((d) => !d.inSync),
  }
}

/** The human report of a result, one line per item (the CLI prints it; the Action can too). */
export function formatPublishReport(result: PublishResult): string[] {
  const lines: string[] = []
  const cert = (c: { subject: string; fingerprint: string }) => `${c.subject}  SHA-256 ${c.fingerprint}`
  lines.push(`Bundle: ${result.bundle.certificates.length} CA certificates, ${result.bundle.bytes} bytes`)
  for (const c of result.bundle.certificates) lines.push(`  ${c.role.padEnd(12)} ${cert(c)}`)
  for (const o of result.bundle.omitted) lines.push(`  left out     ${o.file}: ${o.note ?? ''}`)
  for (const w of result.bundle.warnings) lines.push(`Warning: ${w}`)
  for (const u of result.updates) {
    const verb = { updated: 'Updated', unchanged: 'Unchanged', 'would-update': 'Would update' }[u.outcome]
    lines.push(`${verb}: ${u.resourceId}`)
    if (u.outcome === 'unchanged') {
      lines.push('  the trusted client certificate and the SSL profile already match the repository')
      continue
    }
    if (u.entry !== 'unchanged') lines.push(`  trusted client certificate: ${u.entry}`)
    for (const c of u.added) lines.push(`  + ${cert(c)}`)
    for (const c of u.removed) lines.push(`  - ${cert(c)}`)
    if (u.unreadable) lines.push('  - (data that is not PEM certificates)')
    if (u.profileReference === 'added') lines.push('  SSL profile: reference added')
    for (const a of u.clientAuth)
      lines.push(`  SSL profile clientAuthConfiguration.${a.field}: ${String(a.from)} -> ${String(a.to)}`)
    if (u.outcome === 'would-update') lines.push('  (dry run: nothing was written)')
  }
  for (const d of result.drift) {
    lines.push(`${d.inSync ? 'In sync' : 'Drift'}: ${d.resourceId}`)
    for (const p of d.problems) lines.push(`  ${p}`)
    for (const c of d.missing) lines.push(`  missing at the gateway:    ${cert(c)}`)
    for (const c of d.unexpected) lines.push(`  not in the repository:     ${cert(c)}`)
  }
  return lines
}
