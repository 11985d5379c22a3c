/**
 * The side effects commands need besides the state store: the clock, the CSPRNG and, where configured,
 * Azure Key Vault — passed in, built at the edge (see keys/key-vault-runtime.ts for Key Vault).
 */
import { randomBytes } from 'node:crypto'
import type { RequestChecker } from '../ca/issue.js'
import type { KeyVaultCaKeys } from '../keys/key-vault-runtime.js'
import type { SignerEnvironment } from '../keys/open-signer.js'

export interface Runtime {
  now(): Date
  random(n: number): Uint8Array
  /** Opens Key Vault keys (one signer per key id per run); absent when Key Vault is not configured. */
  openKeyVault?: SignerEnvironment['openKeyVault']
  /** Key Vault operations of init and rotate-intermediate; absent when Key Vault is not configured. */
  keyVault?: KeyVaultCaKeys | undefined
  /** Checks the requests of a batch, on worker threads where the entry point provides them. */
  checker?: RequestChecker
}

export const systemRuntime: Runtime = {
  now: () => new Date(),
  random: (n) => new Uint8Array(randomBytes(n)),
}
