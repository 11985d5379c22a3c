/**
 * The command line as a user meets it: help, usage errors (exit 2), refusals (exit 1, one line),
 * init's layout and its refusal to overwrite, sign's pending-request mode, request options and
 * --json output.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupTempDirs, initCa, makeCsr, runCli, snapshot, tempDir } from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

describe('help and usage', () => {
  it.each([['init'], ['sign'], ['list'], ['demo']])(
    '%s --help prints the usage and exits 0',
    async (command) => {
      const r = await runCli([command, '--help'], tempDir())
      expect(r.status).toBe(0)
      expect(r.stdout).toContain(`Usage: mtls-ca ${command}`)
    },
  )

  it('lists the commands with --help and exits 2 with no command', async () => {
    const help = await runCli(['--help'], tempDir())
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/init[\s\S]*sign[\s\S]*list[\s\S]*demo/)
    expect((await runCli([], tempDir())).status).toBe(2)
  })

  it.each([
    [['frobnicate'], 'unknown command'],
    [['init', '--bogus'], "Unknown option '--bogus'"],
    [['init', '--key-type', 'rsa-1024'], '--key-type must be one of'],
    [['init', '--root-subject', 'CN=Root'], 'is not a DN'],
    [['init', '--root-subject', '/XX=Root'], 'known attribute type'],
    [['init', '--crl-url', 'ftp://x'], '--crl-url must be an http(s) URL'],
    [['sign', '--days', 'ten'], '--days takes a positive whole number'],
    [['list', 'extra'], 'unexpected argument'],
  ])('%j is a usage error: exit 2, nothing written', async (args, message) => {
    const dir = tempDir()
    const r = await runCli([...args, '--dir', dir], dir)
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(message)
    expect(snapshot(dir)).toEqual({})
  })
})

describe('mtls-ca init', () => {
  it("writes the tutorial's layout, private keys 0400 and git-ignored, and a ca.yml", async () => {
    const dir = await initCa(['--allow-dns', '.example.com'])
    for (const f of [
      'ca.yml',
      'rootCA/certs/ca.cert.pem',
      'rootCA/index.txt',
      'rootCA/index.txt.attr',
      'rootCA/serial',
      'rootCA/crlnumber',
      'intermediateCA/certs/intermediate.cert.pem',
      'intermediateCA/certs/ca-chain.cert.pem',
      'intermediateCA/index.txt',
      'intermediateCA/index.txt.attr',
      'intermediateCA/serial',
      'intermediateCA/crlnumber',
    ]) {
      expect(existsSync(join(dir, f))).toBe(true)
    }
    for (const key of ['rootCA/private/ca.key.pem', 'intermediateCA/private/intermediate.key.pem']) {
      expect(statSync(join(dir, key)).mode & 0o777).toBe(0o400)
    }
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(
      /rootCA\/private\/\nintermediateCA\/private\//,
    )
    expect(readFileSync(join(dir, 'intermediateCA/serial'), 'utf8')).toBe('1000\n')
    expect(readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8')).toBe('')
    // the root's database records the intermediate, as openssl ca would
    const rootIndex = readFileSync(join(dir, 'rootCA/index.txt'), 'utf8')
    expect(rootIndex).toMatch(
      /^V\t\d{12}Z\t\t[0-9A-F]+\tunknown\t\/C=US\/ST=California\/L=San Francisco\/O=Example Corp\/OU=IT Department\/CN=Intermediate CA\n$/,
    )
    const serial = rootIndex.split('\t')[3]
    expect(readFileSync(join(dir, `rootCA/newcerts/${serial}.pem`), 'utf8')).toBe(
      readFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8'),
    )
    expect(readFileSync(join(dir, 'ca.yml'), 'utf8')).toContain('- .example.com')
  })

  it('warns that every kind of name is allowed when no --allow-* is given', async () => {
    const dir = tempDir()
    const r = await runCli(['init', '--dir', dir], dir)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('WARNING: no --allow-dns, --allow-ip, --allow-email or --allow-uri given')
    expect(r.stdout).toContain('issuance.sans.unrestricted: [dns, ip, email, uri]')
  })

  it('refuses to overwrite an existing CA, changing nothing', async () => {
    const dir = await initCa()
    const before = snapshot(dir)
    const r = await runCli(['init', '--dir', dir, '--key-type', 'ec-p256'], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[state.exists]')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(snapshot(dir)).toEqual(before)
  })

  it('uses the subjects it is given', async () => {
    const dir = await initCa([
      '--root-subject',
      '/O=Acme/CN=Acme Root',
      '--intermediate-subject',
      '/O=Acme/CN=Acme Issuing',
    ])
    const r = await runCli(['list', '--dir', dir], dir)
    expect(r.status).toBe(0)
    expect(readFileSync(join(dir, 'rootCA/index.txt'), 'utf8')).toContain('/O=Acme/CN=Acme Issuing')
  })
})

describe('mtls-ca sign', () => {
  it('signs every pending request with its requests/<name>.yml options, once', async () => {
    const dir = await initCa()
    const work = tempDir()
    for (const [name, yml] of [
      ['web', undefined],
      ['batch-job', 'profile: client\ndays: 30\n'],
    ] as const) {
      writeFileSync(
        join(dir, 'requests', `${name}.csr.pem`),
        readFileSync(makeCsr(work, name, { subject: `/CN=${name}.internal` })),
      )
      if (yml) writeFileSync(join(dir, 'requests', `${name}.yml`), yml)
    }
    const r = await runCli(['sign', '--dir', dir, '--json'], dir)
    expect(r.status).toBe(0)
    const issued = JSON.parse(r.stdout).issued as Array<{
      name: string
      profile: string
      notBefore: string
      notAfter: string
    }>
    expect(issued.map((i) => [i.name, i.profile])).toEqual([
      ['batch-job', 'client'],
      ['web', 'server'],
    ])
    const days = (i: { notBefore: string; notAfter: string }) =>
      (Date.parse(i.notAfter) - Date.parse(i.notBefore)) / 86_400_000
    expect(issued.map(days)).toEqual([30, 375])
    expect(readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').trim().split('\n')).toHaveLength(2)

    const again = await runCli(['sign', '--dir', dir], dir)
    expect(again.status).toBe(0)
    expect(again.stdout).toContain('Nothing to sign')

    const list = JSON.parse((await runCli(['list', '--dir', dir, '--json'], dir)).stdout).certificates
    expect(
      list.map((c: { name: string; profile: string; sans: string[] }) => [c.name, c.profile, c.sans]),
    ).toEqual(
      expect.arrayContaining([
        ['web', 'server', ['DNS:web.internal']],
        ['batch-job', 'client', []],
      ]),
    )
  })

  it.each([
    ['profile: admin\n', 'policy.profile_unknown'],
    ['days: -1\n', 'config.invalid'],
    ['profile: [\n', 'config.invalid'],
    ['colour: blue\n', 'config.invalid'],
  ])('refuses a request whose options say %j, writing nothing', async (yml, code) => {
    const dir = await initCa()
    writeFileSync(
      join(dir, 'requests', 'x.csr.pem'),
      readFileSync(makeCsr(tempDir(), 'x', { subject: '/CN=x.internal' })),
    )
    writeFileSync(join(dir, 'requests', 'x.yml'), yml)
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`[${code}]`)
    expect(r.stderr).toContain('requests/x.')
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses to sign a second request with the name of an issued certificate', async () => {
    const dir = await initCa()
    const work = tempDir()
    const csr = makeCsr(work, 'svc', { subject: '/CN=svc.internal' })
    expect((await runCli(['sign', '--dir', dir, csr], work)).status).toBe(0)
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, csr], work)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[request.already_issued]')
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses to sign with a key that is not the intermediate certificate’s key', async () => {
    const dir = await initCa()
    const other = await initCa()
    const key = 'intermediateCA/private/intermediate.key.pem'
    const { chmodSync } = await import('node:fs')
    chmodSync(join(dir, key), 0o600)
    writeFileSync(join(dir, key), readFileSync(join(other, key)))
    const csr = makeCsr(tempDir(), 'svc', { subject: '/CN=svc.internal' })
    const before = snapshot(dir)
    const r = await runCli(['sign', '--dir', dir, csr], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[signer.mismatch]')
    expect(snapshot(dir)).toEqual(before)
  })

  it('fails clearly outside a CA directory', async () => {
    const dir = tempDir()
    const r = await runCli(['sign', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/ca\.yml.*\[state\.missing\]/)
  })

  it('refuses a ca.yml with an unknown key', async () => {
    const dir = await initCa()
    writeFileSync(join(dir, 'ca.yml'), readFileSync(join(dir, 'ca.yml'), 'utf8') + 'colour: blue\n')
    const r = await runCli(['list', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('ca.yml:')
    expect(r.stderr).toContain('[config.invalid]')
  })
})
