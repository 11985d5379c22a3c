/**
 * The Key Vault signer with the unmodified SDK over HTTPS against the local vault double: real
 * signatures checked by node's verifier and by OpenSSL, one key GET per run, bounded concurrency,
 * throttling and transient failures retried on our schedule, and every refusal with its code.
 */
import 'reflect-metadata'
import { constants, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto'
import { isCaError, type CaError } from '../src/ca/errors.js'
import { azureCredential } from '../src/keys/azure-credential.js'
import { openKeyVaultSigner, type KeyVaultSignerOptions } from '../src/keys/azure-key-vault-signer.js'
import type { SignatureScheme, Signer } from '../src/ca/signer.js'
import { KeyVaultDouble, type DoubleKeyOptions } from './doubles/key-vault-double.js'
import { issue, opensslVerify, selfSignedRoot } from './doubles/x509-over-signer.js'

let vault: KeyVaultDouble
let sleeps: number[]
const recordSleep = async (ms: number) => {
  sleeps.push(ms)
}

beforeAll(async () => {
  vault = await KeyVaultDouble.start()
})
afterAll(async () => {
  await vault.close()
})
beforeEach(() => {
  vault.reset()
  sleeps = []
})

/** Opens a signer the way the CLI would against an emulator: credential and TLS trust from the env. */
function open(keyId: string, options: Partial<KeyVaultSignerOptions> = {}) {
  const { credential, clientOptions } = azureCredential({
    MTLS_CA_AZURE_CREDENTIAL: 'emulator',
    MTLS_CA_AZURE_CA_FILE: vault.caFile,
  })
  return openKeyVaultSigner(keyId, { credential, clientOptions, sleep: recordSleep, ...options })
}

async function refusal(promise: Promise<unknown>): Promise<CaError> {
  try {
    await promise
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a CaError, got success')
}

function nodeVerifies(signer: Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' })
  const hash = `sha${signer.scheme.slice(2)}`
  if (signer.scheme.startsWith('PS')) {
    const saltLength = Number(signer.scheme.slice(2)) / 8
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature)
  }
  if (signer.scheme.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
  return verify(hash, data, key, signature)
}

const keyCache = new Map<string, string>()
/** One key per kind for the whole file: RSA key generation is the slow part. */
async function keyOf(kind: DoubleKeyOptions): Promise<string> {
  const id = JSON.stringify(kind)
  let kid = keyCache.get(id)
  if (!kid) {
    kid = await vault.addKey(`ca-${keyCache.size}`, kind)
    keyCache.set(id, kid)
  }
  return kid
}
const RSA: DoubleKeyOptions = { kty: 'RSA-HSM', size: 2048 }
const P256: DoubleKeyOptions = { kty: 'EC-HSM', curve: 'P-256' }

describe('signatures', () => {
  it.each<[string, DoubleKeyOptions, SignatureScheme | undefined, SignatureScheme]>([
    ['RSA-2048 (HSM), default scheme', RSA, undefined, 'RS256'],
    ['RSA-2048 (HSM), PSS', RSA, 'PS256', 'PS256'],
    ['RSA-2048 (software), RS384', { kty: 'RSA', size: 2048 }, 'RS384', 'RS384'],
    ['P-256 (HSM)', P256, undefined, 'ES256'],
    ['P-384 (HSM)', { kty: 'EC-HSM', curve: 'P-384' }, undefined, 'ES384'],
    ['P-521 (software)', { kty: 'EC', curve: 'P-521' }, undefined, 'ES512'],
  ])(
    '%s: signs as %s, and node verifies against the SPKI the signer exposes',
    async (_, kind, asked, scheme) => {
      const kid = await keyOf(kind)
      const signer = await open(kid, { scheme: asked, verifySignatures: false })
      expect(signer.scheme).toBe(scheme)
      expect(signer.ref).toBe(kid)
      expect(Buffer.from(signer.spki).equals(Buffer.from(vault.publicKeySpki(kid)))).toBe(true)
      for (const size of [0, 1, 1000, 70_000]) {
        const data = randomBytes(size)
        const signature = await signer.sign(data)
        expect(nodeVerifies(signer, data, signature)).toBe(true)
        expect(nodeVerifies(signer, Buffer.concat([data, Buffer.from([1])]), signature)).toBe(false)
      }
    },
  )

  it.each<[string, DoubleKeyOptions, SignatureScheme | undefined]>([
    ['RS256', RSA, undefined],
    ['PS256', RSA, 'PS256'],
    ['ES256', P256, undefined],
    ['ES384', { kty: 'EC-HSM', curve: 'P-384' }, undefined],
  ])(
    'a root and a client certificate made with @peculiar/x509 over the %s signer pass openssl verify -x509_strict -check_ss_sig',
    async (_, kind, scheme) => {
      const signer = await open(await keyOf(kind), { scheme })
      const root = await selfSignedRoot(signer, 'CN=Key Vault Test Root, O=mtls-ca')
      const client = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const spki = new Uint8Array(client.publicKey.export({ type: 'spki', format: 'der' }))
      const leaf = await issue(signer, root, spki, 'CN=client.example.test')
      await expect(opensslVerify(root, root)).resolves.toMatch(/OK/)
      await expect(opensslVerify(root, leaf)).resolves.toMatch(/OK/)
    },
  )

  it('hashes the data when sign is called: a caller reusing its buffer does not change what is signed', async () => {
    const signer = await open(await keyOf(P256))
    const data = Buffer.from('tbs bytes')
    const pending = signer.sign(data)
    const original = Buffer.from(data)
    data.fill(0)
    expect(nodeVerifies(signer, original, await pending)).toBe(true)
  })
})

describe('calls to the vault', () => {
  it('answers the challenge, GETs the versioned key once and makes exactly one sign call per signature', async () => {
    const kid = await keyOf(P256)
    const version = kid.split('/').at(-1)!
    const signer = await open(kid)
    await signer.sign(Buffer.from('one'))
    await signer.sign(Buffer.from('two'))
    expect(vault.counters.keyGets).toBe(1)
    expect(vault.counters.signCalls).toBe(2)
    // Each SDK client (KeyClient, CryptographyClient) is challenged once, with an empty body.
    const challenged = vault.log.filter((r) => r.status === 401)
    expect(challenged.map((r) => r.operation)).toEqual(['key.get', 'key.sign'])
    const get = vault.log.find((r) => r.authorized && r.operation === 'key.get')!
    expect(get.url).toMatch(new RegExp(`^/keys/ca-\\d+/${version}\\?api%2Dversion=`))
    const sign = vault.log.find((r) => r.authorized && r.operation === 'key.sign')!
    expect(sign.url).toMatch(new RegExp(`^/keys/ca-\\d+/${version}/sign\\?api%2Dversion=`))
  })

  it('200 concurrent signatures: 1 key GET, 200 sign calls, never more than the concurrency in flight', async () => {
    const signer = await open(await keyOf(RSA))
    vault.latencyMs = 5
    const inputs = Array.from({ length: 200 }, (_, i) => Buffer.from(`certificate ${i}`))
    const signatures = await Promise.all(inputs.map((data) => signer.sign(data)))
    signatures.forEach((signature, i) => expect(nodeVerifies(signer, inputs[i]!, signature)).toBe(true))
    expect(vault.counters.keyGets).toBe(1)
    expect(vault.counters.signCalls).toBe(200)
    expect(vault.counters.signsOk).toBe(200)
    expect(vault.counters.maxSignsInFlight).toBeLessThanOrEqual(8)
    expect(vault.counters.maxSignsInFlight).toBeGreaterThan(1)
    expect(sleeps).toEqual([])
  })

  it('honours a smaller concurrency', async () => {
    const signer = await open(await keyOf(P256), { concurrency: 3 })
    vault.latencyMs = 5
    await Promise.all(Array.from({ length: 30 }, (_, i) => signer.sign(Buffer.from(`x${i}`))))
    expect(vault.counters.maxSignsInFlight).toBeLessThanOrEqual(3)
    expect(vault.counters.maxSignsInFlight).toBeGreaterThan(1)
  })

  it('a third of the calls throttled without Retry-After: all 200 succeed, each signed exactly once', async () => {
    const signer = await open(await keyOf(P256))
    vault.throttle = { every: 3, firstAttemptsOnly: true }
    const inputs = Array.from({ length: 200 }, (_, i) => Buffer.from(`certificate ${i}`))
    const signatures = await Promise.all(inputs.map((data) => signer.sign(data)))
    signatures.forEach((signature, i) => expect(nodeVerifies(signer, inputs[i]!, signature)).toBe(true))
    expect(vault.counters.throttled).toBe(66)
    expect(vault.counters.signsOk).toBe(200)
    expect(vault.counters.signCalls).toBe(266)
    // One shared pause per throttling episode (the calls in flight join it), of the first step only
    // while signatures keep getting through.
    expect(sleeps.length).toBeGreaterThan(0)
    expect(sleeps.length).toBeLessThanOrEqual(66)
    expect(sleeps.every((ms) => ms === 1000 || ms === 2000)).toBe(true)
  })

  it('persistent throttling: backs off 1-2-4-8-16 s, then fails with vault.throttled (the SDK adds no retries)', async () => {
    const kid = await keyOf(P256)
    const signer = await open(kid)
    vault.throttle = { every: 1 }
    const e = await refusal(signer.sign(Buffer.from('x')))
    expect(e.code).toBe('vault.throttled')
    expect(e.message).toContain(vault.url)
    expect(e.message).toContain(kid.split('/').at(-2)!)
    expect(e.message).toMatch(/6 attempts over 31 s/)
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 16000])
    expect(vault.counters.signCalls).toBe(6)
  })

  it('a Retry-After larger than the schedule wins; a smaller one does not shorten it', async () => {
    const signer = await open(await keyOf(P256))
    vault.throttle = { every: 1, retryAfterSeconds: 3 }
    expect((await refusal(signer.sign(Buffer.from('x')))).code).toBe('vault.throttled')
    expect(sleeps).toEqual([3000, 3000, 4000, 8000, 16000])
    expect(vault.counters.signCalls).toBe(6)
  })

  it('a per-10-s sign limit: signatures beyond it wait and then succeed', async () => {
    const signer = await open(await keyOf(P256), {
      // Real waits, kept short: the double's window is real time.
      sleep: async (ms) => {
        sleeps.push(ms)
        await new Promise((resolve) => setTimeout(resolve, 1))
      },
    })
    vault.signLimitPer10s = 5
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => signer.sign(Buffer.from(`y${i}`))),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5)
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(rejected.map((r) => (r.reason as CaError).code)).toEqual([
      'vault.throttled',
      'vault.throttled',
      'vault.throttled',
    ])
    expect(vault.counters.signsOk).toBe(5)
  })

  it('retries transient 5xx and dropped connections, then succeeds', async () => {
    const signer = await open(await keyOf(P256))
    vault.failNext(2, 503, 'key.sign')
    await signer.sign(Buffer.from('a'))
    expect(sleeps).toEqual([1000, 2000])
    expect(vault.counters.signCalls).toBe(3)

    sleeps.length = 0
    vault.resetNext(1, 'key.sign')
    await signer.sign(Buffer.from('b'))
    expect(sleeps).toEqual([1000])
    expect(vault.counters.resets).toBe(1)
  })

  it('gives up on a persistent 5xx after a bounded number of attempts, and does not retry a 501', async () => {
    const signer = await open(await keyOf(P256))
    vault.failNext(10, 500, 'key.sign')
    const e = await refusal(signer.sign(Buffer.from('a')))
    expect(e.code).toBe('vault.failed')
    expect(e.message).toMatch(/HTTP 500 InternalServerError.*after 4 attempts/)
    expect(sleeps).toEqual([1000, 2000, 4000])

    vault.reset()
    sleeps.length = 0
    vault.failNext(1, 501, 'key.sign')
    expect((await refusal(signer.sign(Buffer.from('b')))).code).toBe('vault.failed')
    expect(vault.counters.signCalls).toBe(1)
    expect(sleeps).toEqual([])
  })

  it('a slow vault: each attempt times out, and the signature fails with vault.unreachable', async () => {
    const signer = await open(await keyOf(P256), { timeoutMs: 100 })
    vault.latencyMs = 1000
    const e = await refusal(signer.sign(Buffer.from('slow')))
    expect(e.code).toBe('vault.unreachable')
    expect(e.message).toMatch(/no answer within 0.1 s after 4 attempts/)
    expect(e.message).toContain(vault.url)
    expect(sleeps).toEqual([1000, 2000, 4000])
  })

  it('an unreachable vault: vault.unreachable naming the network error', async () => {
    const gone = await KeyVaultDouble.start()
    const kid = await gone.addKey('ca', P256)
    await gone.close()
    const e = await refusal(open(kid))
    expect(e.code).toBe('vault.unreachable')
    expect(e.message).toMatch(/ECONNREFUSED/)
    expect(e.message).toContain(gone.url)
    expect(sleeps).toEqual([1000, 2000, 4000])
  })

  it('a signature that does not verify is an error, never a result', async () => {
    const signer = await open(await keyOf(RSA))
    vault.corruptSignatures = true
    const e = await refusal(signer.sign(Buffer.from('x')))
    expect(e.code).toBe('signer.failed')
    expect(e.message).toMatch(/does not verify/)
  })
})

describe('refusals', () => {
  const version = '0123456789abcdef0123456789abcdef'

  it.each([
    ['no version', (url: string) => `${url}/keys/ca`],
    ['a trailing slash', (url: string) => `${url}/keys/ca/`],
  ])('an unversioned key id (%s) is refused before any request', async (_, id) => {
    const e = await refusal(open(id(vault.url)))
    expect(e.code).toBe('usage.invalid')
    expect(e.message).toMatch(/has no version/)
    expect(e.message).toContain('/keys/ca/<version>')
    expect(vault.counters.requests).toBe(0)
  })

  it.each([
    ['not a URL', 'ca-key'],
    ['http', `http://127.0.0.1/keys/ca/${version}`],
    ['a secret', `https://v.vault.azure.net/secrets/ca/${version}`],
    ['extra segments', `https://v.vault.azure.net/keys/ca/${version}/sign`],
    ['a query', `https://v.vault.azure.net/keys/ca/${version}?x=1`],
  ])('a malformed key id (%s) is refused', async (_, id) => {
    expect((await refusal(open(id))).code).toBe('usage.invalid')
  })

  it('a key that does not exist: vault.not_found naming the vault and the key', async () => {
    const e = await refusal(open(`${vault.url}/keys/missing-key/${version}`))
    expect(e.code).toBe('vault.not_found')
    expect(e.message).toContain(vault.url)
    expect(e.message).toContain('missing-key')
    expect(e.message).toMatch(/KeyNotFound/)
  })

  it('a version that does not exist: vault.not_found', async () => {
    const kid = await keyOf(P256)
    const e = await refusal(open(kid.replace(/[^/]+$/, version)))
    expect(e.code).toBe('vault.not_found')
    expect(e.message).toContain(version)
  })

  it('no permission to read the key: vault.forbidden saying which role is missing', async () => {
    const kid = await keyOf(P256)
    vault.denied.add('keys/get')
    const e = await refusal(open(kid))
    expect(e.code).toBe('vault.forbidden')
    expect(e.message).toContain("'Key Vault Crypto User'")
    expect(e.message).toContain(vault.url)
    expect(e.message).toContain(kid.split('/').at(-2)!)
  })

  it('no permission to sign: vault.forbidden on the signature, saying which role is missing', async () => {
    const signer = await open(await keyOf(P256))
    vault.denied.add('keys/sign')
    const e = await refusal(signer.sign(Buffer.from('x')))
    expect(e.code).toBe('vault.forbidden')
    expect(e.message).toMatch(/Could not sign with key/)
    expect(e.message).toContain("'Key Vault Crypto User'")
    expect(e.message).toContain('data action Microsoft.KeyVault/vaults/keys/sign/action')
    expect(e.message).toContain("'sign' key permission")
    expect(sleeps).toEqual([])
  })

  it('a token the vault does not accept (401): vault.forbidden pointing at the credential', async () => {
    const kid = await keyOf(P256)
    vault.rejectTokens = true
    const e = await refusal(open(kid))
    expect(e.code).toBe('vault.forbidden')
    expect(e.message).toMatch(/HTTP 401/)
    expect(e.message).toMatch(/credential/)
  })

  it.each<[string, DoubleKeyOptions, string, RegExp]>([
    ['disabled', { ...P256, enabled: false }, 'vault.disabled', /is disabled/],
    ['expired', { ...P256, expires: new Date(Date.now() - 60_000) }, 'vault.expired', /expired at/],
    [
      'not yet valid',
      { ...P256, notBefore: new Date(Date.now() + 3_600_000) },
      'vault.expired',
      /not valid before/,
    ],
    [
      'without sign in key_ops',
      { ...P256, keyOps: ['verify'] },
      'vault.not_permitted',
      /key_ops are \[verify\]/,
    ],
  ])('a key that is %s is refused at open, before any signing', async (_, kind, code, message) => {
    const kid = await vault.addKey('refused', kind)
    const e = await refusal(open(kid))
    expect(e.code).toBe(code)
    expect(e.message).toMatch(message)
    expect(e.message).toContain(vault.url)
    expect(e.message).toContain("'refused'")
    expect(vault.counters.signCalls).toBe(0)
  })

  it("a key disabled after open: the vault's 403 KeyDisabled becomes vault.disabled", async () => {
    const kid = await vault.addKey('disabled-later', P256)
    const signer = await open(kid)
    vault.setKeyAttributes(kid, { enabled: false })
    const e = await refusal(signer.sign(Buffer.from('x')))
    expect(e.code).toBe('vault.disabled')
    expect(vault.counters.signCalls).toBe(1)
  })

  it('a key that expires during the run is refused before the next signature', async () => {
    const kid = await vault.addKey('expiring', { ...P256, expires: new Date(Date.now() + 3_600_000) })
    let now = new Date()
    const signer = await open(kid, { clock: () => now })
    await signer.sign(Buffer.from('fine'))
    now = new Date(Date.now() + 7_200_000)
    expect((await refusal(signer.sign(Buffer.from('late')))).code).toBe('vault.expired')
    expect(vault.counters.signCalls).toBe(1)
  })

  it.each<[string, DoubleKeyOptions, SignatureScheme]>([
    ['an EC key asked for PS256', P256, 'PS256'],
    ['a P-256 key asked for ES384', P256, 'ES384'],
    ['an RSA key asked for ES256', RSA, 'ES256'],
  ])('%s is refused', async (_, kind, scheme) => {
    const e = await refusal(open(await keyOf(kind), { scheme }))
    expect(e.code).toBe('usage.invalid')
    expect(e.message).toContain(scheme)
  })
})
