/**
 * What `revoke` is given is checked before it changes anything: a certificate must verify with the
 * CA's key (a forgery with the CA's name and a victim's serial revokes nobody), and an invalidity
 * date must be a real time between the certificate's start and now. Each refusal runs through the
 * CLI and leaves the CA directory byte-identical; what is accepted is put to openssl.
 */
import 'reflect-metadata'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { signCertificate, type CertificateTemplate } from '../src/ca/certificate.js'
import type { ErrorCode } from '../src/ca/errors.js'
import {
  akiExtension,
  basicConstraints,
  extendedKeyUsage,
  keyUsage,
  skiExtension,
  subjectKeyIdentifier,
} from '../src/ca/extensions.js'
import { parseCertificatePem } from '../src/commands/ca-state.js'
import { fileSigner, generatePrivateKeyPem } from '../src/keys/file-signer.js'
import {
  caFiles,
  cleanupTempDirs,
  initCa,
  makeCsr,
  opensslMergedOk,
  readCaYml,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const DAY = 86_400_000
const CRL = 'intermediateCA/crl/intermediate.crl.pem'

async function caWithLeaf(): Promise<{ dir: string; serial: string; cert: string }> {
  const dir = await initCa()
  const work = tempDir()
  const csr = makeCsr(work, 'victim', { subject: '/CN=victim.example.com' })
  const r = await runCli(['sign', '--dir', dir, '--json', csr], work)
  expect(r.status).toBe(0)
  return {
    dir,
    serial: JSON.parse(r.stdout).issued[0].serial as string,
    cert: join(dir, 'certs/victim.cert.pem'),
  }
}

/**
 * A certificate naming the intermediate as its issuer, with the victim's serial and subject, signed
 * by a key of the forger's: with no AKI, with a made-up AKI, or with the intermediate's real AKI.
 */
async function forged(dir: string, serial: string, aki: 'none' | 'wrong' | 'real'): Promise<string> {
  const intermediate = parseCertificatePem(readFileSync(caFiles(dir).intermediate, 'utf8'), 'intermediate')
  const victim = parseCertificatePem(readFileSync(join(dir, 'certs/victim.cert.pem'), 'utf8'), 'victim')
  const signer = fileSigner(generatePrivateKeyPem('ec-p256'), 'file:forger.key.pem')
  const keyId = { none: undefined, wrong: '0b'.repeat(20), real: intermediate.keyId }[aki]
  const template: CertificateTemplate = {
    serial: BigInt(`0x${serial}`),
    subject: victim.subject,
    issuer: intermediate.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    spki: signer.spki,
    extensions: [
      skiExtension(subjectKeyIdentifier(signer.spki)),
      ...(keyId === undefined ? [] : [akiExtension(keyId)]),
      basicConstraints(false),
      keyUsage(['digitalSignature']),
      extendedKeyUsage(['1.3.6.1.5.5.7.3.1']),
    ],
  }
  const file = join(tempDir(), `forged-${aki}.pem`)
  writeFileSync(file, (await signCertificate(template, signer)).toString('pem') + '\n')
  return file
}

/** The victim's real certificate with one bit of its signature flipped. */
function tamperedVictim(dir: string): string {
  const pem = readFileSync(join(dir, 'certs/victim.cert.pem'), 'utf8')
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')
  const file = join(tempDir(), 'tampered.pem')
  writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`)
  return file
}

async function expectRefusal(dir: string, args: string[], code: ErrorCode, message?: RegExp) {
  const before = snapshot(dir)
  const r = await runCli([...args, '--dir', dir, '--json'], dir)
  const error = JSON.parse(r.stdout).error
  expect(error.code).toBe(code)
  if (message) expect(error.message).toMatch(message)
  expect(r.status).toBe(code === 'usage.invalid' ? 2 : 1)
  expect(snapshot(dir)).toEqual(before)
}

describe('revoke refuses a certificate this CA did not sign', () => {
  it.each<[string, (dir: string, serial: string) => Promise<string>, ErrorCode, RegExp]>([
    [
      "another key's certificate under the intermediate's name, no AKI, the victim's serial",
      (dir, serial) => forged(dir, serial, 'none'),
      'revoke.not_issued_by_ca',
      /signature does not verify with the CA's key/,
    ],
    [
      'the same with a wrong AKI',
      (dir, serial) => forged(dir, serial, 'wrong'),
      'revoke.wrong_issuer',
      /issued by another key/,
    ],
    [
      "the same with the intermediate's own AKI (a bad signature)",
      (dir, serial) => forged(dir, serial, 'real'),
      'revoke.not_issued_by_ca',
      /signature does not verify with the CA's key/,
    ],
    [
      "the victim's real certificate with its signature altered",
      async (dir) => tamperedVictim(dir),
      'revoke.not_issued_by_ca',
      /signature does not verify/,
    ],
  ])('%s', async (_name, make, code, message) => {
    const { dir, serial } = await caWithLeaf()
    const file = await make(dir, serial)
    await expectRefusal(dir, ['revoke', file, '--reason', 'keyCompromise'], code, message)
    // the victim is still fine in the eyes of openssl, with the CRL the CA publishes
    expect((await runCli(['crl', '--dir', dir], dir)).status).toBe(0)
    const f = caFiles(dir)
    const crl = join(dir, CRL)
    const out = opensslMergedOk(
      ['verify', '-crl_check', '-CRLfile', crl, '-CAfile', f.chain, join(dir, 'certs/victim.cert.pem')],
      dir,
    )
    expect(out).toMatch(/: OK\n/)
  })

  it('says which --intermediate to give for a certificate of a previous intermediate, and revokes it there', async () => {
    const { dir, serial, cert } = await caWithLeaf()
    const rotated = await runCli(['rotate-intermediate', '--dir', dir], dir)
    expect(rotated.stderr).toBe('')
    const previous = readCaYml(dir).intermediate.previous![0]!.serial
    await expectRefusal(
      dir,
      ['revoke', cert, '--reason', 'superseded'],
      'revoke.wrong_issuer',
      new RegExp(`previous intermediate ${previous}: revoke it with --intermediate ${previous}`),
    )
    const r = await runCli(
      ['revoke', cert, '--reason', 'superseded', '--intermediate', previous, '--dir', dir],
      dir,
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const index = readFileSync(join(dir, readCaYml(dir).intermediate.previous![0]!.dir, 'index.txt'), 'utf8')
    expect(index).toMatch(new RegExp(`^R\\t.*,superseded\\t${serial}\\t`, 'm'))
  })
})

describe('revoke checks the invalidity date', () => {
  const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString()
  it.each<[string, () => string, ErrorCode, RegExp]>([
    ['in the future (a day ahead)', () => inDays(1), 'revoke.invalidity_in_future', /is after now/],
    [
      'in the far future',
      () => '2099-01-01T00:00:00Z',
      'revoke.invalidity_in_future',
      /2099-01-01T00:00:00Z/,
    ],
    [
      'before the certificate began (far past)',
      () => '1999-06-01',
      'revoke.invalidity_before_issue',
      /before/,
    ],
    [
      'before the certificate began (a day before)',
      () => inDays(-1),
      'revoke.invalidity_before_issue',
      /before/,
    ],
    ['unparsable', () => 'yesterday', 'usage.invalid', /ISO 8601/],
    ['a bare number', () => '1', 'usage.invalid', /ISO 8601/],
    ['a day that does not exist', () => '2026-02-30', 'usage.invalid', /ISO 8601/],
    ['a local time without zone', () => '2026-01-01T10:00:00', 'usage.invalid', /ISO 8601/],
    ['hour 24', () => '2026-01-01T24:00:00Z', 'usage.invalid', /ISO 8601/],
  ])('refuses an invalidity date %s', async (_name, date, code, message) => {
    const { dir, serial, cert } = await caWithLeaf()
    for (const target of [serial, cert]) {
      await expectRefusal(
        dir,
        ['revoke', target, '--reason', 'keyCompromise', '--invalidity-date', date()],
        code,
        message,
      )
    }
  })

  it('records an invalidity date between the certificate start and now, and openssl reads it', async () => {
    const { dir, serial } = await caWithLeaf()
    const when = new Date(Math.floor(Date.now() / 1000) * 1000) // the second the certificate began, or later
    const r = await runCli(
      ['revoke', serial, '--reason', 'keyCompromise', '--invalidity-date', when.toISOString(), '--dir', dir],
      dir,
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const crl = join(dir, CRL)
    const text = opensslMergedOk(['crl', '-in', crl, '-noout', '-text'], dir)
    expect(text).toContain('Invalidity Date')
  })
})
