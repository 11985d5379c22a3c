/**
 * Application Gateway over Resource Manager, through the @azure/arm-network client (its pipeline:
 * bearer token for the ARM scope, TLS, user agent, api-version 2026-01-01). The gateway is read and
 * written as raw JSON, not through the SDK's models: the PUT replaces the whole gateway, and a model
 * round trip would drop read-only and not-yet-modelled properties. The long-running PUT is followed
 * through its `Azure-AsyncOperation` URL until a terminal status.
 *
 * The SDK's own retry policy is off: it would repeat a PUT as it was first sent, and with no ETag a
 * repeated PUT can revert a change someone made meanwhile. Every failure becomes a CaError; those
 * worth retrying after a fresh GET (409, 429, 5xx, a network failure, an operation superseded by
 * another) are `GatewayBusy`, with the wait the service asked for.
 */
import type { TokenCredential } from '@azure/core-auth'
import { CaError, type ErrorCode } from '../ca/errors.js'
import type { GatewayDocument } from './gateway-change.js'
import { parseGatewayId } from './gateway-target.js'

/** The api-version of the @azure/arm-network release in package.json (its applicationGateways operations). */
export const ARM_NETWORK_API_VERSION = '2026-01-01'
export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com'

/** What publishing needs from a gateway. */
export interface GatewayApi {
  /** Where the gateways live, for messages. */
  readonly endpoint: string
  get(resourceId: string): Promise<GatewayDocument>
  /** PUTs the whole gateway and waits until the operation is over. */
  put(resourceId: string, document: GatewayDocument): Promise<void>
}

/** A failure that a fresh GET and a new PUT may get past. */
export class GatewayBusy extends CaError {
  constructor(
    code: Extract<
      ErrorCode,
      'gateway.conflict' | 'gateway.throttled' | 'gateway.failed' | 'gateway.unreachable'
    >,
    message: string,
    /** How long the service asked to wait (Retry-After), if it said. */
    readonly retryAfterMs: number | undefined,
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? {} : { cause })
  }
}

export interface AppGatewayClientOptions {
  credential: TokenCredential
  /** Resource Manager, `https://management.azure.com` unless a sovereign cloud or a double. */
  endpoint?: string
  /** Trust for a Resource Manager behind a private CA (doubles, emulators). */
  tlsOptions?: { ca: string }
  /** Time limit of one request, ms. */
  timeoutMs?: number
  /** How long to follow a long-running operation, ms (the gateway takes minutes). */
  operationTimeoutMs?: number
  /** Wait between polls when the service names none, ms. */
  pollIntervalMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

/** The token scope for a Resource Manager endpoint: the public, US Government and China clouds by name. */
export function armScope(endpoint: string): string {
  const host = new URL(endpoint).host.toLowerCase()
  const known: Record<string, string> = {
    'management.azure.com': 'https://management.azure.com/.default',
    'management.usgovcloudapi.net': 'https://management.usgovcloudapi.net/.default',
    'management.chinacloudapi.cn': 'https://management.chinacloudapi.cn/.default',
  }
  return Object.prototype.hasOwnProperty.call(known, host)
    ? known[host]!
    : `${new URL(endpoint).origin}/.default`
}

interface Answer {
  status: number
  headers: Record<string, string>
  body: unknown
}

type Context = {
  pathUnchecked: (path: string) => {
    get(options?: object): PromiseLike<{ status: string; headers: Record<string, string>; body: unknown }>
    put(options?: object): PromiseLike<{ status: string; headers: Record<string, string>; body: unknown }>
  }
}

export async function openAppGatewayClient(options: AppGatewayClientOptions): Promise<GatewayApi> {
  const endpoint = new URL(options.endpoint ?? PUBLIC_ARM_ENDPOINT).origin
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const now = options.now ?? Date.now
  const timeoutMs = options.timeoutMs ?? 60_000
  const { createNetworkManagement } = await import('@azure/arm-network/api')
  // Paths below are absolute from the endpoint, so one context serves every subscription.
  const context = createNetworkManagement(options.credential, '', {
    endpoint,
    credentials: { scopes: [armScope(endpoint)] },
    retryOptions: { maxRetries: 0 },
    ...(options.tlsOptions ? { tlsOptions: options.tlsOptions } : {}),
  }) as unknown as Context

  const call = async (
    method: 'get' | 'put',
    url: string,
    what: string,
    body?: GatewayDocument,
  ): Promise<Answer> => {
    let r: { status: string; headers: Record<string, string>; body: unknown }
    try {
      r = await context.pathUnchecked(url)[method]({
        timeout: timeoutMs,
        headers: { accept: 'application/json' },
        ...(body === undefined ? {} : { body, contentType: 'application/json' }),
      })
    } catch (cause) {
      throw new GatewayBusy(
        'gateway.unreachable',
        `${what}: Resource Manager at ${endpoint} did not answer (${(cause as Error).message})`,
        undefined,
        cause,
      )
    }
    return { status: Number(r.status), headers: r.headers, body: r.body }
  }

  const path = (resourceId: string) => {
    const id = parseGatewayId(resourceId)
    return (
      `/subscriptions/${encodeURIComponent(id.subscriptionId)}/resourceGroups/${encodeURIComponent(id.resourceGroup)}` +
      `/providers/Microsoft.Network/applicationGateways/${encodeURIComponent(id.name)}?api-version=${ARM_NETWORK_API_VERSION}`
    )
  }

  return {
    endpoint,
    async get(resourceId) {
      const what = `GET of gateway ${resourceId}`
      const r = await call('get', path(resourceId), what)
      if (r.status !== 200) throw refusal(r, what)
      if (typeof r.body !== 'object' || r.body === null || Array.isArray(r.body)) {
        throw new CaError('gateway.failed', `${what}: the answer is not a gateway document`)
      }
      return r.body as GatewayDocument
    },
    async put(resourceId, document) {
      const what = `PUT of gateway ${resourceId}`
      const r = await call('put', path(resourceId), what, document)
      if (r.status !== 200 && r.status !== 201) throw refusal(r, what)
      const operation = header(r, 'azure-asyncoperation')
      if (operation === undefined) {
        if (provisioningState(r.body) === 'Succeeded') return
        throw new CaError('gateway.failed', `${what}: the answer names no Azure-AsyncOperation to follow`)
      }
      let pollUrl: URL
      try {
        pollUrl = new URL(operation)
      } catch {
        throw new CaError('gateway.failed', `${what}: Azure-AsyncOperation '${operation}' is not a URL`)
      }
      // The poll carries our token: it goes to Resource Manager and nowhere else.
      if (pollUrl.origin !== endpoint) {
        throw new CaError(
          'gateway.failed',
          `${what}: Azure-AsyncOperation points to ${pollUrl.origin}, not to Resource Manager at ${endpoint}; not following it`,
        )
      }
      const deadline = now() + (options.operationTimeoutMs ?? 60 * 60_000)
      let wait = retryAfterMs(r) ?? options.pollIntervalMs ?? 10_000
      for (;;) {
        if (now() > deadline) {
          throw new CaError(
            'gateway.failed',
            `${what}: still in progress after the time limit; check the gateway in Azure`,
          )
        }
        await sleep(wait)
        const poll = await call('get', pollUrl.pathname + pollUrl.search, `${what} (operation status)`)
        if (poll.status === 429 || poll.status >= 500) {
          wait = retryAfterMs(poll) ?? options.pollIntervalMs ?? 10_000
          continue
        }
        if (poll.status !== 200) throw refusal(poll, `${what} (operation status)`)
        const body = (poll.body ?? {}) as { status?: unknown; error?: { code?: unknown; message?: unknown } }
        const status = typeof body.status === 'string' ? body.status : ''
        if (status === 'Succeeded') return
        if (status === 'Failed' || status === 'Canceled') {
          const code = typeof body.error?.code === 'string' ? body.error.code : status
          const message = typeof body.error?.message === 'string' ? body.error.message : ''
          const text = `${what} ended ${status}: ${code}${message ? ` (${message})` : ''}`
          if (code === 'CanceledAndSupersededDueToAnotherOperation') {
            throw new GatewayBusy('gateway.conflict', text, undefined)
          }
          throw new CaError('gateway.failed', text)
        }
        wait = retryAfterMs(poll) ?? options.pollIntervalMs ?? 10_000
      }
    },
  }
}

function header(r: Answer, name: string): string | undefined {
  const v = r.headers[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

function retryAfterMs(r: Answer): number | undefined {
  const v = header(r, 'retry-after')
  if (v === undefined) return undefined
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

function provisioningState(body: unknown): unknown {
  const p = (body as { properties?: { provisioningState?: unknown } } | null)?.properties
  return p?.provisioningState
}

function armError(body: unknown): { code: string; message: string } {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  return {
    code: typeof e?.code === 'string' ? e.code : '',
    message: typeof e?.message === 'string' ? e.message : '',
  }
}

/** An unwanted status as a CaError naming the operation, the service's error code and what to do. */
function refusal(r: Answer, what: string): CaError {
  const { code, message } = armError(r.body)
  const said = `HTTP ${r.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`
  const wait = retryAfterMs(r)
  if (r.status === 409) return new GatewayBusy('gateway.conflict', `${what}: ${said}`, wait)
  if (r.status === 429) return new GatewayBusy('gateway.throttled', `${what}: ${said}`, wait)
  if (r.status >= 500) return new GatewayBusy('gateway.failed', `${what}: ${said}`, wait)
  if (r.status === 404) {
    return new CaError('gateway.not_found', `${what}: ${said}; check the resource id and the subscription`)
  }
  if (r.status === 401 || r.status === 403) {
    return new CaError(
      'gateway.forbidden',
      `${what}: ${said}; the identity needs Microsoft.Network/applicationGateways/read and /write ` +
        '(e.g. the Network Contributor role on the gateway)',
    )
  }
  return new CaError('gateway.failed', `${what}: ${said}`)
}
