/**
 * What a failed Key Vault call means: which failures are worth retrying (429, transient 5xx, network
 * errors), what Retry-After says, and the `CaError` every failure maps to, naming the vault, the object
 * and the operation and saying what to do.
 */
import { CaError, type ErrorCode } from '../ca/errors.js'

/** What a call is about, for messages and for the RBAC role a 403 is missing. */
export interface VaultCall {
  /** The vault's URL, `https://<name>.vault.azure.net`. */
  vault: string
  kind: 'key' | 'certificate'
  /** The object's name, with `/version` when there is one. */
  name: string
  /** What was being done, as a verb phrase: `sign with`, `get`, `create`, `merge`, … */
  operation: string
  /**
   * Whether a failure without an answer (5xx, network error, timeout) may be retried. False for calls
   * that change state and are not idempotent (create, merge): a lost answer may hide a success.
   */
  idempotent: boolean
}
/** The parts of the SDK's RestError (from @azure/core-rest-pipeline) that matter here. */
interface RestErrorLike {
  name: string
  message: string
  statusCode?: number
  code?: string
  details?: unknown
  response?: { headers: { get(name: string): string | undefined }; bodyAsText?: string | null }
}

function asRestError(e: unknown): RestErrorLike | undefined {
  return e instanceof Error && e.name === 'RestError' ? (e as RestErrorLike) : undefined
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'REQUEST_SEND_ERROR',
])

export type Failure = { kind: 'throttled' | 'transient'; retryAfterMs?: number } | { kind: 'fatal' }

export function classify(error: unknown, timedOut: boolean): Failure {
  if (timedOut) return { kind: 'transient' }
  const rest = asRestError(error)
  if (!rest) return { kind: 'fatal' }
  const status = rest.statusCode
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(rest) }
  if (status === 408 || (status !== undefined && status >= 500 && status !== 501 && status !== 505)) {
    return { kind: 'transient', retryAfterMs: retryAfterMs(rest) }
  }
  if (status === undefined && rest.code !== undefined && NETWORK_CODES.has(rest.code))
    return { kind: 'transient' }
  return { kind: 'fatal' }
}

/** Retry-After in seconds or as an HTTP date, or the Azure millisecond headers. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = asRestError(error)?.response?.headers
  if (!headers) return undefined
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name))
    if (headers.get(name) && Number.isFinite(ms) && ms >= 0) return ms
  }
  const value = headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined
}

/** The Key Vault error body: `{"error":{"code","message","innererror":{"code"}}}`. */
function vaultErrorBody(rest: RestErrorLike): { code?: string; message?: string; inner?: string } {
  const details = rest.details as {
    error?: { code?: string; message?: string; innerError?: { code?: string } }
  }
  let error = details?.error
  if (!error && rest.response?.bodyAsText) {
    try {
      const body = JSON.parse(rest.response.bodyAsText) as {
        error?: { code?: string; message?: string; innererror?: { code?: string } }
      }
      error = body.error && { ...body.error, innerError: body.error.innererror }
    } catch {
      // not JSON: keep what the RestError says
    }
  }
  return {
    code: error?.code ?? rest.code,
    message: error?.message ?? rest.message,
    inner: error?.innerError?.code,
  }
}

/** The built-in role that grants what a call needs. */
function roleFor(call: VaultCall): string {
  return call.kind === 'certificate' ? 'Key Vault Certificates Officer' : 'Key Vault Crypto User'
}

/** The access-policy permission a call needs (vaults not using RBAC). */
function accessPolicyPermission(call: VaultCall): string {
  if (call.operation.startsWith('sign')) return 'sign'
  if (call.operation.startsWith('create') || call.operation.startsWith('merge')) return 'create'
  return 'get'
}

function what(call: VaultCall): string {
  return `${call.operation} ${call.kind} '${call.name}' in Key Vault ${call.vault}`
}

/** The vault's own words, on one line and cut short: they can be long (RBAC denials list the caller). */
function quote(message: string | undefined): string {
  if (!message) return ''
  const line = message.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** Maps any failure of a Key Vault call to a `CaError` with an actionable message. */
export function vaultError(
  call: VaultCall,
  error: unknown,
  context: { timedOutMs?: number | undefined; attempts?: number; waitedMs?: number } = {},
): CaError {
  if (error instanceof CaError) return error
  const attempts = context.attempts ?? 1
  const tries = attempts > 1 ? ` after ${attempts} attempts over ${seconds(context.waitedMs ?? 0)}` : ''
  const fail = (code: ErrorCode, message: string) => new CaError(code, message, { cause: error })

  // A call that changes state and got no answer may have taken effect all the same.
  const unknownOutcome = call.idempotent
    ? ''
    : ` It may have taken effect: check the ${call.kind} in the vault before trying again.`
  if (context.timedOutMs !== undefined) {
    return fail(
      'vault.unreachable',
      `Could not ${what(call)}: no answer within ${seconds(context.timedOutMs)}${tries}. ` +
        'Check the vault URL, DNS, firewall or private endpoint, and proxy settings, or raise the timeout.' +
        unknownOutcome,
    )
  }
  const rest = asRestError(error)
  if (!rest) {
    const name = error instanceof Error ? error.name : ''
    const message = error instanceof Error ? error.message : String(error)
    if (/Credential|Authentication/.test(name)) {
      return fail(
        'vault.forbidden',
        `Could not ${what(call)}: no Azure token (${name}: ${quote(message)}). Check the credential: ` +
          'for GitHub OIDC the client id, tenant id and federated credential; locally `az login`.',
      )
    }
    if (name === 'AbortError') {
      return fail('vault.unreachable', `Could not ${what(call)}: the request was aborted.`)
    }
    return fail('vault.failed', `Could not ${what(call)}: ${name ? `${name}: ` : ''}${quote(message)}`)
  }

  const status = rest.statusCode
  const body = vaultErrorBody(rest)
  const said = `HTTP ${status ?? '-'}${body.code ? ` ${body.code}` : ''}${body.message ? `: ${quote(body.message)}` : ''}`
  if (status === undefined) {
    return fail(
      'vault.unreachable',
      `Could not ${what(call)}: the vault could not be reached (${rest.code ?? 'network error'}: ` +
        `${quote(rest.message)})${tries}. Check the vault URL, DNS, firewall or private endpoint, and proxy settings.` +
        unknownOutcome,
    )
  }
  if (status === 429) {
    // With a shared throttle, a call may give up on its first attempt, after others backed off for it.
    const backedOff =
      attempts === 1 && context.waitedMs ? ` after backing off for ${seconds(context.waitedMs)}` : tries
    return fail(
      'vault.throttled',
      `Could not ${what(call)}: the vault is still throttling (${said})${backedOff}. Key Vault allows about ` +
        '2,000 RSA-2048 or EC signatures per 10 s per vault (250 for RSA-4096): lower the concurrency, ' +
        'spread the work out, or retry later.',
    )
  }
  if (status === 401) {
    return fail(
      'vault.forbidden',
      `Could not ${what(call)}: the vault did not accept the credential (${said}). The token is missing, ` +
        'expired or from another tenant: check the credential (for GitHub OIDC the client id, tenant id and ' +
        'federated credential).',
    )
  }
  if (status === 403) {
    if (body.inner === 'KeyDisabled' || /disabled/i.test(body.message ?? '')) {
      return fail(
        'vault.disabled',
        `Could not ${what(call)}: it is disabled (${said}). Enable it, or use another version.`,
      )
    }
    if (body.inner === 'KeyExpired' || body.inner === 'KeyNotYetValid') {
      return fail('vault.expired', `Could not ${what(call)}: it is outside its validity period (${said}).`)
    }
    if (body.inner === 'KeyOperationForbidden') {
      return fail(
        'vault.not_permitted',
        `Could not ${what(call)}: the key's permitted operations (key_ops) do not allow it (${said}).`,
      )
    }
    if (body.inner === 'ForbiddenByFirewall' || body.inner === 'ForbiddenByConnection') {
      return fail(
        'vault.forbidden',
        `Could not ${what(call)}: the vault's network rules refused this client (${said}). Allow the runner's ` +
          'address or use a private endpoint.',
      )
    }
    // An RBAC denial's message is long (caller, assignment, …); the data action is the useful part.
    const action = /Action: '([^']+)'/.exec(body.message ?? '')?.[1]
    const denied = action
      ? `HTTP 403 ${body.code ?? 'Forbidden'}${body.inner ? ` ${body.inner}` : ''}, data action ${action}`
      : said
    return fail(
      'vault.forbidden',
      `Could not ${what(call)}: permission denied (${denied}). Give the identity the '${roleFor(call)}' ` +
        `role on the vault (or on the ${call.kind}); if the vault uses access policies, grant the ` +
        `'${accessPolicyPermission(call)}' ${call.kind} permission.`,
    )
  }
  if (status === 404) {
    return fail(
      'vault.not_found',
      `Could not ${what(call)}: the vault has no such ${call.kind} (${said}). Check the vault URL, the name ` +
        'and the version.',
    )
  }
  if (status === 409) {
    return fail(
      'vault.failed',
      `Could not ${what(call)}: it conflicts with the ${call.kind}'s current state (${said}). If a certificate ` +
        'operation is already pending, merge it or delete it (`az keyvault certificate pending delete`).',
    )
  }
  return fail(
    'vault.failed',
    `Could not ${what(call)}: the vault answered ${said}${tries}.` +
      (status >= 500 ? ` Retry later.${unknownOutcome}` : ''),
  )
}
