/**
 * The CA checks its own certificates before it signs: ca.yml naming the root as the intermediate, a
 * self-signed intermediate, one from another root, one whose key is not its certificate's, expired,
 * not yet valid, without CA rights, under an expired root. Each is refused through the CLI by sign,
 * crl and revoke with its code, and the CA directory is byte-identical afterwards. The same files are
 * put to `openssl verify -x509_strict -check_ss_sig`, the reference for what the chain must satisfy.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkCaCertificates } from '../src/ca/ca-self-check.js'
import { signCertificate, type CertificateTemplate } from '../src/ca/certificate.js'
import type { ErrorCode } from '../src/ca/errors.js'
import {
  akiExtension,
  basicConstraints,
  keyUsage,
  skiExtension,
  subjectKeyIdentifier,
} from '../src/ca/extensions.js'
import { parseCertificatePem } from '../src/commands/ca-state.js'
import { fileSigner, generatePrivateKeyPem } from '../src/keys/file-signer.js'
import type { Signer } from '../src/ca/signer.js'
import {
  caFiles,
  cleanupTempDirs,
  editCaYml,
  initCa,
  makeCsr,
  openssl,
  runCli,
  snapshot,
  tempDir,
  verifyLeaf,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const DAY = 86_400_000
const ROOT_KEY = 'rootCA/private/ca.key.pem'
const INTERMEDIATE_KEY = 'intermediateCA/private/intermediate.key.pem'

function signerOf(dir: string, path: string): Signer {
  return fileSigner(readFileSync(join(dir, path)), `file:${path}`)
}

function certOf(dir: string, path: string) {
  return parseCertificatePem(readFileSync(join(dir, path), 'utf8'), path)
}

interface IntermediateSpec {
  /** Signs the intermediate (default: the root's key). */
  issuer?: Signer
  /** The issuer's name and key id as the certificate states them (default: the root's). */
  issuerOf?: { subject: ReturnType<typeof certOf>['subject']; keyId: string }
  notBefore?: Date
  notAfter?: Date
  extensions?: (ski: string, aki: string) => x509.Extension[]
}

/** Rewrites the intermediate's certificate (same subject, same key) as the spec says. */
async function writeIntermediate(dir: string, spec: IntermediateSpec = {}): Promise<void> {
  const root = certOf(dir, 'rootCA/certs/ca.cert.pem')
  const current = certOf(dir, 'intermediateCA/certs/intermediate.cert.pem')
  const issuerOf = spec.issuerOf ?? { subject: root.subject, keyId: root.keyId }
  const ski = subjectKeyIdentifier(current.spki)
  const now = Date.now()
  const template: CertificateTemplate = {
    serial: 0x1234n,
    subject: current.subject,
    issuer: issuerOf.subject,
    notBefore: spec.notBefore ?? new Date(now - DAY),
    notAfter: spec.notAfter ?? new Date(now + 30 * DAY),
    spki: current.spki,
    extensions: spec.extensions?.(ski, issuerOf.keyId) ?? [
      skiExtension(ski),
      akiExtension(issuerOf.keyId),
      basicConstraints(true, 0),
      keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
    ],
  }
  const cert = await signCertificate(template, spec.issuer ?? signerOf(dir, ROOT_KEY))
  writeFileSync(caFiles(dir).intermediate, cert.toString('pem') + '\n')
}

/** Rewrites the root (same subject and key) with the given validity. */
async function writeRoot(dir: string, notBefore: Date, notAfter: Date): Promise<void> {
  const root = certOf(dir, 'rootCA/certs/ca.cert.pem')
  const cert = await signCertificate(
    {
      serial: 0x99n,
      subject: root.subject,
      issuer: root.subject,
      notBefore,
      notAfter,
      spki: root.spki,
      extensions: [
        skiExtension(root.keyId),
        akiExtension(root.keyId),
        basicConstraints(true),
        keyUsage(['keyCertSign', 'cRLSign']),
      ],
    },
    signerOf(dir, ROOT_KEY),
  )
  writeFileSync(caFiles(dir).root, cert.toString('pem') + '\n')
}

const otherKey = (dir: string, name: string): Signer => {
  const path = `intermediateCA/private/${name}.key.pem`
  writeFileSync(join(dir, path), generatePrivateKeyPem('ec-p256'), { mode: 0o400 })
  return signerOf(dir, path)
}

type Breakage = (dir: string) => Promise<void>

const breakages: Array<[string, Breakage, ErrorCode, RegExp, string]> = [
  [
    'ca.yml naming the root (certificate and key) as the intermediate',
    async (dir) =>
      editCaYml(dir, (c) => {
        c.intermediate.certificate = 'rootCA/certs/ca.cert.pem'
        c.intermediate.key = `file:${ROOT_KEY}`
      }),
    'ca.not_intermediate',
    /ca\.yml names the root certificate as the intermediate \(intermediate\.certificate = rootCA\/certs\/ca\.cert\.pem/,
    'rootCA/certs/ca.cert.pem',
  ],
  [
    'an intermediate certifying the root key under its own name',
    async (dir) => {
      const root = certOf(dir, 'rootCA/certs/ca.cert.pem')
      const current = certOf(dir, 'intermediateCA/certs/intermediate.cert.pem')
      const cert = await signCertificate(
        {
          serial: 0x77n,
          subject: current.subject,
          issuer: root.subject,
          notBefore: new Date(Date.now() - DAY),
          notAfter: new Date(Date.now() + DAY),
          spki: root.spki,
          extensions: [
            skiExtension(root.keyId),
            akiExtension(root.keyId),
            basicConstraints(true, 0),
            keyUsage(['keyCertSign', 'cRLSign']),
          ],
        },
        signerOf(dir, ROOT_KEY),
      )
      writeFileSync(caFiles(dir).intermediate, cert.toString('pem') + '\n')
      editCaYml(dir, (c) => (c.intermediate.key = `file:${ROOT_KEY}`))
    },
    'ca.not_intermediate',
    /names the root key as the intermediate/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'a self-signed intermediate',
    async (dir) => {
      const current = certOf(dir, 'intermediateCA/certs/intermediate.cert.pem')
      await writeIntermediate(dir, {
        issuer: signerOf(dir, INTERMEDIATE_KEY),
        issuerOf: { subject: current.subject, keyId: current.keyId },
      })
    },
    'ca.not_intermediate',
    /is self-signed, a root of its own/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    "an intermediate signed by another key under the root's name and key id",
    async (dir) => writeIntermediate(dir, { issuer: otherKey(dir, 'forger') }),
    'ca.not_signed_by_root',
    /signature does not verify with the root's key/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate naming another key as its issuer (AKI)',
    async (dir) => {
      const root = certOf(dir, 'rootCA/certs/ca.cert.pem')
      await writeIntermediate(dir, { issuerOf: { subject: root.subject, keyId: '0a'.repeat(20) } })
    },
    'ca.not_signed_by_root',
    /authority key identifier 0a0a.* is not the root's subject key identifier/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate issued by another name',
    async (dir) => {
      const root = certOf(dir, 'rootCA/certs/ca.cert.pem')
      await writeIntermediate(dir, {
        issuerOf: {
          subject: [...root.subject.slice(0, -1), { oid: '2.5.4.3', value: 'Another Root', tag: 'utf8' }],
          keyId: root.keyId,
        },
      })
    },
    'ca.not_signed_by_root',
    /was issued by .*CN=Another Root, not by the root/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate without an authority key identifier',
    async (dir) =>
      writeIntermediate(dir, {
        extensions: (ski) => [
          skiExtension(ski),
          basicConstraints(true, 0),
          keyUsage(['keyCertSign', 'cRLSign']),
        ],
      }),
    'ca.not_signed_by_root',
    /no authority key identifier/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an expired intermediate',
    async (dir) =>
      writeIntermediate(dir, {
        notBefore: new Date(Date.now() - 30 * DAY),
        notAfter: new Date(Date.now() - DAY),
      }),
    'ca.expired',
    /the intermediate certificate .* expired on .*rotate-intermediate/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'a not-yet-valid intermediate',
    async (dir) =>
      writeIntermediate(dir, {
        notBefore: new Date(Date.now() + DAY),
        notAfter: new Date(Date.now() + 30 * DAY),
      }),
    'ca.not_yet_valid',
    /is not valid before .*would start before its issuer/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate without CA:TRUE',
    async (dir) =>
      writeIntermediate(dir, {
        extensions: (ski, aki) => [
          skiExtension(ski),
          akiExtension(aki),
          basicConstraints(false),
          keyUsage(['keyCertSign', 'cRLSign']),
        ],
      }),
    'ca.not_a_ca',
    /basicConstraints is not CA:TRUE/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate without keyCertSign',
    async (dir) =>
      writeIntermediate(dir, {
        extensions: (ski, aki) => [
          skiExtension(ski),
          akiExtension(aki),
          basicConstraints(true, 0),
          keyUsage(['digitalSignature', 'cRLSign']),
        ],
      }),
    'ca.not_a_ca',
    /keyUsage lacks keyCertSign/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate whose basicConstraints is not critical',
    async (dir) =>
      writeIntermediate(dir, {
        extensions: (ski, aki) => [
          skiExtension(ski),
          akiExtension(aki),
          new x509.BasicConstraintsExtension(true, 0, false),
          keyUsage(['keyCertSign', 'cRLSign']),
        ],
      }),
    'ca.not_a_ca',
    /basicConstraints is not critical/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'ca.yml naming the intermediate as the root',
    async (dir) =>
      editCaYml(dir, (c) => {
        c.root.certificate = 'intermediateCA/certs/intermediate.cert.pem'
      }),
    'ca.root_not_self_signed',
    /is not self-signed .*root\.certificate in ca\.yml must name the self-signed root/,
    'intermediateCA/certs/intermediate.cert.pem',
  ],
  [
    'an intermediate under a root that is not valid yet',
    async (dir) => {
      const start = new Date(Date.now() + DAY)
      const end = new Date(Date.now() + 60 * DAY)
      await writeRoot(dir, start, end)
      await writeIntermediate(dir, { notBefore: start, notAfter: end })
    },
    'ca.not_yet_valid',
    /the root certificate .* is not valid before/,
    'rootCA/certs/ca.cert.pem',
  ],
  [
    'an intermediate whose root is expired',
    async (dir) => {
      const start = new Date(Date.now() - 60 * DAY)
      const end = new Date(Date.now() - DAY)
      await writeRoot(dir, start, end)
      await writeIntermediate(dir, { notBefore: start, notAfter: end })
    },
    'ca.expired',
    /the root certificate .* expired on .*make a new root/,
    'rootCA/certs/ca.cert.pem',
  ],
]

describe('the CA checks itself before signing', () => {
  it.each(breakages)('sign refuses %s', async (_name, breakIt, code, message, file) => {
    const dir = await initCa()
    await breakIt(dir)
    const work = tempDir()
    const csr = makeCsr(work, 'leaf', { subject: '/CN=leaf.example.com' })
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, '--json', csr], work)
    expect(r.status).toBe(1)
    const error = JSON.parse(r.stdout).error
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(error.file).toBe(file)
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses an intermediate whose key is not its certificate: signer.mismatch, nothing written', async () => {
    const dir = await initCa()
    otherKey(dir, 'stranger')
    editCaYml(dir, (c) => (c.intermediate.key = 'file:intermediateCA/private/stranger.key.pem'))
    const work = tempDir()
    const csr = makeCsr(work, 'leaf', { subject: '/CN=leaf.example.com' })
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, csr], work)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[signer.mismatch]')
    expect(snapshot(dir)).toEqual(before)
  })

  it.each([
    ['crl', () => ['crl']],
    ['revoke', (serial: string) => ['revoke', serial, '--reason', 'superseded']],
    ['revoke --no-crl', (serial: string) => ['revoke', serial, '--reason', 'superseded', '--no-crl']],
  ])('%s refuses an expired intermediate before signing anything', async (_name, args) => {
    const dir = await initCa()
    const work = tempDir()
    const csr = makeCsr(work, 'leaf', { subject: '/CN=leaf.example.com' })
    const signed = await runCli(['sign', '--dir', dir, '--json', csr], work)
    expect(signed.status).toBe(0)
    const serial = JSON.parse(signed.stdout).issued[0].serial as string
    await writeIntermediate(dir, {
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    })
    const before = snapshot(dir)
    const r = await runCli([...args(serial), '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[ca.expired]')
    expect(snapshot(dir)).toEqual(before)
  })

  it('accepts what init makes, and so does openssl verify -x509_strict -check_ss_sig', async () => {
    const dir = await initCa()
    const f = caFiles(dir)
    const v = openssl(['verify', '-x509_strict', '-check_ss_sig', '-CAfile', f.root, f.intermediate])
    expect(v.stdout).toContain(': OK')
    const parse = (p: string) => ({ certificate: new x509.X509Certificate(readFileSync(p, 'utf8')), file: p })
    expect(() =>
      checkCaCertificates({ root: parse(f.root), intermediate: parse(f.intermediate), now: new Date() }),
    ).not.toThrow()
  })

  // The reference agrees: each broken chain is one that openssl verify refuses too, but for the two
  // that only a CA knows are wrong: ca.yml pointing at the root, and a second certificate of the root key.
  it.each(breakages.filter(([name]) => !name.startsWith('ca.yml') && !name.includes('the root key')))(
    'openssl verify -x509_strict -check_ss_sig refuses a leaf under it too: %s',
    async (_name, breakIt) => {
      const dir = await initCa()
      const work = tempDir()
      const csr = makeCsr(work, 'leaf', { subject: '/CN=leaf.example.com' })
      expect((await runCli(['sign', '--dir', dir, csr], work)).status).toBe(0)
      const leaf = join(dir, 'certs/leaf.cert.pem')
      expect(verifyLeaf(dir, leaf, 'sslserver').stdout).toMatch(/: OK\n/)
      await breakIt(dir)
      const v = verifyLeaf(dir, leaf, 'sslserver')
      expect(`${v.stdout}${v.stderr}`).not.toMatch(/: OK\n/)
      expect(v.status).not.toBe(0)
    },
  )
})
