/**
 * `mtls-ca demo`: the tutorial's whole flow (openssl-ca-tutorial.txt §3–7) in a temporary folder, on
 * the file key backend, printing each step beside the openssl command it replaces, and ending with
 * the verification by the real `openssl verify` when it is installed.
 */
import 'reflect-metadata'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { initCa } from '../commands/init.js'
import { signRequests } from '../commands/sign.js'
import { listCertificates } from '../commands/list.js'
import { systemRuntime } from '../commands/runtime.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { DEFAULT_LAYOUT } from '../config/layout.js'

export interface DemoResult {
  ok: boolean
  dir: string | undefined
  verified: Array<{ name: string; purpose: string; ok: boolean; by: string }>
}

interface Requester {
  name: string
  subject: string
  sans: string[]
  profile: 'server' | 'client'
}

const REQUESTERS: Requester[] = [
  {
    name: 'www.example.com',
    subject: 'C=US, O=Example Corp, CN=www.example.com',
    sans: ['www.example.com'],
    profile: 'server',
  },
  {
    name: 'api.example.com',
    subject: 'C=US, O=Example Corp, CN=api.example.com',
    sans: ['api.example.com'],
    profile: 'server',
  },
  {
    name: 'payments-client',
    subject: 'C=US, O=Example Corp, CN=payments-client',
    sans: [],
    profile: 'client',
  },
]

async function makeRequest(r: Requester): Promise<{ csrPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: r.subject,
      keys,
      signingAlgorithm: alg,
      extensions: r.sans.length
        ? [new x509.SubjectAlternativeNameExtension(r.sans.map((value) => ({ type: 'dns' as const, value })))]
        : [],
    },
    webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
  )
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey))
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`
  return { csrPem: csr.toString('pem') + '\n', keyPem }
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export async function runDemo(opts: { keep: boolean; out: (line: string) => void }): Promise<DemoResult> {
  const { out } = opts
  const dir = await mkdtemp(join(tmpdir(), 'mtls-ca-demo-'))
  const ca = join(dir, 'myCA')
  const store = openDirectoryStore(ca, { create: true })
  const verified: DemoResult['verified'] = []
  try {
    out(`mtls-ca demo — the OpenSSL CA tutorial, in ${dir}`)
    out('')
    out('Step 1. Create the root and intermediate CAs (tutorial §3–5)')
    out('  replaces: mkdir/touch/echo 1000, openssl genrsa ×2, openssl req -x509 -extensions v3_ca,')
    out('            openssl req -new, openssl ca -extensions v3_intermediate_ca, cat > ca-chain.cert.pem')
    const init = await initCa(store, { keyType: 'rsa-2048', allowDns: ['.example.com'] }, systemRuntime)
    out(`  root          ${init.root.subject}`)
    out(`  intermediate  ${init.intermediate.subject}, pathlen:0, signed by the root`)
    out(`  state         index.txt, serial, crlnumber, newcerts/ — the files openssl ca uses`)
    out('')

    out('Step 2. Requesters make keys and CSRs; the CSRs go into requests/ (tutorial §6)')
    out('  replaces: openssl genpkey + openssl req -new')
    const keysDir = join(dir, 'requester-keys')
    await mkdir(keysDir, { mode: 0o700 })
    await mkdir(join(ca, 'requests'), { recursive: true })
    for (const r of REQUESTERS) {
      const { csrPem, keyPem } = await makeRequest(r)
      await writeFile(join(ca, 'requests', `${r.name}.csr.pem`), csrPem)
      await writeFile(join(ca, 'requests', `${r.name}.yml`), `profile: ${r.profile}\n`)
      await writeFile(join(keysDir, `${r.name}.key.pem`), keyPem, { mode: 0o400 })
      out(`  requests/${r.name}.csr.pem  (${r.profile}; key stays with the requester)`)
    }
    out('')

    out('Step 3. Sign every pending request with the intermediate, as one atomic batch')
    out('  replaces: openssl ca -extensions server_cert -days 375 -notext -md sha256 (once per CSR)')
    const signed = await signRequests(store, { csrFiles: [], cwd: ca }, systemRuntime)
    for (const c of signed.issued) {
      out(
        `  ${c.name}: serial ${c.serialHex.slice(0, 16)}…, ${c.profile}, until ${c.notAfter.toISOString().slice(0, 10)}`,
      )
    }
    out('')

    out('Step 4. The database, as openssl ca would show it (cat intermediateCA/index.txt)')
    for (const c of await listCertificates(store, systemRuntime.now())) {
      out(`  ${c.status}  ${c.serial.slice(0, 16)}…  ${c.subject}`)
    }
    out('')

    out('Step 5. Verify each certificate against the chain')
    const root = join(ca, DEFAULT_LAYOUT.root.certificate)
    const intermediate = join(ca, DEFAULT_LAYOUT.intermediate.certificate)
    const openssl = hasOpenssl()
    for (const c of signed.issued) {
      const certFile = join(ca, 'certs', `${c.name}.cert.pem`)
      const purpose = c.profile === 'client' ? 'sslclient' : 'sslserver'
      let ok: boolean
      let by: string
      if (openssl) {
        by = `openssl verify -x509_strict -check_ss_sig -purpose ${purpose}`
        try {
          const text = execFileSync(
            'openssl',
            [
              'verify',
              '-x509_strict',
              '-check_ss_sig',
              '-purpose',
              purpose,
              '-CAfile',
              root,
              '-untrusted',
              intermediate,
              certFile,
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
          )
          ok = text.trim().endsWith(': OK')
        } catch {
          ok = false
        }
      } else {
        by = 'node:crypto (openssl not installed)'
        const leaf = new NodeX509(await import('node:fs').then((fs) => fs.readFileSync(certFile)))
        const inter = new NodeX509(await import('node:fs').then((fs) => fs.readFileSync(intermediate)))
        const rootCert = new NodeX509(await import('node:fs').then((fs) => fs.readFileSync(root)))
        ok =
          leaf.verify(inter.publicKey) &&
          inter.verify(rootCert.publicKey) &&
          rootCert.verify(rootCert.publicKey)
      }
      verified.push({ name: c.name, purpose, ok, by })
      out(`  ${c.name}: ${ok ? 'OK' : 'FAILED'}  (${by})`)
    }
    out('')
    const ok = verified.every((v) => v.ok)
    out(ok ? 'Demo complete: every certificate verifies.' : 'Demo FAILED: a certificate did not verify.')
    if (opts.keep) out(`The CA is in ${ca}; requester keys in ${keysDir}.`)
    return { ok, dir: opts.keep ? ca : undefined, verified }
  } finally {
    if (!opts.keep) await rm(dir, { recursive: true, force: true })
  }
}
