/**
 * The CA flow of test/key-vault-ca.test.ts against real vaults, through the CLI in-process with the
 * real environment: `init --create` (root in MTLS_CA_LIVE_ROOT_VAULT, intermediate in
 * MTLS_CA_LIVE_ISSUING_VAULT), sign, revoke, crl, `rotate-intermediate --create` and a revocation by the
 * previous intermediate, each checked by OpenSSL. Runs only when both variables are set; authenticates
 * as the CLI does (DefaultAzureCredential: az login, environment, managed identity).
 *
 * Needs: Premium vaults (HSM keys); on both vaults 'Key Vault Certificates Officer' (create and merge
 * certificates) and 'Key Vault Crypto User' (read keys, sign). It leaves soft-deleted certificates
 * named mtls-ca-live-ca-* behind.
 */
import { CertificateClient } from '@azure/keyvault-certificates'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { azureCredential } from '../../src/keys/azure-credential.js'
import { caFiles, cleanupTempDirs, openssl, runCli, tempDir } from '../support/ca-fixture.js'
import { readCaYml, verifyAll, writeCsrs } from '../support/key-vault-ca.js'

const rootVaultUrl = process.env.MTLS_CA_LIVE_ROOT_VAULT
const issuingVaultUrl = process.env.MTLS_CA_LIVE_ISSUING_VAULT
const live = Boolean(rootVaultUrl && issuingVaultUrl)

if (!live) {
  console.log(
    'Skipping the live Key Vault CA suite: set MTLS_CA_LIVE_ROOT_VAULT and MTLS_CA_LIVE_ISSUING_VAULT ' +
      '(https://<name>.vault.azure.net, Premium SKU) and sign in to Azure (az login, environment or managed ' +
      "identity). The identity needs 'Key Vault Certificates Officer' and 'Key Vault Crypto User' on both vaults.",
  )
}

const describeLive = live ? describe : describe.skip
const suffix = randomBytes(4).toString('hex')
const rootName = `mtls-ca-live-ca-root-${suffix}`
const issuingName = `mtls-ca-live-ca-issuing-${suffix}`

describeLive('live: a CA with its root and intermediate in two Key Vaults', () => {
  afterAll(async () => {
    const { credential, clientOptions } = azureCredential(process.env)
    await Promise.allSettled([
      new CertificateClient(rootVaultUrl!, credential, clientOptions).beginDeleteCertificate(rootName),
      new CertificateClient(issuingVaultUrl!, credential, clientOptions).beginDeleteCertificate(issuingName),
    ])
    cleanupTempDirs()
  })

  it('init --create, sign, revoke, crl, rotate-intermediate --create, revoke by the previous intermediate', async () => {
    const dir = tempDir('mtls-ca-live-')
    const run = async (args: string[]) => {
      const r = await runCli([...args, '--dir', dir], dir, process.env)
      if (r.status !== 0) throw new Error(`mtls-ca ${args.join(' ')} failed: ${r.stderr}`)
      return r
    }
    await run([
      'init',
      '--root-key',
      `${rootVaultUrl!.replace(/\/$/, '')}/keys/${rootName}`,
      '--intermediate-key',
      `${issuingVaultUrl!.replace(/\/$/, '')}/keys/${issuingName}`,
      '--create',
      '--key-type',
      'ec-p256',
    ])
    const f = caFiles(dir)
    expect(verifyAll(f.root, undefined, [f.root, f.intermediate])).toEqual([])
    console.log(
      `live: ca.yml keys ${JSON.stringify({ root: readCaYml(dir).root.key, intermediate: readCaYml(dir).intermediate.key })}`,
    )

    const names = await writeCsrs(dir, 'live', 20)
    const signed = JSON.parse((await run(['sign', '--json'])).stdout) as {
      issued: { name: string; serial: string }[]
    }
    expect(signed.issued).toHaveLength(20)
    const certs = names.map((n) => join(dir, 'certs', `${n}.cert.pem`))
    expect(verifyAll(f.root, f.intermediate, certs)).toEqual([])

    const [first, second] = signed.issued
    await run(['revoke', first!.serial, '--reason', 'keyCompromise'])
    const check = (crl: string, intermediate: string, cert: string) => {
      const r = openssl([
        'verify',
        '-crl_check',
        '-CRLfile',
        crl,
        '-CAfile',
        f.root,
        '-untrusted',
        intermediate,
        cert,
      ])
      return r.stdout + r.stderr
    }
    const crl = join(dir, 'intermediateCA/crl/intermediate.crl.pem')
    expect(check(crl, f.intermediate, join(dir, 'certs', `${first!.name}.cert.pem`))).toMatch(
      /certificate revoked/,
    )

    const rotated = JSON.parse((await run(['rotate-intermediate', '--create', '--json'])).stdout) as {
      previous: { serial: string; dir: string }
    }
    expect(verifyAll(f.root, undefined, [f.intermediate])).toEqual([])
    await run(['revoke', second!.serial, '--reason', 'superseded', '--intermediate', rotated.previous.serial])
    const previousCrl = join(dir, rotated.previous.dir, 'crl/intermediate.crl.pem')
    const previousCert = join(dir, rotated.previous.dir, 'certs/intermediate.cert.pem')
    expect(check(previousCrl, previousCert, join(dir, 'certs', `${second!.name}.cert.pem`))).toMatch(
      /certificate revoked/,
    )
    expect(readFileSync(f.chain, 'utf8')).toBe(
      readFileSync(f.intermediate, 'utf8') + readFileSync(f.root, 'utf8'),
    )
  }, 300_000)
})
