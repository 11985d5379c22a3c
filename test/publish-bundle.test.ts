/**
 * The chain bundle: the gateway's rules on a PEM file (checkGatewayBundle, with certificates made by
 * the real openssl), and which intermediates a real CA's bundle holds across rotations.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isCaError, type CaError } from '../src/ca/errors.js'
import { buildChainBundle } from '../src/publish/chain-bundle.js'
import { checkGatewayBundle, MAX_BUNDLE_BYTES } from '../src/publish/gateway-bundle.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { cleanupTempDirs, initCa, makeCsr, opensslOk, runCli, tempDir } from './support/ca-fixture.js'

let dir: string
const pem: Record<string, string> = {}

/** A CA certificate (or a leaf) made by openssl: self-signed, or signed by `issuer`. */
function make(
  name: string,
  subject: string,
  issuer?: string,
  ext = 'basicConstraints=critical,CA:TRUE',
): void {
  const key = join(dir, `${name}.key`)
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
  const extFile = join(dir, `${name}.ext`)
  writeFileSync(
    extFile,
    `${ext}\nsubjectKeyIdentifier=hash\n${issuer ? 'authorityKeyIdentifier=keyid\n' : ''}`,
  )
  if (issuer) {
    const csr = join(dir, `${name}.csr`)
    opensslOk(['req', '-new', '-key', key, '-subj', subject, '-out', csr])
    opensslOk([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, `${issuer}.pem`),
      '-CAkey',
      join(dir, `${issuer}.key`),
      '-CAcreateserial',
      '-days',
      name === 'short' ? '20' : '365',
      '-extfile',
      extFile,
      '-out',
      join(dir, `${name}.pem`),
    ])
  } else {
    opensslOk([
      'req',
      '-x509',
      '-key',
      key,
      '-subj',
      subject,
      '-days',
      '3650',
      '-addext',
      ext,
      '-out',
      join(dir, `${name}.pem`),
    ])
  }
  pem[name] = readFileSync(join(dir, `${name}.pem`), 'utf8')
  pem[`${name}.key`] = readFileSync(key, 'utf8')
}

beforeAll(() => {
  dir = tempDir()
  make('root', '/O=Example/CN=Root CA')
  make('intermediate', '/O=Example/CN=Intermediate CA', 'root')
  make('old', '/O=Example/CN=Old Intermediate CA', 'root')
  make('short', '/O=Example/CN=Short Intermediate CA', 'root')
  make('leaf', '/CN=client.example.com', 'intermediate', 'basicConstraints=critical,CA:FALSE')
  make('other-root', '/O=Other/CN=Other Root CA')
  make('foreign', '/O=Other/CN=Foreign Intermediate CA', 'other-root')
  for (let i = 0; i < 40; i++) make(`many${i}`, `/O=Example/OU=Rotation ${i}/CN=Intermediate CA ${i}`, 'root')
})

afterAll(() => cleanupTempDirs())

const now = () => new Date()
const days = (n: number) => new Date(Date.now() + n * 86_400_000)

function refusal(run: () => unknown): CaError {
  try {
    run()
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a CaError')
}

describe('checkGatewayBundle', () => {
  it('accepts one root with its intermediates, listing each by subject and SHA-256 fingerprint', () => {
    const checked = checkGatewayBundle(pem.intermediate! + pem.old! + pem.root!, { now: now() })
    expect(checked.certificates.map((c) => [c.role, c.subject])).toEqual([
      ['intermediate', 'O=Example, CN=Intermediate CA'],
      ['intermediate', 'O=Example, CN=Old Intermediate CA'],
      ['root', 'O=Example, CN=Root CA'],
    ])
    const fingerprint = opensslOk(['x509', '-in', join(dir, 'root.pem'), '-noout', '-fingerprint', '-sha256'])
    expect(checked.certificates[2]!.fingerprint).toBe(fingerprint.trim().split('=')[1])
    expect(checked.warnings).toEqual([])
  })

  const big = () => Array.from({ length: 40 }, (_, i) => pem[`many${i}`]!).join('') + pem.root!

  // The last column: the day the gateway checks, in days from now.
  it.each<[string, () => string, RegExp, number]>([
    ['two roots', () => pem.intermediate! + pem.root! + pem['other-root']!, /has 2 root certificates/, 0],
    ['no root', () => pem.intermediate!, /has 0 root certificates/, 0],
    [
      'a leaf',
      () => pem.leaf! + pem.intermediate! + pem.root!,
      /CN=client.example.com, which is not a CA/,
      0,
    ],
    ['a private key', () => pem.intermediate! + pem.root! + pem['root.key']!, /contains a private key/, 0],
    [
      'a private key of another PEM label',
      () => pem.intermediate! + pem.root!.replace(/CERTIFICATE-----/g, 'EC PRIVATE KEY-----'),
      /contains a private key/,
      0,
    ],
    [
      'another kind of PEM block',
      () => pem.root! + '-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n',
      /PEM X509 CRL block; expected CERTIFICATE blocks only/,
      0,
    ],
    [
      'text between the blocks',
      () => pem.intermediate! + 'hello\n' + pem.root!,
      /text outside its PEM blocks/,
      0,
    ],
    ['nothing', () => '\n', /holds no certificate/, 0],
    [
      'over 25 KB of real intermediates',
      big,
      new RegExp(`bytes; Application Gateway takes at most ${MAX_BUNDLE_BYTES}`),
      0,
    ],
    [
      'an intermediate of another root',
      () => pem.foreign! + pem.root!,
      /Foreign Intermediate CA does not chain to the root/,
      0,
    ],
    ['the same certificate twice', () => pem.intermediate! + pem.intermediate! + pem.root!, /twice/, 0],
    ['an expired intermediate', () => pem.short! + pem.root!, /CN=Short Intermediate CA expired on/, 21],
    ['a certificate not valid yet', () => pem.intermediate! + pem.root!, /is not valid before/, -1],
    [
      'a corrupt certificate',
      () => pem.root! + '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      /certificate 2 is not a valid X.509 certificate/,
      0,
    ],
  ])('refuses %s', (_, bundle, message, inDays) => {
    const e = refusal(() => checkGatewayBundle(bundle(), { now: days(inDays) }))
    expect(e.code).toBe('publish.bundle_invalid')
    expect(e.message).toMatch(message)
  })

  it('the size limit is the gateway’s 25 KB', () => {
    expect(big().length).toBeGreaterThan(25 * 1024)
    expect(MAX_BUNDLE_BYTES).toBe(25 * 1024)
  })

  it('names the file that holds the problem', () => {
    const e = refusal(() =>
      checkGatewayBundle(
        [
          { pem: pem.intermediate!, file: 'intermediateCA/certs/intermediate.cert.pem' },
          { pem: pem.root! + pem['root.key']!, file: 'rootCA/certs/ca.cert.pem' },
        ],
        { now: now() },
      ),
    )
    expect(e.file).toBe('rootCA/certs/ca.cert.pem')
    expect(e.toLine()).toMatch(/^rootCA\/certs\/ca.cert.pem: .*private key.*\[publish.bundle_invalid\]$/)
  })

  it('warns when the current intermediate is within 30 days of expiry, and only for it', () => {
    const fingerprintOf = (name: string) =>
      checkGatewayBundle(pem[name]! + pem.root!, { now: now() }).certificates[0]!.fingerprint
    const warned = checkGatewayBundle(pem.short! + pem.root!, {
      now: now(),
      currentIntermediate: fingerprintOf('short'),
    })
    expect(warned.warnings).toEqual([
      expect.stringMatching(/CN=Short Intermediate CA expires on .* \(in 19 days\): rotate it/),
    ])
    const previous = checkGatewayBundle(pem.intermediate! + pem.short! + pem.root!, {
      now: now(),
      currentIntermediate: fingerprintOf('intermediate'),
    })
    expect(previous.warnings).toEqual([])
  })
})

describe('buildChainBundle across rotations', () => {
  const fingerprint = (file: string) =>
    opensslOk(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).trim().split('=')[1]!

  it('keeps a previous intermediate while it has valid certificates, and drops it once they are revoked', async () => {
    const ca = await initCa(['--key-type', 'ec-p256'])
    const csr = makeCsr(ca, 'client1', { subject: '/CN=client1' })
    expect((await runCli(['sign', '--dir', ca, '--profile', 'client', csr], ca)).status).toBe(0)
    const oldFile = join(ca, 'intermediateCA/certs/intermediate.cert.pem')
    const oldFingerprint = fingerprint(oldFile)
    const rotated = await runCli(['rotate-intermediate', '--dir', ca, '--json'], ca)
    expect(rotated.status).toBe(0)
    const previous = (JSON.parse(rotated.stdout) as { previous: { serial: string; dir: string } }).previous

    const bundle = await buildChainBundle(openDirectoryStore(ca), now())
    expect(bundle.certificates.map((c) => c.fingerprint)).toEqual([
      fingerprint(oldFile), // now the new intermediate
      oldFingerprint,
      fingerprint(join(ca, 'rootCA/certs/ca.cert.pem')),
    ])
    expect(bundle.members.map((m) => m.role)).toEqual(['intermediate', 'previous intermediate', 'root'])
    expect(bundle.members[1]!.file).toBe(`${previous.dir}/certs/intermediate.cert.pem`)
    // What openssl says of the bundle: a client certificate of the old intermediate still verifies.
    const bundleFile = join(ca, 'bundle.pem')
    writeFileSync(bundleFile, bundle.pem)
    const verified = opensslOk([
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      bundleFile,
      join(ca, 'certs/client1.cert.pem'),
    ])
    expect(verified).toMatch(/: OK/)

    const revoked = await runCli(
      [
        'revoke',
        '--dir',
        ca,
        '--intermediate',
        previous.serial,
        '--reason',
        'superseded',
        join(ca, 'certs/client1.cert.pem'),
      ],
      ca,
    )
    expect(revoked.stderr).toBe('')
    const after = await buildChainBundle(openDirectoryStore(ca), now())
    expect(after.certificates.map((c) => c.fingerprint)).not.toContain(oldFingerprint)
    expect(after.omitted).toEqual([
      expect.objectContaining({
        note: `intermediate ${previous.serial} has no unexpired, unrevoked certificates`,
      }),
    ])
  })

  it('drops a previous intermediate that the root revoked, whatever it issued', async () => {
    const ca = await initCa(['--key-type', 'ec-p256'])
    const csr = makeCsr(ca, 'client1', { subject: '/CN=client1' })
    expect((await runCli(['sign', '--dir', ca, '--profile', 'client', csr], ca)).status).toBe(0)
    const rotated = await runCli(['rotate-intermediate', '--dir', ca, '--json'], ca)
    const previous = (JSON.parse(rotated.stdout) as { previous: { serial: string } }).previous
    const revoked = await runCli(
      ['revoke', '--dir', ca, '--root', previous.serial, '--reason', 'cessationOfOperation'],
      ca,
    )
    expect(revoked.stderr).toBe('')
    const bundle = await buildChainBundle(openDirectoryStore(ca), now())
    expect(bundle.certificates).toHaveLength(2)
    expect(bundle.omitted[0]!.note).toBe(`intermediate ${previous.serial} is revoked in the root's database`)
  })
})
