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
  /** The signature algorithm does not fit the key (an RSA algorithm over an EC key, …). */
  | 'csr.algorithm_mismatch'
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
  /** A CN or emailAddress names an identity the allow-list refuses, or a server profile's CN is not a host name. */
  | 'policy.subject_name_not_allowed'
  | 'policy.san_required'
  | 'policy.profile_unknown'
  | 'policy.days_invalid'
  // requests as a batch
  | 'request.duplicate_name'
  | 'request.already_issued'
  | 'request.none'
  | 'request.refused'
  /** A request file whose name cannot name a certificate (layout.ts REQUEST_NAME). */
  | 'request.bad_name'
  /** The pending requests together are more than a batch may hold in memory. */
  | 'request.batch_too_large'
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
  /** The store's own folder (lock, journal) holds something the store did not write: never replayed. */
  | 'state.untrusted_journal'
  | 'config.invalid'
  /** ca.yml or a request's options file is larger than such a file may be. */
  | 'config.too_large'
  /** A file is larger than the reader's bound (callers re-code it for what the file is). */
  | 'state.too_large'
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
  /** A certificate given to revoke does not verify with the CA's key: this CA did not sign it. */
  | 'revoke.not_issued_by_ca'
  | 'revoke.invalidity_in_future'
  /** An invalidity date before the certificate (or its CA) existed. */
  | 'revoke.invalidity_before_issue'
  | 'verify.failed'
  // the CA's own certificates, checked before anything is signed with them
  /** ca.yml's intermediate is the root, or self-signed: leaves would be issued straight from a root. */
  | 'ca.not_intermediate'
  /** The intermediate does not chain to the root: issuer name, key identifier or signature. */
  | 'ca.not_signed_by_root'
  /** The root is not a self-signed certificate whose self-signature verifies. */
  | 'ca.root_not_self_signed'
  /** A CA certificate that may not issue: no critical CA:TRUE, no keyCertSign/cRLSign, no SKI/AKI, pathlen. */
  | 'ca.not_a_ca'
  | 'ca.expired'
  | 'ca.not_yet_valid'
  // adopting an existing openssl ca directory
  | 'adopt.config_invalid'
  | 'adopt.unsupported'
  /** The files a configuration names are not a working CA: missing, not a CA, key not matching. */
  | 'adopt.ca_invalid'
  /** A configuration file, or all of them with their includes, beyond the size, line or expansion bounds. */
  | 'adopt.config_too_large'
  /** A configuration or an included path that is not a regular file (a FIFO, a device, a socket, a link). */
  | 'adopt.include_not_regular'
  /** `.include` of a path outside the CA directory (`..`, an absolute path, a symbolic link out). */
  | 'adopt.include_outside'
  /** A value adopt would copy into ca.yml or its report takes something from the environment (`$ENV::X`). */
  | 'adopt.env_in_value'
  // Azure Key Vault
  | 'vault.not_found'
  | 'vault.disabled'
  | 'vault.expired'
  | 'vault.not_permitted'
  | 'vault.forbidden'
  | 'vault.throttled'
  | 'vault.unreachable'
  | 'vault.failed'
  // the git working copy the Action commits to
  /** A git command failed for a reason other than those below. */
  | 'git.failed'
  /** The push lost the race to another run more times than the run redoes its work. */
  | 'git.conflict'
  /** Branch protection or a ruleset refused the push: the token needs a bypass. */
  | 'git.push_protected'
  // GitHub events and their content
  /** The event, its payload or the repository is not one the Action can act on. */
  | 'github.event_invalid'
  /** A pull request changes the CA's state or adds files a request cannot be. */
  | 'github.pr_refused'
  /** A revoke issue's body does not name a certificate and a reason as the form asks. */
  | 'github.issue_invalid'
  /** The person who applied the revoke label may not revoke. */
  | 'github.not_permitted'
  /** The GitHub API refused or failed a call. */
  | 'github.api_failed'
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
