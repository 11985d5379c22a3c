/**
 * What we write is checked by the reference: the real openssl verifies every certificate, completes an
 * mTLS handshake with them, and operates `openssl ca` on the database mtls-ca wrote.
 */
import { spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  caFiles,
  cleanupTempDirs,
  initCa,
  makeCsr,
  openssl,
  opensslOk,
  runCli,
  tempDir,
  verifyLeaf,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

describe.each([['rsa-2048'], ['ec-p256'], ['ec-p384']])('a CA made by init --key-type %s', (keyType) => {
  let dir: string
  let work: string
  beforeAll(async () => {
    dir = await initCa(['--key-type', keyType, '--allow-dns', '.example.com'])
    work = tempDir()
    makeCsr(work, 'www', { subject: '/C=US/O=Example Corp/CN=www.example.com', key: 'rsa:2048' })
    makeCsr(work, 'api', {
      subject: '/CN=api.example.com',
      key: 'ec:P-256',
      sans: ['DNS:api.example.com', 'DNS:api2.example.com'],
    })
    makeCsr(work, 'client', { subject: '/O=Example Corp/CN=payments-client', key: 'ec:P-384' })
    makeCsr(work, 'both', { subject: '/CN=mesh.example.com', key: 'ed25519' })
    const r1 = await runCli(
      ['sign', '--dir', dir, join(work, 'www.csr.pem'), join(work, 'api.csr.pem')],
      work,
    )
    expect(r1.stderr).toBe('')
    expect(r1.status).toBe(0)
    const r2 = await runCli(['sign', '--dir', dir, '--profile', 'client', join(work, 'client.csr.pem')], work)
    expect(r2.status).toBe(0)
    const r3 = await runCli(
      ['sign', '--dir', dir, '--profile', 'server-client', join(work, 'both.csr.pem')],
      work,
    )
    expect(r3.status).toBe(0)
  })

  it('has a root and an intermediate that openssl verifies strictly, with the tutorial extensions', () => {
    const f = caFiles(dir)
    expect(opensslOk(['verify', '-x509_strict', '-check_ss_sig', '-CAfile', f.root, f.root])).toContain(
      ': OK',
    )
    expect(
      opensslOk(['verify', '-x509_strict', '-check_ss_sig', '-CAfile', f.root, f.intermediate]),
    ).toContain(': OK')
    const root = opensslOk(['x509', '-in', f.root, '-noout', '-text'])
    expect(root).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/)
    expect(root).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/)
    expect(root).toContain('Subject Key Identifier')
    const inter = opensslOk(['x509', '-in', f.intermediate, '-noout', '-text'])
    expect(inter).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/)
    expect(inter).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/)
    expect(inter).toContain('Authority Key Identifier')
    expect(opensslOk(['x509', '-in', f.root, '-noout', '-subject'])).toContain(
      'C = US, ST = California, L = San Francisco, O = Example Corp, OU = IT Department, CN = Root CA',
    )
    // the chain bundle is intermediate then root
    const chain = readFileSync(f.chain, 'utf8')
    expect(chain).toBe(readFileSync(f.intermediate, 'utf8') + readFileSync(f.root, 'utf8'))
  })

  it.each([
    ['www', 'sslserver'],
    ['api', 'sslserver'],
    ['client', 'sslclient'],
    ['both', 'sslserver'],
    ['both', 'sslclient'],
  ] as const)('issues %s that passes openssl verify -x509_strict -purpose %s', (name, purpose) => {
    const r = verifyLeaf(dir, join(dir, 'certs', `${name}.cert.pem`), purpose)
    expect(r.stdout.trim()).toMatch(/: OK$/)
    expect(r.status).toBe(0)
  })

  it.each([
    ['www', 'sslclient'],
    ['client', 'sslserver'],
  ] as const)('issues %s that openssl refuses for %s (the profile decides the EKU)', (name, purpose) => {
    const r = verifyLeaf(dir, join(dir, 'certs', `${name}.cert.pem`), purpose)
    expect(r.status).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(/unsuitable certificate purpose/)
  })

  it('writes leaves with the profile extensions and the SANs (CN copied for servers)', () => {
    const www = opensslOk(['x509', '-in', join(dir, 'certs/www.cert.pem'), '-noout', '-text'])
    expect(www).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
    expect(www).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/)
    expect(www).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication\n/)
    expect(www).toMatch(/Subject Alternative Name:\s+DNS:www.example.com\n/)
    const api = opensslOk(['x509', '-in', join(dir, 'certs/api.cert.pem'), '-noout', '-text'])
    expect(api).toMatch(/Key Usage: critical\s+Digital Signature\n/)
    expect(api).toMatch(/DNS:api.example.com, DNS:api2.example.com\n/)
    const client = opensslOk(['x509', '-in', join(dir, 'certs/client.cert.pem'), '-noout', '-text'])
    expect(client).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication\n/)
    expect(client).not.toContain('Subject Alternative Name')
    // the fullchain is leaf + intermediate
    expect(readFileSync(join(dir, 'certs/www.fullchain.pem'), 'utf8')).toBe(
      readFileSync(join(dir, 'certs/www.cert.pem'), 'utf8') + readFileSync(caFiles(dir).intermediate, 'utf8'),
    )
  })

  it('keeps a database that openssl ca reads (-status) and can keep writing to', () => {
    const cnf = join(dir, 'openssl-check.cnf')
    writeFileSync(
      cnf,
      [
        '[ ca ]',
        'default_ca = d',
        '[ d ]',
        `dir = ${dir}/intermediateCA`,
        'database = $dir/index.txt',
        'serial = $dir/serial',
        'new_certs_dir = $dir/newcerts',
        'certificate = $dir/certs/intermediate.cert.pem',
        'private_key = $dir/private/intermediate.key.pem',
        'default_md = sha256',
        'default_days = 30',
        'policy = p',
        '[ p ]',
        'commonName = supplied',
        '[ ext ]',
        'basicConstraints = CA:FALSE',
        'extendedKeyUsage = clientAuth',
        '',
      ].join('\n'),
    )
    for (const line of readFileSync(caFiles(dir).index, 'utf8').trim().split('\n')) {
      const serial = line.split('\t')[3] as string
      const r = openssl(['ca', '-config', cnf, '-status', serial])
      expect(r.stderr).toContain(`${serial}=Valid (V)`)
    }
    // openssl ca appends a certificate of its own to our database; mtls-ca still reads it
    makeCsr(work, 'byopenssl', { subject: '/CN=by-openssl' })
    const r = openssl([
      'ca',
      '-batch',
      '-config',
      cnf,
      '-extensions',
      'ext',
      '-notext',
      '-in',
      join(work, 'byopenssl.csr.pem'),
      '-out',
      join(work, 'byopenssl.pem'),
    ])
    expect(r.stderr).toContain('Database updated')
    return runCli(['list', '--dir', dir, '--json'], dir).then((list) => {
      const certs = JSON.parse(list.stdout).certificates as Array<{ subject: string; status: string }>
      expect(certs.map((c) => c.subject)).toContain('/CN=by-openssl')
      expect(certs).toHaveLength(5)
      expect(certs.every((c) => c.status === 'valid')).toBe(true)
    })
  })
})

/** s_server's "ACCEPT" sits in a pipe buffer, so readiness is a successful TCP connect. */
async function waitForPort(port: number, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`s_server did not start: ${log()}`)
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

describe('an mTLS handshake between openssl s_server -Verify 1 and s_client', () => {
  let dir: string
  let work: string
  beforeAll(async () => {
    dir = await initCa()
    work = tempDir()
    makeCsr(work, 'server', { subject: '/CN=localhost.example.com' })
    makeCsr(work, 'client', { subject: '/CN=orders-service' })
    expect((await runCli(['sign', '--dir', dir, join(work, 'server.csr.pem')], work)).status).toBe(0)
    expect(
      (await runCli(['sign', '--dir', dir, '--profile', 'client', join(work, 'client.csr.pem')], work))
        .status,
    ).toBe(0)
  })

  async function handshake(clientArgs: string[]): Promise<{ client: string; server: string }> {
    const port = await freePort()
    const f = caFiles(dir)
    const server = spawn('openssl', [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-Verify',
      '1',
      '-verify_return_error',
      '-cert',
      join(dir, 'certs/server.cert.pem'),
      '-key',
      join(work, 'server.key.pem'),
      '-cert_chain',
      f.intermediate,
      '-CAfile',
      f.root,
      '-www',
    ])
    let serverOut = ''
    server.stdout.on('data', (d) => (serverOut += d))
    server.stderr.on('data', (d) => (serverOut += d))
    await waitForPort(port, () => serverOut)
    const client = spawn('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost.example.com',
      '-verify_hostname',
      'localhost.example.com',
      '-verify_return_error',
      '-ign_eof',
      '-CAfile',
      f.root,
      ...clientArgs,
    ])
    let clientOut = ''
    client.stdout.on('data', (d) => (clientOut += d))
    client.stderr.on('data', (d) => (clientOut += d))
    client.stdin.end('GET / HTTP/1.0\r\n\r\n')
    await new Promise((resolve) => client.on('close', resolve))
    server.kill()
    await new Promise((resolve) => server.on('close', resolve))
    return { client: clientOut, server: serverOut }
  }

  it('succeeds with our server and client certificates, each side verifying the other', async () => {
    const { client } = await handshake([
      '-cert',
      join(dir, 'certs/client.cert.pem'),
      '-key',
      join(work, 'client.key.pem'),
      '-cert_chain',
      caFiles(dir).intermediate,
    ])
    expect(client).toContain('Verify return code: 0 (ok)')
    // s_server -www answers only after a completed handshake, and reports the client certificate it verified
    expect(client).toContain('HTTP/1.0 200 ok')
    expect(client).toMatch(/CN\s?=\s?orders-service/)
  })

  it('fails when the client presents no certificate', async () => {
    const { client, server } = await handshake([])
    expect(client).not.toContain('HTTP/1.0 200 ok')
    expect(client + server).toMatch(/peer did not return a certificate|certificate required/)
  })
})
