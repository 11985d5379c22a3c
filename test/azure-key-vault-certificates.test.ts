/**
 * A CA certificate whose key is made in Key Vault, end to end with the unmodified SDK against two vault
 * doubles (root and issuing): create with issuer Unknown → the vault's CSR → the root (a Key Vault
 * signer) signs it as an intermediate → merge → the intermediate's key signs a client certificate →
 * OpenSSL verifies the chain.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto'
import { isCaError, type CaError } from '../src/ca/errors.js'
import { azureCredential } from '../src/keys/azure-credential.js'
import { openKeyVaultSigner } from '../src/keys/azure-key-vault-signer.js'
import {
  createPendingCertificate,
  getCertificate,
  mergeSignedCertificate,
  openCertificateVault,
  type CaKeySpec,
} from '../src/keys/key-vault-certificates.js'
import { KeyVaultDouble } from './doubles/key-vault-double.js'
import { issue, opensslVerify, selfSignedRoot } from './doubles/x509-over-signer.js'

let rootVault: KeyVaultDouble
let issuingVault: KeyVaultDouble
let sleeps: number[]
const sleep = async (ms: number) => {
  sleeps.push(ms)
}

beforeAll(async () => {
  ;[rootVault, issuingVault] = await Promise.all([KeyVaultDouble.start(), KeyVaultDouble.start()])
})
afterAll(async () => {
  await Promise.all([rootVault.close(), issuingVault.close()])
})
beforeEach(() => {
  rootVault.reset()
  issuingVault.reset()
  sleeps = []
})

function access(target: KeyVaultDouble) {
  return azureCredential({ MTLS_CA_AZURE_CREDENTIAL: 'emulator', MTLS_CA_AZURE_CA_FILE: target.caFile })
}

function certificateVault(target: KeyVaultDouble = issuingVault) {
  const { credential, clientOptions } = access(target)
  return openCertificateVault(target.url, { credential, clientOptions, sleep })
}

function signerFor(target: KeyVaultDouble, keyId: string) {
  const { credential, clientOptions } = access(target)
  return openKeyVaultSigner(keyId, { credential, clientOptions, sleep })
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

const normalized = (spki: ArrayBuffer | Uint8Array) =>
  createPublicKey({ key: Buffer.from(spki as Uint8Array), format: 'der', type: 'spki' }).export({
    type: 'spki',
    format: 'der',
  })

let rootCache:
  Promise<{ root: x509.X509Certificate; signer: Awaited<ReturnType<typeof signerFor>> }> | undefined
/** The root CA: an RSA-HSM key in the root vault and a self-signed certificate made through it. */
function rootCa() {
  rootCache ??= (async () => {
    const kid = await rootVault.addKey('root-ca', { kty: 'RSA-HSM', size: 2048 })
    const signer = await signerFor(rootVault, kid)
    return { signer, root: await selfSignedRoot(signer, 'CN=mtls-ca Test Root, O=Example') }
  })()
  return rootCache
}

describe('create → CSR → sign → merge', () => {
  it.each<[string, CaKeySpec]>([
    ['EC-HSM P-256', { subject: 'CN=mtls-ca Issuing EC, O=Example', keyType: 'EC-HSM', curve: 'P-256' }],
    ['EC-HSM P-384', { subject: 'CN=mtls-ca Issuing EC384, O=Example', keyType: 'EC-HSM', curve: 'P-384' }],
    ['RSA-HSM 2048', { subject: 'CN=mtls-ca Issuing RSA, O=Example', keyType: 'RSA-HSM', keySize: 2048 }],
  ])(
    'an intermediate with an %s key made in the vault issues certificates that OpenSSL verifies',
    async (_, spec) => {
      const { root, signer: rootSigner } = await rootCa()
      const vault = certificateVault()
      const name = `issuing-${spec.keyType.toLowerCase()}-${spec.keyType === 'EC-HSM' ? spec.curve : spec.keySize}`

      const pending = await createPendingCertificate(vault, name, spec)

      // What was asked of the vault: issuer Unknown, a non-exportable HSM key for a CA.
      const created = issuingVault.certificateCreateBodies.filter((b) => b.name === name)
      expect(created).toHaveLength(1)
      const body = created[0]!.body as { policy: Record<string, Record<string, unknown>> }
      expect(body.policy.issuer).toMatchObject({ name: 'Unknown' })
      expect(body.policy.key_props).toMatchObject({
        kty: spec.keyType,
        exportable: false,
        reuse_key: false,
        ...(spec.keyType === 'EC-HSM' ? { crv: spec.curve } : { key_size: spec.keySize }),
      })
      expect(body.policy.x509_props).toMatchObject({
        subject: spec.subject,
        key_usage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
      })
      // Not polled to completion: the create's own first poll (GET pending), then getCertificateOperation
      // (which the SDK makes a GET of the certificate and a GET of the pending operation); no more.
      expect(issuingVault.count('certificate.create')).toBe(1)
      expect(issuingVault.count('certificate.pending')).toBe(2)
      expect(issuingVault.count('certificate.get')).toBe(1)

      // The CSR is the vault's, signed by the new key (proof of possession), for the subject asked.
      const csr = new x509.Pkcs10CertificateRequest(pending.csr)
      expect(await csr.verify(webcrypto as unknown as Parameters<typeof csr.verify>[0])).toBe(true)
      expect(csr.subject).toBe(spec.subject)
      expect(normalized(pending.spki).equals(normalized(csr.publicKey.rawData))).toBe(true)
      expect(pending.keyId).toMatch(new RegExp(`^${issuingVault.url}/keys/${name}/[0-9a-f]{32}$`))
      expect(normalized(pending.spki).equals(normalized(issuingVault.publicKeySpki(pending.keyId!)))).toBe(
        true,
      )

      const whilePending = await getCertificate(vault, name)
      expect(whilePending).toMatchObject({
        pending: true,
        certificate: undefined,
        keyId: undefined,
        enabled: false,
      })

      // The root signs the CSR's key with CA extensions of our own, not the CSR's.
      const intermediate = await issue(rootSigner, root, pending.spki, spec.subject, { pathLength: 0 })
      const merged = await mergeSignedCertificate(vault, name, [
        new Uint8Array(intermediate.rawData),
        new Uint8Array(root.rawData),
      ])
      expect(merged.keyId).toBe(pending.keyId)
      expect(Buffer.from(merged.certificate).equals(Buffer.from(intermediate.rawData))).toBe(true)
      expect(merged.pending).toBe(false)

      const stored = await getCertificate(vault, name)
      expect(stored).toMatchObject({ pending: false, keyId: merged.keyId, id: merged.id, enabled: true })
      expect(Buffer.from(stored.certificate!).equals(Buffer.from(intermediate.rawData))).toBe(true)
      const byVersion = await getCertificate(vault, name, merged.version)
      expect(byVersion.id).toBe(merged.id)

      // The intermediate's key, which never left the vault, issues a client certificate.
      const issuingSigner = await signerFor(issuingVault, merged.keyId)
      expect(normalized(issuingSigner.spki).equals(normalized(pending.spki))).toBe(true)
      const client = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const leaf = await issue(
        issuingSigner,
        intermediate,
        new Uint8Array(client.publicKey.export({ type: 'spki', format: 'der' })),
        'CN=client.example.test',
      )
      await expect(opensslVerify(root, intermediate)).resolves.toMatch(/OK/)
      await expect(opensslVerify(root, leaf, [intermediate])).resolves.toMatch(/OK/)
    },
  )

  it('a second create while one is pending is refused with a message saying what to do', async () => {
    const vault = certificateVault()
    const spec: CaKeySpec = { subject: 'CN=Twice', keyType: 'EC-HSM' }
    await createPendingCertificate(vault, 'twice', spec)
    const e = await refusal(createPendingCertificate(vault, 'twice', spec))
    expect(e.code).toBe('vault.failed')
    expect(e.message).toMatch(/HTTP 409 Conflict/)
    expect(e.message).toMatch(/pending delete/)
    expect(e.message).toContain(issuingVault.url)
  })

  it('merging a certificate for another key is refused by the vault', async () => {
    const { root, signer } = await rootCa()
    const vault = certificateVault()
    await createPendingCertificate(vault, 'wrong-key', { subject: 'CN=Wrong', keyType: 'EC-HSM' })
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const cert = await issue(
      signer,
      root,
      new Uint8Array(other.publicKey.export({ type: 'spki', format: 'der' })),
      'CN=Wrong',
      {
        pathLength: 0,
      },
    )
    const e = await refusal(mergeSignedCertificate(vault, 'wrong-key', [new Uint8Array(cert.rawData)]))
    expect(e.code).toBe('vault.failed')
    expect(e.message).toMatch(/doesn't match/)
  })

  it('merging without a pending operation: vault.not_found', async () => {
    const e = await refusal(
      mergeSignedCertificate(certificateVault(), 'nothing-pending', [new Uint8Array([0x30, 0])]),
    )
    expect(e.code).toBe('vault.not_found')
    expect(e.message).toMatch(/PendingCertificateNotFound/)
  })

  it('a certificate that does not exist: vault.not_found naming the vault and the certificate', async () => {
    const e = await refusal(getCertificate(certificateVault(), 'no-such-cert'))
    expect(e.code).toBe('vault.not_found')
    expect(e.message).toContain("certificate 'no-such-cert'")
    expect(e.message).toContain(issuingVault.url)
  })
})

describe('permissions and failures', () => {
  it('no permission to create certificates: vault.forbidden naming the Certificates Officer role', async () => {
    issuingVault.denied.add('certificates/create')
    const e = await refusal(
      createPendingCertificate(certificateVault(), 'denied', { subject: 'CN=D', keyType: 'EC-HSM' }),
    )
    expect(e.code).toBe('vault.forbidden')
    expect(e.message).toContain("'Key Vault Certificates Officer'")
    expect(e.message).toContain("certificate 'denied'")
  })

  it('an identity that may not read keys still gets the CSR; the key id comes with the merge', async () => {
    issuingVault.denied.add('keys/get')
    const pending = await createPendingCertificate(certificateVault(), 'no-key-read', {
      subject: 'CN=K',
      keyType: 'EC-HSM',
    })
    expect(pending.csr.length).toBeGreaterThan(0)
    expect(pending.keyId).toBeUndefined()
  })

  it('a throttled create is retried on our schedule; a 5xx on create is not (it may have succeeded)', async () => {
    const vault = certificateVault()
    issuingVault.failNext(1, 429, 'certificate.create')
    await createPendingCertificate(vault, 'throttled-create', { subject: 'CN=T', keyType: 'EC-HSM' })
    expect(sleeps).toEqual([1000])
    expect(issuingVault.count('certificate.create')).toBe(2)

    sleeps.length = 0
    issuingVault.failNext(1, 503, 'certificate.create')
    const e = await refusal(
      createPendingCertificate(vault, 'failed-create', { subject: 'CN=F', keyType: 'EC-HSM' }),
    )
    expect(e.code).toBe('vault.failed')
    expect(e.message).toMatch(/may have taken effect/)
    expect(sleeps).toEqual([])
  })

  it.each([
    [
      'a bad name',
      () => createPendingCertificate(certificateVault(), 'bad_name', { subject: 'CN=x', keyType: 'EC-HSM' }),
    ],
    [
      'an empty subject',
      () => createPendingCertificate(certificateVault(), 'ok', { subject: ' ', keyType: 'EC-HSM' }),
    ],
    ['an empty chain', () => mergeSignedCertificate(certificateVault(), 'ok', [])],
    [
      'a vault URL with a path',
      async () => openCertificateVault(`${issuingVault.url}/certificates`, access(issuingVault)),
    ],
    ['an http vault URL', async () => openCertificateVault('http://127.0.0.1:1', access(issuingVault))],
  ])('%s is refused as usage.invalid', async (_, run) => {
    expect((await refusal(run())).code).toBe('usage.invalid')
  })
})
