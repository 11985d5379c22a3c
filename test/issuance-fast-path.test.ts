/**
 * The lean certificate path (signCertificate, issue #5) against the straightforward one it replaced:
 * @peculiar/x509's X509CertificateGenerator (kept as `generateCertificate`). With an RSA PKCS#1 v1.5
 * issuer the signature is deterministic, so the two certificates must be the same bytes; with ECDSA
 * and RSA-PSS issuers the TBS bytes must be the same and both signatures must verify.
 */
import 'reflect-metadata'
import { generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { createHash } from 'node:crypto'
import {
  ecdsaDer,
  generateCertificate,
  signCertificate,
  verifiesWith,
  type CertificateTemplate,
} from '../src/ca/certificate.js'
import {
  akiExtension,
  authorityInfoAccess,
  basicConstraints,
  crlDistributionPoints,
  extendedKeyUsage,
  keyUsage,
  skiExtension,
  subjectAltName,
  subjectKeyIdentifier,
} from '../src/ca/extensions.js'
import { sansToGeneralNames, type SanEntry } from '../src/ca/subject-alt-name.js'
import { fileSigner } from '../src/keys/file-signer.js'
import type { Signer, SignatureScheme } from '../src/ca/signer.js'
import type { DistinguishedName } from '../src/ca/distinguished-name.js'
import { CaError } from '../src/ca/errors.js'
import { parseCsr } from '../src/ca/csr.js'
import { CertificationRequest } from '@peculiar/asn1-csr'

type LeafKind = 'rsa' | 'p256' | 'p384' | 'ed25519'

function keyPair(kind: LeafKind | 'issuer-rsa' | 'issuer-p256' | 'issuer-p384'): {
  privateKey: KeyObject
  publicKey: KeyObject
} {
  switch (kind) {
    case 'rsa':
    case 'issuer-rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 })
    case 'p256':
    case 'issuer-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    case 'p384':
    case 'issuer-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' })
    case 'ed25519':
      return generateKeyPairSync('ed25519')
  }
}

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }))
}

function signerFor(key: KeyObject, scheme: SignatureScheme): Signer {
  return fileSigner(key.export({ type: 'pkcs8', format: 'pem' }) as string, 'file:test', scheme)
}

const leafKeys: Record<LeafKind, Uint8Array> = {
  rsa: spkiOf(keyPair('rsa').publicKey),
  p256: spkiOf(keyPair('p256').publicKey),
  p384: spkiOf(keyPair('p384').publicKey),
  ed25519: spkiOf(keyPair('ed25519').publicKey),
}

const rsaIssuerKey = keyPair('issuer-rsa')
const issuers: Array<{ name: string; signer: Signer; deterministic: boolean }> = [
  { name: 'RS256', signer: signerFor(rsaIssuerKey.privateKey, 'RS256'), deterministic: true },
  { name: 'RS384', signer: signerFor(rsaIssuerKey.privateKey, 'RS384'), deterministic: true },
  { name: 'PS256', signer: signerFor(rsaIssuerKey.privateKey, 'PS256'), deterministic: false },
  { name: 'ES256', signer: signerFor(keyPair('issuer-p256').privateKey, 'ES256'), deterministic: false },
  { name: 'ES384', signer: signerFor(keyPair('issuer-p384').privateKey, 'ES384'), deterministic: false },
]

const issuerDn: DistinguishedName = [
  { oid: '2.5.4.6', value: 'DE', tag: 'printable' },
  { oid: '2.5.4.10', value: 'Example GmbH', tag: 'utf8' },
  { oid: '2.5.4.3', value: 'Example Intermediate CA', tag: 'utf8' },
]

const profiles: Record<string, string[]> = {
  server: ['1.3.6.1.5.5.7.3.1'],
  client: ['1.3.6.1.5.5.7.3.2'],
  'server-client': ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
}

const allSans: SanEntry[] = [
  { type: 'dns', value: 'svc.example.internal' },
  { type: 'dns', value: '*.apps.example.internal' },
  { type: 'ip', value: '10.1.2.3' },
  { type: 'ip', value: '2001:db8::1' },
  { type: 'email', value: 'ops@example.com' },
  { type: 'uri', value: 'spiffe://example.internal/ns/prod/sa/api' },
]

interface Variant {
  profile: string
  leaf: LeafKind
  sans: SanEntry[]
  cdpAia: boolean
  notAfter: Date
  serial: bigint
}

function template(v: Variant, issuerKeyId: string): CertificateTemplate {
  const spki = leafKeys[v.leaf]
  const usage: Array<'digitalSignature' | 'keyEncipherment'> =
    v.leaf === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']
  const extensions = [
    basicConstraints(false),
    keyUsage(usage),
    extendedKeyUsage(profiles[v.profile] as string[]),
    skiExtension(subjectKeyIdentifier(spki)),
    akiExtension(issuerKeyId),
  ]
  if (v.sans.length) extensions.push(subjectAltName(sansToGeneralNames(v.sans)))
  if (v.cdpAia) {
    extensions.push(crlDistributionPoints(['http://pki.example.com/int.crl']) as x509.Extension)
    extensions.push(
      authorityInfoAccess(['http://ocsp.example.com'], ['http://pki.example.com/int.crt']) as x509.Extension,
    )
  }
  return {
    serial: v.serial,
    subject: [
      { oid: '2.5.4.10', value: 'Example GmbH', tag: 'utf8' },
      { oid: '2.5.4.3', value: v.sans[0]?.value ?? 'client-7', tag: 'utf8' },
    ],
    issuer: issuerDn,
    notBefore: new Date('2026-11-28T12:00:00Z'),
    notAfter: v.notAfter,
    spki,
    extensions,
  }
}

function tbsOf(cert: x509.X509Certificate): Uint8Array {
  const parsed = AsnConvert.parse(cert.rawData, Certificate)
  return new Uint8Array(AsnConvert.serialize(parsed.tbsCertificate))
}

const variants: Variant[] = []
const notAfters = [
  new Date('2027-11-28T12:00:00Z'),
  new Date('2049-12-31T23:59:59Z'),
  new Date('2050-01-01T00:00:00Z'),
]
const serials = [
  1n,
  0x7fn,
  0x80n,
  0x4a3f_0000_0000_0000_0001n,
  (1n << 159n) - 1n,
  BigInt('0x' + '80'.padEnd(38, '0')),
]
let n = 0
for (const profile of Object.keys(profiles)) {
  for (const leaf of Object.keys(leafKeys) as LeafKind[]) {
    for (const sans of [[], allSans.slice(0, 1), allSans]) {
      if (profile !== 'client' && sans.length === 0) continue
      for (const cdpAia of [false, true]) {
        variants.push({
          profile,
          leaf,
          sans,
          cdpAia,
          notAfter: notAfters[n % notAfters.length] as Date,
          serial: serials[n % serials.length] as bigint,
        })
        n++
      }
    }
  }
}

describe('the lean certificate path matches X509CertificateGenerator', () => {
  for (const issuer of issuers) {
    const keyId = createHash('sha1')
      .update(new Uint8Array(AsnConvert.parse(issuer.signer.spki, SubjectPublicKeyInfo).subjectPublicKey))
      .digest('hex')
    test(`${issuer.name} issuer, ${variants.length} templates`, async () => {
      for (const v of variants) {
        const t = template(v, keyId)
        const lean = await signCertificate(t, issuer.signer)
        const reference = await generateCertificate(t, issuer.signer)
        const label = `${v.profile}/${v.leaf}/${v.sans.length} SANs/cdp ${v.cdpAia}/${v.notAfter.toISOString()}`
        expect({ label, tbs: Buffer.from(tbsOf(lean)).toString('hex') }).toEqual({
          label,
          tbs: Buffer.from(tbsOf(reference)).toString('hex'),
        })
        expect(lean).toBeInstanceOf(x509.X509Certificate)
        if (issuer.deterministic) {
          // PEM first: the lean certificate needs no parse for it.
          expect(lean.toString('pem')).toBe(reference.toString('pem'))
          expect(Buffer.from(lean.rawData).equals(Buffer.from(reference.rawData))).toBe(true)
          expect(lean.equal(reference)).toBe(true)
        }
        expect(lean.subject).toBe(reference.subject)
        expect(lean.issuer).toBe(reference.issuer)
        expect(lean.notBefore.getTime()).toBe(reference.notBefore.getTime())
        expect(lean.signatureAlgorithm).toEqual(reference.signatureAlgorithm)
        expect(Buffer.from(lean.publicKey.rawData).equals(Buffer.from(t.spki))).toBe(true)
        expect(lean.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toBe(
          reference.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
        )
        expect(verifiesWith(lean.rawData, issuer.signer.spki)).toBe(true)
        expect(verifiesWith(reference.rawData, issuer.signer.spki)).toBe(true)
        expect(await lean.verify({ publicKey: new x509.PublicKey(issuer.signer.spki) })).toBe(true)
        expect(lean.serialNumber).toBe(reference.serialNumber)
        expect(lean.notAfter.getTime()).toBe(v.notAfter.getTime())
        expect(lean.extensions.map((e) => e.type)).toEqual(reference.extensions.map((e) => e.type))
        expect(lean.toString('pem')).toMatch(/^-----BEGIN CERTIFICATE-----/)
      }
    })
  }

  test('a UTCTime/GeneralizedTime boundary pair is encoded as the generator does', async () => {
    const issuer = issuers[0] as (typeof issuers)[number]
    for (const iso of ['2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '2099-06-30T08:07:06Z']) {
      const t = template(
        {
          profile: 'server',
          leaf: 'p256',
          sans: allSans.slice(0, 1),
          cdpAia: false,
          notAfter: new Date(iso),
          serial: 42n,
        },
        'ab'.repeat(20),
      )
      const lean = await signCertificate(t, issuer.signer)
      const reference = await generateCertificate(t, issuer.signer)
      expect(Buffer.from(lean.rawData).equals(Buffer.from(reference.rawData))).toBe(true)
    }
  })
})

describe('ECDSA signatures', () => {
  test('raw r‖s is encoded as @peculiar/x509 encodes it', () => {
    const formatter = new x509.AsnEcSignatureFormatter()
    for (const [curve, size] of [
      ['P-256', 32],
      ['P-384', 48],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const raw = new Uint8Array(size * 2)
        for (let j = 0; j < raw.length; j++) raw[j] = Math.floor(Math.random() * 256)
        // leading zero octets and high bits in r and s
        if (i % 4 === 1) raw.fill(0, 0, 3)
        if (i % 4 === 2) raw.fill(0, size, size + 2)
        if (i % 4 === 3) raw[0] = 0xff
        const expected = formatter.toAsnSignature({ name: 'ECDSA', namedCurve: curve } as never, raw)
        expect(Buffer.from(ecdsaDer(raw)).toString('hex')).toBe(
          Buffer.from(expected as ArrayBuffer).toString('hex'),
        )
      }
    }
  })
})

describe('a wrong key', () => {
  test.each(['RS256', 'ES256'] as const)(
    '%s: a signature by another key is signer.mismatch',
    async (scheme) => {
      const real = signerFor(keyPair(scheme === 'RS256' ? 'issuer-rsa' : 'issuer-p256').privateKey, scheme)
      const other = signerFor(keyPair(scheme === 'RS256' ? 'issuer-rsa' : 'issuer-p256').privateKey, scheme)
      // Claims the real key's public key but signs with another one.
      const liar: Signer = { ref: 'file:liar', spki: real.spki, scheme, sign: (d) => other.sign(d) }
      const t = template(
        {
          profile: 'server',
          leaf: 'rsa',
          sans: allSans,
          cdpAia: true,
          notAfter: new Date('2027-01-01T00:00:00Z'),
          serial: 7n,
        },
        'cd'.repeat(20),
      )
      await expect(signCertificate(t, liar)).rejects.toMatchObject({ code: 'signer.mismatch' })
      await expect(signCertificate(t, real)).resolves.toBeInstanceOf(x509.X509Certificate)
    },
  )

  test('a signer that fails is signer.failed', async () => {
    const real = issuers[0]?.signer as Signer
    const broken: Signer = {
      ...real,
      ref: 'file:broken',
      sign: async () => Promise.reject(new Error('gone')),
    }
    const t = template(
      {
        profile: 'client',
        leaf: 'ed25519',
        sans: [],
        cdpAia: false,
        notAfter: new Date('2027-01-01T00:00:00Z'),
        serial: 9n,
      },
      'cd'.repeat(20),
    )
    const err = await signCertificate(t, broken).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CaError)
    expect((err as CaError).code).toBe('signer.failed')
  })
})

describe('subjectKeyIdentifier', () => {
  test('reads the key bits as the schema parser does', () => {
    for (const spki of Object.values(leafKeys)) {
      const bits = new Uint8Array(AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey)
      expect(subjectKeyIdentifier(spki)).toBe(createHash('sha1').update(bits).digest('hex'))
    }
  })
})

describe('parseCsr slices the info and the SPKI from the DER', () => {
  test.each([
    [
      'RSA',
      {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: 2048,
      },
    ],
    ['P-256', { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }],
    ['P-384', { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }],
  ])('%s: same SPKI as the schema re-encodes, self-signature checked', async (_label, alg) => {
    const keys = (await webcrypto.subtle.generateKey(alg as never, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=svc.example.internal',
      keys,
      signingAlgorithm: alg as never,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'svc.example.internal' }]),
      ],
    })
    const parsed = parseCsr(csr.toString('pem'))
    const req = AsnConvert.parse(csr.rawData, CertificationRequest)
    expect(
      Buffer.from(parsed.spki).equals(
        Buffer.from(AsnConvert.serialize(req.certificationRequestInfo.subjectPKInfo)),
      ),
    ).toBe(true)
    // A flipped bit in the signed part is caught by the self-signature check.
    const der = new Uint8Array(csr.rawData)
    const at = Buffer.from(der).indexOf('svc.example.internal', 0, 'latin1')
    expect(at).toBeGreaterThan(0)
    der[at] = 't'.charCodeAt(0)
    expect(() => parseCsr(x509.PemConverter.encode(der, 'CERTIFICATE REQUEST'))).toThrow(
      expect.objectContaining({ code: 'csr.bad_signature' }),
    )
  })
})

describe('templates outside the lean writer', () => {
  test('fall back to the generator: same bytes, and a wrong key is still signer.mismatch', async () => {
    const issuer = issuers[0] as (typeof issuers)[number]
    const base = template(
      {
        profile: 'server',
        leaf: 'p256',
        sans: allSans.slice(0, 1),
        cdpAia: false,
        notAfter: new Date('2027-01-01T00:00:00.250Z'),
        serial: 11n,
      },
      'ef'.repeat(20),
    )
    for (const t of [base, { ...base, notAfter: new Date('2027-01-01T00:00:00Z'), extensions: [] }]) {
      const cert = await signCertificate(t, issuer.signer)
      const reference = await generateCertificate(t, issuer.signer)
      expect(Buffer.from(cert.rawData).equals(Buffer.from(reference.rawData))).toBe(true)
      const other = signerFor(keyPair('issuer-rsa').privateKey, 'RS256')
      const liar: Signer = { ...other, spki: issuer.signer.spki, sign: (d) => other.sign(d) }
      await expect(signCertificate(t, liar)).rejects.toMatchObject({ code: 'signer.mismatch' })
    }
  })
})
