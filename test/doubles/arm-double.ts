/**
 * A local double of the Azure Resource Manager routes mtls-ca uses for Application Gateway, over HTTPS,
 * so the unmodified @azure/arm-network client talks to it as to management.azure.com:
 *
 *   GET  /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/applicationGateways/{n}?api-version=2026-01-01
 *   PUT  the same, the whole gateway as JSON → 200/201, `Azure-AsyncOperation` + `Retry-After` headers,
 *        provisioningState `Updating`
 *   GET  /subscriptions/{s}/providers/Microsoft.Network/locations/{l}/operations/{id}?api-version=… →
 *        `{"status":"InProgress"}` a few times, then `Succeeded` (or `Canceled` with
 *        `CanceledAndSupersededDueToAnotherOperation` when another PUT superseded it)
 *
 * Like the real service it has no ETag concurrency (a PUT replaces the gateway whole), fills in the
 * read-only properties (etag, type, provisioningState, the derived fields of trusted client
 * certificates), refuses a PUT that breaks the gateway's rules (a trusted client certificate that is
 * not PEM CA certificates or is over 25 KB, an SSL profile referencing an entry that does not exist),
 * requires a bearer token, and answers errors as `{"error":{"code","message"}}`. Knobs inject 409
 * conflicts (with a change "someone else" makes at that moment), 429s with or without Retry-After,
 * superseded operations and 5xx; every request and PUT body is recorded.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
export const API_VERSION = '2026-01-01'

type Json = Record<string, unknown>

export interface ArmRequestRecord {
  method: string
  /** Path and query as sent. */
  url: string
  kind: 'gateway.get' | 'gateway.put' | 'operation.get' | 'unknown'
  status: number
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

interface Operation {
  id: string
  gatewayKey: string
  pollsLeft: number
  outcome: 'Succeeded' | 'Canceled' | 'Failed'
  error?: { code: string; message: string }
}

const GATEWAY_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/applicationGateways\/([^/]+)$/i
const OPERATION_PATH =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Network\/locations\/([^/]+)\/operations\/([^/]+)$/i

export class ArmDouble {
  /** `https://127.0.0.1:<port>`, for MTLS_CA_ARM_ENDPOINT. */
  readonly url: string
  readonly caPem: string
  /** For MTLS_CA_AZURE_CA_FILE. */
  readonly caFile: string

  readonly log: ArmRequestRecord[] = []
  /** PUT bodies exactly as received (parsed JSON). */
  readonly putBodies: Json[] = []
  /** Bearer tokens seen. */
  readonly tokens = new Set<string>()
  /** How many InProgress answers an operation gives before its outcome. */
  pollsBeforeDone = 2
  /** Seconds in the Retry-After of PUT and operation answers (the real service sends 10). */
  retryAfterSeconds = 0

  private readonly gateways = new Map<string, Json>()
  private readonly operations = new Map<string, Operation>()
  private readonly injected: {
    kind: ArmRequestRecord['kind'] | 'any'
    status: number
    code: string
    retryAfter?: number
    meanwhile?: (gateway: Json) => void
  }[] = []
  private superseding: ((gateway: Json) => void) | undefined
  private failing: { code: string; message: string } | undefined
  /** Where Azure-AsyncOperation points (default: this double); a hostile answer can point elsewhere. */
  asyncOperationOrigin: string | undefined

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    port: number,
    caPem: string,
  ) {
    this.url = `https://127.0.0.1:${port}`
    this.caPem = caPem
    this.caFile = join(dir, 'cert.pem')
  }

  static async start(): Promise<ArmDouble> {
    const dir = await mkdtemp(join(tmpdir(), 'arm-double-'))
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ])
    const [key, cert] = await Promise.all([
      readFile(join(dir, 'key.pem')),
      readFile(join(dir, 'cert.pem'), 'utf8'),
    ])
    const ready: { double?: ArmDouble } = {}
    const server = createServer({ key, cert }, (req, res) => {
      if (!ready.double) return void res.destroy()
      ready.double.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
          res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(e) } }))
        }
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    ready.double = new ArmDouble(server, dir, address.port, cert)
    return ready.double
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    await rm(this.dir, { recursive: true, force: true })
  }

  // ---- state and knobs ----------------------------------------------------------------------------

  /** Puts a gateway in place (as the portal or Terraform made it); read-only fields are filled in. */
  addGateway(document: Json): void {
    const id = String(document.id)
    this.gateways.set(id.toLowerCase(), this.withReadOnly(structuredClone(document), 'Succeeded'))
  }

  /** The gateway as the service holds it now. */
  gateway(id: string): Json {
    const g = this.gateways.get(id.toLowerCase())
    if (!g) throw new Error(`no gateway ${id}`)
    return structuredClone(g)
  }

  /** Changes the stored gateway directly (someone else's PUT that already completed). */
  change(id: string, fn: (gateway: Json) => void): void {
    const g = this.gateways.get(id.toLowerCase())
    if (!g) throw new Error(`no gateway ${id}`)
    fn(g)
  }

  /**
   * The next `count` PUTs get 409 `code`; `meanwhile` changes the gateway at that moment, as the
   * operation that is in progress would.
   */
  conflictNextPut(count: number, code: string, meanwhile?: (gateway: Json) => void): void {
    for (let i = 0; i < count; i++)
      this.injected.push({
        kind: 'gateway.put',
        status: 409,
        code,
        ...(meanwhile && i === 0 ? { meanwhile } : {}),
      })
  }

  /** The next `count` requests of `kind` (any by default) get 429, with Retry-After only when given. */
  throttleNext(count: number, kind: ArmRequestRecord['kind'] | 'any' = 'any', retryAfter?: number): void {
    for (let i = 0; i < count; i++)
      this.injected.push({
        kind,
        status: 429,
        code: 'TooManyRequests',
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      })
  }

  /** The next `count` requests of `kind` get `status` (5xx) with `code`. */
  failNext(
    count: number,
    status: number,
    code: string,
    kind: ArmRequestRecord['kind'] | 'any' = 'any',
  ): void {
    for (let i = 0; i < count; i++) this.injected.push({ kind, status, code })
  }

  /**
   * The next PUT is accepted, but another PUT supersedes it before it completes: its operation ends
   * `Canceled` (CanceledAndSupersededDueToAnotherOperation) and the gateway holds `theirs` applied to
   * what it held before.
   */
  supersedeNextPut(theirs: (gateway: Json) => void): void {
    this.superseding = theirs
  }

  /** The next PUT's operation ends `Failed` with `code` (the gateway rejected the configuration). */
  failNextOperation(code: string, message: string): void {
    this.failing = { code, message }
  }

  count(kind: ArmRequestRecord['kind']): number {
    return this.log.filter((r) => r.kind === kind).length
  }

  // ---- requests ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', this.url)
    const method = req.method ?? 'GET'
    const kind: ArmRequestRecord['kind'] = GATEWAY_PATH.test(url.pathname)
      ? method === 'PUT'
        ? 'gateway.put'
        : method === 'GET'
          ? 'gateway.get'
          : 'unknown'
      : OPERATION_PATH.test(url.pathname) && method === 'GET'
        ? 'operation.get'
        : 'unknown'
    const record: ArmRequestRecord = { method, url: req.url ?? '', kind, status: 0 }
    this.log.push(record)
    let status: number
    let body: unknown
    let headers: Record<string, string>
    try {
      ;({ status, body, headers } = this.route(req, url, kind, Buffer.concat(chunks)))
    } catch (e) {
      if (!(e instanceof HttpError)) throw e
      status = e.status
      body = { error: { code: e.code, message: e.message, details: [] } }
      headers = e.headers
    }
    record.status = status
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ms-request-id': randomUUID(),
      ...headers,
    })
    res.end(JSON.stringify(body))
  }

  private route(
    req: IncomingMessage,
    url: URL,
    kind: ArmRequestRecord['kind'],
    raw: Buffer,
  ): { status: number; body: unknown; headers: Record<string, string> } {
    const auth = req.headers.authorization
    if (!auth?.startsWith('Bearer ') || auth.length <= 'Bearer '.length) {
      throw new HttpError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      )
    }
    this.tokens.add(auth.slice('Bearer '.length))
    if (kind === 'unknown') throw new HttpError(404, 'NotFound', `No route for ${req.method} ${url.pathname}`)
    // URLSearchParams decodes `api%2Dversion` too, as Resource Manager does.
    const apiVersion = url.searchParams.get('api-version')
    if (apiVersion !== API_VERSION) {
      throw new HttpError(
        400,
        apiVersion === null ? 'MissingApiVersionParameter' : 'InvalidApiVersionParameter',
        `The api-version '${apiVersion ?? ''}' is invalid; this double serves ${API_VERSION}.`,
      )
    }
    let body: Json | undefined
    if (kind === 'gateway.put') {
      if (!/^application\/json/.test(req.headers['content-type'] ?? '')) {
        throw new HttpError(
          415,
          'UnsupportedMediaType',
          'The content media type is not supported; expected application/json.',
        )
      }
      try {
        body = JSON.parse(raw.toString('utf8')) as Json
      } catch {
        throw new HttpError(
          400,
          'InvalidRequestContent',
          'The request content was invalid and could not be deserialized.',
        )
      }
      this.putBodies.push(structuredClone(body))
    }
    const at = this.injected.findIndex((i) => i.kind === 'any' || i.kind === kind)
    if (at >= 0) {
      const [injected] = this.injected.splice(at, 1)
      const i = injected!
      const m = GATEWAY_PATH.exec(url.pathname)
      if (i.meanwhile && m) this.change(gatewayId(m), i.meanwhile)
      throw new HttpError(
        i.status,
        i.code,
        i.status === 409
          ? 'Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: ' +
              `${this.url}/subscriptions/x/providers/Microsoft.Network/locations/westeurope/operations/${randomUUID()}?api-version=${API_VERSION}.`
          : i.status === 429
            ? 'The request is being throttled.'
            : 'The server encountered an internal error.',
        i.retryAfter !== undefined ? { 'retry-after': String(i.retryAfter) } : {},
      )
    }

    if (kind === 'operation.get') {
      const m = OPERATION_PATH.exec(url.pathname)!
      const op = this.operations.get(m[3]!)
      if (!op) throw new HttpError(404, 'NotFound', `Operation ${m[3]} not found.`)
      if (op.pollsLeft > 0) {
        op.pollsLeft--
        return { status: 200, body: { status: 'InProgress' }, headers: this.retryAfter() }
      }
      const g = this.gateways.get(op.gatewayKey)
      if (g && op.outcome === 'Succeeded') (g.properties as Json).provisioningState = 'Succeeded'
      return {
        status: 200,
        body: { status: op.outcome, ...(op.error ? { error: op.error } : {}) },
        headers: {},
      }
    }

    const m = GATEWAY_PATH.exec(url.pathname)!
    const id = gatewayId(m)
    const key = id.toLowerCase()
    const existing = this.gateways.get(key)
    if (kind === 'gateway.get') {
      if (!existing) throw notFound(m)
      return { status: 200, body: existing, headers: {} }
    }

    // PUT
    if (!body) throw new Error('unreachable: a PUT without a body')
    if (!existing) throw notFound(m) // creating gateways is not what mtls-ca does
    if (
      typeof body.location !== 'string' ||
      body.location.toLowerCase() !== String(existing.location).toLowerCase()
    ) {
      throw new HttpError(
        400,
        'InvalidRequestFormat',
        `The location '${String(body.location)}' does not match the gateway's.`,
      )
    }
    validateGateway(id, body)
    const before = structuredClone(existing)
    const stored = this.withReadOnly(structuredClone(body), 'Updating', existing)
    stored.id = existing.id
    this.gateways.set(key, stored)
    const op: Operation = {
      id: randomUUID(),
      gatewayKey: key,
      pollsLeft: this.pollsBeforeDone,
      outcome: 'Succeeded',
    }
    if (this.superseding) {
      const theirs = this.superseding
      this.superseding = undefined
      theirs(before)
      this.gateways.set(key, this.withReadOnly(before, 'Updating', existing))
      op.outcome = 'Canceled'
      op.error = {
        code: 'CanceledAndSupersededDueToAnotherOperation',
        message: 'Operation was canceled and superseded by another operation on the same resource.',
      }
    }
    if (this.failing) {
      op.outcome = 'Failed'
      op.error = this.failing
      this.failing = undefined
      this.gateways.set(key, this.withReadOnly(before, 'Failed', existing))
    }
    this.operations.set(op.id, op)
    const location = String(existing.location)
    return {
      status: 200,
      body: stored,
      headers: {
        'azure-asyncoperation': `${this.asyncOperationOrigin ?? this.url}/subscriptions/${m[1]}/providers/Microsoft.Network/locations/${location}/operations/${op.id}?api-version=${API_VERSION}`,
        ...this.retryAfter(),
      },
    }
  }

  private retryAfter(): Record<string, string> {
    return { 'retry-after': String(this.retryAfterSeconds) }
  }

  /** What the service adds to what it was given: etags, types, states, derived certificate fields. */
  private withReadOnly(g: Json, state: string, previous?: Json): Json {
    g.name = String(g.id ?? previous?.id)
      .split('/')
      .pop()
    g.type = 'Microsoft.Network/applicationGateways'
    g.etag = `W/"${randomUUID()}"`
    const p = (g.properties ??= {}) as Json
    p.provisioningState = state
    p.resourceGuid =
      (previous?.properties as Json | undefined)?.resourceGuid ?? p.resourceGuid ?? randomUUID()
    p.operationalState = 'Running'
    for (const [collection, value] of Object.entries(p)) {
      if (!Array.isArray(value)) continue
      for (const child of value as Json[]) {
        if (typeof child !== 'object' || child === null || typeof child.name !== 'string') continue
        child.etag = g.etag
        child.type = `Microsoft.Network/applicationGateways/${collection}`
        const cp = (child.properties ??= {}) as Json
        cp.provisioningState = state
        if (collection === 'trustedClientCertificates' && typeof cp.data === 'string') {
          const certs = certificatesOf(Buffer.from(cp.data, 'base64').toString('utf8'))
          const root = certs.find((c) => c.subject === c.issuer)
          if (root) cp.clientCertIssuerDN = root.subject
          cp.validatedCertData = cp.data
        }
      }
    }
    return g
  }
}

function gatewayId(m: RegExpExecArray): string {
  return `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.Network/applicationGateways/${m[3]}`
}

function notFound(m: RegExpExecArray): HttpError {
  return new HttpError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.Network/applicationGateways/${m[3]}' under resource group '${m[2]}' was not found.`,
  )
}

function certificatesOf(pem: string): x509.X509Certificate[] {
  const out: x509.X509Certificate[] = []
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(new x509.X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')))
  }
  return out
}

/** The gateway's own rules for trusted client certificates and SSL profiles. */
function validateGateway(id: string, body: Json): void {
  const p = (body.properties ?? {}) as Json
  const entries = (p.trustedClientCertificates ?? []) as Json[]
  const names = new Set<string>()
  for (const e of entries) {
    const name = String(e.name)
    const data = (e.properties as Json | undefined)?.data
    const invalid = (why: string) =>
      new HttpError(
        400,
        'ApplicationGatewayTrustedClientCertificateInvalidData',
        `Trusted client certificate ${name}: ${why}`,
      )
    if (typeof data !== 'string') throw invalid('data is missing')
    const pem = Buffer.from(data, 'base64').toString('utf8')
    if (Buffer.byteLength(pem) > 25 * 1024) throw invalid('the file is larger than 25 KB')
    if (/PRIVATE KEY/.test(pem)) throw invalid('the file contains a private key')
    let certs: x509.X509Certificate[]
    try {
      certs = certificatesOf(pem)
    } catch {
      throw invalid('the data is not valid certificates')
    }
    if (certs.length === 0) throw invalid('the data holds no certificate')
    if (certs.filter((c) => c.subject === c.issuer).length !== 1)
      throw invalid('the file must hold exactly one root CA')
    for (const c of certs) {
      if (!c.getExtension(x509.BasicConstraintsExtension)?.ca)
        throw invalid(`${c.subject} is not a CA certificate`)
    }
    names.add(name.toLowerCase())
  }
  for (const profile of (p.sslProfiles ?? []) as Json[]) {
    const refs = ((profile.properties as Json | undefined)?.trustedClientCertificates ?? []) as Json[]
    for (const r of refs) {
      const ref = String(r.id)
      const prefix = `${id}/trustedClientCertificates/`.toLowerCase()
      if (!ref.toLowerCase().startsWith(prefix) || !names.has(ref.slice(prefix.length).toLowerCase())) {
        throw new HttpError(
          400,
          'InvalidResourceReference',
          `Resource ${ref} referenced by SSL profile ${String(profile.name)} was not found.`,
        )
      }
    }
  }
}

/**
 * A realistic Standard_v2 gateway with mutual TLS already in use by another team: two listeners (one
 * HTTPS with the `mtls` SSL profile), a server certificate from Key Vault, a trusted client certificate
 * of a partner CA referenced by the `partner` profile, WAF settings, autoscale, tags and zones.
 */
export function exampleGateway(id: string, partnerCaPem: string): Json {
  const sub = (kind: string, name: string) => ({ id: `${id}/${kind}/${name}` })
  const vnet = id.replace(
    /providers\/Microsoft\.Network\/applicationGateways\/.*$/,
    'providers/Microsoft.Network/virtualNetworks/vnet-edge',
  )
  return {
    id,
    location: 'westeurope',
    tags: { owner: 'platform', 'cost-center': '4711' },
    zones: ['1', '2', '3'],
    identity: {
      type: 'UserAssigned',
      userAssignedIdentities: {
        [id.replace(
          /providers\/Microsoft\.Network\/applicationGateways\/.*$/,
          'providers/Microsoft.ManagedIdentity/userAssignedIdentities/agw-kv',
        )]: {
          principalId: '5b9f2f3c-1c53-4a5e-9d3b-2f2a3b4c5d6e',
          clientId: '8e1c2d3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f',
        },
      },
    },
    properties: {
      sku: { name: 'WAF_v2', tier: 'WAF_v2' },
      autoscaleConfiguration: { minCapacity: 2, maxCapacity: 10 },
      enableHttp2: true,
      sslPolicy: { policyType: 'Predefined', policyName: 'AppGwSslPolicy20220101S' },
      gatewayIPConfigurations: [
        { name: 'appGatewayIpConfig', properties: { subnet: { id: `${vnet}/subnets/snet-agw` } } },
      ],
      frontendIPConfigurations: [
        {
          name: 'appGwPublicFrontendIp',
          properties: {
            privateIPAllocationMethod: 'Dynamic',
            publicIPAddress: { id: id.replace(/applicationGateways\/.*$/, 'publicIPAddresses/pip-agw') },
          },
        },
      ],
      frontendPorts: [
        { name: 'port_443', properties: { port: 443 } },
        { name: 'port_80', properties: { port: 80 } },
      ],
      sslCertificates: [
        {
          name: 'api-example-com',
          properties: { keyVaultSecretId: 'https://kv-edge.vault.azure.net/secrets/api-example-com' },
        },
      ],
      trustedRootCertificates: [],
      trustedClientCertificates: [
        { name: 'partner-ca', properties: { data: Buffer.from(partnerCaPem).toString('base64') } },
      ],
      sslProfiles: [
        {
          name: 'partner',
          properties: {
            trustedClientCertificates: [sub('trustedClientCertificates', 'partner-ca')],
            clientAuthConfiguration: { verifyClientCertIssuerDN: true, verifyClientRevocation: 'None' },
            sslPolicy: { policyType: 'Predefined', policyName: 'AppGwSslPolicy20220101S' },
          },
        },
        {
          name: 'mtls',
          properties: {
            clientAuthConfiguration: { verifyClientCertIssuerDN: false, verifyClientRevocation: 'None' },
          },
        },
      ],
      backendAddressPools: [
        { name: 'api-backend', properties: { backendAddresses: [{ fqdn: 'api-internal.example.com' }] } },
      ],
      backendHttpSettingsCollection: [
        {
          name: 'api-https',
          properties: {
            port: 443,
            protocol: 'Https',
            cookieBasedAffinity: 'Disabled',
            requestTimeout: 30,
            pickHostNameFromBackendAddress: true,
          },
        },
      ],
      httpListeners: [
        {
          name: 'api-https',
          properties: {
            frontendIPConfiguration: sub('frontendIPConfigurations', 'appGwPublicFrontendIp'),
            frontendPort: sub('frontendPorts', 'port_443'),
            protocol: 'Https',
            sslCertificate: sub('sslCertificates', 'api-example-com'),
            sslProfile: sub('sslProfiles', 'mtls'),
            hostName: 'api.example.com',
            requireServerNameIndication: true,
          },
        },
        {
          name: 'http-redirect',
          properties: {
            frontendIPConfiguration: sub('frontendIPConfigurations', 'appGwPublicFrontendIp'),
            frontendPort: sub('frontendPorts', 'port_80'),
            protocol: 'Http',
          },
        },
      ],
      redirectConfigurations: [
        {
          name: 'to-https',
          properties: {
            redirectType: 'Permanent',
            targetListener: sub('httpListeners', 'api-https'),
            includePath: true,
            includeQueryString: true,
          },
        },
      ],
      requestRoutingRules: [
        {
          name: 'api',
          properties: {
            ruleType: 'Basic',
            priority: 100,
            httpListener: sub('httpListeners', 'api-https'),
            backendAddressPool: sub('backendAddressPools', 'api-backend'),
            backendHttpSettings: sub('backendHttpSettingsCollection', 'api-https'),
          },
        },
        {
          name: 'redirect',
          properties: {
            ruleType: 'Basic',
            priority: 200,
            httpListener: sub('httpListeners', 'http-redirect'),
            redirectConfiguration: sub('redirectConfigurations', 'to-https'),
          },
        },
      ],
      webApplicationFirewallConfiguration: {
        enabled: true,
        firewallMode: 'Prevention',
        ruleSetType: 'OWASP',
        ruleSetVersion: '3.2',
      },
      // A property newer than the SDK's models: must survive the round trip.
      futureFeature: { enabled: true, mode: 'preview' },
    },
  }
}
