/**
 * Test support for a CA whose keys are in Key Vault: two vault doubles (the root's and the issuing
 * vault) trusted through one CA file, the environment the CLI reads, a runtime with instant backoff,
 * many CSRs made quickly (one key, many subjects), ca.yml edits and OpenSSL checks of many files at once.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { webcrypto } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { systemRuntime, type Runtime } from '../../src/commands/runtime.js'
import { keyVaultRuntime } from '../../src/keys/key-vault-runtime.js'
import { KeyVaultDouble } from '../doubles/key-vault-double.js'
import { openssl, tempDir } from './ca-fixture.js'

export interface TwoVaults {
  root: KeyVaultDouble
  issuing: KeyVaultDouble
  /** What the CLI is given: the emulator credential and both doubles' TLS certificates in one file. */
  env: Record<string, string>
  close(): Promise<void>
}

export async function startTwoVaults(): Promise<TwoVaults> {
  const [root, issuing] = await Promise.all([KeyVaultDouble.start(), KeyVaultDouble.start()])
  const caFile = join(tempDir('kv-trust-'), 'vaults.pem')
  writeFileSync(caFile, root.caPem + issuing.caPem)
  return {
    root,
    issuing,
    env: { MTLS_CA_AZURE_CREDENTIAL: 'emulator', MTLS_CA_AZURE_CA_FILE: caFile },
    close: async () => {
      await Promise.all([root.close(), issuing.close()])
    },
  }
}

/** The CLI's runtime for `env`, except that backoff does not wait (the schedule still runs). */
export function instantBackoffRuntime(env: Record<string, string>, sleeps: number[] = []): Runtime {
  const { openKeyVault, keyVault } = keyVaultRuntime(env, {
    sleep: async (ms) => {
      sleeps.push(ms)
    },
  })
  return { ...systemRuntime, openKeyVault, keyVault }
}

let csrKeys: Promise<webcrypto.CryptoKeyPair> | undefined
const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** Writes `requests/<prefix>-<i>.csr.pem` for CN=<prefix>-<i>.example.com; returns the names. */
export async function writeCsrs(dir: string, prefix: string, count: number): Promise<string[]> {
  csrKeys ??= webcrypto.subtle.generateKey(ecdsa, false, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>
  const keys = await csrKeys
  mkdirSync(join(dir, 'requests'), { recursive: true })
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
  await Promise.all(
    names.map(async (name) => {
      const csr = await x509.Pkcs10CertificateRequestGenerator.create(
        { name: `CN=${name}.example.com`, keys, signingAlgorithm: ecdsa },
        webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
      )
      writeFileSync(join(dir, 'requests', `${name}.csr.pem`), csr.toString('pem') + '\n')
    }),
  )
  return names
}

export { editCaYml, readCaYml, type CaYml } from './ca-fixture.js'

/**
 * `openssl verify -x509_strict -check_ss_sig` of many certificates in one run; returns the files
 * openssl did not call OK, with its output.
 */
export function verifyAll(
  cafile: string,
  untrusted: string | undefined,
  files: string[],
  extra: string[] = [],
): string[] {
  const r = openssl([
    'verify',
    '-x509_strict',
    '-check_ss_sig',
    ...extra,
    '-CAfile',
    cafile,
    ...(untrusted ? ['-untrusted', untrusted] : []),
    ...files,
  ])
  const ok = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(': OK'))
      .map((l) => l.slice(0, -': OK'.length)),
  )
  return files.filter((f) => !ok.has(f)).map((f) => `${f}\n${r.stdout}${r.stderr}`)
}
