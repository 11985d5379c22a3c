/** The side effects commands need besides the state store: the clock and the CSPRNG, passed in. */
import { randomBytes } from 'node:crypto'
import type { SignerEnvironment } from '../keys/open-signer.js'

export interface Runtime {
  now(): Date
  random(n: number): Uint8Array
  /** Opens Key Vault keys; absent when Key Vault is not configured. */
  openKeyVault?: SignerEnvironment['openKeyVault']
}

export const systemRuntime: Runtime = {
  now: () => new Date(),
  random: (n) => new Uint8Array(randomBytes(n)),
}
