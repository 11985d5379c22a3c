/**
 * Application Gateway access as the edge (CLI, Action) builds it from the environment: the Azure
 * credential and TLS trust of keys/azure-credential.ts (`MTLS_CA_AZURE_CREDENTIAL=emulator`,
 * `MTLS_CA_AZURE_CA_FILE`, GitHub OIDC when the Action passes an id-token getter) and the Resource
 * Manager endpoint (`MTLS_CA_ARM_ENDPOINT`, for sovereign clouds and local doubles). Nothing is loaded
 * or contacted until the first gateway call.
 */
import { CaError } from '../ca/errors.js'
import type { AzureCredentialOptions } from '../keys/azure-credential.js'
import { PUBLIC_ARM_ENDPOINT, type GatewayApi } from './app-gateway-client.js'

export interface AppGatewayRuntimeOptions extends AzureCredentialOptions {
  sleep?: (ms: number) => Promise<void>
  pollIntervalMs?: number
}

/** `MTLS_CA_ARM_ENDPOINT`, checked: an https origin. */
export function armEndpoint(env: Readonly<Record<string, string | undefined>>): string {
  const raw = env.MTLS_CA_ARM_ENDPOINT?.trim()
  if (!raw) return PUBLIC_ARM_ENDPOINT
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new CaError(
      'usage.invalid',
      `MTLS_CA_ARM_ENDPOINT '${raw}' is not a URL; expected https://<host>[:port]`,
    )
  }
  if (
    url.protocol !== 'https:' ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    url.pathname !== '/'
  ) {
    throw new CaError(
      'usage.invalid',
      `MTLS_CA_ARM_ENDPOINT '${raw}' must be an https origin without path, e.g. https://management.usgovcloudapi.net`,
    )
  }
  return url.origin
}

export function appGatewayRuntime(
  env: Readonly<Record<string, string | undefined>>,
  options: AppGatewayRuntimeOptions = {},
): GatewayApi {
  const endpoint = armEndpoint(env)
  let opened: Promise<GatewayApi> | undefined
  const open = (): Promise<GatewayApi> => {
    opened ??= (async () => {
      const { azureCredential } = await import('../keys/azure-credential.js')
      const clientId = options.clientId ?? env.AZURE_CLIENT_ID
      const tenantId = options.tenantId ?? env.AZURE_TENANT_ID
      const oidc =
        options.getIdToken && (clientId || tenantId)
          ? { clientId, tenantId, getIdToken: options.getIdToken }
          : {}
      const { credential, clientOptions } = azureCredential(env, {
        ...oidc,
        ...(options.readFile ? { readFile: options.readFile } : {}),
      })
      const { openAppGatewayClient } = await import('./app-gateway-client.js')
      return openAppGatewayClient({
        credential,
        endpoint,
        ...(clientOptions.tlsOptions ? { tlsOptions: clientOptions.tlsOptions } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      })
    })()
    void opened.catch(() => (opened = undefined))
    return opened
  }
  return {
    endpoint,
    get: async (id) => (await open()).get(id),
    put: async (id, document) => (await open()).put(id, document),
  }
}
