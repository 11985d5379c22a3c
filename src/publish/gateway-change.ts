/**
 * The one change mtls-ca makes to an Application Gateway, computed on the gateway's JSON exactly as
 * Resource Manager returned it: replace or add the target's `trustedClientCertificates[]` entry (data =
 * base64 of the bundle's PEM), make the SSL profile reference it, and set the profile's client-auth
 * options the target names. Everything else is copied through untouched — including properties this
 * version of mtls-ca or of the SDK does not know — because the PUT replaces the whole gateway. Also
 * checks the gateway's limits: 100 chains per SSL profile, 200 per gateway.
 */
import { CaError } from '../ca/errors.js'
import { readGatewayBundle, type BundleCertificate } from './gateway-bundle.js'
import { trustedClientCertificateId, type GatewayTarget } from './gateway-target.js'

export const MAX_CHAINS_PER_PROFILE = 100
export const MAX_CHAINS_PER_GATEWAY = 200

/** A gateway document as JSON (`{id, name, location, properties: {...}, ...}`). */
export type GatewayDocument = Record<string, unknown>

type Json = Record<string, unknown>

export interface GatewayChange {
  /** Whether a PUT is needed. */
  changed: boolean
  /** The document to PUT (the input, copied, with the change). */
  document: GatewayDocument
  entry: 'added' | 'replaced' | 'unchanged'
  /** Certificates the gateway's entry gains and loses. */
  added: BundleCertificate[]
  removed: BundleCertificate[]
  /** The gateway's entry held data that is not readable PEM certificates. */
  unreadable: boolean
  profileReference: 'added' | 'present'
  /** clientAuthConfiguration fields set: `field: from → to`. */
  clientAuth: { field: string; from: unknown; to: unknown }[]
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function own(o: Json, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined
}

function list(o: Json, key: string, where: string): Json[] {
  const v = own(o, key)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every(isObject)) {
    throw new CaError('publish.gateway_invalid', `${where}.${key} is not a list of objects`)
  }
  return v
}

const sameId = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase()
const sameName = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase()

/** The certificates in the gateway's entry for the target, or undefined when it has none. */
export function gatewayEntry(
  document: GatewayDocument,
  target: GatewayTarget,
): { pem: string; certificates: BundleCertificate[]; unreadable: boolean } | undefined {
  const properties = own(document, 'properties')
  if (!isObject(properties)) return undefined
  const entry = list(properties, 'trustedClientCertificates', 'properties').find((e) =>
    sameName(own(e, 'name'), target.trustedClientCertificate),
  )
  if (!entry) return undefined
  const data = isObject(own(entry, 'properties')) ? own(own(entry, 'properties') as Json, 'data') : undefined
  const pem = typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : ''
  return { pem, ...readGatewayBundle(pem) }
}

/** Whether the profile references the entry (by resource id, compared as Azure does: ignoring case). */
export function profileReferences(document: GatewayDocument, target: GatewayTarget): boolean | undefined {
  const properties = own(document, 'properties')
  if (!isObject(properties)) return undefined
  const profile = list(properties, 'sslProfiles', 'properties').find((p) =>
    sameName(own(p, 'name'), target.sslProfile),
  )
  if (!profile) return undefined
  const pp = own(profile, 'properties')
  const refs = isObject(pp) ? list(pp, 'trustedClientCertificates', 'sslProfile.properties') : []
  const id = trustedClientCertificateId(gatewayIdOf(document, target), target.trustedClientCertificate)
  return refs.some((r) => sameId(own(r, 'id'), id))
}

function gatewayIdOf(document: GatewayDocument, target: GatewayTarget): string {
  const id = own(document, 'id')
  return typeof id === 'string' && sameId(id, target.resourceId) ? id : target.resourceId
}

/** Computes the change for `bundle` (PEM) and its certificates; throws when the gateway cannot take it. */
export function planGatewayChange(
  read: GatewayDocument,
  target: GatewayTarget,
  bundle: { pem: string; certificates: readonly BundleCertificate[] },
): GatewayChange {
  const gateway = `gateway ${target.resourceId}`
  const document = structuredClone(read)
  const properties = own(document, 'properties')
  if (!isObject(properties)) {
    throw new CaError('publish.gateway_invalid', `${gateway}: the gateway's answer has no properties`)
  }
  const gatewayId = gatewayIdOf(document, target)
  const entryId = trustedClientCertificateId(gatewayId, target.trustedClientCertificate)

  const profiles = list(properties, 'sslProfiles', 'properties')
  const profile = profiles.find((p) => sameName(own(p, 'name'), target.sslProfile))
  if (!profile) {
    const names = profiles.map((p) => String(own(p, 'name'))).join(', ') || 'none'
    throw new CaError(
      'publish.gateway_invalid',
      `${gateway} has no SSL profile '${target.sslProfile}' (it has: ${names}); create it, with its listener, first`,
    )
  }

  // The entry.
  const entries = list(properties, 'trustedClientCertificates', 'properties')
  const at = entries.findIndex((e) => sameName(own(e, 'name'), target.trustedClientCertificate))
  const current = gatewayEntry(read, target)
  const ours = new Set(bundle.certificates.map((c) => c.fingerprint))
  const theirs = new Set(current?.certificates.map((c) => c.fingerprint) ?? [])
  const added = bundle.certificates.filter((c) => !theirs.has(c.fingerprint))
  const removed = (current?.certificates ?? []).filter((c) => !ours.has(c.fingerprint))
  const unreadable = current?.unreadable ?? false
  let entry: GatewayChange['entry'] = 'unchanged'
  const data = Buffer.from(bundle.pem, 'utf8').toString('base64')
  if (at < 0) {
    entries.push({ name: target.trustedClientCertificate, id: entryId, properties: { data } })
    entry = 'added'
  } else if (added.length || removed.length || unreadable) {
    const old = entries[at]!
    // What the gateway derived from the old data (validatedCertData, clientCertIssuerDN, state) goes.
    entries[at] = {
      name: own(old, 'name'),
      ...(own(old, 'id') !== undefined ? { id: own(old, 'id') } : { id: entryId }),
      properties: { data },
    }
    entry = 'replaced'
  }
  if (entries.length > MAX_CHAINS_PER_GATEWAY) {
    throw new CaError(
      'publish.gateway_invalid',
      `${gateway} would hold ${entries.length} trusted client certificates; the limit is ${MAX_CHAINS_PER_GATEWAY}`,
    )
  }
  if (entry !== 'unchanged') properties.trustedClientCertificates = entries

  // The profile's reference and client-auth options.
  let pp = own(profile, 'properties')
  if (!isObject(pp)) {
    pp = {}
    profile.properties = pp
  }
  const profileProps = pp as Json
  const refs = list(profileProps, 'trustedClientCertificates', 'sslProfile.properties')
  let profileReference: GatewayChange['profileReference'] = 'present'
  if (!refs.some((r) => sameId(own(r, 'id'), entryId))) {
    refs.push({ id: entryId })
    profileProps.trustedClientCertificates = refs
    profileReference = 'added'
  }
  if (refs.length > MAX_CHAINS_PER_PROFILE) {
    throw new CaError(
      'publish.gateway_invalid',
      `${gateway}: SSL profile '${target.sslProfile}' would reference ${refs.length} trusted client certificates; ` +
        `the limit is ${MAX_CHAINS_PER_PROFILE}`,
    )
  }
  const clientAuth: GatewayChange['clientAuth'] = []
  const wanted: [string, unknown][] = []
  if (target.verifyClientRevocation !== undefined)
    wanted.push(['verifyClientRevocation', target.verifyClientRevocation])
  if (target.verifyClientCertIssuerDN !== undefined)
    wanted.push(['verifyClientCertIssuerDN', target.verifyClientCertIssuerDN])
  for (const [field, to] of wanted) {
    const config = own(profileProps, 'clientAuthConfiguration')
    const from = isObject(config) ? own(config, field) : undefined
    if (from === to) continue
    if (!isObject(config)) profileProps.clientAuthConfiguration = {}
    ;(profileProps.clientAuthConfiguration as Json)[field] = to
    clientAuth.push({ field, from, to })
  }

  return {
    changed: entry !== 'unchanged' || profileReference === 'added' || clientAuth.length > 0,
    document,
    entry,
    added,
    removed,
    unreadable,
    profileReference,
    clientAuth,
  }
}
