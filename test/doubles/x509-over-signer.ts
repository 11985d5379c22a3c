/**
 * Test helpers that turn a Signer into certificates the way the engine does (a Crypto-shaped object
 * whose only method is `subtle.sign`, over a key handle that carries the algorithm), and check them
 * with OpenSSL, the reference verifier (`openssl verify -x509_strict -check_ss_sig`).
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { execFile } from 'node:child_process'
import { createPublicKey, randomBytes, webcrypto } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { webCryptoAlgorithm, type Signer } from '../../src/ca/signer.js'

const execFileAsync = promisify(execFile)
type X509Crypto = Parameters<typeof x509.X509CertificateGenerator.create>[1]
const nodeCrypto = webcrypto as unknown as X509Crypto
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** `{ subtle: { sign } }` over a Signer, and the key handle @peculiar/x509 reads the algorithm from. */
export function signerCrypto(signer: Signer): { crypto: X509Crypto; signingKey: CryptoKeyLike } {
  const algorithm: Record<string, unknown> = { ...webCryptoAlgorithm(signer.scheme) }
  if (algorithm.name === 'ECDSA') {
    const curve = createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' })
      .asymmetricKeyDetails?.namedCurve
    algorithm.namedCurve = CURVE_NAMES[curve ?? ''] ?? curve
  }
  const subtle = {
    sign: async (
      _algorithm: unknown,
      _key: unknown,
      data: ArrayBuffer | ArrayBufferView,
    ): Promise<ArrayBuffer> => {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data)
      const signature = await signer.sign(bytes)
      return signature.slice().buffer
    },
  }
  const signingKey = { algorithm, type: 'private', extractable: false, usages: ['sign'] }
  return { crypto: { subtle } as unknown as X509Crypto, signingKey }
}

type CryptoKeyLike = {
  algorithm: Record<string, unknown>
  type: string
  extractable: boolean
  usages: string[]
}

function serial(): string {
  const bytes = randomBytes(16)
  bytes[0]! &= 0x7f
  bytes[0]! |= 0x40
  return bytes.toString('hex')
}

/** A self-signed root CA certificate signed by `signer`. */
export async function selfSignedRoot(signer: Signer, subject: string): Promise<x509.X509Certificate> {
  const { crypto, signingKey } = signerCrypto(signer)
  const now = Date.now()
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject,
      issuer: subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 365 * 86_400_000),
      publicKey: signer.spki,
      signingKey: signingKey as unknown as x509.X509CertificateCreateWithKeyParams['signingKey'],
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(signer.spki, false, nodeCrypto),
      ],
    },
    crypto,
  )
}

/** A certificate for `spki` issued by `issuer` (a CA when `ca` is given, else an mTLS client leaf). */
export async function issue(
  signer: Signer,
  issuer: x509.X509Certificate,
  spki: Uint8Array,
  subject: string,
  ca?: { pathLength: number },
): Promise<x509.X509Certificate> {
  const { crypto, signingKey } = signerCrypto(signer)
  const now = Date.now()
  const extensions: x509.Extension[] = ca
    ? [
        new x509.BasicConstraintsExtension(true, ca.pathLength, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'client.example.test' }]),
      ]
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(spki, false, nodeCrypto),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, nodeCrypto),
  )
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject,
      issuer: issuer.subjectName,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 30 * 86_400_000),
      publicKey: spki,
      signingKey: signingKey as unknown as x509.X509CertificateCreateWithKeyParams['signingKey'],
      extensions,
    },
    crypto,
  )
}

/**
 * `openssl verify -x509_strict -check_ss_sig` of `leaf` up to `root`; returns its output. Throws (with
 * the output) when OpenSSL does not say OK.
 */
export async function opensslVerify(
  root: x509.X509Certificate,
  leaf: x509.X509Certificate,
  intermediates: x509.X509Certificate[] = [],
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'verify-'))
  try {
    await writeFile(join(dir, 'root.pem'), root.toString('pem'))
    await writeFile(join(dir, 'leaf.pem'), leaf.toString('pem'))
    const args = ['verify', '-x509_strict', '-check_ss_sig', '-CAfile', join(dir, 'root.pem')]
    if (intermediates.length) {
      await writeFile(join(dir, 'untrusted.pem'), intermediates.map((c) => c.toString('pem')).join('\n'))
      args.push('-untrusted', join(dir, 'untrusted.pem'))
    }
    args.push(join(dir, 'leaf.pem'))
    try {
      const { stdout, stderr } = await execFileAsync('openssl', args)
      const output = `${stdout}${stderr}`
      if (!/: OK\s*$/.test(stdout)) throw new Error(`openssl verify did not say OK:\n${output}`)
      return output
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string }
      throw new Error(`openssl verify failed: ${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`, {
        cause: e,
      })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
