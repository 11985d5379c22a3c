/**
 * A local double of one Azure Key Vault, over HTTPS, faithful to the documented REST contract so the
 * unmodified SDK clients (`KeyClient`, `CryptographyClient`, `CertificateClient`) talk to it as to a
 * real vault. It owns: the TLS certificate (made with `openssl req -x509` at start; trust it with
 * `clientOptions()`), the bearer challenge (401 + `WWW-Authenticate` for a request without a token),
 * keys (get, create, sign a digest with a real private key), certificates (create with issuer
 * `Unknown` → pending operation with a real CSR, merge, get), Key Vault error bodies, and knobs
 * (latency, throttling with or without Retry-After, a per-10-s sign limit, 5xx, dropped connections,
 * RBAC denials) and counters (key GETs, sign calls, signatures in flight).
 *
 * Where the real service's exact words are not documented (error messages, the inner codes of some
 * 403s), the double uses plausible ones; the adapter must not depend on them beyond `error.code`.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { execFile } from 'node:child_process'
import {
  createHash,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  webcrypto,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CURVES,
  ecdsaSignDigest,
  HASH_OF,
  rsaPkcs1SignDigest,
  rsaPssSignDigest,
  type Curve,
  type DigestAlgorithm,
} from './digest-signing.js'

const execFileAsync = promisify(execFile)
const generateKeyPairAsync = promisify(generateKeyPair)

export type DoubleKeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM'

export interface DoubleKeyOptions {
  kty?: DoubleKeyType
  /** RSA modulus bits. Default 2048. */
  size?: number
  /** EC curve. Default P-256. */
  curve?: Curve
  /** Default: all operations the key type supports. */
  keyOps?: string[]
  enabled?: boolean
  notBefore?: Date
  expires?: Date
}

/** What a request did, by REST operation. */
export type Operation =
  | 'key.get'
  | 'key.create'
  | 'key.sign'
  | 'certificate.create'
  | 'certificate.pending'
  | 'certificate.merge'
  | 'certificate.get'
  | 'unknown'

/** Data actions an identity may be denied (RBAC), named as in access policies. */
export type Permission = 'keys/get' | 'keys/create' | 'keys/sign' | 'certificates/create' | 'certificates/get'

const PERMISSION_OF: Record<Operation, Permission | undefined> = {
  'key.get': 'keys/get',
  'key.create': 'keys/create',
  'key.sign': 'keys/sign',
  'certificate.create': 'certificates/create',
  'certificate.merge': 'certificates/create',
  'certificate.pending': 'certificates/get',
  'certificate.get': 'certificates/get',
  unknown: undefined,
}

const DATA_ACTION: Record<Permission, string> = {
  'keys/get': 'Microsoft.KeyVault/vaults/keys/read',
  'keys/create': 'Microsoft.KeyVault/vaults/keys/create/action',
  'keys/sign': 'Microsoft.KeyVault/vaults/keys/sign/action',
  'certificates/create': 'Microsoft.KeyVault/vaults/certificates/create/action',
  'certificates/get': 'Microsoft.KeyVault/vaults/certificates/read',
}

export interface ThrottleKnob {
  /** Throttle every Nth sign call (1 = all of them). */
  every?: number
  /** Throttle this fraction of sign calls at random. */
  fraction?: number
  /** Send `Retry-After: <seconds>`; by default a 429 carries none, as Key Vault's usually do. */
  retryAfterSeconds?: number
  /**
   * Count and throttle only first attempts (a digest not throttled before), so that a test can say
   * exactly which calls get a 429 however the retries interleave.
   */
  firstAttemptsOnly?: boolean
}

export interface DoubleCounters {
  /** Every request received, challenged ones included. */
  requests: number
  /** 401 challenges sent to requests without a token. */
  challenges: number
  /** Authorized GETs of a key (any version). */
  keyGets: number
  /** Authorized sign requests, whatever their answer. */
  signCalls: number
  /** Sign requests answered with a signature. */
  signsOk: number
  /** 429s sent. */
  throttled: number
  /** Injected 5xx answers sent. */
  failures: number
  /** Connections dropped on purpose. */
  resets: number
  /** Sign requests being handled right now. */
  signsInFlight: number
  maxSignsInFlight: number
}

export interface RequestRecord {
  method: string
  /** Path and query exactly as sent (e.g. `/keys/ca/?api%2Dversion=2025-07-01`). */
  url: string
  operation: Operation
  status: number
  authorized: boolean
}

interface StoredKey {
  name: string
  version: string
  kty: DoubleKeyType
  privateKey: KeyObject
  jwk: JsonWebKey
  curve: Curve | undefined
  keyOps: string[]
  enabled: boolean
  notBefore: number | undefined
  expires: number | undefined
  exportable: boolean
  created: number
  managed: boolean
}

interface PendingOperation {
  requestId: string
  keyVersion: string
  /** The id the certificate shows while pending: Key Vault gives the pending version its own id. */
  placeholderVersion: string
  csr: Buffer
  status: 'inProgress' | 'completed'
  target?: string
  created: number
}

interface CertificateVersion {
  version: string
  cer: Buffer
  chain: Buffer[]
  nbf: number
  exp: number
  created: number
}

interface StoredCertificate {
  name: string
  policy: Record<string, unknown>
  policyCreated: number
  pending: PendingOperation | undefined
  versions: Map<string, CertificateVersion>
  latest: string | undefined
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const now = () => Math.floor(Date.now() / 1000)
const newVersion = () => randomBytes(16).toString('hex')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const NAME = /^[0-9A-Za-z-]{1,127}$/
const KEY_USAGE_FLAGS: Record<string, number> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
  encipherOnly: x509.KeyUsageFlags.encipherOnly,
  decipherOnly: x509.KeyUsageFlags.decipherOnly,
}

export class KeyVaultDouble {
  /** `https://127.0.0.1:<port>`: the vault URL to give the SDK. */
  readonly url: string
  /** The double's TLS certificate (PEM), to trust through `tlsOptions: { ca }`. */
  readonly caPem: string
  readonly tenantId: string
  /** The file holding `caPem`, for `MTLS_CA_AZURE_CA_FILE`. */
  readonly caFile: string

  /** Delay before answering any authorized request, in ms. */
  latencyMs = 0
  throttle: ThrottleKnob | undefined
  /** Accepted signatures per sliding 10 s before answering 429 (Key Vault's per-vault limit). */
  signLimitPer10s: number | undefined
  /** Answer 401 even to requests with a token (a token for the wrong tenant or audience). */
  rejectTokens = false
  /** Flip a bit in every signature returned (a broken HSM or a corrupted answer). */
  corruptSignatures = false
  /** Data actions the caller is denied (403 ForbiddenByRbac). */
  readonly denied = new Set<Permission>()

  readonly counters: DoubleCounters = KeyVaultDouble.zero()
  readonly log: RequestRecord[] = []
  /** Bodies of certificate create requests, as sent. */
  readonly certificateCreateBodies: Array<{ name: string; body: Record<string, unknown> }> = []

  private readonly keys = new Map<string, StoredKey[]>()
  private readonly certificates = new Map<string, StoredCertificate>()
  private readonly injected: Array<{ kind: 'status' | 'reset'; status: number; operation?: Operation }> = []
  private readonly signTimes: number[] = []
  private readonly throttledDigests = new Set<string>()
  private freshSignCalls = 0
  private throttleRandom: () => number = Math.random

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    port: number,
    caPem: string,
    tenantId: string,
  ) {
    this.url = `https://127.0.0.1:${port}`
    this.caPem = caPem
    this.caFile = join(dir, 'cert.pem')
    this.tenantId = tenantId
  }

  static async start(options: { tenantId?: string } = {}): Promise<KeyVaultDouble> {
    const dir = await mkdtemp(join(tmpdir(), 'kv-double-'))
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
    // The server exists before the double that handles its requests.
    const ready: { double?: KeyVaultDouble } = {}
    const server = createServer({ key, cert }, (req, res) => {
      if (!ready.double) return void res.destroy()
      ready.double.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
          res.end(JSON.stringify({ error: { code: 'InternalError', message: String(e) } }))
        }
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    ready.double = new KeyVaultDouble(
      server,
      dir,
      address.port,
      cert,
      options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47',
    )
    return ready.double
  }

  /** SDK client options that make the unmodified SDK trust this double. */
  clientOptions(): { tlsOptions: { ca: string }; disableChallengeResourceVerification: true } {
    return { tlsOptions: { ca: this.caPem }, disableChallengeResourceVerification: true }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    await rm(this.dir, { recursive: true, force: true })
  }

  // ---- knobs -------------------------------------------------------------------------------------

  /** The next `count` authorized requests (of `operation`, if given) get `status` (default 503; 429 → Throttled). */
  failNext(count = 1, status = 503, operation?: Operation): void {
    for (let i = 0; i < count; i++) this.injected.push({ kind: 'status', status, operation })
  }

  /** The next `count` authorized requests (of `operation`, if given) have their connection dropped. */
  resetNext(count = 1, operation?: Operation): void {
    for (let i = 0; i < count; i++) this.injected.push({ kind: 'reset', status: 0, operation })
  }

  /** Random source for `throttle.fraction`. */
  setThrottleRandom(random: () => number): void {
    this.throttleRandom = random
  }

  /** Back to a well-behaved vault: knobs off, denials and injected failures cleared, counters zeroed. */
  reset(): void {
    this.latencyMs = 0
    this.throttle = undefined
    this.signLimitPer10s = undefined
    this.rejectTokens = false
    this.corruptSignatures = false
    this.denied.clear()
    this.injected.length = 0
    this.signTimes.length = 0
    this.throttledDigests.clear()
    this.freshSignCalls = 0
    this.throttleRandom = Math.random
    this.resetCounters()
  }

  resetCounters(): void {
    Object.assign(this.counters, KeyVaultDouble.zero())
    this.log.length = 0
  }

  /** How many authorized requests of an operation were received. */
  count(operation: Operation): number {
    return this.log.filter((r) => r.authorized && r.operation === operation).length
  }

  private static zero(): DoubleCounters {
    return {
      requests: 0,
      challenges: 0,
      keyGets: 0,
      signCalls: 0,
      signsOk: 0,
      throttled: 0,
      failures: 0,
      resets: 0,
      signsInFlight: 0,
      maxSignsInFlight: 0,
    }
  }

  // ---- test setup (not REST) ---------------------------------------------------------------------

  /** Creates a key (a new version if the name exists); returns its versioned id. */
  async addKey(name: string, options: DoubleKeyOptions = {}): Promise<string> {
    const key = await this.makeKey(name, options.kty ?? 'RSA-HSM', options.size, options.curve, false)
    if (options.keyOps) key.keyOps = options.keyOps
    if (options.enabled !== undefined) key.enabled = options.enabled
    if (options.notBefore) key.notBefore = Math.floor(options.notBefore.getTime() / 1000)
    if (options.expires) key.expires = Math.floor(options.expires.getTime() / 1000)
    return this.kid(key)
  }

  /** Changes a key version's attributes, as `az keyvault key set-attributes` would. */
  setKeyAttributes(
    kid: string,
    attributes: { enabled?: boolean; notBefore?: Date | null; expires?: Date | null; keyOps?: string[] },
  ): void {
    const key = this.keyById(kid)
    if (attributes.enabled !== undefined) key.enabled = attributes.enabled
    if (attributes.notBefore !== undefined) key.notBefore = seconds(attributes.notBefore)
    if (attributes.expires !== undefined) key.expires = seconds(attributes.expires)
    if (attributes.keyOps) key.keyOps = attributes.keyOps
  }

  /** The key's public key as DER SPKI, straight from the private key the double holds. */
  publicKeySpki(kid: string): Uint8Array {
    const key = this.keyById(kid)
    return new Uint8Array(createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' }))
  }

  private keyById(kid: string): StoredKey {
    const [, name, version] = new URL(kid).pathname.split('/').slice(1)
    const key = this.keys.get((name ?? '').toLowerCase())?.find((k) => k.version === version)
    if (!key) throw new Error(`the double has no key ${kid}`)
    return key
  }

  private kid(key: StoredKey): string {
    return `${this.url}/keys/${key.name}/${key.version}`
  }

  private async makeKey(
    name: string,
    kty: DoubleKeyType,
    size: number | undefined,
    curve: Curve | undefined,
    managed: boolean,
  ): Promise<StoredKey> {
    const rsa = kty === 'RSA' || kty === 'RSA-HSM'
    const { privateKey } = rsa
      ? await generateKeyPairAsync('rsa', { modulusLength: size ?? 2048 })
      : await generateKeyPairAsync('ec', { namedCurve: curve ?? 'P-256' })
    const key: StoredKey = {
      name,
      version: newVersion(),
      kty,
      privateKey,
      jwk: createPublicKey(privateKey).export({ format: 'jwk' }),
      curve: rsa ? undefined : (curve ?? 'P-256'),
      keyOps: rsa ? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] : ['sign', 'verify'],
      enabled: true,
      notBefore: undefined,
      expires: undefined,
      exportable: false,
      created: now(),
      managed,
    }
    const versions = this.keys.get(name.toLowerCase()) ?? []
    versions.push(key)
    this.keys.set(name.toLowerCase(), versions)
    return key
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++
    const rawUrl = req.url ?? '/'
    const url = new URL(rawUrl, this.url)
    const method = req.method ?? 'GET'
    const segments = url.pathname.split('/').slice(1)
    const operation = this.operationOf(method, segments)
    const record: RequestRecord = { method, url: rawUrl, operation, status: 0, authorized: false }
    this.log.push(record)
    const body = await readBody(req)

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status
      if (res.destroyed) return
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ms-keyvault-region': 'local',
        'x-ms-keyvault-service-version': 'double',
        'x-ms-request-id': randomBytes(16).toString('hex'),
        ...headers,
      })
      res.end(payload === undefined ? '' : JSON.stringify(payload))
    }
    const challenge = {
      'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${this.tenantId}", resource="https://vault.azure.net"`,
    }

    const authorization = req.headers.authorization
    if (!authorization || !/^Bearer \S+$/.test(authorization)) {
      this.counters.challenges++
      return send(
        401,
        error('Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'),
        challenge,
      )
    }
    if (this.rejectTokens) {
      return send(
        401,
        error(
          'Unauthorized',
          `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${this.tenantId}/.`,
        ),
        challenge,
      )
    }
    record.authorized = true
    if (!url.searchParams.get('api-version')) {
      return send(
        400,
        error('BadParameter', 'The request URI contains an invalid or missing api-version parameter.'),
      )
    }

    const signing = operation === 'key.sign'
    if (operation === 'key.get') this.counters.keyGets++
    if (signing) {
      this.counters.signCalls++
      this.counters.signsInFlight++
      this.counters.maxSignsInFlight = Math.max(this.counters.maxSignsInFlight, this.counters.signsInFlight)
    }
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs)
      const injected = this.takeInjected(operation)
      if (injected?.kind === 'reset') {
        this.counters.resets++
        record.status = -1
        req.socket.destroy()
        return
      }
      if (injected) {
        this.counters.failures++
        const [code, message] =
          injected.status === 429
            ? ['Throttled', 'Request was not processed because too many requests were received.']
            : injected.status === 503
              ? ['ServiceUnavailable', 'The service is temporarily unavailable. Try again later.']
              : ['InternalServerError', 'The server encountered an internal error. Try again later.']
        return send(injected.status, error(code, message))
      }
      if (signing && this.shouldThrottle(parseJson(body))) {
        this.counters.throttled++
        const headers: Record<string, string> =
          this.throttle?.retryAfterSeconds !== undefined
            ? { 'retry-after': String(this.throttle.retryAfterSeconds) }
            : {}
        return send(
          429,
          error(
            'Throttled',
            'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
          ),
          headers,
        )
      }
      const permission = PERMISSION_OF[operation]
      if (permission && this.denied.has(permission)) {
        throw new HttpError(
          403,
          'Forbidden',
          `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=00000000-0000-0000-0000-000000000000;oid=00000000-0000-0000-0000-000000000001;iss=https://sts.windows.net/${this.tenantId}/\r\nAction: '${DATA_ACTION[permission]}'\r\nResource: '/subscriptions/…/providers/microsoft.keyvault/vaults/double/${segments[0]}/${segments[1]}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: double;location=local\r\n`,
          'ForbiddenByRbac',
        )
      }
      const [status, payload, headers] = await this.route(operation, method, segments, parseJson(body))
      if (signing && status === 200) {
        this.counters.signsOk++
        this.signTimes.push(Date.now())
      }
      return send(status, payload, headers)
    } catch (e) {
      if (e instanceof HttpError) {
        return send(e.status, error(e.code, e.message, e.inner), e.headers)
      }
      throw e
    } finally {
      if (signing) this.counters.signsInFlight--
    }
  }

  private takeInjected(operation: Operation) {
    const i = this.injected.findIndex((f) => f.operation === undefined || f.operation === operation)
    return i < 0 ? undefined : this.injected.splice(i, 1)[0]
  }

  private shouldThrottle(body: Record<string, unknown>): boolean {
    const t = this.throttle
    if (t?.firstAttemptsOnly) {
      const digest = String(body.value)
      if (this.throttledDigests.has(digest)) return false
      this.freshSignCalls++
      if (t.every && this.freshSignCalls % t.every === 0) {
        this.throttledDigests.add(digest)
        return true
      }
      return false
    }
    if (t?.every && this.counters.signCalls % t.every === 0) return true
    if (t?.fraction && this.throttleRandom() < t.fraction) return true
    if (this.signLimitPer10s !== undefined) {
      const since = Date.now() - 10_000
      while (this.signTimes.length && this.signTimes[0]! < since) this.signTimes.shift()
      if (this.signTimes.length >= this.signLimitPer10s) return true
    }
    return false
  }

  private operationOf(method: string, s: string[]): Operation {
    const [collection, , third, fourth, fifth] = s
    if (collection === 'keys') {
      if (method === 'POST' && third === 'create' && s.length === 3) return 'key.create'
      if (method === 'GET' && s.length <= 3) return 'key.get'
      if (method === 'POST' && fourth === 'sign' && s.length === 4) return 'key.sign'
    }
    if (collection === 'certificates') {
      if (method === 'POST' && third === 'create' && s.length === 3) return 'certificate.create'
      if (method === 'GET' && third === 'pending' && s.length === 3) return 'certificate.pending'
      if (method === 'POST' && third === 'pending' && fourth === 'merge' && fifth === undefined)
        return 'certificate.merge'
      if (method === 'GET' && s.length <= 3) return 'certificate.get'
    }
    return 'unknown'
  }

  private async route(
    operation: Operation,
    method: string,
    s: string[],
    body: Record<string, unknown>,
  ): Promise<[number, unknown, Record<string, string>?]> {
    const name = s[1] ?? ''
    if (operation !== 'unknown' && !NAME.test(name)) {
      throw new HttpError(400, 'BadParameter', `Invalid name '${name}': 1-127 letters, digits and dashes.`)
    }
    switch (operation) {
      case 'key.get':
        return [200, this.keyBundle(this.findKey(name, s[2] ?? ''))]
      case 'key.create':
        return [200, this.keyBundle(await this.createKeyFromRest(name, body))]
      case 'key.sign':
        return [200, this.sign(name, s[2] ?? '', body)]
      case 'certificate.create':
        return this.createCertificate(name, body)
      case 'certificate.pending':
        return [200, this.pendingOperation(this.findPending(name))]
      case 'certificate.merge':
        return [201, this.merge(name, body)]
      case 'certificate.get':
        return [200, this.certificateBundle(name, s[2] ?? '')]
      default:
        throw new HttpError(404, 'NotFound', `The double does not serve ${method} /${s.join('/')}.`)
    }
  }

  // ---- keys --------------------------------------------------------------------------------------

  private findKey(name: string, version: string): StoredKey {
    const versions = this.keys.get(name.toLowerCase())
    const key = version === '' ? versions?.at(-1) : versions?.find((k) => k.version === version)
    if (!key) {
      throw new HttpError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      )
    }
    return key
  }

  private keyBundle(key: StoredKey): Record<string, unknown> {
    const rsa = key.kty === 'RSA' || key.kty === 'RSA-HSM'
    return {
      key: {
        kid: this.kid(key),
        kty: key.kty,
        key_ops: key.keyOps,
        ...(rsa ? { n: key.jwk.n, e: key.jwk.e } : { crv: key.curve, x: key.jwk.x, y: key.jwk.y }),
      },
      attributes: {
        enabled: key.enabled,
        ...(key.notBefore !== undefined ? { nbf: key.notBefore } : {}),
        ...(key.expires !== undefined ? { exp: key.expires } : {}),
        created: key.created,
        updated: key.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: key.exportable,
      },
      tags: {},
      ...(key.managed ? { managed: true } : {}),
    }
  }

  private async createKeyFromRest(name: string, body: Record<string, unknown>): Promise<StoredKey> {
    const kty = body.kty
    if (kty !== 'RSA' && kty !== 'RSA-HSM' && kty !== 'EC' && kty !== 'EC-HSM') {
      throw new HttpError(400, 'BadParameter', `The double cannot create keys of type '${String(kty)}'.`)
    }
    const crv = body.crv as Curve | undefined
    if (crv !== undefined && !(crv in CURVES))
      throw new HttpError(400, 'BadParameter', `Unsupported curve '${crv}'.`)
    const key = await this.makeKey(name, kty, body.key_size as number | undefined, crv, false)
    if (Array.isArray(body.key_ops)) key.keyOps = body.key_ops as string[]
    const attributes = (body.attributes ?? {}) as Record<string, unknown>
    if (typeof attributes.enabled === 'boolean') key.enabled = attributes.enabled
    if (typeof attributes.nbf === 'number') key.notBefore = attributes.nbf
    if (typeof attributes.exp === 'number') key.expires = attributes.exp
    if (typeof attributes.exportable === 'boolean') key.exportable = attributes.exportable
    return key
  }

  private sign(name: string, version: string, body: Record<string, unknown>): Record<string, string> {
    if (version === '') {
      throw new HttpError(400, 'BadParameter', 'A key version is required for this operation.')
    }
    const key = this.findKey(name, version)
    const alg = body.alg as DigestAlgorithm
    if (typeof body.value !== 'string' || !(alg in HASH_OF)) {
      throw new HttpError(400, 'BadParameter', `Invalid signature algorithm '${String(body.alg)}' or value.`)
    }
    const digest = Buffer.from(body.value, 'base64url')
    const hash = HASH_OF[alg]
    const rsa = key.kty === 'RSA' || key.kty === 'RSA-HSM'
    const curveOf = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, Curve>
    if (rsa ? alg.startsWith('ES') : curveOf[alg] !== key.curve) {
      throw new HttpError(
        400,
        'BadParameter',
        `Algorithm ${alg} is not supported for key type ${key.kty}${key.curve ? ` ${key.curve}` : ''}.`,
      )
    }
    if (digest.length !== createHash(hash).digest().length) {
      throw new HttpError(400, 'BadParameter', `Invalid digest length ${digest.length} for algorithm ${alg}.`)
    }
    if (!key.enabled)
      throw new HttpError(403, 'Forbidden', 'Operation sign is not allowed on a disabled key.', 'KeyDisabled')
    const t = now()
    if (key.notBefore !== undefined && t < key.notBefore) {
      throw new HttpError(
        403,
        'Forbidden',
        'Operation sign is not allowed on a key that is not yet valid.',
        'KeyNotYetValid',
      )
    }
    if (key.expires !== undefined && t >= key.expires) {
      throw new HttpError(403, 'Forbidden', 'Operation sign is not allowed on an expired key.', 'KeyExpired')
    }
    if (!key.keyOps.includes('sign')) {
      throw new HttpError(
        403,
        'Forbidden',
        'Operation sign is not permitted on this key.',
        'KeyOperationForbidden',
      )
    }
    const signature = alg.startsWith('RS')
      ? rsaPkcs1SignDigest(key.privateKey, hash, digest)
      : alg.startsWith('PS')
        ? rsaPssSignDigest(key.privateKey, hash, digest)
        : ecdsaSignDigest(key.privateKey, key.curve!, digest)
    if (this.corruptSignatures) signature[signature.length - 1]! ^= 0x01
    return { kid: this.kid(key), value: signature.toString('base64url') }
  }

  // ---- certificates ------------------------------------------------------------------------------

  private async createCertificate(
    name: string,
    body: Record<string, unknown>,
  ): Promise<[number, unknown, Record<string, string>]> {
    this.certificateCreateBodies.push({ name, body })
    const policy = (body.policy ?? {}) as Record<string, Record<string, unknown> | undefined>
    const keyProps = policy.key_props ?? {}
    const x509Props = policy.x509_props ?? {}
    const issuer = policy.issuer ?? {}
    if (issuer.name !== 'Unknown') {
      throw new HttpError(
        400,
        'BadParameter',
        `The double only creates certificates with issuer 'Unknown', not '${String(issuer.name)}'.`,
      )
    }
    const subject = x509Props.subject
    if (typeof subject !== 'string' || !subject) {
      throw new HttpError(400, 'BadParameter', 'Property policy.x509_props.subject is required.')
    }
    const existing = this.certificates.get(name.toLowerCase())
    if (existing?.pending?.status === 'inProgress') {
      throw new HttpError(
        409,
        'Conflict',
        `Certificate ${name} has a pending operation in progress. Merge it, or delete the pending operation before creating a new version.`,
      )
    }
    const kty = (keyProps.kty ?? 'RSA') as DoubleKeyType
    if (!['RSA', 'RSA-HSM', 'EC', 'EC-HSM'].includes(kty)) {
      throw new HttpError(400, 'BadParameter', `Unsupported key type '${kty}'.`)
    }
    const rsa = kty.startsWith('RSA')
    const curve = (keyProps.crv ?? 'P-256') as Curve
    if (!rsa && !(curve in CURVES)) throw new HttpError(400, 'BadParameter', `Unsupported curve '${curve}'.`)
    const key = await this.makeKey(name, kty, keyProps.key_size as number | undefined, curve, true)
    key.exportable = keyProps.exportable === true
    const csr = await this.makeCsr(key, subject, (x509Props.key_usage as string[] | undefined) ?? [])

    const t = now()
    const entry: StoredCertificate = existing ?? {
      name,
      policy: {},
      policyCreated: t,
      pending: undefined,
      versions: new Map(),
      latest: undefined,
    }
    entry.policy = policy as Record<string, unknown>
    entry.pending = {
      requestId: randomBytes(16).toString('hex'),
      keyVersion: key.version,
      placeholderVersion: newVersion(),
      csr,
      status: 'inProgress',
      created: t,
    }
    this.certificates.set(name.toLowerCase(), entry)
    return [
      202,
      this.pendingOperation(entry),
      {
        location: `${this.url}/certificates/${name}/pending?api-version=2025-07-01&request_id=${entry.pending.requestId}`,
        'retry-after': '10',
      },
    ]
  }

  private async makeCsr(key: StoredKey, subject: string, keyUsage: string[]): Promise<Buffer> {
    const rsa = key.curve === undefined
    const algorithm = rsa
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: key.curve, hash: 'SHA-256' }
    const pkcs8 = key.privateKey.export({ type: 'pkcs8', format: 'der' })
    const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' })
    const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign'])
    const publicKey = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify'])
    const flags = keyUsage.reduce((acc, usage) => acc | (KEY_USAGE_FLAGS[usage] ?? 0), 0)
    // Key Vault puts the policy's key usage and a basicConstraints (CA:FALSE) in its CSRs.
    const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false)]
    if (flags) extensions.unshift(new x509.KeyUsagesExtension(flags, true))
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      { name: subject, keys: { privateKey, publicKey }, signingAlgorithm: algorithm, extensions },
      webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
    )
    return Buffer.from(csr.rawData)
  }

  private findPending(name: string): StoredCertificate & { pending: PendingOperation } {
    const entry = this.certificates.get(name.toLowerCase())
    if (!entry?.pending) {
      throw new HttpError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`)
    }
    return entry as StoredCertificate & { pending: PendingOperation }
  }

  private pendingOperation(entry: StoredCertificate): Record<string, unknown> {
    const pending = entry.pending!
    return {
      id: `${this.url}/certificates/${entry.name}/pending`,
      issuer: { name: 'Unknown' },
      csr: pending.csr.toString('base64'),
      cancellation_requested: false,
      status: pending.status,
      status_details:
        pending.status === 'inProgress'
          ? 'Pending certificate created. Please Perform Merge to complete the request.'
          : '',
      ...(pending.target ? { target: pending.target } : {}),
      request_id: pending.requestId,
    }
  }

  private merge(name: string, body: Record<string, unknown>): Record<string, unknown> {
    const entry = this.findPending(name)
    if (entry.pending.status !== 'inProgress') {
      throw new HttpError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`)
    }
    const x5c = body.x5c
    if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
      throw new HttpError(400, 'BadParameter', 'Property x5c is required and must be a non-empty array.')
    }
    let chain: Buffer[]
    let leaf: x509.X509Certificate
    try {
      chain = (x5c as string[]).map(decodeCertificate)
      leaf = new x509.X509Certificate(chain[0]!)
    } catch (e) {
      throw new HttpError(400, 'BadParameter', `Property x5c has an invalid certificate: ${String(e)}`)
    }
    const key = this.findKey(name, entry.pending.keyVersion)
    const keySpki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' })
    const certSpki = createPublicKey({
      key: Buffer.from(leaf.publicKey.rawData),
      format: 'der',
      type: 'spki',
    }).export({
      type: 'spki',
      format: 'der',
    })
    if (!keySpki.equals(certSpki)) {
      throw new HttpError(
        400,
        'BadParameter',
        "Public key from x509 certificate and key of this instance doesn't match",
      )
    }
    const version = entry.pending.keyVersion
    entry.versions.set(version, {
      version,
      cer: chain[0]!,
      chain,
      nbf: Math.floor(leaf.notBefore.getTime() / 1000),
      exp: Math.floor(leaf.notAfter.getTime() / 1000),
      created: now(),
    })
    entry.latest = version
    entry.pending.status = 'completed'
    entry.pending.target = `${this.url}/certificates/${entry.name}/${version}`
    return this.certificateBundle(name, version)
  }

  private certificateBundle(name: string, version: string): Record<string, unknown> {
    const entry = this.certificates.get(name.toLowerCase())
    const notFound = () =>
      new HttpError(
        404,
        'CertificateNotFound',
        `A certificate with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      )
    if (!entry) throw notFound()
    const pending = entry.pending
    const policy = this.policyBody(entry)
    if (pending?.status === 'inProgress' && (version === '' || version === pending.placeholderVersion)) {
      return {
        id: `${this.url}/certificates/${entry.name}/${pending.placeholderVersion}`,
        attributes: {
          enabled: false,
          created: pending.created,
          updated: pending.created,
          recoveryLevel: 'Recoverable+Purgeable',
          recoverableDays: 90,
        },
        policy,
        pending: { id: `${this.url}/certificates/${entry.name}/pending` },
      }
    }
    const stored = entry.versions.get(version === '' ? (entry.latest ?? '') : version)
    if (!stored) throw notFound()
    return {
      id: `${this.url}/certificates/${entry.name}/${stored.version}`,
      kid: `${this.url}/keys/${entry.name}/${stored.version}`,
      sid: `${this.url}/secrets/${entry.name}/${stored.version}`,
      x5t: createHash('sha1').update(stored.cer).digest('base64url'),
      cer: stored.cer.toString('base64'),
      attributes: {
        enabled: true,
        nbf: stored.nbf,
        exp: stored.exp,
        created: stored.created,
        updated: stored.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      policy,
    }
  }

  private policyBody(entry: StoredCertificate): Record<string, unknown> {
    const policy = entry.policy as Record<string, Record<string, unknown> | undefined>
    return {
      id: `${this.url}/certificates/${entry.name}/policy`,
      key_props: { reuse_key: false, ...policy.key_props },
      secret_props: { contentType: 'application/x-pkcs12', ...policy.secret_props },
      x509_props: { sans: {}, validity_months: 12, ...policy.x509_props },
      lifetime_actions: [],
      issuer: { cert_transparency: false, ...policy.issuer },
      attributes: { enabled: true, created: entry.policyCreated, updated: entry.policyCreated },
    }
  }
}

function seconds(date: Date | null): number | undefined {
  return date === null ? undefined : Math.floor(date.getTime() / 1000)
}

function error(code: string, message: string, inner?: string): Record<string, unknown> {
  return { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
  } catch {
    throw new HttpError(400, 'BadParameter', 'The request body is not valid JSON.')
  }
}

/** x5c entries: base64 of DER, or (as the SDK's own tests send) base64 of a PEM file. */
function decodeCertificate(b64: string): Buffer {
  const bytes = Buffer.from(b64, 'base64')
  const text = bytes.toString('latin1')
  if (text.startsWith('-----BEGIN')) {
    const inner = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
    return Buffer.from(inner, 'base64')
  }
  return bytes
}
