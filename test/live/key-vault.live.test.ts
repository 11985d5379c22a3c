/**
 * The Key Vault scenarios of the double-based suites, against real vaults: a root key signs (and a
 * self-signed root passes OpenSSL), an intermediate is created in the issuing vault with issuer
 * Unknown, signed by the root, merged, and signs a client certificate. Runs only when
 * MTLS_CA_LIVE_ROOT_VAULT and MTLS_CA_LIVE_ISSUING_VAULT are set; authenticates like the CLI
 * (`azureCredential(process.env)`: DefaultAzureCredential unless told otherwise).
 *
 * Needs: Premium vaults (HSM keys); on the root vault 'Key Vault Crypto Officer' (it creates a key);
 * on the issuing vault 'Key Vault Certificates Officer' and 'Key Vault Crypto User'. It leaves
 * soft-deleted objects named mtls-ca-live-* behind.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { CertificateClient } from '@azure/keyvault-certificates'
import { KeyClient } from '@azure/keyvault-keys'
import { constants, createPublicKey, generateKeyPairSync, randomBytes, verify, webcrypto } from 'node:crypto'
import { azureCredential } from '../../src/keys/azure-credential.js'
import { openKeyVaultSigner } from '../../src/keys/azure-key-vault-signer.js'
import {
  createPendingCertificate,
  getCertificate,
  mergeSignedCertificate,
  openCertificateVault,
} from '../../src/keys/key-vault-certificates.js'
import type { Signer } from '../../src/ca/signer.js'
import { issue, opensslVerify, selfSignedRoot } from '../doubles/x509-over-signer.js'

const rootVaultUrl = process.env.MTLS_CA_LIVE_ROOT_VAULT
const issuingVaultUrl = process.env.MTLS_CA_LIVE_ISSUING_VAULT
const live = Boolean(rootVaultUrl && issuingVaultUrl)

if (!live) {
  console.log(
    'Skipping the live Key Vault suite: set MTLS_CA_LIVE_ROOT_VAULT and MTLS_CA_LIVE_ISSUING_VAULT ' +
      '(https://<name>.vault.azure.net, Premium SKU) and sign in to Azure (az login, environment or managed ' +
      "identity). The identity needs 'Key Vault Crypto Officer' on the root vault and 'Key Vault Certificates " +
      "Officer' plus 'Key Vault Crypto User' on the issuing vault.",
  )
}

const describeLive = live ? describe : describe.skip
const suffix = randomBytes(4).toString('hex')

function verifies(signer: Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' })
  const hash = `sha${signer.scheme.slice(2)}`
  if (signer.scheme.startsWith('PS')) {
    return verify(
      hash,
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(signer.scheme.slice(2)) / 8 },
      signature,
    )
  }
  if (signer.scheme.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
  return verify(hash, data, key, signature)
}

describeLive('live Azure Key Vault', () => {
  const access = () => azureCredential(process.env)
  const rootKeyName = `mtls-ca-live-root-${suffix}`
  const issuingName = `mtls-ca-live-issuing-${suffix}`

  afterAll(async () => {
    const { credential, clientOptions } = access()
    // Best effort, without waiting for the deletes to finish: the objects are soft-deleted.
    await Promise.allSettled([
      new KeyClient(rootVaultUrl!, credential, clientOptions).beginDeleteKey(rootKeyName),
      new CertificateClient(issuingVaultUrl!, credential, clientOptions).beginDeleteCertificate(issuingName),
    ])
  })

  it('root key signs; an intermediate made in the issuing vault is merged and issues a client certificate', async () => {
    const { credential, clientOptions } = access()
    const rootKey = await new KeyClient(rootVaultUrl!, credential, clientOptions).createKey(
      rootKeyName,
      'RSA-HSM',
      {
        keySize: 2048,
        keyOps: ['sign', 'verify'],
      },
    )
    const rootSigner = await openKeyVaultSigner(rootKey.id!, { credential, clientOptions })
    const inputs = Array.from({ length: 40 }, (_, i) => Buffer.from(`live ${i}`))
    const signatures = await Promise.all(inputs.map((data) => rootSigner.sign(data)))
    signatures.forEach((signature, i) => expect(verifies(rootSigner, inputs[i]!, signature)).toBe(true))

    const root = await selfSignedRoot(rootSigner, `CN=mtls-ca Live Root ${suffix}, O=mtls-ca tests`)
    await expect(opensslVerify(root, root)).resolves.toMatch(/OK/)

    const vault = openCertificateVault(issuingVaultUrl!, { credential, clientOptions })
    const subject = `CN=mtls-ca Live Issuing ${suffix}, O=mtls-ca tests`
    const pending = await createPendingCertificate(vault, issuingName, {
      subject,
      keyType: 'EC-HSM',
      curve: 'P-256',
    })
    const csr = new x509.Pkcs10CertificateRequest(pending.csr)
    expect(await csr.verify(webcrypto as unknown as Parameters<typeof csr.verify>[0])).toBe(true)
    console.log(`live: pending key id ${pending.keyId ?? '(not visible while pending)'}`)

    const intermediate = await issue(rootSigner, root, pending.spki, subject, { pathLength: 0 })
    const merged = await mergeSignedCertificate(vault, issuingName, [
      new Uint8Array(intermediate.rawData),
      new Uint8Array(root.rawData),
    ])
    console.log(`live: merged certificate ${merged.id}, key ${merged.keyId}`)
    if (pending.keyId !== undefined) expect(merged.keyId).toBe(pending.keyId)
    const stored = await getCertificate(vault, issuingName)
    expect(stored.keyId).toBe(merged.keyId)

    const issuingSigner = await openKeyVaultSigner(merged.keyId, { credential, clientOptions })
    expect(Buffer.from(issuingSigner.spki).equals(Buffer.from(pending.spki))).toBe(true)
    const client = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const leaf = await issue(
      issuingSigner,
      intermediate,
      new Uint8Array(client.publicKey.export({ type: 'spki', format: 'der' })),
      'CN=client.example.test',
    )
    await expect(opensslVerify(root, leaf, [intermediate])).resolves.toMatch(/OK/)
  }, 180_000)
})
