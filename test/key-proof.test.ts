/**
 * Keys that prove nothing, through `mtls-ca sign` run as a process on a CA made with `init`: Ed25519
 * points of small order (whose signatures anyone can forge: each CSR here carries a signature made
 * without a private key, which OpenSSL accepts) and their non-canonical twins, signature algorithms
 * that do not fit the key, RSASSA-PSS parameters, and RSA moduli anyone can factor (each CSR here
 * correctly signed by its key). Every refusal leaves the CA byte-identical.
 */
import 'reflect-metadata'
import { spawnSync } from 'node:child_process'
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  generatePrimeSync,
  sign as nodeSign,
} from 'node:crypto'
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr'
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { RSAPublicKey, RsaSaPssParams } from '@peculiar/asn1-rsa'
import { bundleForTest } from './support/bundle.js'
import {
  cleanupTempDirs,
  initCa,
  makeCsr,
  opensslMerged,
  snapshot,
  tempDir,
  verifyLeaf,
} from './support/ca-fixture.js'
import type { ErrorCode } from '../src/ca/errors.js'

afterAll(cleanupTempDirs)

const OID = {
  rsa: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  pss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
}

let cli: string
let ca: string
let work: string

beforeAll(async () => {
  cli = await bundleForTest('src/cli.ts')
  ca = await initCa()
  work = tempDir()
}, 120_000)

function toPem(der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der as Uint8Array).toString('base64')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`
}

function name(cn: string): Name {
  return AsnConvert.parse(new x509.Name(`CN=${cn}`).toArrayBuffer(), Name)
}

/** A CSR assembled from its parts; `sign` receives the DER CertificationRequestInfo. */
function assemble(
  spki: Uint8Array,
  cn: string,
  algorithm: AlgorithmIdentifier,
  sign: (tbs: Uint8Array) => Uint8Array,
): string {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: name(cn),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  })
  const tbs = new Uint8Array(AsnConvert.serialize(info))
  const req = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: algorithm,
    signature: sign(tbs).slice().buffer,
  })
  return toPem(AsnConvert.serialize(req))
}

function derOf(pem: string): Uint8Array {
  return Uint8Array.from(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'))
}

/** The same CSR with another signature algorithm identifier (same TBS, same signature bytes). */
function relabel(pem: string, algorithm: AlgorithmIdentifier): string {
  const req = AsnConvert.parse(derOf(pem), CertificationRequest)
  req.signatureAlgorithm = algorithm
  return toPem(AsnConvert.serialize(req))
}

/** openssl's own verdict on a CSR's self-signature (OpenSSL 3.0 exits 0 either way: read it). */
function opensslVerifies(pem: string): boolean {
  const file = join(work, 'check.csr.pem')
  writeFileSync(file, pem)
  return /verify OK/.test(opensslMerged(['req', '-in', file, '-verify', '-noout']).out)
}

/** Runs `mtls-ca sign --dir` on the CA with this one request; the request file is removed after. */
function signAsProcess(pem: string): { status: number | null; stderr: string } {
  const file = join(ca, 'requests', 'attacker.csr.pem')
  writeFileSync(file, pem)
  try {
    const r = spawnSync(process.execPath, [cli, 'sign', '--dir', ca], { encoding: 'utf8' })
    return { status: r.status, stderr: r.stderr }
  } finally {
    rmSync(file)
  }
}

/** The refusal of `pem` by the CLI: its code, and the CA unchanged (request file included). */
function expectRefused(pem: string, code: ErrorCode, message?: RegExp): void {
  const file = join(ca, 'requests', 'attacker.csr.pem')
  writeFileSync(file, pem)
  const before = snapshot(ca)
  rmSync(file)
  const r = signAsProcess(pem)
  writeFileSync(file, pem)
  const after = snapshot(ca)
  rmSync(file)
  expect(r.stderr).toContain(`[${code}]`)
  if (message) expect(r.stderr).toMatch(message)
  expect(r.status).toBe(1)
  expect(after).toEqual(before)
}

// ---------------------------------------------------------------------------------------------------
// Ed25519 points of small order

const P = (1n << 255n) - 19n
const L = (1n << 252n) + 27742317777372353535851937790883648493n
const le = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`)
function encode(y: bigint, sign: 0 | 1): Uint8Array {
  const bytes = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse()
  bytes[31] = ((bytes[31] as number) & 0x7f) | (sign << 7)
  return Uint8Array.from(bytes)
}
const Y8 = le(Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'))
const IDENTITY_R = encode(1n, 0)

const ed25519Spki = (point: Uint8Array): Uint8Array =>
  Uint8Array.from([...Buffer.from('302a300506032b6570032100', 'hex'), ...point])

/**
 * A CSR for a small-order point A of order `order`, signed without any private key: R = identity,
 * S = 0 verifies when [k]A is the identity, i.e. when k = SHA-512(R || A || M) mod L is a multiple of
 * the order; the common name is varied until it is.
 */
function forgedEd25519Csr(point: Uint8Array, order: number): string {
  for (let i = 0; i < 1000; i++) {
    const pem = assemble(
      ed25519Spki(point),
      `forged${i}.example.com`,
      new AlgorithmIdentifier({ algorithm: OID.ed25519 }),
      (tbs) => {
        const k = le(createHash('sha512').update(IDENTITY_R).update(point).update(tbs).digest()) % L
        return k % BigInt(order) === 0n
          ? Uint8Array.from([...IDENTITY_R, ...new Uint8Array(32)])
          : new Uint8Array(64)
      },
    )
    const sig = AsnConvert.parse(derOf(pem), CertificationRequest).signature
    if (new Uint8Array(sig)[0] === 1) return pem
  }
  throw new Error('no message gave a multiple of the order')
}

describe('Ed25519 keys of small order, or not canonically encoded, are refused', () => {
  // The eight points of order 1, 2, 4, 8 (all their canonical encodings), and their twins.
  const canonical: [string, Uint8Array, number][] = [
    ['the identity (01 00…00)', encode(1n, 0), 1],
    ['the point of order 2 (y = -1)', encode(P - 1n, 0), 2],
    ['an order-4 point (y = 0, x > 0)', encode(0n, 0), 4],
    ['an order-4 point (y = 0, x < 0)', encode(0n, 1), 4],
    ['an order-8 point (y8, +)', encode(Y8, 0), 8],
    ['an order-8 point (y8, -)', encode(Y8, 1), 8],
    ['an order-8 point (-y8, +)', encode(P - Y8, 0), 8],
    ['an order-8 point (-y8, -)', encode(P - Y8, 1), 8],
  ]
  const twins: [string, Uint8Array, number][] = [
    ['the identity with the sign bit set (x = -0)', encode(1n, 1), 1],
    ['the order-2 point with the sign bit set (x = -0)', encode(P - 1n, 1), 2],
    ['the identity as y = p + 1', encode(P + 1n, 0), 1],
    ['the identity as y = p + 1, sign bit set', encode(P + 1n, 1), 1],
    ['the order-4 point as y = p', encode(P, 0), 4],
    ['the order-4 point as y = p, sign bit set', encode(P, 1), 4],
  ]

  it('y8 is a y-coordinate of the order-8 points: d·y^4 + 2·y^2 = 1 (mod p)', () => {
    const modPow = (b: bigint, e: bigint): bigint => {
      let r = 1n
      for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P
      return r
    }
    const d = (((-121665n * modPow(121666n, P - 2n)) % P) + P) % P
    // Doubling (x, y) gives y = 0 (order 4) when x^2 = -y^2; on the curve that is d·y^4 + 2·y^2 = 1.
    expect((d * modPow(Y8, 4n) + 2n * modPow(Y8, 2n)) % P).toBe(1n)
  })

  it('OpenSSL accepts the forged signature of the identity key (the hole is real)', () => {
    expect(opensslVerifies(forgedEd25519Csr(encode(1n, 0), 1))).toBe(true)
  })

  it.each(canonical)(
    '%s, with a forged signature OpenSSL accepts, is key.unsupported',
    (_n, point, order) => {
      const pem = forgedEd25519Csr(point, order)
      expect(opensslVerifies(pem)).toBe(true)
      expectRefused(pem, 'key.unsupported', /small order/)
    },
  )

  it.each(twins)('%s is key.unsupported', (_n, point, order) => {
    const pem = forgedEd25519Csr(point, order)
    expectRefused(pem, 'key.unsupported', /small order|not canonically encoded/)
  })

  it('y = p + 5 (a non-canonical encoding of no small-order point) is key.unsupported', () => {
    expectRefused(forgedEd25519Csr(encode(P + 5n, 0), 1), 'key.unsupported', /not canonically encoded/)
  })
})

// ---------------------------------------------------------------------------------------------------
// Signature algorithms that do not fit the key

describe('a signature algorithm that does not fit the key is csr.algorithm_mismatch', () => {
  const alg = (algorithm: string, parameters?: ArrayBuffer | null) =>
    new AlgorithmIdentifier(parameters === undefined ? { algorithm } : { algorithm, parameters })
  const pssSha256 = () =>
    new RsaSaPssParams({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID.sha256, parameters: null }),
      maskGenAlgorithm: new AlgorithmIdentifier({
        algorithm: OID.mgf1,
        parameters: AsnConvert.serialize(
          new AlgorithmIdentifier({ algorithm: OID.sha256, parameters: null }),
        ),
      }),
      saltLength: 32,
    })
  const csr = (key: 'ec:P-256' | 'rsa:2048' | 'ed25519') =>
    readFileSync(
      makeCsr(work, `mismatch-${key.replace(':', '-')}`, { subject: '/CN=mismatch.example.com', key }),
      'utf8',
    )

  it.each<[string, 'ec:P-256' | 'rsa:2048' | 'ed25519', () => AlgorithmIdentifier]>([
    [
      'sha256WithRSAEncryption over an EC key (an ECDSA signature)',
      'ec:P-256',
      () => alg(OID.sha256WithRSA, null),
    ],
    ['RSASSA-PSS over an EC key', 'ec:P-256', () => alg(OID.pss, AsnConvert.serialize(pssSha256()))],
    ['Ed25519 over an EC key', 'ec:P-256', () => alg(OID.ed25519)],
    ['ecdsa-with-SHA256 over an RSA key (a PKCS #1 signature)', 'rsa:2048', () => alg(OID.ecdsaSha256)],
    ['Ed25519 over an RSA key (a PKCS #1 signature)', 'rsa:2048', () => alg(OID.ed25519)],
    ['sha256WithRSAEncryption over an Ed25519 key', 'ed25519', () => alg(OID.sha256WithRSA, null)],
    ['ecdsa-with-SHA256 over an Ed25519 key', 'ed25519', () => alg(OID.ecdsaSha256)],
  ])('%s', (_n, key, algorithm) => {
    expectRefused(relabel(csr(key), algorithm()), 'csr.algorithm_mismatch', /does not fit its/)
  })

  it.each<[string, 'ec:P-256' | 'rsa:2048' | 'ed25519', () => AlgorithmIdentifier]>([
    ['ecdsa-with-SHA256 with NULL parameters', 'ec:P-256', () => alg(OID.ecdsaSha256, null)],
    ['Ed25519 with NULL parameters', 'ed25519', () => alg(OID.ed25519, null)],
    [
      'sha256WithRSAEncryption with an OID as parameters',
      'rsa:2048',
      () => alg(OID.sha256WithRSA, Uint8Array.of(6, 1, 42).buffer),
    ],
  ])('%s is csr.malformed', (_n, key, algorithm) => {
    expectRefused(relabel(csr(key), algorithm()), 'csr.malformed', /has parameters/)
  })
})

// ---------------------------------------------------------------------------------------------------
// RSASSA-PSS

describe('RSASSA-PSS CSRs', () => {
  /** An RSA CSR made by openssl with PSS: message hash `-sha256`, MGF1 hash and salt length given. */
  function pssCsr(label: string, mgf1: string, salt: number, digest = 'sha256'): string {
    const file = join(work, `pss-${label}.csr.pem`)
    const key = join(work, `pss-${label}.key.pem`)
    const r = spawnSync('openssl', [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-subj',
      `/CN=pss-${label}.example.com`,
      `-${digest}`,
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      `rsa_mgf1_md:${mgf1}`,
      '-sigopt',
      `rsa_pss_saltlen:${salt}`,
      '-out',
      file,
    ])
    if (r.status !== 0) throw new Error(`openssl req: ${r.stderr.toString()}`)
    return readFileSync(file, 'utf8')
  }
  function pssParams(pem: string): RsaSaPssParams {
    const req = AsnConvert.parse(derOf(pem), CertificationRequest)
    return AsnConvert.parse(req.signatureAlgorithm.parameters as ArrayBuffer, RsaSaPssParams)
  }
  const withParams = (pem: string, edit: (p: RsaSaPssParams) => void, raw?: ArrayBuffer): string => {
    const p = pssParams(pem)
    edit(p)
    return relabel(
      pem,
      new AlgorithmIdentifier({ algorithm: OID.pss, parameters: raw ?? AsnConvert.serialize(p) }),
    )
  }
  const hashId = (algorithm: string) => new AlgorithmIdentifier({ algorithm, parameters: null })

  it.each([
    ['MGF1-SHA1 (OpenSSL default)', 'sha1'],
    ['MGF1-SHA256', 'sha256'],
    ['MGF1-SHA384', 'sha384'],
  ])('with %s and a SHA-256 message hash is issued, and OpenSSL verifies the leaf', (_label, mgf1) => {
    const pem = pssCsr(`ok-${mgf1}`, mgf1, 32)
    expect(opensslVerifies(pem)).toBe(true)
    const dir = tempDir()
    cpSync(ca, dir, { recursive: true })
    writeFileSync(join(dir, 'requests', 'pss.csr.pem'), pem)
    const r = spawnSync(process.execPath, [cli, 'sign', '--dir', dir], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const leaf = verifyLeaf(dir, join(dir, 'certs', 'pss.cert.pem'), 'sslserver')
    expect(`${leaf.stdout}${leaf.stderr}`).toMatch(/: OK/)
  })

  const base = () => pssCsr('base', 'sha1', 32)
  let pem: string
  beforeAll(() => {
    pem = base()
  }, 60_000)

  it.each<[string, () => string, ErrorCode, RegExp]>([
    [
      'params say SHA-384, the signature used SHA-256',
      () => withParams(pem, (p) => (p.hashAlgorithm = hashId(OID.sha384))),
      'csr.bad_signature',
      /does not verify/,
    ],
    [
      'params say MGF1-SHA256, the signature used MGF1-SHA1',
      () =>
        withParams(
          pem,
          (p) =>
            (p.maskGenAlgorithm = new AlgorithmIdentifier({
              algorithm: OID.mgf1,
              parameters: AsnConvert.serialize(hashId(OID.sha256)),
            })),
        ),
      'csr.bad_signature',
      /does not verify|cannot be verified/,
    ],
    [
      'params say salt 20, the signature used 32',
      () => withParams(pem, (p) => (p.saltLength = 20)),
      'csr.bad_signature',
      /verif/,
    ],
    [
      'a negative salt length (OpenSSL would read -1 as "the hash length")',
      () => withParams(pem, (p) => (p.saltLength = -1)),
      'csr.malformed',
      /salt length -1/,
    ],
    [
      'params say SHA-1 as the message hash',
      () => withParams(pem, (p) => (p.hashAlgorithm = hashId(OID.sha1))),
      'csr.weak_signature',
      /SHA-1/,
    ],
    [
      'the default parameters (SHA-1 everywhere)',
      () =>
        relabel(
          pem,
          new AlgorithmIdentifier({ algorithm: OID.pss, parameters: Uint8Array.of(0x30, 0).buffer }),
        ),
      'csr.weak_signature',
      /SHA-1/,
    ],
    [
      'no parameters at all',
      () => relabel(pem, new AlgorithmIdentifier({ algorithm: OID.pss })),
      'csr.malformed',
      /without its parameters/,
    ],
    [
      'MGF1 over MD5',
      () =>
        withParams(
          pem,
          (p) =>
            (p.maskGenAlgorithm = new AlgorithmIdentifier({
              algorithm: OID.mgf1,
              parameters: AsnConvert.serialize(hashId('1.2.840.113549.2.5')),
            })),
        ),
      'csr.weak_signature',
      /MGF1 over the hash/,
    ],
    [
      'a mask function other than MGF1',
      () => withParams(pem, (p) => (p.maskGenAlgorithm = hashId('1.2.3.4'))),
      'csr.weak_signature',
      /expected MGF1/,
    ],
    [
      'trailer field 2',
      () => withParams(pem, (p) => (p.trailerField = 2)),
      'csr.malformed',
      /trailer field is 2/,
    ],
    [
      'the default MGF1-SHA1 written out (DER leaves DEFAULT values out)',
      () =>
        relabel(
          pem,
          new AlgorithmIdentifier({
            algorithm: OID.pss,
            // { [0] SHA-256, [1] MGF1(SHA-1), [2] 32 }: asn1-schema will not write a default, so by hand.
            parameters: Uint8Array.from(
              Buffer.from(
                '3030' +
                  'a00f300d06096086480165030402010500' +
                  'a118301606092a864886f70d010108300906052b0e03021a0500' +
                  'a203020120',
                'hex',
              ),
            ).buffer,
          }),
        ),
      'csr.malformed',
      /not DER-encoded/,
    ],
  ])('%s', (_n, make, code, message) => {
    expectRefused(make(), code, message)
  })
})

// ---------------------------------------------------------------------------------------------------
// RSA keys anyone can factor, each CSR correctly signed by its key

describe('RSA moduli with small factors, and unsound exponents, are key.unsupported', () => {
  const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
    let r = 1n
    for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m
    return r
  }
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b))
  const inverse = (a: bigint, m: bigint): bigint => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n]
    while (r1 !== 0n) {
      const q = r0 / r1
      ;[r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1]
    }
    if (r0 !== 1n) throw new Error('not invertible')
    return ((s0 % m) + m) % m
  }
  const bytesOf = (n: bigint, length?: number): Uint8Array => {
    const hex = n.toString(16)
    return Uint8Array.from(
      Buffer.from(hex.padStart(length ? length * 2 : hex.length + (hex.length % 2), '0'), 'hex'),
    )
  }
  const positive = (n: bigint): ArrayBuffer => {
    const b = bytesOf(n)
    return ((b[0] as number) & 0x80 ? Uint8Array.from([0, ...b]) : b).buffer as ArrayBuffer
  }
  const rsaSpki = (n: bigint, e: bigint): Uint8Array =>
    new Uint8Array(
      AsnConvert.serialize(
        new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({ algorithm: OID.rsa, parameters: null }),
          subjectPublicKey: AsnConvert.serialize(
            new RSAPublicKey({ modulus: positive(n), publicExponent: positive(e) }),
          ),
        }),
      ),
    )
  /** EMSA-PKCS1-v1_5 with SHA-256, as an integer below n. */
  const encoded = (tbs: Uint8Array, n: bigint): bigint => {
    const k = Math.ceil(n.toString(2).length / 8)
    const t = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(tbs).digest(),
    ])
    return le(
      Uint8Array.from(
        Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]),
      ).reverse(),
    )
  }
  /** A CSR for n = factors…·p·q with e, signed with the real private exponent (or none, for e = 1). */
  function csrFor(cn: string, small: bigint[], e = 65537n): { pem: string; n: bigint } {
    for (;;) {
      const p = generatePrimeSync(1024, { bigint: true })
      const q = generatePrimeSync(1024, { bigint: true })
      const n = small.reduce((a, b) => a * b, p * q)
      const lambda = [...small, p, q]
        .map((f) => (f === 2n ? 1n : f - 1n))
        .reduce((a, b) => (a * b) / gcd(a, b))
      if (e !== 1n && gcd(e, lambda) !== 1n) continue
      const d = e === 1n ? 1n : inverse(e, lambda)
      const k = Math.ceil(n.toString(2).length / 8)
      const pem = assemble(
        rsaSpki(n, e),
        cn,
        new AlgorithmIdentifier({ algorithm: OID.sha256WithRSA, parameters: null }),
        (tbs) => {
          const signature = modPow(encoded(tbs, n), d, n)
          if (modPow(signature, e, n) !== encoded(tbs, n)) throw new Error('the test signature is wrong')
          return bytesOf(signature, k)
        },
      )
      return { pem, n }
    }
  }

  it('the builder is right: a correctly made two-prime key is issued', () => {
    const { pem } = csrFor('two-primes.example.com', [])
    expect(opensslVerifies(pem)).toBe(true)
    const dir = tempDir()
    cpSync(ca, dir, { recursive: true })
    writeFileSync(join(dir, 'requests', 'ok.csr.pem'), pem)
    const r = spawnSync(process.execPath, [cli, 'sign', '--dir', dir], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  }, 60_000)

  // OpenSSL cannot verify with an even modulus (Montgomery arithmetic needs an odd one), but the
  // signature is still right: csrFor checks s^e = EM (mod n) itself.
  it.each<[string, bigint[], boolean, RegExp]>([
    ['an even modulus (2·p·q)', [2n], false, /modulus is even/],
    ['a modulus divisible by 3', [3n], true, /divisible by 3,/],
    ['a modulus divisible by 4093 (the largest prime below 2^12)', [4093n], true, /divisible by 4093,/],
    ['a modulus divisible by 5·7', [5n, 7n], true, /divisible by 5,/],
  ])(
    '%s, correctly signed, is refused',
    (_n, small, opensslCan, message) => {
      const { pem } = csrFor('factors.example.com', small)
      expect(opensslVerifies(pem)).toBe(opensslCan)
      expectRefused(pem, 'key.unsupported', message)
    },
    60_000,
  )

  it('e = 1, where the "signature" is the padded hash itself (no private key), is refused', () => {
    const { pem } = csrFor('e1.example.com', [], 1n)
    expectRefused(pem, 'key.unsupported', /exponent 1 is less than 3/)
  }, 60_000)

  it.each([
    ['e = 65536', 65536n],
    ['e = 4', 4n],
  ])('%s (even) is refused', (_n, e) => {
    const n = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' })
      .n as string
    const pem = assemble(
      rsaSpki(le(Buffer.from(n, 'base64url').reverse()), e),
      'even-e.example.com',
      new AlgorithmIdentifier({ algorithm: OID.sha256WithRSA, parameters: null }),
      () => new Uint8Array(256).fill(1),
    )
    expectRefused(pem, 'key.unsupported', /is even/)
  })

  it('a real key passes the small-factor check and signs (nodeSign, no hand-made numbers)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = assemble(
      new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
      'real.example.com',
      new AlgorithmIdentifier({ algorithm: OID.sha256WithRSA, parameters: null }),
      (tbs) => nodeSign('sha256', tbs, createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }))),
    )
    expect(opensslVerifies(pem)).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------------
// Keys of algorithms the CA does not certify: refused for the key, not for how they signed

describe('DSA, Ed448 and SM2 keys are key.unsupported, whatever they signed with', () => {
  /** A CSR made by openssl req with a key written to `<label>.key.pem`. */
  function csrWith(label: string, keyPem: string, ...args: string[]): string {
    const key = join(work, `${label}.key.pem`)
    const file = join(work, `${label}.csr.pem`)
    writeFileSync(key, keyPem)
    const r = spawnSync('openssl', [
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${label}.example.com`,
      ...args,
      '-out',
      file,
    ])
    if (r.status !== 0) throw new Error(`openssl req: ${r.stderr.toString()}`)
    return readFileSync(file, 'utf8')
  }
  const pkcs8 = (type: string, options: object): string =>
    generateKeyPairSync(type as 'ed448', options as object).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
  const sm2Key = (): string => {
    const r = spawnSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'])
    if (r.status !== 0) throw new Error(`openssl genpkey: ${r.stderr.toString()}`)
    return r.stdout.toString()
  }

  it.each<[string, () => string, RegExp]>([
    [
      'Ed448 (signed with Ed448)',
      () => csrWith('ed448', pkcs8('ed448', {})),
      /Ed448 keys \(1\.3\.101\.113\)/,
    ],
    [
      'DSA (signed with dsa_with_SHA256)',
      () => csrWith('dsa', pkcs8('dsa', { modulusLength: 2048, divisorLength: 256 }), '-sha256'),
      /DSA keys \(1\.2\.840\.10040\.4\.1\)/,
    ],
    ['SM2 (signed with SM2-with-SM3)', () => csrWith('sm2', sm2Key(), '-sm3'), /EC keys on SM2/],
  ])(
    '%s',
    (_n, make, message) => {
      const pem = make()
      expect(opensslVerifies(pem)).toBe(true)
      expectRefused(pem, 'key.unsupported', message)
    },
    60_000,
  )
})
