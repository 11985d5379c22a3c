/**
 * The keys of new CA certificates, for `init` and `rotate-intermediate`: a key reference becomes the
 * public key to certify (and, for a root, the signer of its own certificate), then — once the
 * certificate is made — the reference ca.yml pins.
 *
 * - `file:PATH` (inside the CA directory): the key in the file when it exists, else a new key, which
 *   comes back as a write (mode 0400) so that it lands in the same commit as the certificates.
 * - a Key Vault key URL: the key as it is (an unversioned URL is pinned to the latest version); or,
 *   with `create`, a new key version made as a Key Vault certificate with issuer Unknown. Its CSR
 *   gives the public key (its extensions are ignored: the CA certificate is ours), and the signed
 *   certificate with its chain is merged back, so the vault holds key and certificate together.
 *
 * Planning checks every reference before anything reaches a vault; `prepare` talks to vaults but
 * writes nothing; `complete` merges (the only vault change besides the create).
 */
import 'reflect-metadata'
import { createPublicKey } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CaError } from '../ca/errors.js'
import { toAsnName, type DistinguishedName } from '../ca/distinguished-name.js'
import { fileSigner, generatePrivateKeyPem, type KeyType } from '../keys/file-signer.js'
import { formatKeyUrl, parseKeyUrl, type KeyVaultKeyUrl } from '../keys/key-vault-runtime.js'
import type { CaKeySpec } from '../keys/key-vault-certificates.js'
import type { SignatureScheme, Signer } from '../ca/signer.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import { storePathSegments } from '../store/store-path.js'
import type { Runtime } from './runtime.js'

export interface CaKeyRequest {
  /** `file:PATH` or a Key Vault key URL. */
  ref: string
  /** Which CA the key is for, in messages. */
  role: 'root' | 'intermediate'
  /** The kind of key to generate or create in a vault. */
  keyType: KeyType
  /** Make a new Key Vault key version (as a certificate) instead of using an existing one. */
  create: boolean
  /** The CA's subject: the vault's certificate policy needs one. */
  subject: DistinguishedName
  scheme?: SignatureScheme | undefined
  concurrency?: number | undefined
}

export interface PreparedCaKey {
  /** The key's public key (DER SPKI): what the CA certificate certifies. */
  spki: Uint8Array
  /** A signer over the key (a root signs its own certificate). */
  signer(): Promise<Signer>
  /**
   * After the certificate is made, with the certificate and its chain up to the root (DER): merges it
   * into the vault for a created key, and gives the reference ca.yml pins, a signer opened by that
   * reference, and the files to write.
   */
  complete(chain: readonly Uint8Array[]): Promise<CompletedCaKey>
}

export interface CompletedCaKey {
  ref: string
  signer: Signer
  writes: FileWrite[]
}

export interface CaKeyPlan {
  readonly request: CaKeyRequest
  /** Whether `prepare` changes a vault (creates a pending certificate). */
  readonly createsInVault: boolean
  prepare(): Promise<PreparedCaKey>
}

/** Checks a key reference, without any I/O. */
export function planCaKey(request: CaKeyRequest, store: StateStore, runtime: Runtime): CaKeyPlan {
  const { ref, role } = request
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length)
    try {
      storePathSegments(path)
    } catch (cause) {
      throw new CaError(
        'usage.invalid',
        `the ${role} key ${ref}: a key file must be inside the CA directory, as a relative path ` +
          '(for an offline root, leave root.key out of ca.yml after init)',
        { cause },
      )
    }
    return { request, createsInVault: false, prepare: () => prepareFileKey(request, path, store) }
  }
  if (ref.startsWith('https://')) {
    const key = parseKeyUrl(ref)
    if (request.create && key.version !== undefined) {
      throw new CaError(
        'usage.invalid',
        `--create makes a new version of the ${role} key '${key.name}': give its URL without a version ` +
          `(${formatKeyUrl({ ...key, version: undefined })})`,
      )
    }
    if (!runtime.openKeyVault || !runtime.keyVault) {
      throw new CaError('signer.unavailable', `${ref} is a Key Vault key, but Key Vault is not set up here`)
    }
    return {
      request,
      createsInVault: request.create,
      prepare: () =>
        request.create ? prepareCreatedKey(request, key, runtime) : prepareVaultKey(request, key, runtime),
    }
  }
  throw new CaError(
    'usage.invalid',
    `the ${role} key "${ref}" is not a key reference: use file:PATH or https://<vault>/keys/<name>[/<version>]`,
  )
}

/**
 * Prepares keys in an order that leaves the least behind when one fails: first those that change no
 * vault, then the creates. Returns them in the order given.
 */
export async function prepareCaKeys(plans: readonly CaKeyPlan[]): Promise<PreparedCaKey[]> {
  const prepared = new Map<CaKeyPlan, PreparedCaKey>()
  for (const plan of [...plans].sort((a, b) => Number(a.createsInVault) - Number(b.createsInVault))) {
    prepared.set(plan, await plan.prepare())
  }
  return plans.map((p) => prepared.get(p) as PreparedCaKey)
}

async function prepareFileKey(
  request: CaKeyRequest,
  path: string,
  store: StateStore,
): Promise<PreparedCaKey> {
  const existing = await store.read(path)
  const pem = existing ?? generatePrivateKeyPem(request.keyType)
  const signer = fileSigner(pem, request.ref, request.scheme)
  return {
    spki: signer.spki,
    signer: async () => signer,
    complete: async () => ({
      ref: request.ref,
      signer,
      writes: existing === undefined ? [{ path, data: pem, mode: 0o400, key: true }] : [],
    }),
  }
}

async function prepareVaultKey(
  request: CaKeyRequest,
  key: KeyVaultKeyUrl,
  runtime: Runtime,
): Promise<PreparedCaKey> {
  const keyId = key.version !== undefined ? formatKeyUrl(key) : await runtime.keyVault!.latestVersion(key)
  const signer = await runtime.openKeyVault!(keyId, {
    scheme: request.scheme,
    concurrency: request.concurrency,
  })
  return {
    spki: signer.spki,
    signer: async () => signer,
    complete: async () => ({ ref: keyId, signer, writes: [] }),
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b))
}

async function prepareCreatedKey(
  request: CaKeyRequest,
  key: KeyVaultKeyUrl,
  runtime: Runtime,
): Promise<PreparedCaKey> {
  const describe = `the ${request.role} key '${key.name}' in Key Vault ${key.vaultUrl}`
  const open = async (keyId: string) => {
    const signer = await runtime.openKeyVault!(keyId, {
      scheme: request.scheme,
      concurrency: request.concurrency,
    })
    if (!sameKey(signer.spki, pending.spki)) {
      throw new CaError(
        'signer.mismatch',
        `${describe}: key ${keyId} is not the key of the vault's certificate request: refusing to use it`,
      )
    }
    return signer
  }
  const pending = await runtime.keyVault!.createCaKey(key, vaultKeySpec(request.keyType, request.subject))
  return {
    spki: pending.spki,
    async signer() {
      if (pending.keyId === undefined) {
        throw new CaError(
          'vault.forbidden',
          `${describe}: the new key of the pending certificate cannot be read, so the ${request.role} cannot ` +
            "sign its own certificate. Give the identity 'Key Vault Crypto User' on the vault (read keys, sign), " +
            'then delete the pending certificate (`az keyvault certificate pending delete`) and run again.',
        )
      }
      return open(pending.keyId)
    },
    async complete(chain) {
      const keyId = await runtime.keyVault!.mergeCaCertificate(key, chain)
      if (pending.keyId !== undefined && keyId.toLowerCase() !== pending.keyId.toLowerCase()) {
        throw new CaError(
          'vault.failed',
          `${describe}: the merged certificate names key ${keyId}, not the pending key ${pending.keyId}.`,
        )
      }
      // Opened as ca.yml will name it: the key the next command signs with is the one certified.
      return { ref: keyId, signer: await open(keyId), writes: [] }
    },
  }
}

/** The vault's certificate policy for a CA key of `type`: a non-exportable HSM key. */
export function vaultKeySpec(type: KeyType, subject: DistinguishedName): CaKeySpec {
  const name = new x509.Name(AsnConvert.serialize(toAsnName(subject))).toString()
  switch (type) {
    case 'rsa-2048':
      return { subject: name, keyType: 'RSA-HSM', keySize: 2048 }
    case 'rsa-3072':
      return { subject: name, keyType: 'RSA-HSM', keySize: 3072 }
    case 'rsa-4096':
      return { subject: name, keyType: 'RSA-HSM', keySize: 4096 }
    case 'ec-p256':
      return { subject: name, keyType: 'EC-HSM', curve: 'P-256' }
    case 'ec-p384':
      return { subject: name, keyType: 'EC-HSM', curve: 'P-384' }
  }
}

/** The key type of a public key, when it is one `--key-type` can name. */
export function keyTypeOf(spki: Uint8Array): KeyType | undefined {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength
    return bits === 2048 || bits === 3072 || bits === 4096 ? `rsa-${bits}` : undefined
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ec-p256'
    if (details?.namedCurve === 'secp384r1') return 'ec-p384'
  }
  return undefined
}
