/**
 * The one error family of mtls-ca. Every refusal or failure carries a stable `code` (documented in
 * README, matched by tests and by callers), a message a person can act on, and optionally the file
 * it concerns and the underlying cause. Entry points (CLI, Action) catch `CaError` once and map it.
 */

export type ErrorCode =
  // a CSR that is not acceptable as input
  | 'csr.too_large'
  | 'csr.not_pem'
  | 'csr.multiple_blocks'
  | 'csr.trailing_data'
  | 'csr.malformed'
  | 'csr.bad_signature'
  | 'csr.weak_signature'
  | 'csr.unreadable'
  // the key in a CSR
  | 'key.too_small'
  | 'key.unsupported'
  // policy refusals
  | 'policy.subject_missing'
  | 'policy.subject_mismatch'
  | 'policy.subject_invalid'
  | 'policy.name_invalid'
  | 'policy.san_not_allowed'
  | 'policy.san_required'
  | 'policy.profile_unknown'
  | 'policy.days_invalid'
  // requests as a batch
  | 'request.duplicate_name'
  | 'request.already_issued'
  | 'request.none'
  | 'request.refused'
  // lint of a certificate about to be signed: a bug, never a user error
  | 'lint.failed'
  // state on disk
  | 'state.exists'
  | 'state.missing'
  | 'state.corrupt'
  | 'state.locked'
  | 'state.conflict'
  | 'state.write_failed'
  | 'state.path_invalid'
  | 'config.invalid'
  // keys and signing
  | 'signer.unavailable'
  | 'signer.failed'
  | 'signer.mismatch'
  // revocation and verification
  | 'revoke.unknown_serial'
  | 'revoke.already_revoked'
  | 'revoke.expired'
  | 'revoke.wrong_issuer'
  | 'revoke.not_on_hold'
  | 'verify.failed'
  // adopting an existing openssl ca directory
  | 'adopt.config_invalid'
  | 'adopt.unsupported'
  /** The files a configuration names are not a working CA: missing, not a CA, key not matching. */
  | 'adopt.ca_invalid'
  // Azure Key Vault
  | 'vault.not_found'
  | 'vault.disabled'
  | 'vault.expired'
  | 'vault.not_permitted'
  | 'vault.forbidden'
  | 'vault.throttled'
  | 'vault.unreachable'
  | 'vault.failed'
  // publishing the chain bundle to Azure Application Gateway
  /** The bundle is not one the gateway accepts (two roots, a leaf, a key, too large, broken chain, expired). */
  | 'publish.bundle_invalid'
  /** A target (ca.yml publish.app_gateway or the flags) is malformed. */
  | 'publish.target_invalid'
  /** The gateway cannot take the change: no such SSL profile, or over its chain limits. */
  | 'publish.gateway_invalid'
  | 'gateway.not_found'
  | 'gateway.forbidden'
  /** Another operation kept changing the gateway through every retry. */
  | 'gateway.conflict'
  | 'gateway.throttled'
  | 'gateway.unreachable'
  | 'gateway.failed'
  // command line usage (exit code 2)
  | 'usage.invalid'

export interface CaErrorOptions {
  /** The file the error is about, when there is one; the CLI prints it first. */
  file?: string
  cause?: unknown
  /** Further specific reasons, e.g. every refusal of a batch. */
  details?: CaError[]
}

export class CaError extends Error {
  override readonly name = 'CaError'
  readonly code: ErrorCode
  readonly file: string | undefined
  readonly details: CaError[]

  constructor(code: ErrorCode, message: string, options: CaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.file = options.file
    this.details = options.details ?? []
  }

  /** The same error, now attributed to a file (errors from pure code learn their file from the caller). */
  withFile(file: string): CaError {
    if (this.file !== undefined) return this
    return new CaError(this.code, this.message, { file, cause: this.cause, details: this.details })
  }

  /** One line: `file: message [code]`. */
  toLine(): string {
    return `${this.file ? `${this.file}: ` : ''}${this.message} [${this.code}]`
  }
}

export function isCaError(e: unknown): e is CaError {
  return e instanceof CaError
}
