/**
 * Publishing the chain bundle to Application Gateway: the real @azure/arm-network client over HTTPS
 * against a local double of Resource Manager (test/doubles/arm-double.ts), starting from a realistic
 * gateway that another team already uses for mutual TLS. The CA is a real one made by `mtls-ca init`,
 * and the bundle the gateway ends up with is checked with the real openssl.
 */
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isCaError } from '../src/ca/errors.js'
import { publishToGateways, type PublishResult } from '../src/commands/publish.js'
import { armScope } from '../src/publish/app-gateway-client.js'
import { appGatewayRuntime, armEndpoint } from '../src/publish/app-gateway-runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import type { GatewayTarget } from '../src/publish/gateway-target.js'
import { ArmDouble, exampleGateway } from './doubles/arm-double.js'
import {
  cleanupTempDirs,
  initCa,
  makeCsr,
  opensslMerged,
  opensslOk,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

const SUBSCRIPTION = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b'
const GATEWAY = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-edge/providers/Microsoft.Network/applicationGateways/agw-edge`
const TARGET: GatewayTarget = { resourceId: GATEWAY, trustedClientCertificate: 'mtls-ca', sslProfile: 'mtls' }
const FLAGS = ['--app-gateway', GATEWAY, '--trusted-client-certificate', 'mtls-ca', '--ssl-profile', 'mtls']

let arm: ArmDouble
let env: Record<string, string>
let partnerPem: string
let template: string // a CA made once, copied per test

/** A copy of the CA made once (init is the slow part), so every test starts from the same state. */
function copyCa(): string {
  const dir = tempDir()
  cpSync(template, dir, { recursive: true })
  return dir
}

beforeAll(async () => {
  arm = await ArmDouble.start()
  env = {
    PATH: process.env.PATH ?? '',
    MTLS_CA_AZURE_CREDENTIAL: 'emulator',
    MTLS_CA_AZURE_CA_FILE: arm.caFile,
    MTLS_CA_ARM_ENDPOINT: arm.url,
  }
  const partner = tempDir()
  opensslOk([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(partner, 'key.pem'),
    '-out',
    join(partner, 'ca.pem'),
    '-days',
    '365',
    '-subj',
    '/O=Partner/CN=Partner Root CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  partnerPem = readFileSync(join(partner, 'ca.pem'), 'utf8')
  template = await initCa(['--key-type', 'ec-p256'])
})

afterAll(async () => {
  await arm.close()
  cleanupTempDirs()
})

beforeEach(() => {
  arm.addGateway(exampleGateway(GATEWAY, partnerPem))
  arm.log.length = 0
  arm.putBodies.length = 0
})

/** Backoff that records each wait instead of waiting. */
function recordingSleep(waited: number[] = []): (ms: number) => Promise<void> {
  return async (ms) => void waited.push(ms)
}

async function publish(dir: string, mode: 'publish' | 'dry-run' | 'check' = 'publish', waited?: number[]) {
  const sleep = recordingSleep(waited)
  return publishToGateways(
    openDirectoryStore(dir),
    { mode, targets: [TARGET] },
    { now: () => new Date(), gateways: appGatewayRuntime(env, { sleep }), sleep },
  )
}

async function refusal(p: Promise<unknown>) {
  try {
    await p
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a CaError')
}

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The PUT body less our entry and our profile reference: must be the GET body exactly. */
function withoutOurChange(doc: Json): Json {
  const d = structuredClone(doc)
  d.properties.trustedClientCertificates = d.properties.trustedClientCertificates.filter(
    (e: Json) => e.name !== 'mtls-ca',
  )
  const mtls = d.properties.sslProfiles.find((p: Json) => p.name === 'mtls')
  mtls.properties.trustedClientCertificates = mtls.properties.trustedClientCertificates.filter(
    (r: Json) => r.id !== `${GATEWAY}/trustedClientCertificates/mtls-ca`,
  )
  if (mtls.properties.trustedClientCertificates.length === 0) delete mtls.properties.trustedClientCertificates
  return d
}

function entryPem(doc: Json): string {
  const entry = doc.properties.trustedClientCertificates.find((e: Json) => e.name === 'mtls-ca')
  return Buffer.from(entry.properties.data, 'base64').toString('utf8')
}

function ourFiles(dir: string): string {
  return (
    readFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8') +
    readFileSync(join(dir, 'rootCA/certs/ca.cert.pem'), 'utf8')
  )
}

describe('publish to a gateway', () => {
  it('adds one entry and one profile reference, keeps everything else as read, and a second run makes no PUT', async () => {
    const dir = copyCa()
    const before = arm.gateway(GATEWAY)
    const r = await runCli(['publish', '--dir', dir, ...FLAGS], dir, env)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`Updated: ${GATEWAY}`)
    expect(r.stdout).toContain('trusted client certificate: added')
    expect(r.stdout).toContain('SSL profile: reference added')

    expect(arm.putBodies).toHaveLength(1)
    const put = arm.putBodies[0]! as Json
    expect(withoutOurChange(put)).toEqual(before)
    expect(put.properties.futureFeature).toEqual({ enabled: true, mode: 'preview' })
    expect(entryPem(put)).toBe(ourFiles(dir))
    const mtls = put.properties.sslProfiles.find((p: Json) => p.name === 'mtls')
    expect(mtls.properties.trustedClientCertificates).toEqual([
      { id: `${GATEWAY}/trustedClientCertificates/mtls-ca` },
    ])
    // The SDK's api-version, a bearer token from the credential, and the LRO followed to its end.
    expect(arm.log.map((l) => `${l.method} ${l.kind} ${l.status}`)).toEqual([
      'GET gateway.get 200',
      'PUT gateway.put 200',
      'GET operation.get 200',
      'GET operation.get 200',
      'GET operation.get 200',
    ])
    expect(arm.log[0]!.url).toMatch(/api-version=2026-01-01$/)
    expect([...arm.tokens]).toEqual(['mtls-ca-emulator-token'])
    expect(arm.gateway(GATEWAY).properties).toMatchObject({ provisioningState: 'Succeeded' })

    // The gateway's bundle verifies a client certificate of the CA with the real openssl.
    const csr = makeCsr(dir, 'client1', { subject: '/CN=client1' })
    const signed = await runCli(['sign', '--dir', dir, '--profile', 'client', csr], dir, env)
    expect(signed.status).toBe(0)
    const bundleFile = join(dir, 'gateway-bundle.pem')
    writeFileSync(bundleFile, entryPem(arm.gateway(GATEWAY)))
    const verified = opensslMerged([
      'verify',
      '-x509_strict',
      '-check_ss_sig',
      '-purpose',
      'sslclient',
      '-CAfile',
      bundleFile,
      join(dir, 'certs/client1.cert.pem'),
    ])
    expect(verified.out).toMatch(/: OK/)

    arm.log.length = 0
    const again = await runCli(['publish', '--dir', dir, ...FLAGS], dir, env)
    expect(again.status).toBe(0)
    expect(again.stdout).toContain(`Unchanged: ${GATEWAY}`)
    expect(arm.putBodies).toHaveLength(1)
    expect(arm.log.map((l) => l.kind)).toEqual(['gateway.get'])
  })

  it('replaces a stale entry in place, and sets the client-auth options the target names', async () => {
    const dir = copyCa()
    arm.change(GATEWAY, (g: Json) => {
      g.properties.trustedClientCertificates.push({
        name: 'mtls-ca',
        id: `${GATEWAY}/trustedClientCertificates/mtls-ca`,
        properties: {
          data: Buffer.from(partnerPem).toString('base64'),
          clientCertIssuerDN: 'CN=Partner Root CA',
        },
      })
    })
    const before = arm.gateway(GATEWAY) as Json
    const result = await publishToGateways(
      openDirectoryStore(dir),
      { targets: [{ ...TARGET, verifyClientRevocation: 'OCSP' }] },
      { now: () => new Date(), gateways: appGatewayRuntime(env) },
    )
    const u = result.updates[0]!
    expect(u).toMatchObject({ outcome: 'updated', entry: 'replaced', profileReference: 'added' })
    expect(u.removed.map((c) => c.subject)).toEqual(['O=Partner, CN=Partner Root CA'])
    expect(u.added).toHaveLength(2)
    expect(u.clientAuth).toEqual([{ field: 'verifyClientRevocation', from: 'None', to: 'OCSP' }])
    const put = arm.putBodies[0]! as Json
    const names = put.properties.trustedClientCertificates.map((e: Json) => e.name)
    expect(names).toEqual(before.properties.trustedClientCertificates.map((e: Json) => e.name))
    expect(entryPem(put)).toBe(ourFiles(dir))
    const mtls = put.properties.sslProfiles.find((p: Json) => p.name === 'mtls')
    expect(mtls.properties.clientAuthConfiguration).toEqual({
      verifyClientCertIssuerDN: false,
      verifyClientRevocation: 'OCSP',
    })
  })
})

describe('safety on a busy gateway', () => {
  const theirListener = (g: Json) => {
    g.properties.frontendPorts.push({ name: 'port_8443', properties: { port: 8443 } })
    g.tags.changedBy = 'someone-else'
  }

  it.each([
    [
      '409 AnotherOperationInProgress',
      (a: ArmDouble) => a.conflictNextPut(1, 'AnotherOperationInProgress', theirListener),
    ],
    [
      'an operation superseded by another (CanceledAndSupersededDueToAnotherOperation)',
      (a: ArmDouble) => a.supersedeNextPut(theirListener),
    ],
  ])('%s: GET again, apply again, and keep the other change', async (_, inject) => {
    const dir = copyCa()
    inject(arm)
    const waited: number[] = []
    const result = await publish(dir, 'publish', waited)
    expect(result.updates[0]).toMatchObject({ outcome: 'updated', gets: 2, puts: 2 })
    expect(arm.count('gateway.get')).toBe(2)
    expect(arm.putBodies).toHaveLength(2)
    const second = arm.putBodies[1]! as Json
    expect(second.tags.changedBy).toBe('someone-else')
    expect(second.properties.frontendPorts.map((p: Json) => p.name)).toContain('port_8443')
    const final = arm.gateway(GATEWAY) as Json
    expect(final.tags.changedBy).toBe('someone-else')
    expect(final.properties.frontendPorts.map((p: Json) => p.name)).toContain('port_8443')
    expect(entryPem(final)).toBe(ourFiles(dir))
    expect(waited).toContain(1000)
  })

  it('429 without Retry-After on the GET and the PUT: exponential backoff, each try from a fresh GET', async () => {
    const dir = copyCa()
    arm.throttleNext(1, 'gateway.get')
    arm.throttleNext(1, 'gateway.put')
    const waited: number[] = []
    const result = await publish(dir, 'publish', waited)
    expect(result.updates[0]).toMatchObject({ outcome: 'updated' })
    expect(waited.filter((ms) => ms >= 1000)).toEqual([1000, 2000])
    expect(arm.log.filter((l) => l.kind !== 'operation.get').map((l) => `${l.kind} ${l.status}`)).toEqual([
      'gateway.get 429',
      'gateway.get 200',
      'gateway.put 429',
      'gateway.get 200',
      'gateway.put 200',
    ])
  })

  it('a longer Retry-After wins over the backoff', async () => {
    const dir = copyCa()
    arm.throttleNext(1, 'gateway.put', 30)
    const waited: number[] = []
    await publish(dir, 'publish', waited)
    expect(waited).toContain(30_000)
  })

  it('gives up after bounded tries, naming the gateway and the operation', async () => {
    const dir = copyCa()
    arm.conflictNextPut(6, 'AnotherOperationInProgress')
    const waited: number[] = []
    const e = await refusal(publish(dir, 'publish', waited))
    expect(e.code).toBe('gateway.conflict')
    expect(e.message).toContain(GATEWAY)
    expect(e.message).toMatch(/PUT of gateway .* HTTP 409 AnotherOperationInProgress/)
    expect(e.message).toMatch(/gave up after 6 tries/)
    expect(arm.putBodies).toHaveLength(6)
    expect(waited.filter((ms) => ms >= 1000)).toEqual([1000, 2000, 4000, 8000, 16000])
  })

  it('a 503 on the PUT: GET again; when the PUT had gone through, nothing more is sent', async () => {
    const dir = copyCa()
    arm.failNext(1, 503, 'InternalServerError', 'gateway.put')
    const result = await publish(dir)
    expect(result.updates[0]).toMatchObject({ outcome: 'updated', puts: 2 })
    expect(entryPem(arm.gateway(GATEWAY) as Json)).toBe(ourFiles(dir))
  })

  it('an operation that ends Failed is reported with the service’s code and not retried', async () => {
    const dir = copyCa()
    const before = arm.gateway(GATEWAY)
    arm.failNextOperation('ApplicationGatewayTrustedClientCertificateInvalidData', 'The data is not valid.')
    const e = await refusal(publish(dir))
    expect(e.code).toBe('gateway.failed')
    expect(e.message).toMatch(
      /PUT of gateway .* ended Failed: ApplicationGatewayTrustedClientCertificateInvalidData \(The data is not valid.\)/,
    )
    expect(arm.putBodies).toHaveLength(1)
    const entries = (g: Json) =>
      g.properties.trustedClientCertificates.map((e: Json) => [e.name, e.properties.data])
    expect(entries(arm.gateway(GATEWAY) as Json)).toEqual(entries(before as Json))
  })

  it('does not follow an Azure-AsyncOperation URL outside Resource Manager (it would carry the token)', async () => {
    const dir = copyCa()
    arm.asyncOperationOrigin = 'https://attacker.example'
    try {
      const e = await refusal(publish(dir))
      expect(e.code).toBe('gateway.failed')
      expect(e.message).toContain('points to https://attacker.example, not to Resource Manager')
      expect(arm.count('operation.get')).toBe(0)
    } finally {
      arm.asyncOperationOrigin = undefined
    }
  })

  it.each([
    ['404', 404, 'ResourceNotFound', 'gateway.not_found'],
    ['403', 403, 'AuthorizationFailed', 'gateway.forbidden'],
    ['400', 400, 'ApplicationGatewayInvalidConfiguration', 'gateway.failed'],
  ])('a %s on the PUT is not retried', async (_, status, code, expected) => {
    const dir = copyCa()
    arm.failNext(1, status, code, 'gateway.put')
    const e = await refusal(publish(dir))
    expect(e.code).toBe(expected)
    expect(e.message).toContain(code)
    expect(arm.putBodies).toHaveLength(1)
  })
})

describe('bundles the gateway would refuse are refused before any request', () => {
  const leafPem = () => {
    const d = tempDir()
    opensslOk([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(d, 'k.pem'),
      '-out',
      join(d, 'leaf.pem'),
      '-days',
      '30',
      '-subj',
      '/CN=leaf',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
    ])
    return readFileSync(join(d, 'leaf.pem'), 'utf8')
  }

  it.each<[string, (dir: string) => void, RegExp]>([
    [
      'a leaf in place of the intermediate',
      (dir) => writeFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), leafPem()),
      /publish: intermediateCA\/certs\/intermediate\.cert\.pem: .*CN=leaf, which is not a CA certificate/,
    ],
    [
      'a second root (the intermediate file replaced by a self-signed CA)',
      (dir) => writeFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), partnerPem),
      /2 root certificates/,
    ],
    [
      'a private key appended to the root certificate file',
      (dir) =>
        appendFileSync(
          join(dir, 'rootCA/certs/ca.cert.pem'),
          readFileSync(join(dir, 'rootCA/private/ca.key.pem'), 'utf8'),
        ),
      /publish: rootCA\/certs\/ca\.cert\.pem: .*contains a private key/,
    ],
    [
      'over 25 KB',
      (dir) => {
        const root = readFileSync(join(dir, 'rootCA/certs/ca.cert.pem'), 'utf8')
        writeFileSync(join(dir, 'rootCA/certs/ca.cert.pem'), root.repeat(40))
      },
      /bytes; Application Gateway takes at most 25600/,
    ],
  ])('%s', async (_, spoil, message) => {
    const dir = copyCa()
    spoil(dir)
    const files = snapshot(dir)
    const gateway = arm.gateway(GATEWAY)
    const r = await runCli(['publish', '--dir', dir, ...FLAGS], dir, env)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toContain('[publish.bundle_invalid]')
    expect(arm.log).toEqual([])
    expect(arm.gateway(GATEWAY)).toEqual(gateway)
    expect(snapshot(dir)).toEqual(files)
  })
})

describe('--dry-run and --check', () => {
  it('--dry-run prints the certificates it would add by subject and fingerprint, and writes nothing', async () => {
    const dir = copyCa()
    const files = snapshot(dir)
    const r = await runCli(['publish', '--dir', dir, '--dry-run', ...FLAGS], dir, env)
    expect(r.status).toBe(0)
    const fp = (file: string) =>
      opensslOk(['x509', '-in', join(dir, file), '-noout', '-fingerprint', '-sha256'])
        .trim()
        .split('=')[1]!
    expect(r.stdout).toContain(`Would update: ${GATEWAY}`)
    expect(r.stdout).toMatch(
      new RegExp(
        `\\+ C=US, .*CN=Intermediate CA  SHA-256 ${fp('intermediateCA/certs/intermediate.cert.pem')}`,
      ),
    )
    expect(r.stdout).toMatch(new RegExp(`\\+ C=US, .*CN=Root CA  SHA-256 ${fp('rootCA/certs/ca.cert.pem')}`))
    expect(r.stdout).toContain('(dry run: nothing was written)')
    expect(arm.log.map((l) => l.kind)).toEqual(['gateway.get'])
    expect(snapshot(dir)).toEqual(files)
  })

  it('--check: in sync exits 0; a gateway changed behind our back exits 1 and names each difference', async () => {
    const dir = copyCa()
    await publish(dir)
    const inSync = await runCli(['publish', '--dir', dir, '--check', ...FLAGS], dir, env)
    expect(inSync.status).toBe(0)
    expect(inSync.stdout).toContain(`In sync: ${GATEWAY}`)

    arm.change(GATEWAY, (g: Json) => {
      const entry = g.properties.trustedClientCertificates.find((e: Json) => e.name === 'mtls-ca')
      const ours = Buffer.from(entry.properties.data, 'base64').toString('utf8')
      // Someone kept only our intermediate and added the partner's root.
      const intermediate = ours.slice(0, ours.indexOf('-----END CERTIFICATE-----') + 26)
      entry.properties.data = Buffer.from(intermediate + partnerPem).toString('base64')
    })
    arm.log.length = 0
    const drift = await runCli(['publish', '--dir', dir, '--check', ...FLAGS], dir, env)
    expect(drift.status).toBe(1)
    expect(drift.stdout).toContain(`Drift: ${GATEWAY}`)
    expect(drift.stdout).toMatch(/missing at the gateway: +C=US, .*CN=Root CA {2}SHA-256 [0-9A-F:]{95}/)
    expect(drift.stdout).toMatch(
      /not in the repository: +O=Partner, CN=Partner Root CA {2}SHA-256 [0-9A-F:]{95}/,
    )
    expect(arm.log.map((l) => l.kind)).toEqual(['gateway.get'])

    const json = await runCli(['publish', '--dir', dir, '--check', '--json', ...FLAGS], dir, env)
    expect(json.status).toBe(1)
    const parsed = JSON.parse(json.stdout) as PublishResult
    expect(parsed.drifted).toBe(true)
    expect(parsed.drift[0]!.unexpected.map((c) => c.subject)).toEqual(['O=Partner, CN=Partner Root CA'])
  })

  it('--check reports a client-auth option that differs from the target', async () => {
    const dir = copyCa()
    await publish(dir)
    const r = await runCli(
      ['publish', '--dir', dir, '--check', ...FLAGS, '--verify-client-revocation', 'OCSP'],
      dir,
      env,
    )
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(
      "SSL profile 'mtls' has clientAuthConfiguration.verifyClientRevocation None, not OCSP",
    )
  })

  it('--check reports a profile that lost its reference', async () => {
    const dir = copyCa()
    await publish(dir)
    arm.change(GATEWAY, (g: Json) => {
      const mtls = g.properties.sslProfiles.find((p: Json) => p.name === 'mtls')
      mtls.properties.trustedClientCertificates = []
    })
    const r = await runCli(['publish', '--dir', dir, '--check', ...FLAGS], dir, env)
    expect(r.status).toBe(1)
    expect(r.stdout).toContain("SSL profile 'mtls' does not reference 'mtls-ca'")
  })
})

describe('the Resource Manager endpoint and scope', () => {
  it.each([
    ['http://127.0.0.1:1'],
    ['https://management.azure.com/subscriptions'],
    ['https://user:pw@management.azure.com'],
    ['not a url'],
  ])('MTLS_CA_ARM_ENDPOINT=%s is refused', (value) => {
    let code: string | undefined
    try {
      armEndpoint({ MTLS_CA_ARM_ENDPOINT: value })
    } catch (e) {
      code = isCaError(e) ? e.code : 'other'
    }
    expect(code).toBe('usage.invalid')
  })

  it.each([
    [undefined, 'https://management.azure.com', 'https://management.azure.com/.default'],
    [
      'https://management.usgovcloudapi.net/',
      'https://management.usgovcloudapi.net',
      'https://management.usgovcloudapi.net/.default',
    ],
    [
      'https://management.chinacloudapi.cn',
      'https://management.chinacloudapi.cn',
      'https://management.chinacloudapi.cn/.default',
    ],
    ['https://127.0.0.1:8443', 'https://127.0.0.1:8443', 'https://127.0.0.1:8443/.default'],
  ])('MTLS_CA_ARM_ENDPOINT=%s: endpoint %s, token scope %s', (value, endpoint, scope) => {
    expect(armEndpoint(value === undefined ? {} : { MTLS_CA_ARM_ENDPOINT: value })).toBe(endpoint)
    expect(armScope(endpoint)).toBe(scope)
  })
})

describe('targets', () => {
  it('reads ca.yml publish.app_gateway', async () => {
    const dir = copyCa()
    appendFileSync(
      join(dir, 'ca.yml'),
      `publish:\n  app_gateway:\n    - resource_id: ${GATEWAY}\n      trusted_client_certificate: mtls-ca\n      ssl_profile: mtls\n      verify_client_cert_issuer_dn: true\n`,
    )
    const r = await runCli(['publish', '--dir', dir], dir, env)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('clientAuthConfiguration.verifyClientCertIssuerDN: false -> true')
    expect(arm.putBodies).toHaveLength(1)
  })

  it.each([
    ['an unknown key', 'ssl_profile: mtls\n      sslprofile: mtls'],
    ['a revocation mode the gateway does not have', 'ssl_profile: mtls\n      verify_client_revocation: CRL'],
    ['a resource id that is not one', 'ssl_profile: mtls'],
  ])('refuses ca.yml publish.app_gateway with %s, before any request', async (name, rest) => {
    const dir = copyCa()
    const id = name.startsWith('a resource id') ? '/subscriptions/x/../../y' : GATEWAY
    appendFileSync(
      join(dir, 'ca.yml'),
      `publish:\n  app_gateway:\n    - resource_id: ${id}\n      trusted_client_certificate: mtls-ca\n      ${rest}\n`,
    )
    const files = snapshot(dir)
    const r = await runCli(['publish', '--dir', dir], dir, env)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/\[(config\.invalid|publish\.target_invalid)\]/)
    expect(r.stderr).toContain('ca.yml')
    expect(arm.log).toEqual([])
    expect(snapshot(dir)).toEqual(files)
  })

  it.each([
    ['a path that climbs out', `${GATEWAY}/../../other`],
    ['a query', `${GATEWAY}?api-version=2019-01-01`],
    ['another resource type', GATEWAY.replace('applicationGateways', 'loadBalancers')],
    ['a subscription that is not a GUID', GATEWAY.replace(SUBSCRIPTION, 'x')],
    ['a space', GATEWAY.replace('agw-edge', 'agw edge')],
  ])('refuses a resource id with %s, before any request', async (_, id) => {
    const dir = copyCa()
    const r = await runCli(
      [
        'publish',
        '--dir',
        dir,
        '--app-gateway',
        id,
        '--trusted-client-certificate',
        'mtls-ca',
        '--ssl-profile',
        'mtls',
      ],
      dir,
      env,
    )
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[publish.target_invalid]')
    expect(arm.log).toEqual([])
  })

  it.each([
    ['an entry name with a slash', ['--trusted-client-certificate', 'a/b', '--ssl-profile', 'mtls']],
    [
      'a profile name with a dot at the end',
      ['--trusted-client-certificate', 'mtls-ca', '--ssl-profile', 'mtls.'],
    ],
  ])('refuses %s', async (_, names) => {
    const dir = copyCa()
    const r = await runCli(['publish', '--dir', dir, '--app-gateway', GATEWAY, ...names], dir, env)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[publish.target_invalid]')
    expect(arm.log).toEqual([])
  })

  it('refuses a missing SSL profile and a profile at its 100-chain limit without a PUT', async () => {
    const dir = copyCa()
    const missing = await refusal(
      publishToGateways(
        openDirectoryStore(dir),
        { targets: [{ ...TARGET, sslProfile: 'nope' }] },
        { now: () => new Date(), gateways: appGatewayRuntime(env) },
      ),
    )
    expect(missing.code).toBe('publish.gateway_invalid')
    expect(missing.message).toContain("no SSL profile 'nope' (it has: partner, mtls)")

    arm.change(GATEWAY, (g: Json) => {
      const mtls = g.properties.sslProfiles.find((p: Json) => p.name === 'mtls')
      mtls.properties.trustedClientCertificates = Array.from({ length: 100 }, (_, i) => ({
        id: `${GATEWAY}/trustedClientCertificates/other-${i}`,
      }))
    })
    const full = await refusal(publish(dir))
    expect(full.code).toBe('publish.gateway_invalid')
    expect(full.message).toMatch(/would reference 101 trusted client certificates; the limit is 100/)
    expect(arm.putBodies).toEqual([])
  })
})
