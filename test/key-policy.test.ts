import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnConvert } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, KeyUsage, KeyUsageFlags, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { CaError, type ErrorCode } from '../src/ca/errors.js'
import {
  checkKey,
  DEFAULT_KEY_POLICY,
  describeKey,
  formatKeyInfo,
  keyUsageFlagsFor,
  keyUsageFor,
  validateKeyPolicy,
  type KeyInfo,
  type KeyPolicy,
} from '../src/ca/key-policy.js'

function refusal(fn: () => unknown): { code: ErrorCode; message: string } {
  try {
    fn()
  } catch (e) {
    if (e instanceof CaError) return { code: e.code, message: e.message }
    throw e
  }
  throw new Error('expected a CaError, nothing was thrown')
}

const spkiOf = (key: KeyObject): Uint8Array => new Uint8Array(key.export({ type: 'spki', format: 'der' }))

let dir: string
/** The DER SPKI of a key made by `openssl genpkey` with these arguments. */
function opensslKey(name: string, ...args: string[]): Uint8Array {
  const key = join(dir, `${name}.pem`)
  const pub = join(dir, `${name}.pub.der`)
  execFileSync('openssl', ['genpkey', ...args, '-out', key], { stdio: 'pipe' })
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-outform', 'DER', '-out', pub], { stdio: 'pipe' })
  return new Uint8Array(readFileSync(pub))
}

const keys = new Map<string, Uint8Array>()
const key = (name: string): Uint8Array => {
  const k = keys.get(name)
  if (k === undefined) throw new Error(`no test key ${name}`)
  return k
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'key-policy-'))
  const node = (type: string, options: object) =>
    spkiOf(generateKeyPairSync(type as 'rsa', options as { modulusLength: number }).publicKey)
  keys.set('rsa1024', node('rsa', { modulusLength: 1024 }))
  keys.set('rsa2048', opensslKey('rsa2048', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'))
  keys.set('rsa2047', opensslKey('rsa2047', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2047'))
  keys.set('rsa3072', node('rsa', { modulusLength: 3072 }))
  keys.set('rsa4096', node('rsa', { modulusLength: 4096 }))
  keys.set(
    'rsa2048e3',
    opensslKey(
      'rsa2048e3',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-pkeyopt',
      'rsa_keygen_pubexp:3',
    ),
  )
  keys.set('rsapss', opensslKey('rsapss', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'))
  keys.set('p256', node('ec', { namedCurve: 'P-256' }))
  keys.set('p384', opensslKey('p384', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'))
  keys.set('p521', node('ec', { namedCurve: 'P-521' }))
  keys.set('secp256k1', node('ec', { namedCurve: 'secp256k1' }))
  keys.set('p224', node('ec', { namedCurve: 'secp224r1' }))
  keys.set(
    'brainpoolP256r1',
    opensslKey('bp256', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:brainpoolP256r1'),
  )
  keys.set('brainpoolP384r1', node('ec', { namedCurve: 'brainpoolP384r1' }))
  keys.set('ed25519', opensslKey('ed25519', '-algorithm', 'ED25519'))
  keys.set('ed448', opensslKey('ed448', '-algorithm', 'ED448'))
  keys.set('x25519', node('x25519', {}))
  keys.set('x448', opensslKey('x448', '-algorithm', 'X448'))
  keys.set('dsa', node('dsa', { modulusLength: 2048, divisorLength: 256 }))

  // The same P-256 key with a compressed point, and with explicit curve parameters.
  const p256 = join(dir, 'p256.pem')
  execFileSync('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    p256,
  ])
  const derive = (name: string, ...args: string[]) => {
    const out = join(dir, `${name}.der`)
    execFileSync('openssl', ['ec', '-in', p256, '-pubout', '-outform', 'DER', '-out', out, ...args], {
      stdio: 'pipe',
    })
    keys.set(name, new Uint8Array(readFileSync(out)))
  }
  derive('p256compressed', '-conv_form', 'compressed')
  derive('p256explicit', '-param_enc', 'explicit')
}, 120_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('describeKey on real keys (node:crypto and openssl genpkey)', () => {
  it.each<[string, KeyInfo]>([
    ['rsa1024', { kind: 'rsa', bits: 1024 }],
    ['rsa2047', { kind: 'rsa', bits: 2047 }],
    ['rsa2048', { kind: 'rsa', bits: 2048 }],
    ['rsa2048e3', { kind: 'rsa', bits: 2048 }],
    ['rsa3072', { kind: 'rsa', bits: 3072 }],
    ['rsa4096', { kind: 'rsa', bits: 4096 }],
    ['p256', { kind: 'ec', curve: 'P-256' }],
    ['p384', { kind: 'ec', curve: 'P-384' }],
    ['p521', { kind: 'ec', curve: 'P-521' }],
    ['ed25519', { kind: 'ed25519' }],
  ])('%s is %j', (name, info) => {
    expect(describeKey(key(name))).toEqual(info)
  })

  it.each<[string, RegExp]>([
    ['rsapss', /RSASSA-PSS keys \(1\.2\.840\.113549\.1\.1\.10\) are not supported/],
    ['secp256k1', /EC keys on secp256k1 \(1\.3\.132\.0\.10\) are not supported/],
    ['p224', /EC keys on P-224 \(secp224r1\)/],
    ['brainpoolP256r1', /EC keys on brainpoolP256r1 \(1\.3\.36\.3\.3\.2\.8\.1\.1\.7\)/],
    ['brainpoolP384r1', /brainpoolP384r1/],
    ['ed448', /Ed448 keys \(1\.3\.101\.113\) are not supported/],
    ['x25519', /X25519 keys \(1\.3\.101\.110\) are not supported/],
    ['x448', /X448 keys \(1\.3\.101\.111\)/],
    ['dsa', /DSA keys \(1\.2\.840\.10040\.4\.1\) are not supported/],
    ['p256compressed', /compressed point/],
    ['p256explicit', /explicit or implicit curve parameters/],
  ])('%s is key.unsupported (%s)', (name, message) => {
    const r = refusal(() => describeKey(key(name)))
    expect(r.code).toBe('key.unsupported')
    expect(r.message).toMatch(message)
    expect(r.message).toMatch(/use RSA, EC on P-256\/P-384\/P-521, or Ed25519|compressed|explicit/)
  })
})

describe('describeKey on malformed or unsound keys', () => {
  const OID_RSA = '1.2.840.113549.1.1.1'
  function rsaSpki(
    modulus: Uint8Array,
    exponent: Uint8Array,
    parameters: ArrayBuffer | null = null,
  ): Uint8Array {
    const pub = new RSAPublicKey({ modulus: modulus.slice().buffer, publicExponent: exponent.slice().buffer })
    return spki(OID_RSA, new Uint8Array(AsnConvert.serialize(pub)), parameters)
  }
  function spki(oid: string, key: Uint8Array, parameters: ArrayBuffer | null | undefined): Uint8Array {
    const info = new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: oid, parameters }),
      subjectPublicKey: key.slice().buffer,
    })
    return new Uint8Array(AsnConvert.serialize(info))
  }
  const NULL = Uint8Array.of(0x05, 0x00).buffer
  function realModulus(): Uint8Array {
    const parsed = AsnConvert.parse(key('rsa2048'), SubjectPublicKeyInfo)
    return new Uint8Array(AsnConvert.parse(parsed.subjectPublicKey, RSAPublicKey).modulus)
  }
  const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

  it('a rebuilt rsaEncryption key with e = 65537 is accepted (the builder is right)', () => {
    expect(describeKey(rsaSpki(realModulus(), bytes('010001'), NULL))).toEqual({ kind: 'rsa', bits: 2048 })
  })

  it('an rsaEncryption key without the NULL parameters is accepted', () => {
    expect(describeKey(rsaSpki(realModulus(), bytes('010001'), undefined as unknown as null))).toEqual({
      kind: 'rsa',
      bits: 2048,
    })
  })

  it.each<[string, () => Uint8Array, RegExp]>([
    ['exponent 1', () => rsaSpki(realModulus(), bytes('01'), NULL), /exponent 1 is less than 3/],
    ['exponent 2', () => rsaSpki(realModulus(), bytes('02'), NULL), /exponent 2 is less than 3/],
    ['exponent 4', () => rsaSpki(realModulus(), bytes('04'), NULL), /exponent 4 is even/],
    ['exponent 65536', () => rsaSpki(realModulus(), bytes('010000'), NULL), /exponent 65536 is even/],
    ['exponent 0', () => rsaSpki(realModulus(), bytes('00'), NULL), /less than 3/],
    [
      'exponent 2^256 + 1',
      () => rsaSpki(realModulus(), bytes('01' + '00'.repeat(31) + '01'), NULL),
      /2\^256 or more/,
    ],
    ['negative exponent', () => rsaSpki(realModulus(), bytes('ff01'), NULL), /negative/],
    ['negative modulus', () => rsaSpki(realModulus().subarray(1), bytes('010001'), NULL), /negative/],
    [
      'even modulus',
      () => {
        const m = realModulus()
        m[m.length - 1] = (m[m.length - 1] as number) & 0xfe
        return rsaSpki(m, bytes('010001'), NULL)
      },
      /modulus is even/,
    ],
    [
      'exponent not below the modulus',
      () => rsaSpki(bytes('00c1'), bytes('00c3'), NULL),
      /not smaller than the modulus/,
    ],
    [
      'RSA parameters an OID',
      () => rsaSpki(realModulus(), bytes('010001'), bytes('06032a0304').buffer),
      /parameters other than NULL/,
    ],
    ['RSA key not an RSAPublicKey', () => spki(OID_RSA, bytes('0403010203'), NULL), /not a DER RSAPublicKey/],
    [
      'unknown algorithm',
      () => spki('1.2.3.4', bytes('00'), null),
      /the key algorithm 1\.2\.3\.4 is unknown/,
    ],
    ['ML-DSA-65', () => spki('2.16.840.1.101.3.4.3.18', bytes('00'), undefined), /ML-DSA-65 keys/],
    ['Ed25519 with parameters', () => spki('1.3.101.112', new Uint8Array(32), NULL), /RFC 8410 forbids/],
    [
      'Ed25519 of 31 octets',
      () => spki('1.3.101.112', new Uint8Array(31), undefined),
      /31 octets long, not 32/,
    ],
    ['EC without parameters', () => spki('1.2.840.10045.2.1', bytes('04'), undefined), /no curve parameters/],
    [
      'EC unknown curve',
      () => spki('1.2.840.10045.2.1', bytes('04'), bytes('06032a0304').buffer),
      /EC curve 1\.2\.3\.4 is unknown/,
    ],
    [
      'EC point too short',
      () => spki('1.2.840.10045.2.1', bytes('04' + '11'.repeat(63)), bytes('06082a8648ce3d030107').buffer),
      /not an uncompressed point of 65 octets/,
    ],
    [
      'EC point not on the curve',
      () => {
        const k = key('p256').slice()
        k[k.length - 1] = (k[k.length - 1] as number) ^ 0x01
        return k
      },
      /EC P-256 public key is not valid/,
    ],
    ['empty input', () => new Uint8Array(0), /not a DER SubjectPublicKeyInfo/],
    ['garbage', () => bytes('deadbeef'), /not a DER SubjectPublicKeyInfo/],
    ['trailing bytes', () => Uint8Array.from([...key('p256'), 0x00]), /trailing bytes/],
    ['a truncated key', () => key('p256').subarray(0, 40), /not a DER SubjectPublicKeyInfo/],
  ])('%s is key.unsupported (%s)', (_name, make, message) => {
    const r = refusal(() => describeKey(make()))
    expect(r.code).toBe('key.unsupported')
    expect(r.message).toMatch(message)
  })
})

describe('checkKey', () => {
  const strict: KeyPolicy = { rsaMinBits: 3072, rsaMaxBits: 4096, ecCurves: ['P-384'], ed25519: false }
  it.each<[string, KeyInfo, KeyPolicy]>([
    ['RSA 2048 by default', { kind: 'rsa', bits: 2048 }, DEFAULT_KEY_POLICY],
    ['RSA 8192 by default', { kind: 'rsa', bits: 8192 }, DEFAULT_KEY_POLICY],
    ['RSA 3072 by default', { kind: 'rsa', bits: 3072 }, DEFAULT_KEY_POLICY],
    ['P-256 by default', { kind: 'ec', curve: 'P-256' }, DEFAULT_KEY_POLICY],
    ['P-384 by default', { kind: 'ec', curve: 'P-384' }, DEFAULT_KEY_POLICY],
    ['P-521 by default', { kind: 'ec', curve: 'P-521' }, DEFAULT_KEY_POLICY],
    ['Ed25519 by default', { kind: 'ed25519' }, DEFAULT_KEY_POLICY],
    ['RSA 3072 when strict', { kind: 'rsa', bits: 3072 }, strict],
    ['RSA 4096 when strict', { kind: 'rsa', bits: 4096 }, strict],
    ['P-384 when strict', { kind: 'ec', curve: 'P-384' }, strict],
  ])('%s is allowed', (_name, info, policy) => {
    expect(() => checkKey(info, policy)).not.toThrow()
  })

  it.each<[string, KeyInfo, KeyPolicy, ErrorCode, RegExp]>([
    [
      'RSA 1024',
      { kind: 'rsa', bits: 1024 },
      DEFAULT_KEY_POLICY,
      'key.too_small',
      /RSA key is 1024 bits; the minimum is 2048 bits/,
    ],
    [
      'RSA 2047',
      { kind: 'rsa', bits: 2047 },
      DEFAULT_KEY_POLICY,
      'key.too_small',
      /2047 bits; the minimum is 2048/,
    ],
    ['RSA 512', { kind: 'rsa', bits: 512 }, DEFAULT_KEY_POLICY, 'key.too_small', /512 bits/],
    [
      'RSA 8200',
      { kind: 'rsa', bits: 8200 },
      DEFAULT_KEY_POLICY,
      'key.unsupported',
      /8200 bits; the maximum is 8192/,
    ],
    ['RSA 16384', { kind: 'rsa', bits: 16384 }, DEFAULT_KEY_POLICY, 'key.unsupported', /maximum is 8192/],
    ['RSA 2048 when strict', { kind: 'rsa', bits: 2048 }, strict, 'key.too_small', /minimum is 3072/],
    ['RSA 8192 when strict', { kind: 'rsa', bits: 8192 }, strict, 'key.unsupported', /maximum is 4096/],
    [
      'P-256 when strict',
      { kind: 'ec', curve: 'P-256' },
      strict,
      'key.unsupported',
      /P-256 are not allowed .*allowed: P-384/,
    ],
    ['P-521 when strict', { kind: 'ec', curve: 'P-521' }, strict, 'key.unsupported', /P-521/],
    [
      'EC with no curves',
      { kind: 'ec', curve: 'P-256' },
      { ...strict, ecCurves: [] },
      'key.unsupported',
      /no EC keys are allowed/,
    ],
    ['Ed25519 when strict', { kind: 'ed25519' }, strict, 'key.unsupported', /Ed25519 keys are not allowed/],
  ])('%s → %s', (_name, info, policy, code, message) => {
    const r = refusal(() => checkKey(info, policy))
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  it.each<[string, Partial<KeyPolicy>, RegExp]>([
    ['rsaMinBits below 2048', { rsaMinBits: 1024 }, /rsaMinBits 1024 must be .* at least 2048/],
    ['rsaMinBits not whole', { rsaMinBits: 2048.5 }, /rsaMinBits/],
    ['rsaMinBits a string', { rsaMinBits: '2048' as unknown as number }, /rsaMinBits/],
    [
      'rsaMaxBits below min',
      { rsaMinBits: 4096, rsaMaxBits: 3072 },
      /rsaMaxBits 3072 must be .* from rsaMinBits \(4096\)/,
    ],
    ['rsaMaxBits too large', { rsaMaxBits: 32768 }, /to 16384/],
    ['unknown curve', { ecCurves: ['secp256k1'] }, /ecCurves has "secp256k1"/],
    ['curve by OpenSSL name', { ecCurves: ['prime256v1'] }, /prime256v1/],
    ['curves not a list', { ecCurves: 'P-256' as unknown as string[] }, /must be a list/],
    ['ed25519 not boolean', { ed25519: 'yes' as unknown as boolean }, /true or false/],
  ])('a key policy with %s is config.invalid', (_name, change, message) => {
    const policy = { ...DEFAULT_KEY_POLICY, ...change } as KeyPolicy
    expect(refusal(() => validateKeyPolicy(policy)).message).toMatch(message)
    expect(refusal(() => checkKey({ kind: 'ed25519' }, policy)).code).toBe('config.invalid')
  })

  it('the default policy is valid and frozen', () => {
    expect(() => validateKeyPolicy(DEFAULT_KEY_POLICY)).not.toThrow()
    expect(DEFAULT_KEY_POLICY).toEqual({
      rsaMinBits: 2048,
      rsaMaxBits: 8192,
      ecCurves: ['P-256', 'P-384', 'P-521'],
      ed25519: true,
    })
    expect(Object.isFrozen(DEFAULT_KEY_POLICY) && Object.isFrozen(DEFAULT_KEY_POLICY.ecCurves)).toBe(true)
  })

  it.each([
    ['rsa1024', 'key.too_small'],
    ['rsa2047', 'key.too_small'],
    ['rsa2048', undefined],
    ['rsa4096', undefined],
    ['p256', undefined],
    ['p521', undefined],
    ['ed25519', undefined],
  ])('end to end: %s under the default policy → %s', (name, code) => {
    const check = () => checkKey(describeKey(key(name)), DEFAULT_KEY_POLICY)
    if (code === undefined) expect(check).not.toThrow()
    else expect(refusal(check).code).toBe(code)
  })
})

describe('key usage by key type', () => {
  it.each<[KeyInfo, string[], number, string]>([
    [{ kind: 'rsa', bits: 2048 }, ['digitalSignature', 'keyEncipherment'], 5, 'RSA 2048'],
    [{ kind: 'ec', curve: 'P-256' }, ['digitalSignature'], 1, 'EC P-256'],
    [{ kind: 'ec', curve: 'P-521' }, ['digitalSignature'], 1, 'EC P-521'],
    [{ kind: 'ed25519' }, ['digitalSignature'], 1, 'Ed25519'],
  ])('%j: %j', (info, usages, flags, text) => {
    expect(keyUsageFor(info)).toEqual(usages)
    expect(keyUsageFlagsFor(info)).toBe(flags)
    expect(new KeyUsage(keyUsageFlagsFor(info)).toJSON()).toEqual(usages)
    expect(flags & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)).toBe(0)
    expect(formatKeyInfo(info)).toBe(text)
  })
})

describe('describeKey refuses keys that prove nothing', () => {
  const P = (1n << 255n) - 19n
  const encode = (y: bigint, sign: 0 | 1): Uint8Array => {
    const bytes = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse()
    bytes[31] = ((bytes[31] as number) & 0x7f) | (sign << 7)
    return Uint8Array.from(bytes)
  }
  const y8 = BigInt(
    `0x${Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex').reverse().toString('hex')}`,
  )
  const ed25519 = (point: Uint8Array): Uint8Array =>
    Uint8Array.from([...Buffer.from('302a300506032b6570032100', 'hex'), ...point])

  // Every y of a small-order point with both sign bits, and the y >= p encodings.
  it.each<[string, bigint, 0 | 1, RegExp]>([
    ...[0n, 1n, P - 1n, y8, P - y8].flatMap((y) =>
      ([0, 1] as const).map((s): [string, bigint, 0 | 1, RegExp] => [
        `y = ${y}, sign ${s}`,
        y,
        s,
        /small order/,
      ]),
    ),
    ...[0n, 1n, 2n, 5n, 18n].flatMap((k) =>
      ([0, 1] as const).map((s): [string, bigint, 0 | 1, RegExp] => [
        `y = p + ${k}, sign ${s}`,
        P + k,
        s,
        /not canonically encoded/,
      ]),
    ),
    ['y = 2^255 - 1', (1n << 255n) - 1n, 0, /not canonically encoded/],
  ])('Ed25519 %s is key.unsupported', (_n, y, sign, message) => {
    const r = refusal(() => describeKey(ed25519(encode(y, sign)), { fromCsr: true }))
    expect(r.code).toBe('key.unsupported')
    expect(r.message).toMatch(message)
  })

  it('real Ed25519 keys are accepted (no false positives over 200 keys)', () => {
    for (let i = 0; i < 200; i++) {
      expect(describeKey(spkiOf(generateKeyPairSync('ed25519').publicKey))).toEqual({ kind: 'ed25519' })
    }
  })

  const modulusOf = (spki: Uint8Array): bigint => {
    const parsed = AsnConvert.parse(spki, SubjectPublicKeyInfo)
    const m = new Uint8Array(AsnConvert.parse(parsed.subjectPublicKey, RSAPublicKey).modulus)
    return BigInt(`0x${Buffer.from(m).toString('hex')}`)
  }
  const rsaWith = (n: bigint): Uint8Array => {
    let hex = n.toString(16)
    if (hex.length % 2) hex = `0${hex}`
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`
    const pub = new RSAPublicKey({
      modulus: Uint8Array.from(Buffer.from(hex, 'hex')).buffer,
      publicExponent: Uint8Array.of(1, 0, 1).buffer,
    })
    const info = new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.1', parameters: null }),
      subjectPublicKey: AsnConvert.serialize(pub),
    })
    return new Uint8Array(AsnConvert.serialize(info))
  }

  it.each<[bigint, number]>([
    [3n, 3],
    [5n * 7n, 5],
    [641n, 641],
    [4091n, 4091],
    [4093n, 4093],
    [4093n * 4093n, 4093],
  ])('an RSA modulus times %s is refused as divisible by %s', (factor, reported) => {
    const r = refusal(() => describeKey(rsaWith(modulusOf(key('rsa2048')) * factor), { fromCsr: true }))
    expect(r.code).toBe('key.unsupported')
    expect(r.message).toContain(`divisible by ${reported},`)
  })

  it('the bound is 2^12: a factor of 4099 (the first prime above) is not looked for', () => {
    expect(describeKey(rsaWith(modulusOf(key('rsa2048')) * 4099n), { fromCsr: true }).kind).toBe('rsa')
  })

  it.each(['rsa2048', 'rsa2047', 'rsa2048e3', 'rsa3072', 'rsa4096'])(
    'the real key %s has no small factor',
    (name) => {
      expect(describeKey(key(name)).kind).toBe('rsa')
    },
  )
})
