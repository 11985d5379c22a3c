/**
 * The Signer adapter for a key in Azure Key Vault (or Managed HSM). It owns: parsing the versioned key
 * id, the one GET of the key per run (its public key becomes the SPKI, its attributes are checked
 * before any signing), the choice of the signature scheme from the key type, and `sign`, which hashes
 * locally and makes exactly one remote `sign` call per signature (plus retries of throttled or failed
 * attempts, see retry.ts), at most `concurrency` at a time, all sharing one throttle state (a 429 pauses
 * them all, see vault-throttle.ts), and checks every signature it gets back.
 */
import { createHash, createPublicKey, verify, constants, type KeyObject } from 'node:crypto'
import type { TokenCredential } from '@azure/identity'
import { CryptographyClient, KeyClient, type KeyClientOptions, type KeyVaultKey } from '@azure/keyvault-keys'
import { CaError } from '../ca/errors.js'
import type { SignatureScheme, Signer } from '../ca/signer.js'
import { callVault, createLimiter, NO_SDK_RETRIES } from './retry.js'
import { retryPolicy, type Sleep } from './retry-policy.js'
import type { VaultCall } from './vault-errors.js'
import { VaultThrottle } from './vault-throttle.js'

/** SDK client options we pass through (TLS trust, challenge verification for doubles, API version, proxy). */
export type KeyVaultClientOptions = Omit<KeyClientOptions, 'retryOptions'>

export interface KeyVaultSignerOptions {
  /** How to get tokens for the vault (see azure-credential.ts). */
  credential: TokenCredential
  /** Defaults to RS256 for RSA keys and to the curve's scheme (ES256/ES384/ES512) for EC keys. */
  scheme?: SignatureScheme
  /** Signatures in flight at once. Default 8. */
  concurrency?: number
  /** Time limit of one request to the vault, in ms. Default 30 000. */
  timeoutMs?: number
  /** How backoff waits; tests inject a recorder. */
  sleep?: Sleep
  /** The time used to check the key's nbf/exp. */
  clock?: () => Date
  /**
   * Verify every signature against the public key before returning it (cheap: ~0.05 ms for RSA-2048),
   * so a wrong or damaged answer can never end up in a certificate. Default true.
   */
  verifySignatures?: boolean
  clientOptions?: KeyVaultClientOptions
}

export interface KeyVaultSigner extends Signer {
  /** The versioned key id, `https://<vault>/keys/<name>/<version>` (also `ref`). */
  readonly keyId: string
  readonly vaultUrl: string
}

export interface KeyVaultKeyId {
  vaultUrl: string
  name: string
  version: string
}

const NAME = /^[0-9A-Za-z-]{1,127}$/
const VERSION = /^[0-9A-Za-z]{1,64}$/

/** Parses `https://<vault>/keys/<name>/<version>`; an unversioned id is refused. */
export function parseKeyId(keyId: string): KeyVaultKeyId {
  const expected = "Expected 'https://<vault>/keys/<name>/<version>'"
  let url: URL
  try {
    url = new URL(keyId)
  } catch {
    throw new CaError('usage.invalid', `Invalid Key Vault key id '${keyId}': not a URL. ${expected}.`)
  }
  if (url.protocol !== 'https:') {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault key id '${keyId}': Key Vault is only reachable over https.`,
    )
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault key id '${keyId}': unexpected query or credentials. ${expected}.`,
    )
  }
  const [, collection, name, version, ...rest] = url.pathname.split('/')
  if (collection !== 'keys' || name === undefined || !NAME.test(name) || rest.length > 0) {
    throw new CaError('usage.invalid', `Invalid Key Vault key id '${keyId}'. ${expected}.`)
  }
  if (version === undefined || version === '') {
    throw new CaError(
      'usage.invalid',
      `Key Vault key id '${keyId}' has no version. A CA must sign with one fixed key version: use ` +
        `'${url.origin}/keys/${name}/<version>' (see \`az keyvault key show --vault-name … --name ${name} --query key.kid\`).`,
    )
  }
  if (!VERSION.test(version)) {
    throw new CaError(
      'usage.invalid',
      `Invalid Key Vault key id '${keyId}': bad version '${version}'. ${expected}.`,
    )
  }
  return { vaultUrl: url.origin, name, version }
}

function parseKeyIdLoosely(kid: string): { origin: string; name: string; version: string } | undefined {
  try {
    const url = new URL(kid)
    const [, collection, name, version] = url.pathname.split('/')
    if (collection !== 'keys' || !name || !version) return undefined
    return { origin: url.origin.toLowerCase(), name: name.toLowerCase(), version: version.toLowerCase() }
  } catch {
    return undefined
  }
}

type PublicKeyInfo =
  | { type: 'rsa'; key: KeyObject; spki: Uint8Array; modulusBytes: number }
  | { type: 'ec'; key: KeyObject; spki: Uint8Array; curve: 'P-256' | 'P-384' | 'P-521'; fieldBytes: number }

const CURVE_FIELD_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const
const CURVE_SCHEME = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as const

function b64url(bytes: Uint8Array | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('base64url')
}

/** JWK integers may carry leading zero octets; JWK (and node) want them minimal. */
function unsigned(bytes: Uint8Array | undefined): Uint8Array {
  const b = bytes ?? new Uint8Array()
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  return b.subarray(i)
}

/** EC coordinates must be exactly the field size; pad if a server dropped leading zeros. */
function fixed(bytes: Uint8Array | undefined, size: number): Uint8Array {
  const b = unsigned(bytes)
  if (b.length >= size) return b.subarray(b.length - size)
  const out = new Uint8Array(size)
  out.set(b, size - b.length)
  return out
}

/** The key's public part as SPKI, from the JWK Key Vault returns (fields arrive as bytes). */
export function publicKeyInfo(key: KeyVaultKey, describe: string): PublicKeyInfo {
  const jwk = key.key
  const kty = key.keyType ?? jwk?.kty
  try {
    if (kty === 'RSA' || kty === 'RSA-HSM') {
      const n = unsigned(jwk?.n)
      const keyObject = createPublicKey({
        key: { kty: 'RSA', n: b64url(n), e: b64url(unsigned(jwk?.e)) },
        format: 'jwk',
      })
      const spki = keyObject.export({ type: 'spki', format: 'der' })
      return { type: 'rsa', key: keyObject, spki: new Uint8Array(spki), modulusBytes: n.length }
    }
    if (kty === 'EC' || kty === 'EC-HSM') {
      const crv = jwk?.crv
      if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') {
        throw new CaError(
          'signer.unavailable',
          `${describe} is an EC key on curve '${crv ?? '?'}'; a CA key must be on P-256, P-384 or P-521.`,
        )
      }
      const size = CURVE_FIELD_BYTES[crv]
      const keyObject = createPublicKey({
        key: { kty: 'EC', crv, x: b64url(fixed(jwk?.x, size)), y: b64url(fixed(jwk?.y, size)) },
        format: 'jwk',
      })
      const spki = keyObject.export({ type: 'spki', format: 'der' })
      return { type: 'ec', key: keyObject, spki: new Uint8Array(spki), curve: crv, fieldBytes: size }
    }
  } catch (e) {
    if (e instanceof CaError) throw e
    throw new CaError('signer.unavailable', `${describe}: its public key could not be read (${String(e)}).`, {
      cause: e,
    })
  }
  throw new CaError(
    'signer.unavailable',
    `${describe} is of type '${kty ?? '?'}'; a CA key must be RSA or EC (RSA-HSM or EC-HSM in a vault).`,
  )
}

/** The scheme to sign with: the one asked for when the key can do it, else the key's natural one. */
export function chooseScheme(
  info: PublicKeyInfo,
  asked: SignatureScheme | undefined,
  describe: string,
): SignatureScheme {
  if (info.type === 'rsa') {
    if (asked === undefined) return 'RS256'
    if (asked.startsWith('RS') || asked.startsWith('PS')) return asked
    throw new CaError(
      'usage.invalid',
      `${describe} is an RSA key: it cannot sign with ${asked}; use RS256 or PS256.`,
    )
  }
  const natural = CURVE_SCHEME[info.curve]
  if (asked === undefined || asked === natural) return natural
  throw new CaError(
    'usage.invalid',
    `${describe} is an EC ${info.curve} key: Key Vault signs with it only as ${natural}, not ${asked}.`,
  )
}

/** Refusals Key Vault would give on the first signature, given before any signing. */
export function checkKeyUsable(key: KeyVaultKey, now: Date, describe: string): void {
  const { enabled, notBefore, expiresOn } = key.properties
  if (enabled === false) {
    throw new CaError(
      'vault.disabled',
      `${describe} is disabled. Enable it (\`az keyvault key set-attributes --enabled true\`) or use another version.`,
    )
  }
  if (notBefore && now < notBefore) {
    throw new CaError(
      'vault.expired',
      `${describe} is not valid before ${notBefore.toISOString()} (its nbf).`,
    )
  }
  if (expiresOn && now >= expiresOn) {
    throw new CaError(
      'vault.expired',
      `${describe} expired at ${expiresOn.toISOString()} (its exp). Extend it or rotate the CA key.`,
    )
  }
  const ops = key.keyOperations
  if (ops && !ops.includes('sign')) {
    throw new CaError(
      'vault.not_permitted',
      `${describe} does not permit signing: its key_ops are [${ops.join(', ')}]. Add 'sign' to key_ops.`,
    )
  }
}

const HASH = { '256': 'sha256', '384': 'sha384', '512': 'sha512' } as const

export async function openKeyVaultSigner(
  keyId: string,
  options: KeyVaultSignerOptions,
): Promise<KeyVaultSigner> {
  const id = parseKeyId(keyId)
  const describe = `Key Vault key '${id.name}' (version ${id.version}) in ${id.vaultUrl}`
  const policy = retryPolicy({ timeoutMs: options.timeoutMs, sleep: options.sleep })
  const limit = createLimiter(options.concurrency ?? 8)
  // The vault's sign limit is shared by all our signatures, so is what we do when we meet it.
  const signThrottle = new VaultThrottle(policy)
  const clock = options.clock ?? (() => new Date())
  const clientOptions = (): KeyClientOptions => ({ ...options.clientOptions, ...NO_SDK_RETRIES })
  const call = (operation: string): VaultCall => ({
    vault: id.vaultUrl,
    kind: 'key',
    name: `${id.name}/${id.version}`,
    operation,
    idempotent: true,
  })

  const keyClient = new KeyClient(id.vaultUrl, options.credential, clientOptions())
  const key = await callVault(call('get'), policy, (abortSignal) =>
    keyClient.getKey(id.name, { version: id.version, abortSignal }),
  )
  // Names are case-insensitive in Key Vault; the host matters: the crypto client signs at the kid's host.
  const answered = key.id ? parseKeyIdLoosely(key.id) : undefined
  if (
    !answered ||
    answered.origin !== id.vaultUrl.toLowerCase() ||
    answered.name !== id.name.toLowerCase() ||
    answered.version !== id.version.toLowerCase()
  ) {
    throw new CaError(
      'vault.failed',
      `${describe}: the vault answered with a different key, '${key.id ?? '?'}'.`,
    )
  }
  checkKeyUsable(key, clock(), describe)
  const info = publicKeyInfo(key, describe)
  const scheme = chooseScheme(info, options.scheme, describe)
  const hash = HASH[scheme.slice(2) as keyof typeof HASH]
  const signatureBytes = info.type === 'rsa' ? info.modulusBytes : 2 * info.fieldBytes
  const verifySignatures = options.verifySignatures ?? true
  const verifyKey =
    info.type === 'rsa'
      ? scheme.startsWith('PS')
        ? {
            key: info.key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: createHash(hash).digest().length,
          }
        : { key: info.key, padding: constants.RSA_PKCS1_PADDING }
      : { key: info.key, dsaEncoding: 'ieee-p1363' as const }

  // Built from the fetched key, not its id: the client then never GETs the key again.
  const cryptoClient = new CryptographyClient(key, options.credential, clientOptions())

  return {
    ref: keyId,
    keyId,
    vaultUrl: id.vaultUrl,
    spki: info.spki,
    scheme,
    async sign(data: Uint8Array): Promise<Uint8Array> {
      // Copy now: the caller may reuse its buffer while this waits for a slot.
      const bytes = Buffer.from(data)
      const digest = createHash(hash).update(bytes).digest()
      return limit(async () => {
        checkKeyUsable(key, clock(), describe)
        const result = await callVault(
          call('sign with'),
          policy,
          (abortSignal) => cryptoClient.sign(scheme, digest, { abortSignal }),
          signThrottle,
        )
        const signature = result.result
        if (!(signature instanceof Uint8Array) || signature.length !== signatureBytes) {
          throw new CaError(
            'signer.failed',
            `${describe} returned a ${scheme} signature of ${signature?.length ?? 0} bytes, expected ` +
              `${signatureBytes}. Nothing was signed.`,
          )
        }
        if (verifySignatures && !verify(hash, bytes, verifyKey, signature)) {
          throw new CaError(
            'signer.failed',
            `${describe} returned a ${scheme} signature that does not verify against the key's public key. ` +
              'Nothing was signed.',
          )
        }
        return new Uint8Array(signature)
      })
    },
  }
}
