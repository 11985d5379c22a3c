/**
 * Checking a batch on worker threads (src/threads/check-pool.ts) and loading CSR keys from their JWK
 * form (src/ca/public-key.ts), against the straightforward paths they stand in for: the same outcomes
 * — checked requests and refusals with their codes, messages, files and details — and the same
 * certificates byte for byte (RSA PKCS#1 v1.5 issuer, fixed clock and serials), through real worker
 * threads running the bundled worker script.
 */
import 'reflect-metadata'
import { createECDH, createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { copyFileSync, existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { CaError } from '../src/ca/errors.js'
import {
  checkRequests,
  issueBatch,
  type CheckOutcome,
  type CheckPolicy,
  type IssuanceContext,
  type IssuanceRequest,
} from '../src/ca/issue.js'
import { canonicalJwk, importPublicKey } from '../src/ca/public-key.js'
import { loadCa, openIssuer } from '../src/commands/ca-state.js'
import { systemRuntime } from '../src/commands/runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { workerChecker } from '../src/threads/check-pool.js'
import { bundleForTest } from './support/bundle.js'
import {
  caFiles,
  cleanupTempDirs,
  initCa,
  makeCsr,
  openssl,
  runCli,
  snapshot,
  tempDir,
  verifyLeaf,
} from './support/ca-fixture.js'
import { writeCsrs } from './support/key-vault-ca.js'

afterAll(cleanupTempDirs)

const spki = (key: KeyObject) => new Uint8Array(key.export({ type: 'spki', format: 'der' }))
const derLoad = (der: Uint8Array) => createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })

/** The result of loading `der` both ways: the same key, or both refuse. */
function bothWays(der: Uint8Array): 'same key' | 'both refuse' | string {
  const load = (f: () => KeyObject): KeyObject | undefined => {
    try {
      return f()
    } catch {
      return undefined
    }
  }
  const ours = load(() => importPublicKey(der))
  const theirs = load(() => derLoad(der))
  if (ours === undefined && theirs === undefined) return 'both refuse'
  if (ours === undefined || theirs === undefined) return `only ${ours ? 'ours' : 'the DER decoder'} loads it`
  return ours.equals(theirs) ? 'same key' : 'different keys'
}

describe('importPublicKey: the JWK path loads the same keys as the DER decoder', () => {
  const keys: Array<[string, () => KeyObject]> = [
    ['RSA-1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['RSA-3072, e=3', () => generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3 }).publicKey],
    ['RSA-4096', () => generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey],
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey],
    ['Ed25519', () => generateKeyPairSync('ed25519').publicKey],
  ]
  it.each(keys)('%s takes the JWK path and is the same key', (_name, make) => {
    for (let i = 0; i < 5; i++) {
      const der = spki(make())
      expect(canonicalJwk(der)).toBeDefined()
      expect(bothWays(der)).toBe('same key')
      expect(Buffer.from(spki(importPublicKey(der))).equals(Buffer.from(der))).toBe(true)
    }
  })

  const p256 = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)
  const rsa = spki(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)
  const compressed = (() => {
    const ecdh = createECDH('prime256v1')
    ecdh.generateKeys()
    const point = ecdh.getPublicKey(undefined, 'compressed')
    const alg = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex')
    const bits = Buffer.concat([Buffer.from([0x03, point.length + 1, 0x00]), point])
    const body = Buffer.concat([alg, bits])
    return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]))
  })()
  const trailing = Uint8Array.from([...p256, 0x00])
  const pss = spki(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey)
  const dsa = spki(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey)
  // RSAPublicKey with the exponent 65537 written with a superfluous leading zero (not DER).
  const paddedExponent = (() => {
    const hex = Buffer.from(rsa).toString('hex')
    const fixed = hex.replace(/0203010001$/, '020400010001')
    const bytes = Buffer.from(fixed, 'hex')
    // Grow the three enclosing lengths (SPKI, BIT STRING, RSAPublicKey) by one: all long-form, 2 octets.
    for (const at of [2, 2 + 2 + 15 + 2, 2 + 2 + 15 + 2 + 3 + 2])
      bytes.writeUInt16BE(bytes.readUInt16BE(at) + 1, at)
    return new Uint8Array(bytes)
  })()

  it.each([
    ['a compressed P-256 point', compressed, 'same key'],
    ['an RSA-PSS key', pss, 'same key'],
    ['a DSA key', dsa, 'same key'],
    ['a trailing octet', trailing, 'same key'],
    ['a non-minimal RSA exponent', paddedExponent, undefined],
  ] as Array<[string, Uint8Array, string | undefined]>)(
    '%s goes to the DER decoder, which decides',
    (_name, der, expected) => {
      expect(canonicalJwk(der)).toBeUndefined()
      const outcome = bothWays(der)
      if (expected === undefined) expect(['same key', 'both refuse']).toContain(outcome)
      else expect(outcome).toBe(expected)
    },
  )
})

/** Outcomes as plain data, so that two runs can be compared whole. */
function plain(outcomes: CheckOutcome[]): unknown[] {
  const error = (e: CaError): unknown => ({
    code: e.code,
    message: e.message,
    file: e.file,
    details: e.details.map(error),
  })
  return outcomes.map((o) => {
    if (o instanceof CaError) return { refused: error(o) }
    return { ...o, spki: Buffer.from(o.spki).toString('hex'), request: o.request.name }
  })
}

it('a point off the curve takes the JWK path and is refused, as by the DER decoder', () => {
  const der = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)
  der[der.length - 1] = (der[der.length - 1] as number) ^ 1
  expect(canonicalJwk(der)).toBeDefined()
  expect(bothWays(der)).toBe('both refuse')
})

/** The same CSR with the last octet of its signature changed. */
function tamperSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64')
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01
  const body = der.toString('base64').replace(/.{64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`
}

describe('checks on worker threads', () => {
  let dir: string
  let policy: CheckPolicy
  let requests: IssuanceRequest[]
  let worker: string

  beforeAll(async () => {
    worker = await bundleForTest('src/check-worker.ts')
    dir = await initCa(['--allow-dns', '.example.com'])
    const ca = await loadCa(openDirectoryStore(dir))
    const issuer = await openIssuer(ca, 'intermediate', systemRuntime)
    policy = { config: ca.config, issuerSubject: issuer.subject }
    const work = tempDir()
    const files = [
      makeCsr(work, 'p256', { subject: '/CN=a.example.com', sans: ['DNS:b.example.com'] }),
      makeCsr(work, 'rsa', { subject: '/CN=rsa.example.com', key: 'rsa:2048' }),
      makeCsr(work, 'ed', { subject: '/CN=ed.example.com', key: 'ed25519' }),
      makeCsr(work, 'small', { subject: '/CN=small.example.com', key: 'rsa:1024' }),
      makeCsr(work, 'outside', { subject: '/CN=www.example.org' }),
      makeCsr(work, 'sha1', { subject: '/CN=old.example.com', key: 'rsa:2048', digest: 'sha1' }),
    ]
    const texts = files.map((f) => readFileSync(f, 'utf8'))
    const tampered = tamperSignature(texts[0] as string)
    texts.push('not a CSR\n', tampered)
    // 150 requests in all, so that they span three chunks and both workers.
    requests = Array.from({ length: 150 }, (_, i) => ({
      name: `r${i}`,
      file: `requests/r${i}.csr.pem`,
      csr: texts[i % texts.length] as string,
    }))
  })

  it('give the same outcomes, in the same order, as checking on this thread', async () => {
    const here = checkRequests(requests, policy)
    const there = await workerChecker({ script: worker, threads: 2, minBatch: 1 })(requests, policy)
    expect(plain(there)).toEqual(plain(here))
    // The mix really has both kinds, and every kind of refusal above.
    const codes = here.filter((o): o is CaError => o instanceof CaError).map((e) => e.code)
    expect(new Set(codes)).toEqual(
      new Set([
        'key.too_small',
        'policy.san_not_allowed',
        'csr.weak_signature',
        'csr.not_pem',
        'csr.bad_signature',
      ]),
    )
    expect(here.filter((o) => !(o instanceof CaError))).toHaveLength(57)
  })

  it('a batch below minBatch never starts a worker', async () => {
    const missing = join(tempDir(), 'no-such-worker.js')
    const outcomes = await workerChecker({ script: missing, threads: 2, minBatch: 1000 })(requests, policy)
    expect(plain(outcomes)).toEqual(plain(checkRequests(requests, policy)))
  })

  it('a worker that cannot start or dies fails the batch instead of losing requests', async () => {
    const missing = join(tempDir(), 'no-such-worker.js')
    await expect(
      workerChecker({ script: missing, threads: 2, minBatch: 1 })(requests, policy),
    ).rejects.toThrow(/no-such-worker|Cannot find module/)
    const dying = join(tempDir(), 'dying-worker.mjs')
    writeFileSync(dying, 'process.exit(3)\n')
    await expect(workerChecker({ script: dying, threads: 2, minBatch: 1 })(requests, policy)).rejects.toThrow(
      'the check worker exited (3) before answering',
    )
  })
})

describe('issueBatch with worker checks', () => {
  /** A CSPRNG stand-in that gives the same serials to both runs. */
  function counterRandom(): (n: number) => Uint8Array {
    let k = 0
    return (n) => {
      const out = Buffer.alloc(n)
      for (let at = 0; at < n; at += 32) createHash('sha256').update(`serials ${k++}`).digest().copy(out, at)
      return new Uint8Array(out)
    }
  }

  /** `count` P-256 CSRs written under `work`, as the requests `sign` would make of them. */
  async function csrRequests(work: string, prefix: string, count: number): Promise<IssuanceRequest[]> {
    const names = await writeCsrs(work, prefix, count)
    return names.map((name) => ({
      name,
      file: `requests/${name}.csr.pem`,
      csr: readFileSync(join(work, 'requests', `${name}.csr.pem`)),
    }))
  }

  it('issues the same certificates, byte for byte, as checking on this thread', async () => {
    const dir = await initCa(['--key-type', 'rsa-2048'])
    const work = tempDir()
    const requests = await csrRequests(work, 'h', 120)
    const ca = await loadCa(openDirectoryStore(dir))
    const issuer = await openIssuer(ca, 'intermediate', systemRuntime)
    const context = (): IssuanceContext => ({
      config: ca.config,
      issuer,
      index: [],
      nextSerial: undefined,
      now: new Date('2026-11-28T12:00:00Z'),
      random: counterRandom(),
    })
    const here = await issueBatch(requests, context())
    const checker = workerChecker({
      script: await bundleForTest('src/check-worker.ts'),
      threads: 2,
      minBatch: 1,
    })
    const there = await issueBatch(requests, { ...context(), checker })
    const der = (b: typeof here) => b.issued.map((i) => Buffer.from(i.certificate.rawData).toString('hex'))
    expect(der(there)).toEqual(der(here))
    expect(there.index).toEqual(here.index)
    expect(here.issued).toHaveLength(120)
  })

  it('refuses the same way: every refusal, nothing signed', async () => {
    const dir = await initCa(['--allow-dns', '.example.com'])
    const work = tempDir()
    const requests = await csrRequests(work, 'ok', 80)
    requests.splice(10, 0, { name: 'bad', file: 'requests/bad.csr.pem', csr: 'junk' })
    requests.splice(70, 0, {
      name: 'org',
      file: 'requests/org.csr.pem',
      csr: readFileSync(makeCsr(work, 'org', { subject: '/CN=www.example.org' })),
    })
    const ca = await loadCa(openDirectoryStore(dir))
    let signatures = 0
    const real = await openIssuer(ca, 'intermediate', systemRuntime)
    const issuer = {
      ...real,
      signer: { ...real.signer, sign: (d: Uint8Array) => (signatures++, real.signer.sign(d)) },
    }
    const context: IssuanceContext = {
      config: ca.config,
      issuer,
      index: [],
      nextSerial: undefined,
      now: new Date(),
      random: systemRuntime.random,
      checker: workerChecker({ script: await bundleForTest('src/check-worker.ts'), threads: 2, minBatch: 1 }),
    }
    const refusal = await issueBatch(requests, context).then(
      () => undefined,
      (e: unknown) => e as CaError,
    )
    expect(refusal).toBeInstanceOf(CaError)
    expect(refusal?.code).toBe('request.refused')
    expect(refusal?.details.map((d) => [d.file, d.code])).toEqual([
      ['requests/bad.csr.pem', 'csr.not_pem'],
      ['requests/org.csr.pem', 'policy.san_not_allowed'],
    ])
    expect(signatures).toBe(0)
  })
})

describe('the bundled CLI checks large batches on the worker beside it', () => {
  /** dist/-like folder: the CLI bundle, and a check-worker.js that records that it ran, then serves. */
  async function distLike(): Promise<{ cli: string; marker: string }> {
    const dist = tempDir()
    const cli = join(dist, 'cli.js')
    copyFileSync(await bundleForTest('src/cli.ts'), cli)
    copyFileSync(await bundleForTest('src/check-worker.ts'), join(dist, 'real-check-worker.mjs'))
    const marker = join(dist, 'workers-started')
    writeFileSync(
      join(dist, 'check-worker.js'),
      [
        "import { appendFileSync } from 'node:fs'",
        `appendFileSync(${JSON.stringify(marker)}, 'started\\n')`,
        "await import('./real-check-worker.mjs')",
        '',
      ].join('\n'),
    )
    writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n')
    return { cli, marker }
  }

  function sign(
    cli: string,
    dir: string,
    threads?: string,
  ): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, 'sign', '--dir', dir], {
        env: {
          PATH: process.env.PATH ?? '',
          ...(threads === undefined ? {} : { MTLS_CA_CHECK_THREADS: threads }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('close', (status) => resolve({ status, stderr }))
    })
  }

  it('MTLS_CA_CHECK_THREADS=2, 300 requests: workers start, every certificate verifies with openssl', async () => {
    const { cli, marker } = await distLike()
    const dir = await initCa(['--allow-dns', '.example.com'])
    await writeCsrs(dir, 'svc', 300)
    const r = await sign(cli, dir, '2')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(2)
    const certs = readdirSync(join(dir, 'certs')).filter((f) => f.endsWith('.cert.pem'))
    expect(certs).toHaveLength(300)
    for (const name of ['svc-0', 'svc-150', 'svc-299']) {
      expect(verifyLeaf(dir, join(dir, 'certs', `${name}.cert.pem`), 'sslserver').stdout).toContain(': OK')
    }
    expect(readFileSync(caFiles(dir).index, 'utf8').trim().split('\n')).toHaveLength(300)
  })

  it('by default, and for a small batch, the checks run in the CLI process: no worker starts', async () => {
    const { cli, marker } = await distLike()
    const dir = await initCa(['--allow-dns', '.example.com'])
    await writeCsrs(dir, 'many', 300)
    expect((await sign(cli, dir)).status).toBe(0)
    await writeCsrs(dir, 'few', 5)
    expect((await sign(cli, dir, '2')).status).toBe(0)
    expect(existsSync(marker)).toBe(false)
    expect(readFileSync(caFiles(dir).index, 'utf8').trim().split('\n')).toHaveLength(305)
    expect(
      openssl(['x509', '-in', join(dir, 'certs/few-0.cert.pem'), '-noout', '-subject']).stdout,
    ).toContain('few-0.example.com')
  })

  it.each(['0', 'two', '-1', '100'])(
    'MTLS_CA_CHECK_THREADS=%s is a usage error; nothing is signed',
    async (bad) => {
      const { cli } = await distLike()
      const dir = await initCa(['--allow-dns', '.example.com'])
      await writeCsrs(dir, 'x', 3)
      const before = snapshot(dir)
      const r = await sign(cli, dir, bad)
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(
        `MTLS_CA_CHECK_THREADS takes a number of threads from 1 to 99, not "${bad}" [usage.invalid]`,
      )
      expect(snapshot(dir)).toEqual(before)
    },
  )
})

describe('pending requests are read several at once', () => {
  it('the first problem in name order is the one reported, every time, and nothing is written', async () => {
    const dir = await initCa(['--allow-dns', '.example.com'])
    await writeCsrs(dir, 'n', 40)
    writeFileSync(join(dir, 'requests/m-options.csr.pem'), readFileSync(join(dir, 'requests/n-0.csr.pem')))
    writeFileSync(join(dir, 'requests/m-options.yml'), 'profile: [unclosed\n')
    writeFileSync(join(dir, 'requests/z-large.csr.pem'), 'x'.repeat(70 * 1024))
    const before = snapshot(dir)
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['sign', '--dir', dir], dir)
      expect(r.status).toBe(1)
      expect(r.stderr).toContain('requests/m-options.yml: not valid YAML [config.invalid]')
      expect(snapshot(dir)).toEqual(before)
    }
    unlinkSync(join(dir, 'requests/m-options.yml'))
    const r = await runCli(['sign', '--dir', dir], dir)
    expect(r.stderr).toContain('requests/z-large.csr.pem: the file is 71680 bytes')
    unlinkSync(join(dir, 'requests/z-large.csr.pem'))
    expect((await runCli(['sign', '--dir', dir], dir)).status).toBe(0)
    expect(readdirSync(join(dir, 'certs')).filter((f) => f.endsWith('.cert.pem'))).toHaveLength(41)
  })
})
