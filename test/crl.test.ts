/**
 * CRLs checked against the reference: the tutorial's `openssl ca` directory (made by the real
 * openssl), our CRL built from its index.txt with its intermediate key, and what `openssl ca -gencrl`,
 * `openssl crl` and `openssl verify -crl_check` say about it.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  AsnArray,
  AsnConvert,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from '@peculiar/asn1-schema'
import {
  Certificate,
  CertificateList,
  CRLReason,
  Extension,
  InvalidityDate,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_invalidityDate,
} from '@peculiar/asn1-x509'
import fc from 'fast-check'
import { parseLimitsFor } from '../src/ca/asn1-limits.js'
import { buildCrl, crlDer, crlPem, type CrlParams } from '../src/ca/crl.js'
import { crlListings, type CrlListing, revokedCertificatesDer } from '../src/ca/crl-entries.js'
import { parseCrlDer, parseCrlPem } from '../src/ca/crl-reading.js'
import { encodeRevokedCertificates, type DerRevokedEntry } from '../src/ca/der-writer.js'
import { insertIntoSequence, readTlv } from '../src/ca/der-bytes.js'
import { akiExtension } from '../src/ca/extensions.js'
import { x509Signing } from '../src/ca/x509-signing.js'
import { CaError } from '../src/ca/errors.js'
import { REVOCATION_REASON_CODES, holdInstructionOid } from '../src/ca/index-revocation.js'
import { formatGeneralizedTime, formatIndexTime } from '../src/ca/index-time.js'
import { parseIndex, serializeIndex } from '../src/ca/index-txt.js'
import { type IndexEntry } from '../src/ca/index-entry.js'
import { parseSerialFile, serialToDer, serialToHex } from '../src/ca/serial-number.js'
import { fileSigner, generatePrivateKeyPem, type KeyType } from '../src/keys/file-signer.js'
import type { SignatureScheme, Signer } from '../src/ca/signer.js'
import { outcome } from './support/outcome.js'
import { issueWithOpensslCa, tutorialCa } from './support/tutorial-ca.js'
import {
  cleanupTempDirs,
  opensslMerged as openssl,
  opensslMergedOk as opensslOk,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

function asn1parse(der: Uint8Array, dir: string): string {
  const file = join(dir, `asn1-${Math.random().toString(36).slice(2)}.der`)
  writeFileSync(file, der)
  return opensslOk(['asn1parse', '-inform', 'DER', '-in', file, '-i'])
}

function skiOf(cert: x509.X509Certificate): string {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)
  if (!ski) throw new Error('no SKI')
  return ski.keyId
}

/** A signer that counts its calls. */
function counting(signer: Signer): Signer & { calls: number } {
  const counted = {
    ...signer,
    calls: 0,
    sign: async (data: Uint8Array) => {
      counted.calls++
      return signer.sign(data)
    },
  }
  return counted
}

/** The tutorial's CA, plus certificates revoked with every kind of revocation `openssl ca` writes. */
interface TutorialCa {
  dir: string
  cnf: string
  chain: string
  intermediate: x509.X509Certificate
  signer: Signer
  certs: Record<string, string>
}

function makeTutorialCa(): TutorialCa {
  const dir = tutorialCa()
  const cnf = join(dir, 'openssl_intermediate.cnf')
  const certs: Record<string, string> = {
    www: join(dir, 'intermediateCA/certs/www.example.com.cert.pem'),
    api: join(dir, 'intermediateCA/certs/api.example.com.cert.pem'),
  }
  const revocations: Record<string, string[]> = {
    unspecified: ['-crl_reason', 'unspecified'],
    hold: ['-crl_hold', 'holdInstructionReject'],
    keytime: ['-crl_compromise', '20260101000000Z'],
    noreason: [],
    plainhold: ['-crl_reason', 'certificateHold'],
    cakeytime: ['-crl_CA_compromise', '20250615120000Z'],
    superseded: ['-crl_reason', 'superseded'],
    valid: [],
  }
  for (const [name, args] of Object.entries(revocations)) {
    const { cert } = issueWithOpensslCa(dir, name)
    if (name !== 'valid') opensslOk(['ca', '-config', cnf, '-revoke', cert, ...args])
    certs[name] = cert
  }
  const intermediatePem = readFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8')
  return {
    dir,
    cnf,
    chain: join(dir, 'intermediateCA/certs/ca-chain.cert.pem'),
    intermediate: new x509.X509Certificate(intermediatePem),
    signer: fileSigner(
      readFileSync(join(dir, 'intermediateCA/private/intermediate.key.pem')),
      'file:intermediate',
    ),
    certs,
  }
}

function indexOf(ca: TutorialCa): IndexEntry[] {
  return parseIndex(readFileSync(join(ca.dir, 'intermediateCA/index.txt'), 'utf8'))
}

function params(ca: TutorialCa, overrides: Partial<CrlParams> = {}): CrlParams {
  const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
  return {
    entries: indexOf(ca),
    issuer: { certificate: ca.intermediate, keyId: skiOf(ca.intermediate), signer: ca.signer },
    crlNumber: 0x1000n,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + 30 * 86_400_000),
    ...overrides,
  }
}

function writeCrl(dir: string, crl: x509.X509Crl, name = 'crl'): string {
  const file = join(dir, `${name}.pem`)
  writeFileSync(file, crlPem(crl))
  return file
}

describe('a CRL for the tutorial CA', () => {
  let ca: TutorialCa
  beforeAll(() => {
    ca = makeTutorialCa()
  })

  it('is byte for byte what openssl ca -gencrl makes from the same index, whatever the index order', async () => {
    // X509_CRL_sort orders by serial: reversing index.txt must not change either CRL.
    const indexFile = join(ca.dir, 'intermediateCA/index.txt')
    const reversed = indexOf(ca).reverse()
    writeFileSync(indexFile, serializeIndex(reversed))
    const crlNumber = parseSerialFile(readFileSync(join(ca.dir, 'intermediateCA/crlnumber'), 'utf8'))
    const theirsFile = join(ca.dir, 'openssl.crl.pem')
    opensslOk(['ca', '-config', ca.cnf, '-gencrl', '-out', theirsFile])
    const theirs = new x509.X509Crl(readFileSync(theirsFile, 'utf8'))

    const signer = counting(ca.signer)
    const ours = await buildCrl({
      ...params(ca, { entries: reversed, crlNumber }),
      issuer: { certificate: ca.intermediate, keyId: skiOf(ca.intermediate), signer },
      thisUpdate: theirs.thisUpdate,
      nextUpdate: theirs.nextUpdate as Date,
    })
    expect(signer.calls).toBe(1)
    // RSA PKCS#1 v1.5 signatures are deterministic, so even the signature is the same.
    expect(Buffer.from(ours.rawData).toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'))
    expect(ours.entries.map((e) => e.serialNumber)).toEqual(
      [...ours.entries.map((e) => e.serialNumber)].sort((a, b) =>
        BigInt(`0x${a}`) < BigInt(`0x${b}`) ? -1 : 1,
      ),
    )
  })

  it('is verified by openssl crl -CAfile (reading the output: OpenSSL 3.0 exits 0 on failure)', async () => {
    const file = writeCrl(ca.dir, await buildCrl(params(ca)))
    const r = openssl(['crl', '-in', file, '-CAfile', ca.chain, '-noout'])
    expect(r.out.trim()).toBe('verify OK')
  })

  it('says what openssl crl -text shows: number, AKI, reasons, invalidity dates, hold instruction', async () => {
    const crl = await buildCrl(params(ca, { crlNumber: 0x1234n }))
    const text = opensslOk(['crl', '-in', writeCrl(ca.dir, crl), '-noout', '-text'])
    expect(text).toContain('Version 2 (0x1)')
    expect(text).toMatch(/X509v3 CRL Number: \n\s+4660\n/)
    const aki = skiOf(ca.intermediate).toUpperCase().match(/../g)!.join(':')
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier: \\n\\s+${aki}\\n`))
    expect(text).not.toContain('critical')
    const entry = (cn: string) => {
      const cert = new x509.X509Certificate(readFileSync(ca.certs[cn]!, 'utf8'))
      const start = text.indexOf(`Serial Number: ${cert.serialNumber.toUpperCase()}\n`)
      expect(start).toBeGreaterThan(0)
      const next = text.indexOf('Serial Number:', start + 1)
      return text.slice(start, next === -1 ? undefined : next)
    }
    expect(entry('api')).toMatch(/CRL Reason Code: \n\s+Key Compromise\n/)
    expect(entry('unspecified')).toMatch(/CRL Reason Code: \n\s+Unspecified\n/)
    expect(entry('hold')).toMatch(
      /Certificate Hold\n\s+Hold Instruction Code: \n\s+Hold Instruction Reject\n/,
    )
    expect(entry('plainhold')).toMatch(/Certificate Hold\n/)
    expect(entry('plainhold')).not.toContain('Hold Instruction Code')
    expect(entry('keytime')).toMatch(/Key Compromise\n\s+Invalidity Date: \n\s+Jan {2}1 00:00:00 2026 GMT\n/)
    expect(entry('cakeytime')).toMatch(/CA Compromise\n\s+Invalidity Date: \n\s+Jun 15 12:00:00 2025 GMT\n/)
    expect(entry('noreason')).not.toContain('CRL entry extensions')
    expect(entry('superseded')).toMatch(/Superseded\n/)
    expect(text).not.toContain('Serial Number: 1000\n')
  })

  it('makes openssl verify -crl_check report the revoked certificates revoked (error 23) and the others OK', async () => {
    const crlFile = writeCrl(ca.dir, await buildCrl(params(ca)))
    const verify = (cert: string) =>
      openssl(['verify', '-x509_strict', '-crl_check', '-CRLfile', crlFile, '-CAfile', ca.chain, cert])
    for (const name of [
      'api',
      'unspecified',
      'hold',
      'keytime',
      'noreason',
      'plainhold',
      'cakeytime',
      'superseded',
    ]) {
      const r = verify(ca.certs[name]!)
      expect(r.out).toContain('error 23 at 0 depth lookup: certificate revoked')
      expect(r.status).not.toBe(0)
    }
    for (const name of ['www', 'valid']) {
      const r = verify(ca.certs[name]!)
      expect(r.out.trim()).toMatch(/: OK$/)
      expect(r.status).toBe(0)
    }
  })

  it('is read by openssl in DER too', async () => {
    const crl = await buildCrl(params(ca))
    const file = join(ca.dir, 'crl.der')
    writeFileSync(file, crlDer(crl))
    const r = openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', ca.chain, '-noout'])
    expect(r.out.trim()).toBe('verify OK')
  })

  it('writes the PEM label X509 CRL (not x509’s CRL, which OpenSSL refuses)', async () => {
    const crl = await buildCrl(params(ca))
    const pem = crlPem(crl)
    expect(pem).toMatch(
      /^-----BEGIN X509 CRL-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END X509 CRL-----\n$/,
    )
    const bad = join(ca.dir, 'x509-label.pem')
    writeFileSync(bad, crl.toString('pem'))
    expect(openssl(['crl', '-in', bad, '-noout']).status).not.toBe(0)
  })

  it('has no revokedCertificates field at all when nothing is revoked', async () => {
    const entries = indexOf(ca).filter((e) => e.status === 'V')
    const crl = await buildCrl(params(ca, { entries }))
    const file = writeCrl(ca.dir, crl, 'empty')
    expect(openssl(['crl', '-in', file, '-CAfile', ca.chain, '-noout']).out.trim()).toBe('verify OK')
    expect(opensslOk(['crl', '-in', file, '-noout', '-text'])).toContain('No Revoked Certificates.')
    // after nextUpdate comes the [0] crlExtensions: no SEQUENCE in between, not even an empty one
    const lines = asn1parse(crlDer(crl), ca.dir).split('\n')
    const signatureAlgorithm = lines.findIndex((l, i) => i > 1 && /d=1 /.test(l))
    const tbs = lines.slice(0, signatureAlgorithm).filter((l) => /d=2 /.test(l))
    expect(
      tbs.map(
        (l) =>
          l
            .replace(/^.*(prim|cons): +/, '')
            .trim()
            .split(/\s+/)[0],
      ),
    ).toEqual(['INTEGER', 'SEQUENCE', 'SEQUENCE', 'UTCTIME', 'UTCTIME', 'cont'])
  })

  it('carries the CRL number the caller gives, so numbers increase when the caller increments', async () => {
    const numbers: bigint[] = []
    for (const crlNumber of [0x1000n, 0x1001n, 0x1002n]) {
      const crl = await buildCrl(params(ca, { crlNumber }))
      const text = opensslOk(['crl', '-in', writeCrl(ca.dir, crl), '-noout', '-crlnumber'])
      numbers.push(BigInt(text.trim().replace('crlNumber=', '')))
    }
    expect(numbers).toEqual([0x1000n, 0x1001n, 0x1002n])
  })

  it.each([
    [0n, '0x00'],
    [1n, '0x01'],
    [0x80n, '0x80'],
    [(1n << 159n) - 1n, `0x${'7F'}${'FF'.repeat(19)}`],
  ])('writes CRL number %s as a DER-minimal INTEGER OpenSSL reads', async (crlNumber, shown) => {
    const crl = await buildCrl(params(ca, { crlNumber }))
    const out = opensslOk(['crl', '-in', writeCrl(ca.dir, crl), '-noout', '-crlnumber'])
    expect(out.trim()).toBe(`crlNumber=${shown}`)
  })

  it('refuses a CRL number that does not fit 20 octets or is negative', async () => {
    await expect(buildCrl(params(ca, { crlNumber: 1n << 159n }))).rejects.toThrow(RangeError)
    await expect(buildCrl(params(ca, { crlNumber: -1n }))).rejects.toThrow(RangeError)
  })

  it.each([
    ['2049-12-01T00:00:00Z', '2049-12-31T23:59:59Z', 'UTCTIME', 'UTCTIME', 'Dec 31 23:59:59 2049 GMT'],
    [
      '2049-12-01T00:00:00Z',
      '2050-01-01T00:00:00Z',
      'UTCTIME',
      'GENERALIZEDTIME',
      'Jan  1 00:00:00 2050 GMT',
    ],
    [
      '2050-01-01T00:00:00Z',
      '2050-02-01T00:00:00Z',
      'GENERALIZEDTIME',
      'GENERALIZEDTIME',
      'Feb  1 00:00:00 2050 GMT',
    ],
  ])(
    'thisUpdate %s / nextUpdate %s: %s and %s',
    async (thisUpdate, nextUpdate, thisType, nextType, shown) => {
      const crl = await buildCrl(
        params(ca, { thisUpdate: new Date(thisUpdate), nextUpdate: new Date(nextUpdate) }),
      )
      const lines = asn1parse(crlDer(crl), ca.dir)
        .split('\n')
        .filter((l) => /d=2 .*TIME/.test(l))
      expect(lines.map((l) => /(UTCTIME|GENERALIZEDTIME)/.exec(l)?.[1])).toEqual([thisType, nextType])
      const text = opensslOk(['crl', '-in', writeCrl(ca.dir, crl), '-noout', '-nextupdate'])
      expect(text.trim()).toBe(`nextUpdate=${shown}`)
    },
  )

  it('drops milliseconds, as times in a CRL are whole seconds', async () => {
    const thisUpdate = new Date('2030-01-01T00:00:00.999Z')
    const crl = await buildCrl(params(ca, { thisUpdate, nextUpdate: new Date('2030-01-31T00:00:00.5Z') }))
    expect(crl.thisUpdate.toISOString()).toBe('2030-01-01T00:00:00.000Z')
    expect(crl.nextUpdate?.toISOString()).toBe('2030-01-31T00:00:00.000Z')
  })

  it('refuses a nextUpdate that is not after thisUpdate', async () => {
    const t = new Date('2030-01-01T00:00:00Z')
    await expect(buildCrl(params(ca, { thisUpdate: t, nextUpdate: t }))).rejects.toThrow(RangeError)
  })

  it('refuses to keep a CRL signed by a key that is not the certificate’s (signer.mismatch)', async () => {
    const other = fileSigner(generatePrivateKeyPem('rsa-2048'), 'file:other')
    const lying: Signer = { ...ca.signer, sign: other.sign }
    for (const signer of [other, lying]) {
      const p = params(ca)
      const e = await buildCrl({ ...p, issuer: { ...p.issuer, signer } }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(CaError)
      expect((e as CaError).code).toBe('signer.mismatch')
    }
  })

  it('refuses an AKI key id that is not the issuer certificate’s SKI', async () => {
    const p = params(ca)
    const e = await buildCrl({ ...p, issuer: { ...p.issuer, keyId: '00112233' } }).catch((x: unknown) => x)
    expect((e as CaError).code).toBe('config.invalid')
  })

  it('reports a failing signer as signer.failed', async () => {
    const p = params(ca)
    const broken: Signer = { ...ca.signer, sign: () => Promise.reject(new Error('vault down')) }
    const e = await buildCrl({ ...p, issuer: { ...p.issuer, signer: broken } }).catch((x: unknown) => x)
    expect((e as CaError).code).toBe('signer.failed')
    expect((e as CaError).message).toContain('vault down')
  })
})

describe('which revoked certificates a CRL lists', () => {
  const line = (status: string, expiry: string, revocation: string, serial: string): IndexEntry => ({
    status: status as IndexEntry['status'],
    expiry,
    revocation,
    serial,
    file: 'unknown',
    subject: `/CN=${serial}`,
  })
  const entries = [
    line('R', '300101000000Z', '260101000000Z,superseded', '10'),
    line('R', '270101000000Z', '260101000000Z,keyCompromise', '0F'),
    line('V', '300101000000Z', '', '01'),
    line('E', '200101000000Z', '', '02'),
    line('R', '260601000000Z', '260101000000Z', 'FF01'),
    line('R', '300101000000Z', '260101000000Z,removeFromCRL', '03'),
  ]

  it('lists R entries only, sorted by serial, without removeFromCRL (a delta-CRL reason)', () => {
    expect(crlListings(entries).map((l) => l.serial)).toEqual([0x0fn, 0x10n, 0xff01n])
  })

  it.each([
    // previous CRL's thisUpdate → still listed
    [undefined, [0x0fn, 0x10n, 0xff01n]],
    ['2026-05-01T00:00:00Z', [0x0fn, 0x10n, 0xff01n]],
    // FF01 expired on 2026-06-01 00:00:00: listed until a CRL issued after its expiry has listed it
    ['2026-06-01T00:00:00Z', [0x0fn, 0x10n, 0xff01n]],
    ['2026-06-01T00:00:01Z', [0x0fn, 0x10n]],
    ['2027-01-01T00:00:01Z', [0x10n]],
  ])('with the previous CRL issued at %s: %p', (previous, listed) => {
    const p = previous === undefined ? undefined : new Date(previous)
    expect(crlListings(entries, p).map((l) => l.serial)).toEqual(listed)
  })

  it('refuses a serial a CRL cannot carry', () => {
    expect(() => crlListings([line('R', '300101000000Z', '260101000000Z', '00')])).toThrow(CaError)
  })
})

/** A self-signed CA made by `openssl req -x509` with a new key of ours, as a CRL issuer. */
function selfSignedCa(
  keyType: KeyType,
  scheme: SignatureScheme,
  subject: string,
): { dir: string; issuer: CrlParams['issuer'] } {
  const dir = tempDir()
  const keyPem = generatePrivateKeyPem(keyType)
  writeFileSync(join(dir, 'ca.key'), keyPem)
  const sigopt = scheme.startsWith('PS')
    ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']
    : []
  opensslOk(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      subject,
      '-days',
      '30',
      '-sha256',
      ...sigopt,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-out',
      'ca.pem',
    ],
    dir,
  )
  const certificate = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'))
  return {
    dir,
    issuer: { certificate, keyId: skiOf(certificate), signer: fileSigner(keyPem, 'file:ca.key', scheme) },
  }
}

describe.each([
  ['ec-p256', 'ES256'],
  ['ec-p384', 'ES384'],
  ['rsa-2048', 'PS256'],
] as const)('a CRL signed with a %s key (%s)', (keyType, scheme: SignatureScheme) => {
  it('verifies with openssl crl -CAfile', async () => {
    const { dir, issuer } = selfSignedCa(keyType, scheme, '/O=Other/CN=Test CA')
    const now = new Date()
    const crl = await buildCrl({
      entries: [
        {
          status: 'R',
          expiry: '491231235959Z',
          revocation: '250101000000Z,keyCompromise',
          serial: '01',
          file: 'unknown',
          subject: '/CN=x',
        },
      ],
      issuer,
      crlNumber: 1n,
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 86_400_000),
    })
    const file = writeCrl(dir, crl)
    expect(openssl(['crl', '-in', file, '-CAfile', join(dir, 'ca.pem'), '-noout']).out.trim()).toBe(
      'verify OK',
    )
    const text = opensslOk(['crl', '-in', file, '-noout', '-text'])
    expect(text).toContain(scheme.startsWith('PS') ? 'rsassaPss' : `ecdsa-with-SHA${scheme.slice(2)}`)
  })
})

// ---------------------------------------------------------------------------------------------------
// The fast path (der-writer.ts, spliced TBS, hand-assembled outer SEQUENCE, node:crypto verify)
// against the straightforward one: every part through @peculiar/asn1-schema, as buildCrl did before.

/** CRLNumber with the content octets as given (as crl.ts writes it). */
@AsnType({ type: AsnTypeTypes.Choice })
class RefCrlNumber {
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  value: ArrayBuffer = new ArrayBuffer(1)
}

@AsnType({ type: AsnTypeTypes.Choice })
class RefHoldInstructionCode {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  value = ''
}

function refBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

function refExtension(oid: string, value: object): Extension {
  return new Extension({
    extnID: oid,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  })
}

function refTime(d: Date): Time {
  const t = new Date(Math.floor(d.getTime() / 1000) * 1000)
  const year = t.getUTCFullYear()
  return year >= 1950 && year <= 2049 ? new Time({ utcTime: t }) : new Time({ generalTime: t })
}

/** A revokedCertificates entry with its values as numbers and Dates, as the schema takes them. */
interface RefEntry {
  serial: bigint
  revocationDate: Date
  reasonCode?: number | undefined
  invalidityDate?: Date | undefined
  holdInstructionOid?: string | undefined
}

/** The schema entry of one of crlListings' listings. */
function listingEntry(l: CrlListing): RevokedCertificate {
  const { reason, holdInstruction } = l.revocation
  return refEntry({
    serial: l.serial,
    revocationDate: l.revocation.time,
    reasonCode: reason === undefined ? undefined : REVOCATION_REASON_CODES[reason],
    invalidityDate: l.revocation.invalidityDate,
    holdInstructionOid: holdInstruction === undefined ? undefined : holdInstructionOid(holdInstruction),
  })
}

/** A revokedCertificates entry as the schema writes it. */
function refEntry(e: RefEntry): RevokedCertificate {
  const extensions: Extension[] = []
  if (e.reasonCode !== undefined) extensions.push(refExtension(id_ce_cRLReasons, new CRLReason(e.reasonCode)))
  if (e.invalidityDate !== undefined) {
    extensions.push(refExtension(id_ce_invalidityDate, new InvalidityDate(e.invalidityDate)))
  }
  if (e.holdInstructionOid !== undefined) {
    const code = new RefHoldInstructionCode()
    code.value = e.holdInstructionOid
    extensions.push(refExtension('2.5.29.23', code))
  }
  const entry = new RevokedCertificate({
    userCertificate: refBuffer(serialToDer(e.serial)),
    revocationDate: refTime(e.revocationDate),
  })
  if (extensions.length > 0) entry.crlEntryExtensions = extensions
  return entry
}

/** The CRL the straightforward way (the reference): the whole CertificateList through the schemas. */
async function referenceCrl(p: CrlParams): Promise<{ der: Uint8Array; tbs: Uint8Array }> {
  const listings = crlListings(p.entries, p.previousThisUpdate)
  const issuerCert = AsnConvert.parse(p.issuer.certificate.rawData, Certificate)
  const { signingKey, signingAlgorithm } = x509Signing(p.issuer.signer)
  const webAlgorithm = { ...signingAlgorithm, ...signingKey.algorithm }
  const algorithm = new x509.AlgorithmProvider().toAsnAlgorithm(webAlgorithm)
  const crlNumber = new RefCrlNumber()
  crlNumber.value = p.crlNumber === 0n ? new ArrayBuffer(1) : refBuffer(serialToDer(p.crlNumber))
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: issuerCert.tbsCertificate.subject,
    thisUpdate: refTime(p.thisUpdate),
    nextUpdate: refTime(p.nextUpdate),
    crlExtensions: [
      AsnConvert.parse(akiExtension(p.issuer.keyId.replaceAll(':', '').toLowerCase()).rawData, Extension),
      refExtension(id_ce_cRLNumber, crlNumber),
    ],
  })
  if (listings.length > 0) {
    tbs.revokedCertificates = listings.map(listingEntry)
  }
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const raw = await p.issuer.signer.sign(tbsDer)
  const signature = new x509.AsnEcSignatureFormatter().toAsnSignature(webAlgorithm, raw) ?? refBuffer(raw)
  const der = AsnConvert.serialize(
    new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature }),
  )
  return { der: new Uint8Array(der), tbs: tbsDer }
}

/** The TBSCertList octets of a CRL's DER. */
function tbsOf(der: Uint8Array): Uint8Array {
  const outer = readTlv(der, 0)
  const tbs = readTlv(der, outer.contentStart, outer.end)
  return der.subarray(tbs.start, tbs.end)
}

function revokedLine(serial: bigint, revocation: string, expiry = '491231235959Z'): IndexEntry {
  return { status: 'R', expiry, revocation, serial: serialToHex(serial), file: 'unknown', subject: '/CN=x' }
}

/** Every revocation form index.txt can hold. */
const EVERY_FORM = [
  '260101000000Z',
  '260101000000Z,unspecified',
  '260101000000Z,keyCompromise',
  '260101000000Z,CACompromise',
  '260101000000Z,affiliationChanged',
  '260101000000Z,superseded',
  '260101000000Z,cessationOfOperation',
  '260101000000Z,certificateHold',
  '260101000000Z,keyTime,20260101000000Z',
  '260101000000Z,CAkeyTime,20491231235959Z',
  '260101000000Z,keyTime,20500101000000Z',
  '260101000000Z,keyTime,19991231235959Z',
  '260101000000Z,holdInstruction,holdInstructionReject',
  '260101000000Z,holdInstruction,Hold Instruction Call Issuer',
  '260101000000Z,holdInstruction,holdInstructionNone',
  '260101000000Z,holdInstruction,1.2.840.10040.2.3',
  '491231235959Z,superseded',
  '500101000000Z,superseded',
  '991231235959Z',
]

const SERIAL_EDGES = [1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 2n ** 159n - 1n, 2n ** 152n]

describe.each([
  ['rsa-2048', 'RS256', true],
  ['rsa-2048', 'PS256', false],
  ['ec-p256', 'ES256', false],
  ['ec-p384', 'ES384', false],
] as const)(
  'the fast CRL against the schema-built one, %s key (%s)',
  (keyType, scheme: SignatureScheme, deterministic) => {
    let issuer: CrlParams['issuer']
    beforeAll(() => {
      issuer = selfSignedCa(keyType, scheme, '/O=Example/CN=Fast CRL Test CA').issuer
    })

    async function same(entries: IndexEntry[], overrides: Partial<CrlParams> = {}): Promise<x509.X509Crl> {
      const p: CrlParams = {
        entries,
        issuer,
        crlNumber: 0x1234n,
        thisUpdate: new Date('2026-11-28T12:00:00Z'),
        nextUpdate: new Date('2026-12-28T12:00:00Z'),
        ...overrides,
      }
      const crl = await buildCrl(p)
      const ours = crlDer(crl)
      const ref = await referenceCrl(p)
      if (deterministic) expect(Buffer.from(ours).equals(Buffer.from(ref.der))).toBe(true)
      expect(Buffer.from(tbsOf(ours)).equals(Buffer.from(ref.tbs))).toBe(true)
      // The signature over those bytes verifies, and the library reads the same CRL from both.
      expect(await libraryCrl(ours).verify({ publicKey: issuer.certificate })).toBe(true)
      expect(await crl.verify({ publicKey: issuer.certificate })).toBe(true)
      expect(crl.entries.length).toBe(crlListings(entries).length)
      return crl
    }

    it('with nothing revoked', async () => {
      await same([])
    })

    it('with one entry', async () => {
      await same([revokedLine(0x1234n, '260101000000Z,keyCompromise')])
    })

    it('with every revocation form', async () => {
      await same(EVERY_FORM.map((r, i) => revokedLine(BigInt(i + 1), r)))
    })

    it('with serial edge values', async () => {
      await same(SERIAL_EDGES.map((s, i) => revokedLine(s, EVERY_FORM[i % EVERY_FORM.length] as string)))
    })

    it.each([
      ['2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z'],
      ['2050-01-01T00:00:00Z', '2050-02-01T00:00:00Z'],
      ['1999-12-31T23:59:59Z', '2049-12-31T23:59:59Z'],
    ])('with thisUpdate %s and nextUpdate %s', async (thisUpdate, nextUpdate) => {
      await same([revokedLine(5n, '491231235959Z,keyTime,20500101000000Z')], {
        thisUpdate: new Date(thisUpdate),
        nextUpdate: new Date(nextUpdate),
        crlNumber: 0n,
      })
    })

    it('with a few thousand random entries, and entries that read as the library reads them', async () => {
      const entries = fc.sample(revokedLineArb, { numRuns: 3000, seed: 5 })
      // Serials must be unique in an index.
      const unique = [...new Map(entries.map((e) => [e.serial, e])).values()]
      const crl = await same(unique)
      const parsed = libraryCrl(crlDer(crl))
      expect(crl.entries.length).toBe(parsed.entries.length)
      sameReading(parseCrlDer(crlDer(crl)), parsed)
      sameReading(crl, parsed)
      for (const i of [0, 1, 17, unique.length - 1]) {
        const a = crl.entries[i] as x509.X509CrlEntry
        const b = parsed.entries[i] as x509.X509CrlEntry
        expect(Buffer.from(a.rawData).equals(Buffer.from(b.rawData))).toBe(true)
        expect([a.serialNumber, a.revocationDate, a.reason, a.invalidity]).toEqual([
          b.serialNumber,
          b.revocationDate,
          b.reason,
          b.invalidity,
        ])
      }
      // The whole array, as callers iterate it.
      expect(crl.entries.map((e) => e.serialNumber)).toEqual(parsed.entries.map((e) => e.serialNumber))
      expect(crl.entries.find((e) => e.serialNumber === parsed.entries[5]?.serialNumber)).toBeDefined()
      expect(crl.thisUpdate).toEqual(parsed.thisUpdate)
      expect(crl.issuer).toBe(parsed.issuer)
    })
  },
)

const revokedLineArb = fc
  .record({
    serial: fc.bigInt({ min: 1n, max: 2n ** 159n - 1n }),
    time: fc.date({
      min: new Date('1950-01-01T00:00:00Z'),
      max: new Date('2049-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    invalidity: fc.date({
      min: new Date('1900-01-01T00:00:00Z'),
      max: new Date('2199-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    form: fc.constantFrom(
      '',
      ',unspecified',
      ',keyCompromise',
      ',CACompromise',
      ',affiliationChanged',
      ',superseded',
      ',cessationOfOperation',
      ',certificateHold',
      ',keyTime,',
      ',CAkeyTime,',
      ',holdInstruction,holdInstructionReject',
      ',holdInstruction,1.2.840.10040.2.2',
    ),
  })
  .map(({ serial, time, invalidity, form }) => {
    const revocation =
      formatIndexTime(time) + (form.endsWith('Time,') ? form + generalizedTime(invalidity) : form)
    return revokedLine(serial, revocation)
  })

function generalizedTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

// ---------------------------------------------------------------------------------------------------
// revokedCertificatesDer (index.txt read for a CRL without Dates or BigInts) against crlListings, the
// straightforward reading it replaced in buildCrl: the same list, byte for byte, or the same error.

/** The revokedCertificates list of crlListings' entries, as the schema writes it (hex), or its error. */
function referenceList(entries: IndexEntry[], previous?: Date): { value: string } | { threw: string } {
  return outcome(() => {
    const listed = crlListings(entries, previous).map(listingEntry)
    return Buffer.from(AsnConvert.serialize(new RevokedList(listed))).toString('hex')
  })
}

function fastList(entries: IndexEntry[], previous?: Date): { value: string } | { threw: string } {
  // No list at all when nothing is listed: the SEQUENCE the schema writes for none is 3000.
  return outcome(() => revokedCertificatesDer(entries, previous)?.toString('hex') ?? '3000')
}

describe('revokedCertificatesDer: index.txt read for a CRL, against crlListings', () => {
  const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'))
  const utc = fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constantFrom('261128202105Z', '491231235959Z', '500101000000Z', '000229000000Z'),
    },
    {
      weight: 3,
      arbitrary: fc
        .date({ min: new Date('1950-01-01'), max: new Date('2049-12-31'), noInvalidDate: true })
        .map(formatIndexTime),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(two(0, 99), two(0, 13), two(0, 31), two(0, 24), two(0, 59), two(0, 60))
        .map((p) => `${p.join('')}Z`),
    },
  )
  const expiry = fc.oneof(
    { weight: 4, arbitrary: utc },
    {
      weight: 1,
      arbitrary: fc.constantFrom('20500101000000Z', '19491231235959Z', '20270229000000Z', '2712082021Z', ''),
    },
  )
  const reason = fc.constantFrom(
    ...Object.keys(REVOCATION_REASON_CODES),
    'KeyCompromise',
    'REMOVEFROMCRL',
    'stolen',
    '',
    'keyTime,20240102030405Z',
    'CAkeyTime,20500101000000Z',
    'cakeytime,20240102030405Z',
    'keyTime,2024010203040Z',
    'keyTime,20240230000000Z',
    'holdInstruction,holdInstructionReject',
    'holdInstruction,Hold Instruction Call Issuer',
    'holdInstruction,1.2.840.10040.2.3',
    'HoldInstruction,1.2.840.10040.2.1',
    'holdInstruction,1.2.',
    'superseded,x',
  )
  const revocation = fc.oneof(
    { weight: 3, arbitrary: utc },
    { weight: 6, arbitrary: fc.tuple(utc, reason).map(([t, r]) => `${t},${r}`) },
    { weight: 1, arbitrary: fc.constantFrom('', '20261128202105Z', '261128202105Z,', 'junk') },
  )
  const serial = fc.oneof(
    { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 2n ** 159n - 1n }).map(serialToHex) },
    { weight: 2, arbitrary: fc.constantFrom(...SERIAL_EDGES.map(serialToHex)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '00',
        '0',
        '',
        '001',
        '0001',
        'abc',
        '00ff01',
        '7' + 'F'.repeat(39),
        '8' + '0'.repeat(39),
        '00' + '7'.repeat(40),
        '1' + '0'.repeat(40),
        'xyz',
        '12 ',
        '1\u0010',
      ),
    },
  )
  const entry = fc
    .record({
      status: fc.constantFrom('R', 'R', 'R', 'V', 'E', 'X'),
      expiry,
      revocation,
      serial,
    })
    .map((f): IndexEntry => ({
      ...f,
      status: f.status as IndexEntry['status'],
      file: 'unknown',
      subject: '/CN=x',
    }))
  const previous = fc.option(
    fc.constantFrom(
      '2026-01-01T00:00:00Z',
      '2049-12-31T23:59:59Z',
      '2050-01-01T00:00:00Z',
      '2026-11-28T20:21:05Z',
      '2026-11-28T20:21:06Z',
      'invalid',
    ),
    { nil: undefined },
  )

  it('lists the same entries in the same order, or throws the same error, for any entries', () => {
    const outcomes = { listed: 0, refused: 0 }
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), previous, (entries, p) => {
        const at = p === undefined ? undefined : new Date(p)
        const expected = referenceList(entries, at)
        expect(fastList(entries, at)).toEqual(expected)
        outcomes['value' in expected ? 'listed' : 'refused']++
      }),
      { numRuns: 4000, seed: 11 },
    )
    // Both kinds of case are exercised.
    expect(Math.min(outcomes.listed, outcomes.refused)).toBeGreaterThan(1000)
  })

  it('lists duplicate serials in index order, as the stable sort of crlListings does', () => {
    const entries = [
      revokedLine(0x10n, '261128202105Z,superseded'),
      revokedLine(0x0fn, '261128202105Z'),
      { ...revokedLine(0x10n, '261128202105Z,keyCompromise'), serial: '0010' },
      { ...revokedLine(0xabn, '261128202105Z,KEYCOMPROMISE'), serial: 'ab' },
      revokedLine(0xabn, '261128202105Z,cessationOfOperation'),
    ]
    expect(fastList(entries)).toEqual(referenceList(entries))
    expect('value' in fastList(entries)).toBe(true)
  })

  it('lists serials sharing their leading octets in serial order (the writer’s sort key holds six)', () => {
    const base = 2n ** 150n + 0xabcdefn * 2n ** 100n
    const serials = fc.sample(
      fc.oneof(
        fc.bigInt({ min: 0n, max: 2n ** 24n }).map((n) => base + n),
        fc.bigInt({ min: 0n, max: 2n ** 24n }).map((n) => 2n ** 56n + n),
        fc.bigInt({ min: 1n, max: 2n ** 64n }),
      ),
      { numRuns: 3000, seed: 3 },
    )
    const entries = [...new Set(serials)].map((s) => revokedLine(s, '261128202105Z,superseded'))
    expect(fastList(entries)).toEqual(referenceList(entries))
  })
})

describe('crlPem', () => {
  it('writes the base64 in lines of 64 characters, whatever the length', () => {
    for (const length of [1, 2, 3, 47, 48, 49, 96, 97, 1000, 4801]) {
      const der = new Uint8Array(length).map((_, i) => (i * 151 + 7) & 0xff)
      const base64 = Buffer.from(der).toString('base64')
      const lines = base64.match(/.{1,64}/g) ?? []
      const crl = { rawData: der.buffer } as unknown as x509.X509Crl
      expect(crlPem(crl)).toBe(`-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`)
    }
  })
})

/** Entries in serial order, as X509_CRL_sort puts them (a stable sort: equal serials keep their order). */
function bySerial(entries: readonly RefEntry[]): RefEntry[] {
  return [...entries].sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))
}

describe('der-writer: the revokedCertificates list, byte for byte what the schema writes', () => {
  const TIME_EDGES = [
    '1949-12-31T23:59:59Z',
    '1950-01-01T00:00:00Z',
    '2000-02-29T12:00:00Z',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
    '1600-02-29T23:59:59Z',
    '2100-02-28T23:59:59Z',
    '2100-03-01T00:00:00Z',
    '2400-02-29T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '1000-01-01T00:00:00Z',
    '2049-12-31T23:59:59Z',
    '2050-01-01T00:00:00Z',
  ].map((t) => new Date(t))
  const anyDate = fc.date({
    min: new Date('1000-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  })
  const entryArb = fc.record(
    {
      serial: fc.oneof(fc.constantFrom(...SERIAL_EDGES), fc.bigInt({ min: 1n, max: 2n ** 159n - 1n })),
      revocationDate: fc.oneof(fc.constantFrom(...TIME_EDGES), anyDate),
      reasonCode: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 8, 9, 10),
      invalidityDate: fc.oneof(fc.constantFrom(...TIME_EDGES), anyDate),
      holdInstructionOid: fc.oneof(
        fc.constantFrom('1.2.840.10040.2.1', '1.2.840.10040.2.2', '1.2.840.10040.2.3'),
        fc
          .tuple(
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 39 }),
            fc.array(fc.nat(), { maxLength: 6 }),
          )
          .map(([a, b, rest]) => [a, b, ...rest].join('.')),
      ),
    },
    { requiredKeys: ['serial', 'revocationDate'] },
  )
  const whole = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000)
  /** The entry in the writer's form: hex serial, times as the ASN.1 text crl.ts gives (derEntry). */
  const derForm = (e: RefEntry): DerRevokedEntry => ({
    serial: e.serial.toString(16),
    revocationDate: formatIndexTime(e.revocationDate),
    reasonCode: e.reasonCode,
    invalidityDate: e.invalidityDate === undefined ? undefined : formatGeneralizedTime(e.invalidityDate),
    holdInstructionOid: e.holdInstructionOid,
  })

  it('for random entries (times 1000–9999, both sides of 1950 and 2050; any hold OID)', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 40 }), (raw) => {
        const entries: RefEntry[] = raw.map((e) => ({
          ...e,
          revocationDate: whole(e.revocationDate),
          invalidityDate: e.invalidityDate === undefined ? undefined : whole(e.invalidityDate),
        }))
        const ours = encodeRevokedCertificates(entries.map(derForm))
        const tbs = new TBSCertList({ revokedCertificates: bySerial(entries).map(refEntry) })
        // The list is the TBSCertList's revokedCertificates: cut it out of the schema's encoding.
        const listRef = new Uint8Array(AsnConvert.serialize(new RevokedList(tbs.revokedCertificates ?? [])))
        expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(listRef).toString('hex'))
      }),
      { numRuns: 300, seed: 42 },
    )
  })

  it('for long lists (multi-octet lengths)', () => {
    const entries: RefEntry[] = Array.from({ length: 2000 }, (_, i) => ({
      serial: 2n ** 158n + BigInt(i) * 7919n,
      revocationDate: new Date(Date.UTC(2049, 11, 31, 23, 59, 59) - i * 1000),
      reasonCode: i % 11 === 7 ? undefined : i % 11,
      invalidityDate: i % 3 === 0 ? new Date(Date.UTC(2050, 0, 1) + i * 1000) : undefined,
      holdInstructionOid: i % 5 === 0 ? '1.2.840.10040.2.2' : undefined,
    }))
    const listRef = new Uint8Array(AsnConvert.serialize(new RevokedList(bySerial(entries).map(refEntry))))
    const shuffled = fc.sample(fc.shuffledSubarray(entries, { minLength: entries.length }), {
      numRuns: 1,
      seed: 7,
    })
    expect(Buffer.from(encodeRevokedCertificates(entries.map(derForm))).equals(Buffer.from(listRef))).toBe(
      true,
    )
    const ours = encodeRevokedCertificates((shuffled[0] as RefEntry[]).map(derForm))
    expect(Buffer.from(ours).equals(Buffer.from(listRef))).toBe(true)
  })

  it('splices the list before crlExtensions and keeps the SEQUENCE lengths right', () => {
    const inner = Uint8Array.from([0x02, 0x01, 0x01, 0xa0, 0x02, 0x05, 0x00])
    const seq = Uint8Array.from([0x30, inner.length, ...inner])
    const element = new Uint8Array(300).fill(0x41)
    element[0] = 0x04
    element[1] = 0x82
    element[2] = 0x01
    element[3] = 0x28
    const out = insertIntoSequence(seq, element, 0xa0)
    expect(Buffer.from(out.subarray(0, 4)).toString('hex')).toBe('30820133')
    expect(Buffer.from(out.subarray(4, 7)).toString('hex')).toBe('020101')
    expect(Buffer.from(out.subarray(7 + 300)).toString('hex')).toBe('a0020500')
  })
})

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RevokedCertificate })
class RevokedList extends AsnArray<RevokedCertificate> {
  constructor(items?: RevokedCertificate[]) {
    super(items)
    Object.setPrototypeOf(this, RevokedList.prototype)
  }
}

/** The CRL as @peculiar/x509 reads it, all at once (the reference for parseCrlDer). */
function libraryCrl(der: Uint8Array): x509.X509Crl {
  return new x509.X509Crl(der, parseLimitsFor(der.byteLength))
}

const hex = (b: ArrayBuffer | Uint8Array) =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex')

/** Everything the X509Crl API says about `ours` is what it says about `ref`. */
function sameReading(ours: x509.X509Crl, ref: x509.X509Crl): void {
  expect(hex(ours.rawData)).toBe(hex(ref.rawData))
  expect([ours.version, ours.issuer, ours.thisUpdate, ours.nextUpdate]).toEqual([
    ref.version,
    ref.issuer,
    ref.thisUpdate,
    ref.nextUpdate,
  ])
  expect(ours.signatureAlgorithm).toEqual(ref.signatureAlgorithm)
  expect(hex(ours.signature)).toBe(hex(ref.signature))
  const tbs = (c: x509.X509Crl) => hex((c as unknown as { tbs: ArrayBuffer }).tbs)
  expect(tbs(ours)).toBe(tbs(ref))
  expect(ours.extensions.map((e) => hex(e.rawData))).toEqual(ref.extensions.map((e) => hex(e.rawData)))
  expect(ours.entries.length).toBe(ref.entries.length)
  const reading = (e: x509.X509CrlEntry) => [
    hex(e.rawData),
    e.serialNumber,
    e.revocationDate,
    e.reason,
    e.invalidity,
    e.extensions.map((x) => hex(x.rawData)),
  ]
  expect(ours.entries.map(reading)).toEqual(ref.entries.map(reading))
  expect([...ours.entries].length).toBe(ref.entries.length)
  expect(ours.entries.flatMap((e) => e.extensions).length).toBe(
    ref.entries.flatMap((e) => e.extensions).length,
  )
  // The ASN.1 object too, revokedCertificates included (parsed on first read).
  const asn = (ours as unknown as { asn: CertificateList }).asn
  expect(hex(AsnConvert.serialize(asn))).toBe(hex(ref.rawData))
}

describe('parseCrlDer: the library’s reading of a CRL, without parsing every entry up front', () => {
  let ca: TutorialCa
  let der: Uint8Array
  beforeAll(async () => {
    ca = makeTutorialCa()
    der = crlDer(await buildCrl(params(ca)))
  })

  it('reads a CRL made by openssl ca -gencrl as the library does', () => {
    const out = join(ca.dir, 'openssl-made.crl.pem')
    opensslOk(['ca', '-gencrl', '-config', ca.cnf, '-out', out])
    const pem = readFileSync(out, 'utf8')
    sameReading(parseCrlPem(pem), new x509.X509Crl(pem))
    expect(parseCrlPem(pem).entries.length).toBeGreaterThan(5)
  })

  it('reads ours as the library does (and one with nothing revoked)', async () => {
    sameReading(parseCrlDer(der), libraryCrl(der))
    const empty = crlDer(await buildCrl(params(ca, { entries: [] })))
    sameReading(parseCrlDer(empty), libraryCrl(empty))
    expect(parseCrlDer(empty).entries).toEqual([])
  })

  it('still reads PEM given as bytes, as the library does', () => {
    const pem = Buffer.from(new x509.X509Crl(der).toString('pem'))
    expect(hex(parseCrlDer(pem).rawData)).toBe(hex(der))
  })

  it('refuses at once a CRL whose entries are not well formed', () => {
    const outer = readTlv(der, 0)
    const tbs = readTlv(der, outer.contentStart, outer.end)
    let revoked: ReturnType<typeof readTlv> | undefined
    let seen = 0
    for (let at = tbs.contentStart; at < tbs.end;) {
      const child = readTlv(der, at, tbs.end)
      if (child.tag === 0x30 && ++seen === 3) revoked = child
      at = child.end
    }
    if (revoked === undefined) throw new Error('no revokedCertificates')
    const entry = readTlv(der, revoked.contentStart, revoked.end)
    const serial = readTlv(der, entry.contentStart, entry.end)
    const corrupt = (offset: number, value: number) => {
      const copy = Uint8Array.from(der)
      copy[offset] = value
      return copy
    }
    expect(() => parseCrlDer(corrupt(serial.start, 0x04))).toThrow() // serial not an INTEGER
    expect(() => parseCrlDer(corrupt(serial.end, 0x04))).toThrow() // time not a time
    expect(() => parseCrlDer(corrupt(serial.end + 2, 0x41))).toThrow() // time digits
    expect(() => parseCrlDer(corrupt(entry.start, 0x31))).toThrow() // entry not a SEQUENCE
    expect(() => parseCrlDer(der.subarray(0, der.length - 10))).toThrow() // truncated
  })
})
