/**
 * Every kind of bad input to `mtls-ca sign` is refused with exit code 1, one line naming the file,
 * the reason and a stable code — and the CA directory is byte-identical afterwards.
 */
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import {
  caFiles,
  cleanupTempDirs,
  initCa,
  makeCsr,
  opensslOk,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

let dir: string
let work: string

/** A CSR signed correctly by its own key but with names openssl's CLI will not produce (NUL, controls). */
async function craftedCsr(
  name: string,
  subject: x509.JsonName,
  sans: x509.JsonGeneralNames = [],
): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subject,
      keys,
      signingAlgorithm: alg,
      extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
    },
    webcrypto as never,
  )
  const path = join(work, `${name}.csr.pem`)
  writeFileSync(path, csr.toString('pem') + '\n')
  return path
}

function write(name: string, content: string | Buffer): string {
  const path = join(work, `${name}.csr.pem`)
  writeFileSync(path, content)
  return path
}

function good(name: string): string {
  return makeCsr(work, name, { subject: `/CN=${name}.example.com` })
}

/** Flips one byte of the DER inside a PEM CSR at a position counted from the end (-1 = last byte). */
function tamper(pemPath: string, name: string, fromEnd: number): string {
  const pem = readFileSync(pemPath, 'utf8')
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const i = fromEnd < 0 ? der.length + fromEnd : fromEnd
  der[i] = (der[i] as number) ^ 0x01
  return write(
    name,
    `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`,
  )
}

/** Replaces text inside the DER of a CSR (same length), keeping the structure but breaking the signature. */
function alter(pemPath: string, from: string, to: string): string {
  const pem = readFileSync(pemPath, 'utf8')
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const at = der.indexOf(from)
  expect(at).toBeGreaterThan(0)
  der.write(to, at, 'latin1')
  return write(
    'altered',
    `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`,
  )
}

beforeAll(async () => {
  dir = await initCa(['--allow-dns', '.example.com', '--allow-dns', 'example.com'])
  work = tempDir()
})

type Case = [string, () => Promise<string[]> | string[], string]

const cases: Case[] = [
  ['not a CSR (a certificate)', () => [write('cert', readFileSync(caFiles(dir).root))], 'csr.not_pem'],
  ['plain text', () => [write('text', 'hello, CA\n')], 'csr.not_pem'],
  ['an empty file', () => [write('empty', '')], 'csr.not_pem'],
  [
    'DER instead of PEM',
    () => [write('der', Buffer.from(opensslOk(['req', '-in', good('d1'), '-outform', 'DER'], {}), 'latin1'))],
    'csr.not_pem',
  ],
  [
    'a truncated PEM',
    () => [write('trunc', readFileSync(good('t1'), 'utf8').split('\n').slice(0, 4).join('\n'))],
    'csr.not_pem',
  ],
  [
    'trailing garbage',
    () => [write('trail', readFileSync(good('t2'), 'utf8') + 'garbage\n')],
    'csr.trailing_data',
  ],
  [
    'several PEM blocks',
    () => [write('two', readFileSync(good('t3'), 'utf8') + readFileSync(good('t4'), 'utf8'))],
    'csr.multiple_blocks',
  ],
  [
    'base64 that is not base64',
    () => [
      write('b64', '-----BEGIN CERTIFICATE REQUEST-----\nMIIB!!!!\n-----END CERTIFICATE REQUEST-----\n'),
    ],
    'csr.malformed',
  ],
  [
    'DER that is not a CSR',
    () => [
      write('notcsr', '-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQE=\n-----END CERTIFICATE REQUEST-----\n'),
    ],
    'csr.malformed',
  ],
  ['a bad signature', () => [tamper(good('s1'), 'badsig', -1)], 'csr.bad_signature'],
  [
    'a subject altered after signing',
    () => [alter(good('s2'), 's2.example.com', 'r2.example.com')],
    'csr.bad_signature',
  ],
  [
    'an RSA 1024 key',
    () => [makeCsr(work, 'rsa1024', { subject: '/CN=small.example.com', key: 'rsa:1024' })],
    'key.too_small',
  ],
  ['an unsupported key (secp256k1)', () => [write('k1', opensslK1())], 'key.unsupported'],
  [
    'a CSR signed with SHA-1',
    () => [makeCsr(work, 'sha1', { subject: '/CN=sha1.example.com', digest: 'sha1' })],
    'csr.weak_signature',
  ],
  [
    'a CSR signed with MD5',
    () => [makeCsr(work, 'md5', { subject: '/CN=md5.example.com', key: 'rsa:2048', digest: 'md5' })],
    'csr.weak_signature',
  ],
  [
    'no CN where the policy says supplied',
    () => [makeCsr(work, 'nocn', { subject: '/O=Example Corp', sans: ['DNS:a.example.com'] })],
    'policy.subject_missing',
  ],
  [
    'a SAN outside the allow-list',
    () => [makeCsr(work, 'evil', { subject: '/CN=www.example.com', sans: ['DNS:www.evil.test'] })],
    'policy.san_not_allowed',
  ],
  [
    'a CN hostname outside the allow-list',
    () => [makeCsr(work, 'evilcn', { subject: '/CN=www.evil.test' })],
    'policy.san_not_allowed',
  ],
  [
    'an IP address in a DNS SAN',
    () => [makeCsr(work, 'ipdns', { subject: '/CN=ip.example.com', sans: ['DNS:10.0.0.1'] })],
    'policy.name_invalid',
  ],
  [
    'a wildcard that is not the whole left-most label',
    () => [makeCsr(work, 'wild', { subject: '/CN=wild.example.com', sans: ['DNS:a*.example.com'] })],
    'policy.name_invalid',
  ],
  [
    'a NUL in the CN',
    async () => [await craftedCsr('nul-cn', [{ CN: ['www.example.com\u0000.evil.test'] }])],
    'policy.name_invalid',
  ],
  [
    'a control character in the O',
    async () => [await craftedCsr('ctl', [{ CN: ['www.example.com'] }, { O: ['Example\u0007Corp'] }])],
    'policy.name_invalid',
  ],
  [
    'a control character in a SAN',
    async () => [
      await craftedCsr(
        'ctlsan',
        [{ CN: ['ctl.example.com'] }],
        [{ type: 'dns', value: 'a\u0001.example.com' }],
      ),
    ],
    'policy.name_invalid',
  ],
  [
    'a file over 64 KiB',
    () => [write('huge', readFileSync(good('h1'), 'utf8') + ' '.repeat(70 * 1024))],
    'csr.too_large',
  ],
  ['a missing file', () => [join(work, 'nosuch.csr.pem')], 'csr.unreadable'],
  [
    'a duplicate request name',
    () => {
      mkdirSync(join(work, 'other'), { recursive: true })
      const a = good('dup')
      const b = makeCsr(join(work, 'other'), 'dup', { subject: '/CN=dup2.example.com' })
      return [a, b]
    },
    'request.duplicate_name',
  ],
  [
    'a good CSR batched with a bad one',
    () => [good('fine'), makeCsr(work, 'rsa1024b', { subject: '/CN=s.example.com', key: 'rsa:1024' })],
    'key.too_small',
  ],
]

function opensslK1(): string {
  const key = join(work, 'k1.key.pem')
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', key])
  return opensslOk(['req', '-new', '-key', key, '-subj', '/CN=k1.example.com', '-sha256'])
}

describe('mtls-ca sign refuses bad input and leaves the state exactly as it was', () => {
  it.each(cases)('%s', async (_label, make, code) => {
    const files = await make()
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, ...files], work)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`[${code}]`)
    // the line names the offending file
    expect(r.stderr).toMatch(/\.csr\.pem: /)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(snapshot(dir)).toEqual(before)
  })

  it('lists every refusal of a batch, and issues nothing', async () => {
    const before = snapshot(dir)
    const files = [
      good('ok1'),
      write('bad1', 'nope'),
      makeCsr(work, 'bad2', { subject: '/CN=b.example.com', key: 'rsa:1024' }),
    ]
    const r = await runCli(['sign', '--dir', dir, '--json', ...files], work)
    expect(r.status).toBe(1)
    const { error } = JSON.parse(r.stdout)
    expect(error.code).toBe('request.refused')
    expect(error.details.map((d: { code: string }) => d.code)).toEqual(['csr.not_pem', 'key.too_small'])
    expect(error.details.map((d: { file: string }) => d.file)).toEqual([files[1], files[2]])
    expect(snapshot(dir)).toEqual(before)
  })

  it("refuses a subject that differs from the issuer's where the policy says match", async () => {
    const ca = await initCa()
    const yml = join(ca, 'ca.yml')
    writeFileSync(
      yml,
      readFileSync(yml, 'utf8').replace(
        'field: organizationName\n      rule: optional',
        'field: organizationName\n      rule: match',
      ),
    )
    const before = snapshot(ca)
    const other = makeCsr(work, 'otherorg', { subject: '/O=Other Corp/CN=x.example.com' })
    const r = await runCli(['sign', '--dir', ca, other], work)
    expect(r.stderr).toContain('[policy.subject_mismatch]')
    expect(r.status).toBe(1)
    expect(snapshot(ca)).toEqual(before)
    const same = makeCsr(work, 'sameorg', { subject: '/O=Example Corp/CN=y.example.com' })
    expect((await runCli(['sign', '--dir', ca, same], work)).status).toBe(0)
  })

  it('never issues a CA: a CSR asking for CA:TRUE, keyCertSign and a pathlen gets a CA:FALSE leaf', async () => {
    const csr = makeCsr(work, 'wants-ca', {
      subject: '/CN=wants-ca.example.com',
      extensions: [
        'basicConstraints = critical, CA:TRUE, pathlen:3',
        'keyUsage = critical, keyCertSign, cRLSign',
      ],
    })
    const r = await runCli(['sign', '--dir', dir, '--json', csr], work)
    expect(r.status).toBe(0)
    const issued = JSON.parse(r.stdout).issued[0]
    expect(issued.notes.join(' ')).toContain('CA:TRUE')
    const text = opensslOk(['x509', '-in', join(dir, 'certs/wants-ca.cert.pem'), '-noout', '-text'])
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
    expect(text).not.toContain('Certificate Sign')
    expect(text).not.toContain('pathlen')
  })
})
