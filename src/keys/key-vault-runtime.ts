/**
 * Key Vault as the commands use it, built at the edge (the CLI, the Action) from the environment: the
 * credential (azure-credential.ts: GitHub OIDC when the edge has an id-token getter and the client and
 * tenant ids, DefaultAzureCredential otherwise, a fixed token for doubles), one signer per key id per
 * run (so a key is fetched once however often a command opens it), and the vault operations `init`
 * and `rotate-intermediate` need besides signing: a key's latest version, and a CA key made as a Key
 * Vault certificate (create with issuer Unknown, merge). Nothing reaches Azure, and the SDK is not even
 * loaded, until a command asks for a Key Vault key.
 */
import { CaError } from '../ca/errors.js'
import type { AzureCredentialChoice, AzureCredentialOptions } from './azure-credential.js'
import type { CaKeySpec, CertificateVault, PendingCertificate } from './key-vault-certificates.js'
import type { Sleep } from './retry-policy.js'
import type { KeyVaultOpenOptions } from './open-signer.js'
import type { Signer } from '../ca/signer.js'

/** `https://<vault>/keys/<name>[/<version>]`, taken apart. */
export interface KeyVaultKeyUrl {
  /** `https://<vault>` */
  vaultUrl: string
  name: string
  version: string | undefined
}

const NAME = /^[0-9A-Za-z-]{1,127}$/
const VERSION = /^[0-9A-Za-z]{1,64}$/

/** Parses a Key Vault key URL, with or without a version (a trailing '/' is allowed). */
export function parseKeyUrl(ref: string): KeyVaultKeyUrl {
  const expected = "Expected 'https://<vault>/keys/<name>' or 'https://<vault>/keys/<name>/<version>'"
  let url: URL
  try {
    url = new URL(ref)
  } catch {
    throw new CaError('usage.invalid', `Invalid Key Vault key URL '${ref}'. ${expected}.`)
  }
  const [, collection, name, version, ...rest] = url.pathname.replace(/\/$/, '').split('/')
  if (
    url.protocol !== 'https:' ||
    url.search ||
    url.hash ||
    url.username ||
    url.password ||
    collection !== 'keys' ||
    name === undefined ||
    !NAME.test(name) ||
    (version !== undefined && !VERSION.test(version)) ||
    rest.length > 0
  ) {
    throw new CaError('usage.invalid', `Invalid Key Vault key URL '${ref}'. ${expected}.`)
  }
  return { vaultUrl: url.origin, name, version }
}

export function formatKeyUrl(key: KeyVaultKeyUrl): string {
  return `${key.vaultUrl}/keys/${key.name}${key.version ? `/${key.version}` : ''}`
}

/** What `init` and `rotate-intermediate` do in a vault besides signing. */
export interface KeyVaultCaKeys {
  /** The versioned id of the key's latest version. */
  latestVersion(key: KeyVaultKeyUrl): Promise<string>
  /**
   * Starts a Key Vault certificate named like the key, with issuer Unknown: the vault makes a new,
   * non-exportable key version and a CSR. Refused (409) while another operation for the name is pending.
   */
  createCaKey(key: KeyVaultKeyUrl, spec: CaKeySpec): Promise<PendingCertificate>
  /** Merges the CA certificate (then its chain up to the root) into the pending certificate; returns the key's versioned id. */
  mergeCaCertificate(key: KeyVaultKeyUrl, chain: readonly Uint8Array[]): Promise<string>
}

export interface KeyVaultRuntime {
  openKeyVault: (keyId: string, options: KeyVaultOpenOptions) => Promise<Signer>
  keyVault: KeyVaultCaKeys
  /** Which credential is used, for logs (never a token); undefined until Key Vault was first used. */
  credentialDescription(): string | undefined
}

export interface KeyVaultRuntimeOptions extends AzureCredentialOptions {
  /** Time limit of one request to a vault, in ms (default 30 000). */
  timeoutMs?: number
  /** How backoff waits; tests make it instant. */
  sleep?: Sleep
}

/**
 * Key Vault for one run of a command. `env` is the process environment as the edge read it; GitHub OIDC
 * is chosen only when `options.getIdToken` exists and AZURE_CLIENT_ID and AZURE_TENANT_ID (or the
 * options' ids) are set; otherwise DefaultAzureCredential, which reads those variables itself.
 */
export function keyVaultRuntime(
  env: Readonly<Record<string, string | undefined>>,
  options: KeyVaultRuntimeOptions = {},
): KeyVaultRuntime {
  let access: AzureCredentialChoice | undefined
  const credential = async (): Promise<AzureCredentialChoice> => {
    if (!access) {
      const { azureCredential } = await import('./azure-credential.js')
      const clientId = options.clientId ?? env.AZURE_CLIENT_ID
      const tenantId = options.tenantId ?? env.AZURE_TENANT_ID
      // Without an id-token getter (the CLI) or without Azure ids, DefaultAzureCredential.
      const oidc =
        options.getIdToken && (clientId || tenantId)
          ? { clientId, tenantId, getIdToken: options.getIdToken }
          : {}
      access = azureCredential(env, {
        ...oidc,
        ...(options.readFile ? { readFile: options.readFile } : {}),
      })
    }
    return access
  }
  const retry = {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  }

  const signers = new Map<string, Promise<Signer>>()
  const openKeyVault = (keyId: string, open: KeyVaultOpenOptions): Promise<Signer> => {
    const cacheKey = `${keyId.toLowerCase()} ${open.scheme ?? ''}`
    let signer = signers.get(cacheKey)
    if (!signer) {
      signer = (async () => {
        const { credential: tokens, clientOptions } = await credential()
        const { openKeyVaultSigner } = await import('./azure-key-vault-signer.js')
        return openKeyVaultSigner(keyId, {
          credential: tokens,
          clientOptions,
          ...retry,
          ...(open.scheme ? { scheme: open.scheme } : {}),
          ...(open.concurrency !== undefined ? { concurrency: open.concurrency } : {}),
        })
      })()
      signers.set(cacheKey, signer)
      // A failed open is not kept: the error goes to this caller, the next one tries again.
      void signer.catch(() => signers.delete(cacheKey))
    }
    return signer
  }

  const vaults = new Map<string, Promise<CertificateVault>>()
  const vault = (vaultUrl: string): Promise<CertificateVault> => {
    let opened = vaults.get(vaultUrl)
    if (!opened) {
      opened = (async () => {
        const { credential: tokens, clientOptions } = await credential()
        const { openCertificateVault } = await import('./key-vault-certificates.js')
        return openCertificateVault(vaultUrl, { credential: tokens, clientOptions, ...retry })
      })()
      vaults.set(vaultUrl, opened)
      void opened.catch(() => vaults.delete(vaultUrl))
    }
    return opened
  }

  const keyVault: KeyVaultCaKeys = {
    async latestVersion(key) {
      const target = await vault(key.vaultUrl)
      const { callVault } = await import('./retry.js')
      const found = await callVault(
        { vault: key.vaultUrl, kind: 'key', name: key.name, operation: 'get', idempotent: true },
        target.policy,
        (abortSignal) => target.keys.getKey(key.name, { abortSignal }),
      )
      const version = found.properties.version
      if (!version) {
        throw new CaError(
          'vault.failed',
          `Key Vault key '${key.name}' in ${key.vaultUrl}: the vault's answer names no version.`,
        )
      }
      return formatKeyUrl({ ...key, version })
    },
    async createCaKey(key, spec) {
      const { createPendingCertificate } = await import('./key-vault-certificates.js')
      return createPendingCertificate(await vault(key.vaultUrl), key.name, spec)
    },
    async mergeCaCertificate(key, chain) {
      const { mergeSignedCertificate } = await import('./key-vault-certificates.js')
      const merged = await mergeSignedCertificate(await vault(key.vaultUrl), key.name, chain)
      return merged.keyId
    },
  }

  return { openKeyVault, keyVault, credentialDescription: () => access?.description }
}
