/**
 * Chooses the key backend from a key reference in ca.yml: `file:PATH` (the embedded default) or a
 * Key Vault key identifier URL. The backends themselves know nothing of references.
 */
import { CaError } from '../ca/errors.js'
import { fileSigner } from './file-signer.js'
import type { SignatureScheme, Signer } from './signer.js'

export interface SignerEnvironment {
  /** Reads a file of the CA directory (relative paths) or anywhere (absolute). */
  readFile(path: string): Promise<Buffer | undefined>
  /** Opens a Key Vault key; absent where Key Vault is not configured. */
  openKeyVault?: (keyId: string, scheme: SignatureScheme | undefined) => Promise<Signer>
}

export async function openSigner(
  ref: string,
  env: SignerEnvironment,
  scheme?: SignatureScheme,
): Promise<Signer> {
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length)
    const pem = await env.readFile(path)
    if (pem === undefined) {
      throw new CaError('signer.unavailable', `the key file ${path} does not exist`, { file: path })
    }
    return fileSigner(pem, ref, scheme)
  }
  if (ref.startsWith('https://')) {
    if (!env.openKeyVault) {
      throw new CaError('signer.unavailable', `${ref} is a Key Vault key, but Key Vault is not set up here`)
    }
    return env.openKeyVault(ref, scheme)
  }
  throw new CaError('config.invalid', `"${ref}" is not a key reference: use file:PATH or a Key Vault key URL`)
}
