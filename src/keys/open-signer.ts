/**
 * Chooses the key backend from a key reference in ca.yml: `file:PATH` (the embedded default) or a
 * Key Vault key identifier URL. The backends themselves know nothing of references.
 */
import { CaError } from '../ca/errors.js'
import { fileSigner } from './file-signer.js'
import type { SignatureScheme, Signer } from '../ca/signer.js'

/** How a key is to be used, from ca.yml. */
export interface KeyVaultOpenOptions {
  /** Default: the key's natural scheme (RS256, ES256/384/512). */
  scheme?: SignatureScheme | undefined
  /** Signatures in flight at once (Key Vault keys; default 8). */
  concurrency?: number | undefined
}

export interface SignerEnvironment {
  /** Reads a file of the CA directory (relative paths) or anywhere (absolute). */
  readFile(path: string): Promise<Buffer | undefined>
  /** Opens a Key Vault key by its versioned id; absent where Key Vault is not configured. */
  openKeyVault?: ((keyId: string, options: KeyVaultOpenOptions) => Promise<Signer>) | undefined
}

export async function openSigner(
  ref: string,
  env: SignerEnvironment,
  options: KeyVaultOpenOptions = {},
): Promise<Signer> {
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length)
    const pem = await env.readFile(path)
    if (pem === undefined) {
      throw new CaError('signer.unavailable', `the key file ${path} does not exist`, { file: path })
    }
    return fileSigner(pem, ref, options.scheme)
  }
  if (ref.startsWith('https://')) {
    if (!env.openKeyVault) {
      throw new CaError('signer.unavailable', `${ref} is a Key Vault key, but Key Vault is not set up here`)
    }
    return env.openKeyVault(ref, options)
  }
  throw new CaError('config.invalid', `"${ref}" is not a key reference: use file:PATH or a Key Vault key URL`)
}
