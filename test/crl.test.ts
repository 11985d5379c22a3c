/**
 * CRLs checked against the reference: the tutorial's `openssl ca` directory (made by the real
 * openssl), our CRL built from its index.txt with its intermediate key, and what `openssl ca -gencrl`,
 * `openssl crl` and `openssl verify -crl_check` say about it.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildCrl, crlDer, crlListings, crlPem, type CrlParams } from '../src/ca/crl.js'
import { CaError } from '../src/ca/errors.js'
import { parseIndex, serializeIndex, type IndexEntry } from '../src/ca/index-txt.js'
import { parseSerialFile } from '../src/ca/serial-number.js'
import { fileSigner, generatePrivateKeyPem } from '../src/keys/file-signer.js'
import type { SignatureScheme, Signer } from '../src/keys/signer.js'

const TUTORIAL = '/work/shared/reference/tutorial-ca.sh'
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mtls-ca-crl-'))
  dirs.push(d)
  return d
}

/** Runs openssl; OpenSSL 3.0 exits 0 on some failures, so callers read the output. */
function openssl(args: string[], cwd?: string): { status: number; out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

function opensslOk(args: string[], cwd?: string): string {
  const r = openssl(args, cwd)
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.out}`)
  return r.out
}

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
  const dir = tempDir()
  const r = spawnSync('bash', [TUTORIAL, dir], { env: { ...process.env, KEYBITS: '2048' }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`tutorial-ca.sh failed: ${r.stderr}`)
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
    const key = join(dir, `${name}.key.pem`)
    const csr = join(dir, `${name}.csr.pem`)
    const cert = join(dir, `${name}.cert.pem`)
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
    opensslOk(['req', '-config', cnf, '-key', key, '-new', '-subj', `/CN=${name}.example.com`, '-out', csr])
    opensslOk([
      'ca',
      '-batch',
      '-config',
      cnf,
      '-extensions',
      'server_cert',
      '-days',
      '30',
      '-notext',
      '-in',
      csr,
      '-out',
      cert,
    ])
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

describe.each([
  ['ec-p256', 'ES256'],
  ['ec-p384', 'ES384'],
  ['rsa-2048', 'PS256'],
] as const)('a CRL signed with a %s key (%s)', (keyType, scheme: SignatureScheme) => {
  it('verifies with openssl crl -CAfile', async () => {
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
        '/O=Other/CN=Test CA',
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
      issuer: { certificate, keyId: skiOf(certificate), signer: fileSigner(keyPem, 'file:ca.key', scheme) },
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
