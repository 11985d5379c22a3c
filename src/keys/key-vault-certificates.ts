/**
 * A CA certificate whose key is made in, and never leaves, Azure Key Vault: start a certificate with
 * issuer `Unknown` so the vault makes the key and a CSR, hand the CSR to our own CA (which signs it with
 * CA extensions of its own), and merge the signed certificate and its chain back. This module owns
 * those three vault calls (create without polling to completion, read the pending CSR, merge) and
 * reading a certificate back; retries, timeouts and error messages come from retry.ts.
 */
import { createPublicKey } from 'node:crypto'
import type { TokenCredential } from '@azure/identity'
import {
  CertificateClient,
  type CertificateClientOptions,
  type CertificatePolicy,
  type KeyVaultCertificate,
} from '@azure/keyvault-certificates'
import { KeyClient } from '@azure/keyvault-keys'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificationRequest } from '@peculiar/asn1-csr'
import { CaError } from '../ca/errors.js'
import { publicKeyInfo } from './azure-key-vault-signer.js'
import { callVault, NO_SDK_RETRIES } from './retry.js'
import { retryPolicy, type RetryPolicy, type Sleep } from './retry-policy.js'
import type { VaultCall } from './vault-errors.js'

export interface CertificateVaultOptions {
  credential: TokenCredential
  /** Time limit of one request to the vault, in ms. Default 30 000. */
  timeoutMs?: number
  sleep?: Sleep
  /** SDK client options (TLS trust, challenge verification for doubles, API version, proxy). */
  clientOptions?: Omit<CertificateClientOptions, 'retryOptions'>
}

/** A vault to keep CA certificates in; open it with `openCertificateVault`. */
export interface CertificateVault {
  readonly url: string
  readonly certificates: CertificateClient
  readonly keys: KeyClient
  readonly policy: RetryPolicy
}

export function openCertificateVault(vaultUrl: string, options: CertificateVaultOptions): CertificateVault {
  let url: URL
  try {
    url = new URL(vaultUrl)
  } catch {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault URL '${vaultUrl}'. Expected 'https://<name>.vault.azure.net'.`,
    )
  }
  if (url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault URL '${vaultUrl}'. Expected 'https://<name>.vault.azure.net'.`,
    )
  }
  const clientOptions = () => ({ ...options.clientOptions, ...NO_SDK_RETRIES })
  return {
    url: url.origin,
    certificates: new CertificateClient(url.origin, options.credential, clientOptions()),
    keys: new KeyClient(url.origin, options.credential, clientOptions()),
    policy: retryPolicy({ timeoutMs: options.timeoutMs, sleep: options.sleep }),
  }
}

/** The key the vault makes for a CA certificate: an HSM key that cannot be exported. */
export type CaKeySpec =
  | { subject: string; keyType: 'RSA-HSM'; keySize?: 2048 | 3072 | 4096 }
  | { subject: string; keyType: 'EC-HSM'; curve?: 'P-256' | 'P-384' | 'P-521' }

export interface PendingCertificate {
  vaultUrl: string
  name: string
  /** The vault's CSR (DER), signed by the new key. Use its public key and proof of possession, not its extensions. */
  csr: Uint8Array
  /** The new key's public key (DER SPKI), from the CSR. */
  spki: Uint8Array
  /**
   * The new key's versioned id, when the vault shows the pending key and the identity may read keys
   * (`Key Vault Crypto User`); checked to hold the CSR's public key. `mergeSignedCertificate` returns the
   * key id in any case.
   */
  keyId: string | undefined
}

export interface VaultCertificate {
  /** The certificate's versioned id. */
  id: string
  version: string
  /** The versioned id of the certificate's key: what `openKeyVaultSigner` takes. Absent while pending. */
  keyId: string | undefined
  /** The certificate (DER); absent while the certificate is pending. */
  certificate: Uint8Array | undefined
  enabled: boolean | undefined
  pending: boolean
}

const NAME = /^[0-9A-Za-z-]{1,127}$/

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault certificate name '${name}': 1–127 letters, digits and dashes.`,
    )
  }
}

function certificateCall(
  vault: CertificateVault,
  name: string,
  operation: string,
  idempotent: boolean,
): VaultCall {
  return { vault: vault.url, kind: 'certificate', name, operation, idempotent }
}

function spkiOfCsr(csr: Uint8Array, describe: string): Uint8Array {
  try {
    const request = AsnConvert.parse(csr, CertificationRequest)
    const der = new Uint8Array(AsnConvert.serialize(request.certificationRequestInfo.subjectPKInfo))
    return new Uint8Array(
      createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({
        type: 'spki',
        format: 'der',
      }),
    )
  } catch (e) {
    throw new CaError('vault.failed', `${describe}: the vault's CSR could not be read (${String(e)}).`, {
      cause: e,
    })
  }
}

/**
 * Starts a CA certificate in the vault: the vault makes a non-exportable HSM key and a CSR. Does not
 * poll to completion (with issuer `Unknown` the operation stays in progress until a merge). Fails with
 * a 409 (`vault.failed`) when an operation for the name is already pending.
 */
export async function createPendingCertificate(
  vault: CertificateVault,
  name: string,
  spec: CaKeySpec,
): Promise<PendingCertificate> {
  checkName(name)
  if (!spec.subject.trim()) throw new CaError('usage.invalid', `Certificate '${name}': the subject is empty.`)
  const policy: CertificatePolicy = {
    issuerName: 'Unknown',
    subject: spec.subject,
    keyType: spec.keyType,
    ...(spec.keyType === 'RSA-HSM'
      ? { keySize: spec.keySize ?? 2048 }
      : { keyCurveName: spec.curve ?? 'P-256' }),
    exportable: false,
    reuseKey: false,
    keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
  }
  // Not idempotent: a create whose answer was lost may have succeeded, and a second one gets a 409.
  await callVault(certificateCall(vault, name, 'create', false), vault.policy, (abortSignal) =>
    vault.certificates.beginCreateCertificate(name, policy, { abortSignal }),
  )
  const poller = await callVault(
    certificateCall(vault, name, 'read the pending operation of', true),
    vault.policy,
    (abortSignal) => vault.certificates.getCertificateOperation(name, { abortSignal }),
  )
  const operation = poller.getOperationState().certificateOperation
  const describe = `Certificate '${name}' in Key Vault ${vault.url}`
  if (operation?.error) {
    throw new CaError(
      'vault.failed',
      `${describe}: the vault failed to make the key (${operation.error.message ?? '?'}).`,
    )
  }
  if (!operation?.csr || operation.csr.length === 0) {
    throw new CaError(
      'vault.failed',
      `${describe}: the pending operation has no CSR (status '${operation?.status ?? '?'}'). Was it created with issuer 'Unknown'?`,
    )
  }
  const csr = new Uint8Array(operation.csr)
  const spki = spkiOfCsr(csr, describe)
  return { vaultUrl: vault.url, name, csr, spki, keyId: await pendingKeyId(vault, name, spki) }
}

/** The vault's latest version of the key named like the certificate, if it holds the CSR's key. */
async function pendingKeyId(
  vault: CertificateVault,
  name: string,
  spki: Uint8Array,
): Promise<string | undefined> {
  try {
    const key = await callVault(
      { vault: vault.url, kind: 'key', name, operation: 'get', idempotent: true },
      vault.policy,
      (abortSignal) => vault.keys.getKey(name, { abortSignal }),
    )
    const info = publicKeyInfo(key, `Key Vault key '${name}' in ${vault.url}`)
    return Buffer.from(info.spki).equals(Buffer.from(spki)) ? key.id : undefined
  } catch (e) {
    // Forbidden (no keys/read) or not shown yet: the merge tells the key id.
    if (e instanceof CaError && (e.code === 'vault.forbidden' || e.code === 'vault.not_found'))
      return undefined
    throw e
  }
}

function toVaultCertificate(certificate: KeyVaultCertificate, describe: string): VaultCertificate {
  const id = certificate.properties.id
  const version = certificate.properties.version
  if (!id || !version)
    throw new CaError('vault.failed', `${describe}: the vault's answer has no certificate id.`)
  return {
    id,
    version,
    keyId: certificate.keyId,
    certificate: certificate.cer ? new Uint8Array(certificate.cer) : undefined,
    enabled: certificate.properties.enabled,
    pending: !certificate.cer,
  }
}

/**
 * Completes a pending certificate with the signed certificate (DER) followed by its chain up to the
 * root. The vault checks that the certificate holds the pending key.
 */
export async function mergeSignedCertificate(
  vault: CertificateVault,
  name: string,
  chain: readonly Uint8Array[],
): Promise<VaultCertificate & { keyId: string; certificate: Uint8Array }> {
  checkName(name)
  const [leaf] = chain
  if (!leaf)
    throw new CaError('usage.invalid', `Certificate '${name}': nothing to merge (the chain is empty).`)
  const describe = `Certificate '${name}' in Key Vault ${vault.url}`
  const merged = await callVault(
    certificateCall(vault, name, 'merge the signed certificate into', false),
    vault.policy,
    (abortSignal) =>
      vault.certificates.mergeCertificate(
        name,
        chain.map((der) => new Uint8Array(der)),
        { abortSignal },
      ),
  )
  const result = toVaultCertificate(merged, describe)
  if (!result.keyId || !result.certificate) {
    throw new CaError('vault.failed', `${describe}: the merge answered without a key id or certificate.`)
  }
  if (!Buffer.from(result.certificate).equals(Buffer.from(leaf))) {
    throw new CaError(
      'vault.failed',
      `${describe}: after the merge the vault holds a different certificate than the one merged.`,
    )
  }
  return { ...result, keyId: result.keyId, certificate: result.certificate }
}

/** The latest (or the given) version of a certificate; a pending one has no certificate and no key id. */
export async function getCertificate(
  vault: CertificateVault,
  name: string,
  version?: string,
): Promise<VaultCertificate> {
  checkName(name)
  const describe = `Certificate '${name}' in Key Vault ${vault.url}`
  const found = await callVault(
    certificateCall(vault, version ? `${name}/${version}` : name, 'get', true),
    vault.policy,
    (abortSignal) =>
      version
        ? vault.certificates.getCertificateVersion(name, version, { abortSignal })
        : vault.certificates.getCertificate(name, { abortSignal }),
  )
  return toVaultCertificate(found, describe)
}
