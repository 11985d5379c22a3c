/**
 * Chooses how mtls-ca authenticates to Azure Key Vault, from the environment and the inputs read at
 * the edge (CLI flags, Action inputs): a fixed token for local doubles and emulators, GitHub Actions
 * OIDC federated to an Entra app (no secret anywhere), or `DefaultAzureCredential` (environment,
 * workload identity, managed identity, Azure CLI, …). It also owns the TLS trust for a vault with a
 * private CA (`MTLS_CA_AZURE_CA_FILE`). Tokens are never logged or put in messages.
 */
import { readFileSync } from 'node:fs'
import { ClientAssertionCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity'
import { CaError } from '../ca/errors.js'

/** The audience Entra ID expects in a GitHub OIDC token exchanged for an Azure token. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

export interface AzureCredentialOptions {
  /** The Entra application (client) id federated with GitHub; with `tenantId`, selects OIDC. */
  clientId?: string
  tenantId?: string
  /** Gets a GitHub OIDC token for an audience; the Action passes `core.getIDToken`. */
  getIdToken?: (audience: string) => Promise<string>
  /** Reads the CA file; defaults to the file system. */
  readFile?: (path: string) => string
}

export type AzureCredentialKind = 'emulator' | 'github-oidc' | 'default'

/** SDK client options that go with the credential (spread into KeyClient/CertificateClient options). */
export interface AzureClientOptions {
  tlsOptions?: { ca: string }
  disableChallengeResourceVerification?: boolean
}

export interface AzureCredentialChoice {
  credential: TokenCredential
  kind: AzureCredentialKind
  /** For logs: which credential, never a token. */
  description: string
  clientOptions: AzureClientOptions
}

/** The token the emulator credential hands out; doubles accept any bearer token. */
export const EMULATOR_TOKEN = 'mtls-ca-emulator-token'

/** A credential that always returns the same token: only for local doubles and emulators. */
export function fixedTokenCredential(token: string = EMULATOR_TOKEN): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000, tokenType: 'Bearer' }),
  }
}

export function azureCredential(
  env: Readonly<Record<string, string | undefined>>,
  options: AzureCredentialOptions = {},
): AzureCredentialChoice {
  const clientOptions = tlsClientOptions(env.MTLS_CA_AZURE_CA_FILE, options.readFile)
  const mode = env.MTLS_CA_AZURE_CREDENTIAL?.trim() || undefined
  if (mode !== undefined && mode !== 'emulator' && mode !== 'github-oidc' && mode !== 'default') {
    throw new CaError(
      'usage.invalid',
      `Invalid MTLS_CA_AZURE_CREDENTIAL '${mode}'. Expected 'emulator', 'github-oidc' or 'default' (or unset).`,
    )
  }
  if (mode === 'emulator') {
    return {
      credential: fixedTokenCredential(),
      kind: 'emulator',
      description: 'a fixed token (MTLS_CA_AZURE_CREDENTIAL=emulator: for local doubles and emulators only)',
      clientOptions,
    }
  }

  const clientId = options.clientId?.trim() || undefined
  const tenantId = options.tenantId?.trim() || undefined
  if (mode === 'github-oidc' || clientId !== undefined || tenantId !== undefined) {
    if (clientId === undefined || tenantId === undefined) {
      throw new CaError(
        'usage.invalid',
        `GitHub OIDC to Azure needs the Entra application's client id and tenant id; missing: ${[
          clientId === undefined ? 'client id' : '',
          tenantId === undefined ? 'tenant id' : '',
        ]
          .filter(Boolean)
          .join(' and ')}.`,
      )
    }
    const getIdToken = options.getIdToken
    if (!getIdToken) {
      throw new CaError(
        'usage.invalid',
        'GitHub OIDC to Azure needs a GitHub id token: run in GitHub Actions with `permissions: id-token: write`.',
      )
    }
    return {
      credential: new ClientAssertionCredential(tenantId, clientId, githubOidcAssertion(getIdToken)),
      kind: 'github-oidc',
      description: `GitHub OIDC federated to Entra application ${clientId} in tenant ${tenantId}`,
      clientOptions,
    }
  }

  return {
    credential: new DefaultAzureCredential(),
    kind: 'default',
    description: 'DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI, …)',
    clientOptions,
  }
}

/**
 * The client assertion for Entra ID: a fresh GitHub OIDC token for the token-exchange audience, asked
 * for on every token request (GitHub's tokens are short-lived; MSAL caches the Azure token it buys).
 */
export function githubOidcAssertion(
  getIdToken: (audience: string) => Promise<string>,
): () => Promise<string> {
  return async () => {
    try {
      return await getIdToken(AZURE_TOKEN_EXCHANGE_AUDIENCE)
    } catch (e) {
      throw new CaError(
        'vault.forbidden',
        `Could not get a GitHub OIDC token for Azure (${e instanceof Error ? e.message : String(e)}). ` +
          'Does the workflow grant `permissions: id-token: write`?',
        { cause: e },
      )
    }
  }
}

function tlsClientOptions(
  path: string | undefined,
  readFile = (p: string) => readFileSync(p, 'utf8'),
): AzureClientOptions {
  if (!path?.trim()) return {}
  let ca: string
  try {
    ca = readFile(path)
  } catch (e) {
    throw new CaError('usage.invalid', `MTLS_CA_AZURE_CA_FILE: cannot read '${path}' (${String(e)}).`, {
      cause: e,
    })
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CaError('usage.invalid', `MTLS_CA_AZURE_CA_FILE: '${path}' holds no PEM certificate.`)
  }
  // A vault behind a private CA is a double or an emulator: its challenge names no *.vault.azure.net.
  return { tlsOptions: { ca }, disableChallengeResourceVerification: true }
}
