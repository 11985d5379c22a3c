/**
 * `mtls-ca demo`: the tutorial's whole flow (openssl-ca-tutorial.txt §3–7) in a temporary folder, on
 * the file key backend, printing each step beside the openssl command it replaces, and ending with
 * the verification by the real `openssl verify` when it is installed.
 */
import 'reflect-metadata'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { initCa } from '../commands/init.js'
import { signRequests } from '../commands/sign.js'
import { listCertificates } from '../commands/list.js'
import { revokeCertificate } from '../commands/revocation.js'
import { verifyAgainstCa } from '../commands/verify.js'
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

/** 'OK', 'revoked', or openssl's reason. */
function opensslVerify(
  env: NodeJS.ProcessEnv,
  cert: string,
  purpose: string,
  root: string,
  intermediate: string,
  crl: string,
): string {
  try {
    const out = execFileSync(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-check_ss_sig',
        '-crl_check',
        '-CRLfile',
        crl,
        '-purpose',
        purpose,
        '-CAfile',
        root,
        '-untrusted',
        intermediate,
        cert,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env },
    )
    return out.trim().endsWith(': OK') ? 'OK' : out.trim()
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`
    return /certificate revoked/.test(out)
      ? 'revoked'
      : (out.split('\n').find((l) => l.startsWith('error')) ?? 'failed')
  }
}

function hasOpenssl(env: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', env })
    return true
  } catch {
    return false
  }
}

export async function runDemo(opts: {
  keep: boolean
  out: (line: string) => void
  /** The environment openssl is looked up and run in. */
  env: NodeJS.ProcessEnv
}): Promise<DemoResult> {
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

    out('Step 5. Revoke api.example.com (key compromise) and publish the CRL (tutorial §7)')
    out('  replaces: openssl ca -revoke … -crl_reason keyCompromise, then openssl ca -gencrl')
    const api = signed.issued.find((c) => c.name === 'api.example.com')
    if (!api) throw new Error('the demo did not issue api.example.com')
    const revoked = await revokeCertificate(
      store,
      { side: 'intermediate', target: { serial: api.serialHex }, reason: 'keyCompromise' },
      systemRuntime,
    )
    out(`  index.txt   R line: ${revoked.revocation}`)
    out(
      `  CRL         ${revoked.crl?.file}, number ${revoked.crl?.crlNumber}, ${revoked.crl?.revoked} revoked`,
    )
    out('')

    out('Step 6. Verify each certificate: chain, purpose and revocation')
    const crlFile = join(ca, DEFAULT_LAYOUT.intermediate.crl)
    const openssl = hasOpenssl(opts.env)
    for (const c of signed.issued) {
      const certFile = join(ca, 'certs', `${c.name}.cert.pem`)
      const purpose = c.profile === 'client' ? 'sslclient' : 'sslserver'
      const expected = c.name === api.name ? 'revoked' : 'OK'
      let seen: string
      let by: string
      if (openssl) {
        by = `openssl verify -x509_strict -check_ss_sig -crl_check -purpose ${purpose}`
        seen = opensslVerify(
          opts.env,
          certFile,
          purpose,
          join(ca, DEFAULT_LAYOUT.root.certificate),
          join(ca, DEFAULT_LAYOUT.intermediate.certificate),
          crlFile,
        )
      } else {
        by = 'mtls-ca verify (openssl is not installed)'
        seen = await verifyAgainstCa(
          store,
          { pem: await readFile(certFile, 'utf8'), file: certFile },
          systemRuntime.now(),
        ).then(
          () => 'OK',
          (e: Error) => (/revoked/.test(e.message) ? 'revoked' : e.message),
        )
      }
      const ok = seen === expected
      verified.push({ name: c.name, purpose, ok, by })
      out(`  ${c.name}: ${seen}${ok ? '' : ` (expected ${expected})`}  (${by})`)
    }
    out('')
    const ok = verified.every((v) => v.ok)
    out(
      ok
        ? 'Demo complete: the valid certificates verify and the revoked one is refused.'
        : 'Demo FAILED: a certificate did not verify as expected.',
    )
    if (opts.keep) out(`The CA is in ${ca}; requester keys in ${keysDir}.`)
    return { ok, dir: opts.keep ? ca : undefined, verified }
  } finally {
    if (!opts.keep) await rm(dir, { recursive: true, force: true })
  }
}
