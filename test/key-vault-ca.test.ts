/**
 * A CA whose keys live in Azure Key Vault, end to end: the CLI in-process (and the commands where a
 * test needs instant backoff), the unmodified SDK over HTTPS, and two vault doubles — the root's vault
 * and the issuing vault. Judged by OpenSSL (`verify -x509_strict -check_ss_sig`, `-crl_check`) and by
 * the doubles' counters: one key GET per run, one sign call per certificate or CRL, bounded
 * concurrency, the root's vault left alone by sign, revoke and crl. Every refusal leaves the CA
 * directory byte-identical.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isCaError, type CaError } from '../src/ca/errors.js'
import { signRequests } from '../src/commands/sign.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { azureCredential } from '../src/keys/azure-credential.js'
import { getCertificate, openCertificateVault } from '../src/keys/key-vault-certificates.js'
import type { KeyVaultDouble } from './doubles/key-vault-double.js'
import { caFiles, cleanupTempDirs, openssl, runCli, snapshot, tempDir } from './support/ca-fixture.js'
import {
  editCaYml,
  instantBackoffRuntime,
  readCaYml,
  startTwoVaults,
  verifyAll,
  writeCsrs,
  type TwoVaults,
} from './support/key-vault-ca.js'

let vaults: TwoVaults
let rootVault: KeyVaultDouble
let issuingVault: KeyVaultDouble

beforeAll(async () => {
  vaults = await startTwoVaults()
  rootVault = vaults.root
  issuingVault = vaults.issuing
})
afterAll(async () => {
  await vaults.close()
  cleanupTempDirs()
})
beforeEach(() => {
  rootVault.reset()
  issuingVault.reset()
})

const cli = (args: string[], cwd: string) => runCli(args, cwd, vaults.env)
let names = 0
/** A key name not used before in these doubles (each create makes a certificate of that name). */
const fresh = (what: string) => `${what}-${++names}`
const VERSIONED = /^https:\/\/127\.0\.0\.1:\d+\/keys\/([0-9A-Za-z-]+)\/([0-9a-f]{32})$/

/** `init --create` in `dir` with new keys in both doubles. */
function initCreating(dir: string, args: string[]) {
  return cli(
    [
      'init',
      '--dir',
      dir,
      '--root-key',
      `${rootVault.url}/keys/${fresh('root')}`,
      '--intermediate-key',
      `${issuingVault.url}/keys/${fresh('issuing')}`,
      '--create',
      ...args,
    ],
    dir,
  )
}

/** `init` with both keys made in the doubles (`--create`); returns the CA directory. */
async function kvCa(args: string[] = ['--key-type', 'ec-p256']): Promise<string> {
  const dir = tempDir()
  const r = await initCreating(dir, args)
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`)
  return dir
}

/** Every file under dir whose path says it is a key. */
function keyFiles(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((f) => /private\/|\.key\.pem$/.test(f))
}

function indexLines(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'))
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

function crlCheck(dir: string, crl: string, intermediate: string, cert: string): string {
  const r = openssl([
    'verify',
    '-x509_strict',
    '-crl_check',
    '-CRLfile',
    join(dir, crl),
    '-CAfile',
    caFiles(dir).root,
    '-untrusted',
    join(dir, intermediate),
    join(dir, cert),
  ])
  return r.stdout + r.stderr
}

describe('init --create: root and intermediate made in two vaults', () => {
  let dir: string
  let config: ReturnType<typeof readCaYml>
  beforeAll(async () => {
    dir = await kvCa([]) // the default key type: RSA-HSM 2048
    config = readCaYml(dir)
  })

  it('makes a root and an intermediate that pass openssl verify -x509_strict -check_ss_sig', () => {
    const f = caFiles(dir)
    expect(verifyAll(f.root, undefined, [f.root, f.intermediate])).toEqual([])
    expect(readFileSync(f.chain, 'utf8')).toBe(
      readFileSync(f.intermediate, 'utf8') + readFileSync(f.root, 'utf8'),
    )
  })

  it('pins versioned key ids in ca.yml, each in its own vault, and leaves no key on disk', () => {
    expect(config.root.key).toMatch(VERSIONED)
    expect(config.root.key!.startsWith(`${rootVault.url}/keys/`)).toBe(true)
    expect(config.intermediate.key).toMatch(VERSIONED)
    expect(config.intermediate.key.startsWith(`${issuingVault.url}/keys/`)).toBe(true)
    expect(keyFiles(dir)).toEqual([])
  })

  it('certifies the vault keys with its own CA extensions, not those of the vault CSR (CA:FALSE)', () => {
    const intermediate = new x509.X509Certificate(readFileSync(caFiles(dir).intermediate, 'utf8'))
    const bc = intermediate.getExtension(x509.BasicConstraintsExtension)
    expect(bc).toMatchObject({ ca: true, pathLength: 0, critical: true })
    const spki = Buffer.from(intermediate.publicKey.rawData)
    expect(spki.equals(Buffer.from(issuingVault.publicKeySpki(config.intermediate.key)))).toBe(true)
    const root = new x509.X509Certificate(readFileSync(caFiles(dir).root, 'utf8'))
    expect(
      Buffer.from(root.publicKey.rawData).equals(Buffer.from(rootVault.publicKeySpki(config.root.key!))),
    ).toBe(true)
  })

  it('merged each certificate into its vault: the vault holds key and certificate together', async () => {
    for (const [vault, keyId, file] of [
      [rootVault, config.root.key!, caFiles(dir).root],
      [issuingVault, config.intermediate.key, caFiles(dir).intermediate],
    ] as const) {
      const [, name, version] = VERSIONED.exec(keyId)!
      const access = azureCredential({
        MTLS_CA_AZURE_CREDENTIAL: 'emulator',
        MTLS_CA_AZURE_CA_FILE: vault.caFile,
      })
      const stored = await getCertificate(openCertificateVault(vault.url, access), name!)
      expect(stored.keyId).toBe(keyId)
      expect(stored.version).toBe(version)
      const onDisk = new x509.X509Certificate(readFileSync(file, 'utf8'))
      expect(Buffer.from(stored.certificate!).equals(Buffer.from(onDisk.rawData))).toBe(true)
    }
  })
})

describe('signing 200 requests with the intermediate in the issuing vault', () => {
  let dir: string
  let names: string[]
  const CONCURRENCY = 4
  beforeAll(async () => {
    dir = await kvCa()
    editCaYml(dir, (c) => {
      c.intermediate.concurrency = CONCURRENCY
    })
    names = await writeCsrs(dir, 'batch', 200)
  })

  it('makes one key GET and 200 sign calls, at most the configured number at once, and never calls the root vault', async () => {
    issuingVault.latencyMs = 5 // so that signatures overlap
    const r = await cli(['sign', '--dir', dir, '--json'], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).issued).toHaveLength(200)
    expect(issuingVault.counters.keyGets).toBe(1)
    expect(issuingVault.counters.signCalls).toBe(200)
    expect(issuingVault.counters.maxSignsInFlight).toBeLessThanOrEqual(CONCURRENCY)
    expect(issuingVault.counters.maxSignsInFlight).toBeGreaterThan(1)
    expect(rootVault.counters.requests).toBe(0)
  })

  it('issued certificates that all pass openssl verify -x509_strict, each recorded once', () => {
    const f = caFiles(dir)
    const certs = names.map((n) => join(dir, 'certs', `${n}.cert.pem`))
    expect(verifyAll(f.root, f.intermediate, certs, ['-purpose', 'sslserver'])).toEqual([])
    const serials = indexLines(f.index).map((l) => l[3])
    expect(new Set(serials).size).toBe(200)
    expect(readdirSync(join(dir, 'intermediateCA/newcerts')).filter((n) => n.endsWith('.pem'))).toHaveLength(
      200,
    )
  })

  it('revoke and crl sign once each with the issuing vault, never the root vault, and openssl -crl_check agrees', async () => {
    const serial = indexLines(caFiles(dir).index)[0]![3]!
    const revoked = names.find((n) =>
      readFileSync(join(dir, 'intermediateCA/newcerts', `${serial}.pem`), 'utf8').includes(
        readFileSync(join(dir, 'certs', `${n}.cert.pem`), 'utf8').trim(),
      ),
    )!
    const kept = names.find((n) => n !== revoked)!

    let r = await cli(['revoke', serial, '--reason', 'keyCompromise', '--dir', dir], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(issuingVault.counters).toMatchObject({ keyGets: 1, signCalls: 1 })

    issuingVault.resetCounters()
    r = await cli(['crl', '--dir', dir], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(issuingVault.counters).toMatchObject({ keyGets: 1, signCalls: 1 })
    expect(rootVault.counters.requests).toBe(0)

    const crl = 'intermediateCA/crl/intermediate.crl.pem'
    const intermediate = 'intermediateCA/certs/intermediate.cert.pem'
    expect(crlCheck(dir, crl, intermediate, `certs/${revoked}.cert.pem`)).toMatch(/certificate revoked/)
    expect(crlCheck(dir, crl, intermediate, `certs/${kept}.cert.pem`)).toMatch(/: OK\n/)
  })
})

describe('with the issuing vault throttling a third of the sign calls (429 without Retry-After)', () => {
  it('still issues all 200, each exactly once, backing off on its own schedule', async () => {
    const dir = await kvCa()
    const names = await writeCsrs(dir, 'throttled', 200)
    issuingVault.resetCounters() // init's calls
    issuingVault.throttle = { every: 3, firstAttemptsOnly: true }
    const sleeps: number[] = []
    const result = await signRequests(
      openDirectoryStore(dir),
      { csrFiles: [], cwd: dir },
      instantBackoffRuntime(vaults.env, sleeps),
    )
    expect(result.issued).toHaveLength(200)
    expect(issuingVault.counters.throttled).toBe(66)
    expect(issuingVault.counters.signCalls).toBe(266)
    expect(issuingVault.counters.signsOk).toBe(200)
    expect(issuingVault.counters.keyGets).toBe(1)
    // The signer pauses as a whole: at most one pause per 429, short while signatures get through.
    expect(sleeps.length).toBeGreaterThan(0)
    expect(sleeps.length).toBeLessThanOrEqual(66)
    expect(sleeps.every((ms) => ms === 1000 || ms === 2000)).toBe(true)

    const f = caFiles(dir)
    const serials = indexLines(f.index).map((l) => l[3])
    expect(serials).toHaveLength(200)
    expect(new Set(serials).size).toBe(200)
    expect(readdirSync(join(dir, 'intermediateCA/newcerts')).filter((n) => n.endsWith('.pem'))).toHaveLength(
      200,
    )
    const certs = names.map((n) => join(dir, 'certs', `${n}.cert.pem`))
    expect(verifyAll(f.root, f.intermediate, certs)).toEqual([])
  })
})

describe('refusals write nothing', () => {
  let dir: string
  let configText: string
  let keyId: string
  let name: string
  beforeAll(async () => {
    dir = await kvCa()
    await writeCsrs(dir, 'refused', 3)
    configText = readFileSync(join(dir, 'ca.yml'), 'utf8')
    keyId = readCaYml(dir).intermediate.key
    name = VERSIONED.exec(keyId)![1]!
  })
  afterEach(() => {
    issuingVault.setKeyAttributes(keyId, { enabled: true })
    writeFileSync(join(dir, 'ca.yml'), configText)
  })

  it.each<[string, () => Promise<void> | void, string, RegExp[]]>([
    [
      'the intermediate key does not exist in the vault',
      () =>
        editCaYml(dir, (c) => {
          c.intermediate.key = keyId.replace(/[0-9a-f]{32}$/, '0'.repeat(32))
        }),
      'vault.not_found',
      [/Could not get key/, /no such key/],
    ],
    [
      "the identity may not sign (403, no 'Key Vault Crypto User')",
      () => {
        issuingVault.denied.add('keys/sign')
      },
      'vault.forbidden',
      [/Could not sign with key/, /'Key Vault Crypto User'/],
    ],
    [
      'the intermediate key is disabled',
      () => issuingVault.setKeyAttributes(keyId, { enabled: false }),
      'vault.disabled',
      [/is disabled/],
    ],
    [
      'the vault throttles beyond the backoff schedule',
      () => {
        issuingVault.throttle = { every: 1 }
      },
      'vault.throttled',
      [/Could not sign with key/, /still throttling/],
    ],
    [
      'the vault key is not the key of the intermediate certificate',
      async () => {
        const other = await issuingVault.addKey(fresh('other'), { kty: 'EC-HSM', curve: 'P-256' })
        editCaYml(dir, (c) => {
          c.intermediate.key = other
        })
      },
      'signer.mismatch',
      [/is not the key of intermediateCA\/certs\/intermediate\.cert\.pem/],
    ],
    [
      'the vault returns a signature that does not verify',
      () => {
        issuingVault.corruptSignatures = true
      },
      'signer.failed',
      [/does not verify/],
    ],
  ])('%s', async (_, setup, code, messages) => {
    await setup()
    const before = snapshot(dir)
    const e = await refusal(
      signRequests(openDirectoryStore(dir), { csrFiles: [], cwd: dir }, instantBackoffRuntime(vaults.env)),
    )
    expect(e.code).toBe(code)
    if (code !== 'signer.mismatch') {
      expect(e.message).toContain(issuingVault.url)
      expect(e.message).toContain(`'${name}`)
    }
    for (const m of messages) expect(e.message).toMatch(m)
    expect(snapshot(dir)).toEqual(before)
    expect(rootVault.counters.requests).toBe(0)
  })

  it('the CLI says so in one line with the code and exits 1; a refused crl writes nothing either', async () => {
    issuingVault.denied.add('keys/sign')
    const before = snapshot(dir)
    let r = await cli(['sign', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/\[vault\.forbidden\]$/m)
    r = await cli(['crl', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/\[vault\.forbidden\]$/m)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('any mix of keys', () => {
  it('a file root (kept by the CA directory) with an intermediate made in the issuing vault', async () => {
    const dir = tempDir()
    const r = await cli(
      [
        'init',
        '--dir',
        dir,
        '--intermediate-key',
        `${issuingVault.url}/keys/${fresh('mixed')}`,
        '--create',
        '--key-type',
        'ec-p384',
      ],
      dir,
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const config = readCaYml(dir)
    expect(config.root.key).toBe('file:rootCA/private/ca.key.pem')
    expect(config.intermediate.key).toMatch(VERSIONED)
    expect(keyFiles(dir)).toEqual(['rootCA/private/ca.key.pem'])
    expect(statSync(join(dir, 'rootCA/private/ca.key.pem')).mode & 0o777).toBe(0o400)
    expect(rootVault.counters.requests).toBe(0)

    const [name] = await writeCsrs(dir, 'mixed', 1)
    const s = await cli(['sign', '--dir', dir], dir)
    expect(s.status).toBe(0)
    const f = caFiles(dir)
    expect(
      verifyAll(f.root, f.intermediate, [f.intermediate, join(dir, 'certs', `${name}.cert.pem`)]),
    ).toEqual([])
    expect(rootVault.counters.requests).toBe(0)
  })

  it('existing vault keys, used as they are: an unversioned URL is pinned to the latest version', async () => {
    const rootName = fresh('existing-root')
    await rootVault.addKey(rootName, { kty: 'EC-HSM', curve: 'P-256' })
    const latest = await rootVault.addKey(rootName, { kty: 'EC-HSM', curve: 'P-256' })
    const intermediate = await issuingVault.addKey(fresh('existing-issuing'), { kty: 'RSA-HSM', size: 2048 })
    const dir = tempDir()
    const r = await cli(
      [
        'init',
        '--dir',
        dir,
        '--root-key',
        `${rootVault.url}/keys/${rootName}`,
        '--intermediate-key',
        intermediate,
      ],
      dir,
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(readCaYml(dir)).toMatchObject({ root: { key: latest }, intermediate: { key: intermediate } })
    expect(keyFiles(dir)).toEqual([])
    expect(rootVault.count('certificate.create') + issuingVault.count('certificate.create')).toBe(0)
    const f = caFiles(dir)
    expect(verifyAll(f.root, undefined, [f.root, f.intermediate])).toEqual([])
  })

  it('when a vault refuses, init writes nothing to the CA directory', async () => {
    issuingVault.denied.add('certificates/create')
    const dir = tempDir()
    const r = await initCreating(dir, ['--key-type', 'ec-p256'])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/'Key Vault Certificates Officer'.*\[vault\.forbidden\]$/m)
    expect(r.stderr).toContain(issuingVault.url)
    expect(Object.keys(snapshot(dir)).filter((f) => !f.startsWith('.mtls-ca/'))).toEqual([])
  })

  it.each([
    [['--create'], /--create makes keys in Key Vault/],
    [['--intermediate-key', 'https://vault.example/keys/a/0123', '--create'], /without a version/],
    [['--root-key', '/etc/ca.key.pem'], /not a key reference/],
    [['--root-key', 'file:/etc/ca.key.pem'], /inside the CA directory/],
    [['--root-key', 'https://vault.example/secrets/a'], /Invalid Key Vault key URL/],
  ])('init %j is a usage error', async (args, message) => {
    const dir = tempDir()
    const r = await cli(['init', '--dir', dir, ...args], dir)
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(existsSync(join(dir, 'ca.yml'))).toBe(false)
  })
})

describe('rotate-intermediate', () => {
  it('makes a new Key Vault version signed by the root; the old intermediate can still revoke and publish its CRL', async () => {
    const dir = await kvCa()
    const [a, b] = await writeCsrs(dir, 'before', 2)
    expect((await cli(['sign', '--dir', dir], dir)).status).toBe(0)
    const before = readCaYml(dir)
    const oldCert = new x509.X509Certificate(readFileSync(caFiles(dir).intermediate, 'utf8'))
    const oldSerial = oldCert.serialNumber.toUpperCase()
    const serialOf = (n: string) =>
      new x509.X509Certificate(
        readFileSync(join(dir, 'certs', `${n}.cert.pem`), 'utf8'),
      ).serialNumber.toUpperCase()

    rootVault.resetCounters()
    const r = await cli(['rotate-intermediate', '--create', '--dir', dir, '--json'], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.previous.serial).toBe(oldSerial)
    expect(rootVault.counters.signCalls).toBe(1) // the new intermediate certificate

    // The new intermediate: a new version of the same vault key, certified by the root, in the chain.
    const after = readCaYml(dir)
    const [, oldName, oldVersion] = VERSIONED.exec(before.intermediate.key)!
    const [, newName, newVersion] = VERSIONED.exec(after.intermediate.key)!
    expect(newName).toBe(oldName)
    expect(newVersion).not.toBe(oldVersion)
    const f = caFiles(dir)
    expect(verifyAll(f.root, undefined, [f.intermediate])).toEqual([])
    const newCert = new x509.X509Certificate(readFileSync(f.intermediate, 'utf8'))
    expect(newCert.serialNumber.toUpperCase()).toBe(result.intermediate.serial)
    expect(readFileSync(f.chain, 'utf8')).toBe(
      readFileSync(f.intermediate, 'utf8') + readFileSync(f.root, 'utf8'),
    )
    expect(indexLines(join(dir, 'rootCA/index.txt')).map((l) => [l[0], l[3]])).toEqual([
      ['V', oldSerial],
      ['V', result.intermediate.serial],
    ])
    const newCrl = openssl([
      'crl',
      '-in',
      join(dir, 'intermediateCA/crl/intermediate.crl.pem'),
      '-CAfile',
      f.chain,
      '-noout',
    ])
    expect(newCrl.stdout + newCrl.stderr).toMatch(/verify OK/)

    // The old one, retired with its database, key and CRL.
    const previous = after.intermediate.previous![0]!
    expect(previous).toMatchObject({
      serial: oldSerial,
      key: before.intermediate.key,
      dir: `intermediateCA/previous/${oldSerial}`,
    })
    expect(
      indexLines(join(dir, previous.dir, 'index.txt'))
        .map((l) => l[3])
        .sort(),
    ).toEqual([serialOf(a!), serialOf(b!)].sort())
    expect(readFileSync(f.index, 'utf8')).toBe('')

    // Revoking a certificate of the old intermediate: signed with the old key version, listed on its CRL.
    issuingVault.resetCounters()
    rootVault.resetCounters()
    const revoke = await cli(
      ['revoke', serialOf(a!), '--reason', 'superseded', '--intermediate', oldSerial, '--dir', dir],
      dir,
    )
    expect(revoke.stderr).toBe('')
    expect(revoke.status).toBe(0)
    expect(issuingVault.counters).toMatchObject({ keyGets: 1, signCalls: 1 })
    expect(issuingVault.log.find((l) => l.operation === 'key.sign')!.url).toContain(`/${oldVersion}/sign`)
    expect(rootVault.counters.requests).toBe(0)
    expect(crlCheck(dir, previous.crl.file, previous.certificate, `certs/${a}.cert.pem`)).toMatch(
      /certificate revoked/,
    )
    expect(crlCheck(dir, previous.crl.file, previous.certificate, `certs/${b}.cert.pem`)).toMatch(/: OK\n/)
    // Unknown to the new intermediate, whose CRL was not touched.
    const wrong = await cli(['revoke', serialOf(b!), '--reason', 'superseded', '--dir', dir], dir)
    expect(wrong.stderr).toMatch(/\[revoke\.unknown_serial\]/)

    // The new intermediate issues, and its certificates verify with the new chain.
    const [c] = await writeCsrs(dir, 'after', 1)
    expect((await cli(['sign', '--dir', dir], dir)).status).toBe(0)
    expect(verifyAll(f.root, f.intermediate, [join(dir, 'certs', `${c}.cert.pem`)])).toEqual([])
  })

  it('on a CA with file keys, makes a new key file and keeps the old one for the old CRL', async () => {
    const dir = tempDir()
    expect((await cli(['init', '--dir', dir, '--key-type', 'ec-p256'], dir)).status).toBe(0)
    const r = await cli(['rotate-intermediate', '--dir', dir, '--json'], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const { intermediate, previous } = JSON.parse(r.stdout)
    const newKey = `intermediateCA/private/intermediate-${intermediate.serial}.key.pem`
    expect(readCaYml(dir).intermediate.key).toBe(`file:${newKey}`)
    expect(keyFiles(dir).sort()).toEqual(
      ['intermediateCA/private/intermediate.key.pem', newKey, 'rootCA/private/ca.key.pem'].sort(),
    )
    expect(statSync(join(dir, newKey)).mode & 0o777).toBe(0o400)
    const f = caFiles(dir)
    expect(verifyAll(f.root, undefined, [f.intermediate])).toEqual([])
    const crl = await cli(['crl', '--intermediate', previous.serial, '--dir', dir], dir)
    expect(crl.stderr).toBe('')
    expect(crl.status).toBe(0)
  })

  it('refuses, writing nothing, when the vault key has no newer version and --create is not given', async () => {
    const dir = await kvCa()
    const before = snapshot(dir)
    const r = await cli(['rotate-intermediate', '--dir', dir], dir)
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/is the current intermediate's key.*--create/)
    expect(snapshot(dir)).toEqual(before)
  })
})
