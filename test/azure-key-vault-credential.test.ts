/**
 * Which credential mtls-ca uses for Key Vault, from the environment and the edge's inputs, and the TLS
 * trust for a vault behind a private CA. No request leaves the machine: the OIDC credential is checked
 * by its type and its assertion callback, not by asking Entra ID for a token.
 */
import { ClientAssertionCredential, DefaultAzureCredential } from '@azure/identity'
import { isCaError, type CaError } from '../src/ca/errors.js'
import {
  AZURE_TOKEN_EXCHANGE_AUDIENCE,
  azureCredential,
  EMULATOR_TOKEN,
  githubOidcAssertion,
} from '../src/keys/azure-credential.js'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

function refusal(run: () => unknown): CaError {
  try {
    run()
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a CaError')
}

async function asyncRefusal(promise: Promise<unknown>): Promise<CaError> {
  try {
    await promise
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a CaError')
}

describe('azureCredential', () => {
  it('emulator: a fixed token, and a description that does not contain it', async () => {
    const choice = azureCredential({ MTLS_CA_AZURE_CREDENTIAL: 'emulator' }, { clientId: 'c', tenantId: 't' })
    expect(choice.kind).toBe('emulator')
    const token = await choice.credential.getToken('https://vault.azure.net/.default')
    expect(token?.token).toBe(EMULATOR_TOKEN)
    expect(token!.expiresOnTimestamp).toBeGreaterThan(Date.now())
    expect(choice.description).not.toContain(EMULATOR_TOKEN)
    expect(choice.clientOptions).toEqual({})
  })

  it('GitHub OIDC when the client id and tenant id are given, with the id-token getter injected', () => {
    const audiences: string[] = []
    const choice = azureCredential(
      {},
      {
        clientId: '11111111-1111-1111-1111-111111111111',
        tenantId: '22222222-2222-2222-2222-222222222222',
        getIdToken: async (audience) => {
          audiences.push(audience)
          return 'github-id-token'
        },
      },
    )
    expect(choice.kind).toBe('github-oidc')
    expect(choice.credential).toBeInstanceOf(ClientAssertionCredential)
    expect(choice.description).toContain('11111111-1111-1111-1111-111111111111')
    expect(audiences).toEqual([]) // asked for only when a token is needed
  })

  it('DefaultAzureCredential otherwise', () => {
    const choice = azureCredential({})
    expect(choice.kind).toBe('default')
    expect(choice.credential).toBeInstanceOf(DefaultAzureCredential)
  })

  it('MTLS_CA_AZURE_CA_FILE: trusts the file for TLS and relaxes the challenge resource check', () => {
    const read: string[] = []
    const choice = azureCredential(
      { MTLS_CA_AZURE_CREDENTIAL: 'emulator', MTLS_CA_AZURE_CA_FILE: '/etc/ca.pem' },
      {
        readFile: (path) => {
          read.push(path)
          return PEM
        },
      },
    )
    expect(read).toEqual(['/etc/ca.pem'])
    expect(choice.clientOptions).toEqual({
      tlsOptions: { ca: PEM },
      disableChallengeResourceVerification: true,
    })
  })

  it.each<[string, Record<string, string>, Parameters<typeof azureCredential>[1], RegExp]>([
    [
      'an unknown mode',
      { MTLS_CA_AZURE_CREDENTIAL: 'secret' },
      {},
      /Expected 'emulator', 'github-oidc' or 'default'/,
    ],
    [
      'a client id without a tenant id',
      {},
      { clientId: 'c', getIdToken: async () => 't' },
      /missing: tenant id/,
    ],
    [
      'github-oidc without ids',
      { MTLS_CA_AZURE_CREDENTIAL: 'github-oidc' },
      {},
      /missing: client id and tenant id/,
    ],
    ['OIDC without an id-token getter', {}, { clientId: 'c', tenantId: 't' }, /id-token: write/],
    [
      'an unreadable CA file',
      { MTLS_CA_AZURE_CA_FILE: '/nope.pem' },
      {
        readFile: () => {
          throw new Error('ENOENT')
        },
      },
      /cannot read '\/nope.pem'/,
    ],
    [
      'a CA file without a certificate',
      { MTLS_CA_AZURE_CA_FILE: '/x.pem' },
      { readFile: () => 'junk' },
      /no PEM certificate/,
    ],
  ])('%s is refused as usage.invalid', (_, env, options, message) => {
    const e = refusal(() => azureCredential(env, options))
    expect(e.code).toBe('usage.invalid')
    expect(e.message).toMatch(message)
  })
})

describe('githubOidcAssertion', () => {
  it("asks GitHub for a token for Entra ID's token exchange audience", async () => {
    const audiences: string[] = []
    const assertion = githubOidcAssertion(async (audience) => {
      audiences.push(audience)
      return 'github-id-token'
    })
    await expect(assertion()).resolves.toBe('github-id-token')
    expect(audiences).toEqual([AZURE_TOKEN_EXCHANGE_AUDIENCE])
    expect(AZURE_TOKEN_EXCHANGE_AUDIENCE).toBe('api://AzureADTokenExchange')
  })

  it('says what to check when GitHub gives no token', async () => {
    const e = await asyncRefusal(
      githubOidcAssertion(async () => {
        throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
      })(),
    )
    expect(e.code).toBe('vault.forbidden')
    expect(e.message).toMatch(/ACTIONS_ID_TOKEN_REQUEST_URL/)
    expect(e.message).toMatch(/permissions: id-token: write/)
  })
})
