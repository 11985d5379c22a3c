/**
 * verifyCertificate against the reference: every scenario is also put to
 * `openssl verify -x509_strict -check_ss_sig [-crl_check]`, and both must reach the same verdict.
 */
import {
  cleanupTempDirs,
  opensslMerged as openssl,
  opensslMergedOk as opensslOk,
} from './support/ca-fixture.js'
import { issueWithOpensslCa, tutorialCa } from './support/tutorial-ca.js'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyCertificate, sameName, type VerificationResult } from '../src/ca/chain-verification.js'
import { buildCrl, crlPem } from '../src/ca/crl.js'
import { CaError } from '../src/ca/errors.js'
import { parseIndex } from '../src/ca/index-txt.js'
import { fileSigner } from '../src/keys/file-signer.js'

afterAll(cleanupTempDirs)

/** The same PEM with one bit of the signature flipped. */
function tampered(pem: string, label = 'CERTIFICATE'): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

const DAY = 86_400_000

describe('verifyCertificate', () => {
  let dir: string
  let other: string
  const files: Record<string, string> = {}
  const crls: Record<string, x509.X509Crl> = {}
  const read = (name: string) => readFileSync(files[name]!, 'utf8')

  beforeAll(async () => {
    dir = tutorialCa()
    other = tutorialCa()
    const issue = (name: string, validity: string[]) => issueWithOpensslCa(dir, name, validity).cert
    files.root = join(dir, 'rootCA/certs/ca.cert.pem')
    files.intermediate = join(dir, 'intermediateCA/certs/intermediate.cert.pem')
    files.www = join(dir, 'intermediateCA/certs/www.example.com.cert.pem')
    files.api = join(dir, 'intermediateCA/certs/api.example.com.cert.pem') // revoked: keyCompromise
    files.expired = issue('expired', ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'])
    files.future = issue('future', ['-startdate', '20400101000000Z', '-enddate', '20410101000000Z'])
    files.otherWww = join(other, 'intermediateCA/certs/www.example.com.cert.pem')
    files.otherIntermediate = join(other, 'intermediateCA/certs/intermediate.cert.pem')
    const write = (name: string, pem: string) => {
      files[name] = join(dir, `${name}.pem`)
      writeFileSync(files[name], pem)
    }
    write('tamperedWww', tampered(read('www')))
    write('tamperedRoot', tampered(read('root')))

    // an "intermediate" the root signed without CA:TRUE, and a leaf under it
    const ext = join(dir, 'not-ca.ext')
    writeFileSync(
      ext,
      [
        '[ notca ]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '[ leaf ]',
        'basicConstraints = CA:FALSE',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    )
    const rootKey = join(dir, 'rootCA/private/ca.key.pem')
    opensslOk(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'notca.key',
        '-subj',
        '/CN=Not A CA',
        '-out',
        'notca.csr',
      ],
      dir,
    )
    opensslOk(
      [
        'x509',
        '-req',
        '-in',
        'notca.csr',
        '-CA',
        files.root,
        '-CAkey',
        rootKey,
        '-set_serial',
        '77',
        '-days',
        '30',
        '-extfile',
        ext,
        '-extensions',
        'notca',
        '-out',
        'notca.pem',
      ],
      dir,
    )
    opensslOk(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'under.key',
        '-subj',
        '/CN=under.example.com',
        '-out',
        'under.csr',
      ],
      dir,
    )
    opensslOk(
      [
        'x509',
        '-req',
        '-in',
        'under.csr',
        '-CA',
        'notca.pem',
        '-CAkey',
        'notca.key',
        '-set_serial',
        '78',
        '-days',
        '30',
        '-extfile',
        ext,
        '-extensions',
        'leaf',
        '-out',
        'under.pem',
      ],
      dir,
    )
    files.notCa = join(dir, 'notca.pem')
    files.underNotCa = join(dir, 'under.pem')

    // CRLs of the intermediate, built by us from its index.txt
    const intermediate = new x509.X509Certificate(read('intermediate'))
    const issuer = {
      certificate: intermediate,
      keyId: intermediate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
      signer: fileSigner(
        readFileSync(join(dir, 'intermediateCA/private/intermediate.key.pem')),
        'intermediate',
      ),
    }
    const entries = parseIndex(readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8'))
    const now = Date.now()
    const crl = (name: string, from: number, to: number) =>
      buildCrl({
        entries,
        issuer,
        crlNumber: 0x1000n,
        thisUpdate: new Date(now + from),
        nextUpdate: new Date(now + to),
      }).then((c) => {
        crls[name] = c
        files[`crl:${name}`] = join(dir, `crl-${name}.pem`)
        writeFileSync(files[`crl:${name}`]!, crlPem(c))
      })
    await crl('current', -60_000, 30 * DAY)
    await crl('expired', -60 * DAY, -30 * DAY)
    await crl('future', 2 * DAY, 30 * DAY)
    // the other CA's CRL: the same issuer name, another key
    const otherIntermediate = new x509.X509Certificate(readFileSync(files.otherIntermediate, 'utf8'))
    crls.otherCa = await buildCrl({
      entries: [],
      issuer: {
        certificate: otherIntermediate,
        keyId: otherIntermediate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
        signer: fileSigner(readFileSync(join(other, 'intermediateCA/private/intermediate.key.pem')), 'other'),
      },
      crlNumber: 1n,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 30 * DAY),
    })
    files['crl:otherCa'] = join(dir, 'crl-otherCa.pem')
    writeFileSync(files['crl:otherCa'], crlPem(crls.otherCa))
    files['crl:tampered'] = join(dir, 'crl-tampered.pem')
    writeFileSync(files['crl:tampered'], tampered(crlPem(crls.current!), 'X509 CRL'))
    crls.tampered = new x509.X509Crl(
      Buffer.from(readFileSync(files['crl:tampered'], 'utf8').replace(/-----[^-]+-----/g, ''), 'base64'),
    )
  })

  interface Scenario {
    certificate: string
    intermediate?: string
    root?: string
    crl?: string
    expected: VerificationResult['ok'] | string
    about?: string
    /** What `openssl verify` prints for the same inputs. */
    openssl: RegExp
  }

  it.each<[string, Scenario]>([
    [
      'a good certificate, with the CRL',
      { certificate: 'www', crl: 'current', expected: true, openssl: /: OK\n$/ },
    ],
    ['a good certificate, no CRL', { certificate: 'www', expected: true, openssl: /: OK\n$/ }],
    [
      'a revoked certificate',
      {
        certificate: 'api',
        crl: 'current',
        expected: 'revoked',
        about: 'leaf',
        openssl: /error 23 at 0 depth lookup: certificate revoked/,
      },
    ],
    [
      'a revoked certificate, no CRL: not checked',
      { certificate: 'api', expected: true, openssl: /: OK\n$/ },
    ],
    [
      'an expired certificate',
      {
        certificate: 'expired',
        crl: 'current',
        expected: 'expired',
        about: 'leaf',
        openssl: /error 10 at 0 depth lookup: certificate has expired/,
      },
    ],
    [
      'a certificate not valid yet',
      {
        certificate: 'future',
        crl: 'current',
        expected: 'not_yet_valid',
        about: 'leaf',
        openssl: /error 9 at 0 depth lookup: certificate is not yet valid/,
      },
    ],
    [
      'a certificate of another CA with the same names',
      {
        certificate: 'otherWww',
        crl: 'current',
        expected: 'unknown_issuer',
        about: 'leaf',
        openssl: /error 20 at 0 depth lookup: unable to get local issuer certificate/,
      },
    ],
    [
      'another CA’s intermediate under our root',
      {
        certificate: 'otherWww',
        intermediate: 'otherIntermediate',
        expected: 'unknown_issuer',
        about: 'intermediate',
        openssl: /error 20 at 1 depth lookup: unable to get local issuer certificate/,
      },
    ],
    [
      'the intermediate given as the root',
      {
        certificate: 'www',
        root: 'intermediate',
        expected: 'unknown_issuer',
        about: 'root',
        openssl: /error 2 at 1 depth lookup: unable to get issuer certificate/,
      },
    ],
    [
      'a tampered leaf signature',
      {
        certificate: 'tamperedWww',
        crl: 'current',
        expected: 'bad_signature',
        about: 'leaf',
        openssl: /error 7 at 0 depth lookup: certificate signature failure/,
      },
    ],
    [
      'a tampered root self-signature',
      {
        certificate: 'www',
        root: 'tamperedRoot',
        expected: 'bad_signature',
        about: 'root',
        openssl: /error 7 at 2 depth lookup: certificate signature failure/,
      },
    ],
    [
      'an expired CRL',
      {
        certificate: 'www',
        crl: 'expired',
        expected: 'crl_expired',
        about: 'crl',
        openssl: /error 12 at 0 depth lookup: CRL has expired/,
      },
    ],
    [
      'a CRL not valid yet',
      {
        certificate: 'www',
        crl: 'future',
        expected: 'crl_invalid',
        about: 'crl',
        openssl: /error 11 at 0 depth lookup: CRL is not yet valid/,
      },
    ],
    [
      'a CRL with a tampered signature',
      {
        certificate: 'www',
        crl: 'tampered',
        expected: 'crl_invalid',
        about: 'crl',
        openssl: /error 8 at 0 depth lookup: CRL signature failure/,
      },
    ],
    [
      'a CRL of another key with the same issuer name',
      {
        certificate: 'www',
        crl: 'otherCa',
        expected: 'crl_invalid',
        about: 'crl',
        openssl: /error 3 at 0 depth lookup: unable to get certificate CRL/,
      },
    ],
    [
      'an intermediate that is not a CA',
      {
        certificate: 'underNotCa',
        intermediate: 'notCa',
        expected: 'invalid_ca',
        about: 'intermediate',
        openssl: /error \d+ at 1 depth lookup: invalid CA certificate/,
      },
    ],
  ])('%s', (_name, s) => {
    const result = verifyCertificate({
      certificate: read(s.certificate),
      intermediate: read(s.intermediate ?? 'intermediate'),
      root: read(s.root ?? 'root'),
      crl: s.crl === undefined ? undefined : crls[s.crl],
      now: new Date(),
    })
    if (s.expected === true) {
      expect(result).toMatchObject({ ok: true, revocationChecked: s.crl !== undefined })
    } else {
      expect(result).toMatchObject({ ok: false, reason: s.expected, about: s.about })
    }
    const crlArgs = s.crl === undefined ? [] : ['-crl_check', '-CRLfile', files[`crl:${s.crl}`]!]
    const theirs = openssl([
      'verify',
      '-x509_strict',
      '-check_ss_sig',
      ...crlArgs,
      '-CAfile',
      files[s.root ?? 'root']!,
      '-untrusted',
      files[s.intermediate ?? 'intermediate']!,
      files[s.certificate]!,
    ])
    expect(theirs.out).toMatch(s.openssl)
    expect(theirs.status === 0).toBe(s.expected === true)
  })

  it('says why and when a certificate was revoked, as the CLI prints it', () => {
    const result = verifyCertificate({
      certificate: read('api'),
      intermediate: read('intermediate'),
      root: read('root'),
      crl: crlPem(crls.current!),
      now: new Date(),
    })
    if (result.ok) throw new Error('expected a failure')
    const entry = crls.current!.entries.find((e) => e.serialNumber === '1001')!
    const date = entry.revocationDate.toISOString().replace('.000Z', 'Z')
    expect(result.message).toBe(`revoked (keyCompromise) on ${date}`)
    expect(result.revocation).toEqual({ reason: 'keyCompromise', date: entry.revocationDate })
  })

  it('names the certificate and the date when it expired', () => {
    const result = verifyCertificate({
      certificate: read('expired'),
      intermediate: read('intermediate'),
      root: read('root'),
      now: new Date(),
    })
    expect(result).toMatchObject({
      ok: false,
      message: 'the leaf CN=expired.example.com expired on 2021-01-01T00:00:00Z',
    })
  })

  it('uses the clock it is given: in 2020 the root did not exist yet; after nextUpdate the CRL is stale', () => {
    const args = { certificate: read('expired'), intermediate: read('intermediate'), root: read('root') }
    expect(verifyCertificate({ ...args, now: new Date('2020-06-01T00:00:00Z') })).toMatchObject({
      ok: false,
      reason: 'not_yet_valid',
      about: 'root',
    })
    const www = { ...args, certificate: read('www'), crl: crls.current! }
    expect(verifyCertificate({ ...www, now: new Date() }).ok).toBe(true)
    expect(
      verifyCertificate({ ...www, now: new Date(crls.current!.nextUpdate!.getTime() + 1000) }),
    ).toMatchObject({
      ok: false,
      reason: 'crl_expired',
    })
  })

  it('accepts parsed certificates and DER as well as PEM', () => {
    const result = verifyCertificate({
      certificate: new x509.X509Certificate(read('www')),
      intermediate: new Uint8Array(new x509.X509Certificate(read('intermediate')).rawData),
      root: read('root'),
      crl: new Uint8Array(crls.current!.rawData),
      now: new Date(),
    })
    expect(result).toMatchObject({
      ok: true,
      serial: '1000',
      subject: 'C=US, O=Example Corp, CN=www.example.com',
    })
  })

  it('refuses input that is not a certificate with a typed error', () => {
    let error: unknown
    try {
      verifyCertificate({
        certificate: 'hello',
        intermediate: read('intermediate'),
        root: read('root'),
        now: new Date(),
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(CaError)
    expect((error as CaError).code).toBe('verify.failed')
  })
})

describe('sameName', () => {
  const der = (dn: string) => new x509.Name(dn).toArrayBuffer()
  it.each([
    ['CN=Intermediate CA, O=Example Corp', 'CN=Intermediate CA, O=Example Corp', true],
    ['CN=Intermediate CA, O=Example Corp', 'CN=intermediate   ca, O=EXAMPLE CORP', true],
    ['CN=Intermediate CA, O=Example Corp', 'O=Example Corp, CN=Intermediate CA', false],
    ['CN=Intermediate CA, O=Example Corp', 'CN=Intermediate CA 2, O=Example Corp', false],
    ['CN=Intermediate CA', 'CN=Intermediate CA, O=Example Corp', false],
  ])('%s vs %s: %s', (a, b, same) => {
    expect(sameName(der(a), der(b))).toBe(same)
  })
})
