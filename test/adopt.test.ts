/**
 * `mtls-ca adopt` on the real thing: the tutorial's `openssl ca` directory made by
 * /work/shared/reference/tutorial-ca.sh with the real openssl, adopted, then operated on by mtls-ca
 * and by `openssl ca` in turn. Hostile or unusable configurations are refused without writing anything.
 */
import { tutorialCa } from './support/tutorial-ca.js'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AdoptItem } from '../src/adopt/types.js'
import { parseCaConfig } from '../src/config/ca-config.js'
import {
  cleanupTempDirs,
  makeCsr,
  openssl,
  opensslOk,
  runCli,
  snapshot,
  tempDir,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

type Item = AdoptItem

/** `Serial Number: X` and its reason code, in order, from `openssl crl -text`. */
function crlEntries(crlFile: string): string[] {
  const text = opensslOk(['crl', '-in', crlFile, '-noout', '-text'])
  const out: string[] = []
  const re = /Serial Number: ([0-9A-F]+)[\s\S]*?CRL Reason Code:\s*\n\s*(.+)/g
  for (const m of text.matchAll(re)) out.push(`${m[1]} ${m[2]?.trim()}`)
  return out.sort()
}

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle))
  if (i < 0) throw new Error(`"${needle}" not in the configuration`)
  return i + 1
}

describe('adopting the tutorial CA (both configurations)', () => {
  let dir: string
  let work: string
  let adopted: {
    unmapped: Item[]
    ignored: Item[]
    notes: string[]
    written: string[]
    mapped: { key: string; value: string }[]
  }

  beforeAll(async () => {
    dir = tutorialCa()
    work = tempDir()
    const r = await runCli(
      [
        'adopt',
        '--intermediate-config',
        'openssl_intermediate.cnf',
        '--root-config',
        'openssl_root.cnf',
        '--dir',
        dir,
        '--json',
      ],
      dir,
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    adopted = JSON.parse(r.stdout)
  })

  it('writes a ca.yml that validates and maps the tutorial, leaving every file where it was', () => {
    expect(adopted.written).toEqual(['ca.yml'])
    const config = parseCaConfig(readFileSync(join(dir, 'ca.yml'), 'utf8'))
    expect(config.intermediate).toMatchObject({
      dir: 'intermediateCA',
      certificate: 'intermediateCA/certs/intermediate.cert.pem',
      chain: 'intermediateCA/certs/ca-chain.cert.pem',
      key: 'file:intermediateCA/private/intermediate.key.pem',
      signature: 'RS256',
      serials: 'sequential',
      uniqueSubject: true, // index.txt.attr says yes (the config does not set it)
      preserveDn: false,
      emailInDn: false,
      crl: { file: 'intermediateCA/crl/intermediate.crl.pem', days: 30 },
    })
    expect(config.intermediate.database).toBeUndefined() // the default under dir
    expect(config.intermediate.policy[5]).toEqual({ field: 'commonName', rule: 'supplied' })
    expect(config.root).toMatchObject({
      dir: 'rootCA',
      certificate: 'rootCA/certs/ca.cert.pem',
      key: 'file:rootCA/private/ca.key.pem',
      uniqueSubject: false,
      policy: expect.arrayContaining([{ field: 'countryName', rule: 'match' }]),
    })
    expect(config.profiles['server-cert']).toEqual({
      extendedKeyUsage: ['serverAuth'],
      requireSan: true,
      copyCommonName: true,
    })
    expect(config.issuance.profile).toBe('server-cert')
    expect(config.issuance.days).toBe(375)
  })

  it('accepts nsCertType with a note, and lists it with file, section and line', () => {
    const cnf = readFileSync(join(dir, 'openssl_intermediate.cnf'), 'utf8')
    expect(adopted.unmapped).toEqual([])
    expect(adopted.ignored).toContainEqual(
      expect.objectContaining({
        file: 'openssl_intermediate.cnf',
        section: 'server_cert',
        name: 'nsCertType',
        line: lineOf(cnf, 'nsCertType'),
      }),
    )
    expect(adopted.notes.some((n) => n.includes('nsCertType'))).toBe(true)
    expect(adopted.notes.some((n) => n.includes('[v3_intermediate_ca]') && n.includes('CA profile'))).toBe(
      true,
    )
  })

  it('issues serial 1002 next; openssl verifies it strictly against the tutorial chain', async () => {
    const csr = makeCsr(work, 'new.example.com', {
      subject: '/C=US/O=Example Corp/CN=new.example.com',
      key: 'rsa:2048',
    })
    const r = await runCli(['sign', '--dir', dir, csr], work)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('serial 1002')
    expect(readFileSync(join(dir, 'intermediateCA/serial'), 'utf8')).toBe('1003\n')
    const cert = join(dir, 'certs/new.example.com.cert.pem')
    expect(existsSync(join(dir, 'intermediateCA/newcerts/1002.pem'))).toBe(true)
    const chain = join(dir, 'intermediateCA/certs/ca-chain.cert.pem')
    const v = openssl([
      'verify',
      '-x509_strict',
      '-check_ss_sig',
      '-purpose',
      'sslserver',
      '-CAfile',
      chain,
      cert,
    ])
    expect(v.stdout).toContain(': OK')
    expect(v.status).toBe(0)
    expect(opensslOk(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName'])).toContain(
      'DNS:new.example.com',
    )
  })

  it('leaves a database openssl ca still works on: -status and -gencrl', () => {
    // openssl ca -status prints the status on stderr and exits 1 even for a valid certificate.
    const status = openssl(['ca', '-config', 'openssl_intermediate.cnf', '-status', '1002'], { cwd: dir })
    expect(status.stderr).toContain('1002=Valid (V)')
    const out = join(work, 'openssl.crl.pem')
    const gen = openssl(['ca', '-config', 'openssl_intermediate.cnf', '-gencrl', '-out', out], { cwd: dir })
    expect(gen.stderr).not.toMatch(/error/i)
    expect(gen.status).toBe(0)
    const text = opensslOk(['crl', '-in', out, '-noout', '-text'])
    expect(text).toContain('Version 2')
    expect(crlEntries(out)).toEqual(['1001 Key Compromise'])
    const check = openssl([
      'crl',
      '-in',
      out,
      '-noout',
      '-CAfile',
      join(dir, 'intermediateCA/certs/ca-chain.cert.pem'),
    ])
    expect(check.stdout + check.stderr).toContain('verify OK')
  })

  it("lists the tutorial's certificates (api.example.com revoked) and ours", async () => {
    const r = await runCli(['list', '--dir', dir, '--json'], dir)
    expect(r.status).toBe(0)
    const certs: { serial: string; status: string; subject: string }[] = JSON.parse(r.stdout).certificates
    expect(certs.map((c) => [c.serial, c.status, c.subject])).toEqual([
      ['1000', 'valid', '/C=US/O=Example Corp/CN=www.example.com'],
      ['1001', 'revoked', '/C=US/O=Example Corp/CN=api.example.com'],
      ['1002', 'valid', '/C=US/O=Example Corp/CN=new.example.com'],
    ])
  })

  it('revokes and publishes a CRL that lists what openssl ca -gencrl lists', async () => {
    const revoke = await runCli(['revoke', '1000', '--reason', 'superseded', '--dir', dir], dir)
    expect(revoke.stderr).toBe('')
    expect(revoke.status).toBe(0)
    const crl = await runCli(['crl', '--dir', dir], dir)
    expect(crl.status).toBe(0)
    const ours = join(dir, 'intermediateCA/crl/intermediate.crl.pem')
    const theirs = join(work, 'openssl-after-revoke.crl.pem')
    opensslOk(['ca', '-config', 'openssl_intermediate.cnf', '-gencrl', '-out', theirs], { cwd: dir })
    expect(crlEntries(ours)).toEqual(['1000 Superseded', '1001 Key Compromise'])
    expect(crlEntries(ours)).toEqual(crlEntries(theirs))
    const check = openssl([
      'crl',
      '-in',
      ours,
      '-noout',
      '-CAfile',
      join(dir, 'intermediateCA/certs/ca-chain.cert.pem'),
    ])
    expect(check.stdout + check.stderr).toContain('verify OK')
    // and openssl ca sees our revocation
    const status = openssl(['ca', '-config', 'openssl_intermediate.cnf', '-status', '1000'], { cwd: dir })
    expect(status.stderr).toContain('1000=Revoked (R)')
  })

  it('refuses a second adoption (state.exists) and changes nothing', async () => {
    const before = snapshot(dir)
    const r = await runCli(['adopt', '--intermediate-config', 'openssl_intermediate.cnf', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('[state.exists]')
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('adopting without the root configuration (offline root)', () => {
  it('finds the root as the last certificate of the chain and leaves its key and database out', async () => {
    const dir = tutorialCa()
    const r = await runCli(['adopt', '--intermediate-config', 'openssl_intermediate.cnf', '--dir', dir], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/root is offline/)
    const config = parseCaConfig(readFileSync(join(dir, 'ca.yml'), 'utf8'))
    expect(config.root).toEqual(expect.objectContaining({ certificate: 'rootCA/certs/ca.cert.pem' }))
    expect(config.root.key).toBeUndefined()
    expect(config.root.dir).toBeUndefined()
    const work = tempDir()
    const csr = makeCsr(work, 'x.example.com', { subject: '/CN=x.example.com' })
    const s = await runCli(['sign', '--dir', dir, csr], work)
    expect(s.stdout).toContain('serial 1002')
  })

  it('refuses when there is no chain file either: the root cannot be found', async () => {
    const dir = tutorialCa()
    rmSync(join(dir, 'intermediateCA/certs/ca-chain.cert.pem'))
    const before = snapshot(dir)
    const r = await runCli(['adopt', '--intermediate-config', 'openssl_intermediate.cnf', '--dir', dir], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(
      /^mtls-ca adopt: openssl_intermediate\.cnf: .*ca-chain\.cert\.pem.*\[adopt\.ca_invalid\]\n$/,
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it('writes the chain (intermediate + root) when only the root configuration names the root', async () => {
    const dir = tutorialCa()
    const chain = join(dir, 'intermediateCA/certs/ca-chain.cert.pem')
    rmSync(chain)
    const r = await runCli(
      [
        'adopt',
        '--intermediate-config',
        'openssl_intermediate.cnf',
        '--root-config',
        'openssl_root.cnf',
        '--json',
      ],
      dir,
    )
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).written).toEqual(['ca.yml', 'intermediateCA/certs/ca-chain.cert.pem'])
    expect(readFileSync(chain, 'utf8')).toBe(
      readFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8') +
        readFileSync(join(dir, 'rootCA/certs/ca.cert.pem'), 'utf8'),
    )
  })
})

describe('hostile or unusable configurations are refused, and nothing is written', () => {
  let dir: string
  let work: string
  let original: string
  beforeAll(() => {
    dir = tutorialCa()
    work = tempDir()
    original = readFileSync(join(dir, 'openssl_intermediate.cnf'), 'utf8')
  })

  const set = (key: string, value: string) => (cnf: string) =>
    cnf.replace(new RegExp(`^${key} +=.*$`, 'm'), `${key} = ${value}`)

  it.each<[string, (cnf: string) => string, string]>([
    ['a policy naming an undefined section', set('policy', 'policy_nowhere'), 'adopt.config_invalid'],
    [
      'x509_extensions naming an undefined section',
      (c) => c.replace('[ policy_loose ]', 'x509_extensions = no_such_ext\n[ policy_loose ]'),
      'adopt.config_invalid',
    ],
    ['a variable from an undefined section', set('certs', '$elsewhere::dir/certs'), 'adopt.config_invalid'],
    [
      'an @section that is not defined',
      (c) =>
        c.replace(
          'extendedKeyUsage = serverAuth',
          'extendedKeyUsage = serverAuth\nsubjectAltName = @alt_names',
        ),
      'adopt.config_invalid',
    ],
    ['a variable defined by itself', set('dir', '$dir/intermediateCA'), 'adopt.config_invalid'],
    [
      'two variables defined by each other',
      (c) => c.replace('[ CA_default ]', '[ CA_default ]\na = $b\nb = $a'),
      'adopt.config_invalid',
    ],
    ['no policy', (c) => c.replace(/^policy +=.*\n/m, ''), 'adopt.config_invalid'],
    [
      'a certificate file that does not exist',
      set('certificate', '$dir/certs/nope.cert.pem'),
      'adopt.ca_invalid',
    ],
    ['a key file that does not exist', set('private_key', '$dir/private/nope.key.pem'), 'adopt.ca_invalid'],
    [
      'a certificate that is not a CA',
      set('certificate', '$dir/certs/www.example.com.cert.pem'),
      'adopt.ca_invalid',
    ],
    [
      "a key that is not the certificate's",
      set('private_key', '$dir/private/www.example.com.key.pem'),
      'adopt.ca_invalid',
    ],
    [
      'a database outside the CA directory',
      set('database', '/var/tmp/elsewhere/index.txt'),
      'adopt.unsupported',
    ],
  ])('%s', async (_label, change, code) => {
    const cnf = join(work, 'hostile.cnf')
    const changed = change(original)
    expect(changed).not.toBe(original)
    writeFileSync(cnf, changed)
    const before = snapshot(dir)
    const r = await runCli(['adopt', '--intermediate-config', cnf, '--dir', dir], work)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`${cnf}: `)
    expect(r.stderr).toContain(`[${code}]`)
    expect(snapshot(dir)).toEqual(before)
  })

  it('refuses a root configuration whose certificate is not a root', async () => {
    const cnf = join(work, 'root.cnf')
    writeFileSync(
      cnf,
      set(
        'certificate',
        '$dir/../intermediateCA/certs/intermediate.cert.pem',
      )(readFileSync(join(dir, 'openssl_root.cnf'), 'utf8')),
    )
    const before = snapshot(dir)
    const r = await runCli(
      [
        'adopt',
        '--intermediate-config',
        join(dir, 'openssl_intermediate.cnf'),
        '--root-config',
        cnf,
        '--dir',
        dir,
      ],
      work,
    )
    expect(r.stderr).toContain('[adopt.ca_invalid]')
    expect(snapshot(dir)).toEqual(before)
  })

  it('is a usage error without --intermediate-config', async () => {
    const r = await runCli(['adopt', '--dir', dir], work)
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('[usage.invalid]')
  })
})

describe('what cannot be mapped is listed, never dropped', () => {
  let dir: string
  let cnf: string
  let result: {
    unmapped: Item[]
    mapped: { key: string; value: string }[]
    profiles: { name: string; default: boolean }[]
  }
  let human: string

  beforeAll(async () => {
    dir = tutorialCa()
    const original = readFileSync(join(dir, 'openssl_intermediate.cnf'), 'utf8')
    cnf = original
      .replace(
        'authorityKeyIdentifier = keyid,issuer',
        [
          'authorityKeyIdentifier = keyid,issuer',
          'certificatePolicies = 1.2.3.4',
          'nameConstraints = permitted;DNS:example.com',
          'crlDistributionPoints = URI:http://pki.example.com/intermediate.crl',
          'authorityInfoAccess = OCSP;URI:http://ocsp.example.com, caIssuers;URI:http://pki.example.com/intermediate.cer',
        ].join('\n'),
      )
      .replace(
        'policy            = policy_loose',
        'policy            = policy_loose\nx509_extensions   = client_cert\ndefault_days      = 90',
      )
      .replace('dir               = ', `dir               = ${dir}/intermediateCA\nunused_dir = `)
      .concat(
        '[ client_cert ]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n',
      )
    writeFileSync(join(dir, 'adopt.cnf'), cnf)
    const r = await runCli(['adopt', '--intermediate-config', 'adopt.cnf', '--json'], dir, {})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    result = JSON.parse(r.stdout)
    rmSync(join(dir, 'ca.yml'))
    human = (await runCli(['adopt', '--intermediate-config', 'adopt.cnf'], dir, {})).stdout
  })

  it.each(['certificatePolicies', 'nameConstraints'])('lists %s with its file, section and line', (name) => {
    expect(result.unmapped).toContainEqual(
      expect.objectContaining({
        file: 'adopt.cnf',
        section: 'server_cert',
        name,
        line: lineOf(cnf, `${name} =`),
      }),
    )
    expect(human).toContain(`adopt.cnf:${lineOf(cnf, `${name} =`)} [server_cert] ${name}`)
    expect(readFileSync(join(dir, 'ca.yml'), 'utf8')).toMatch(
      new RegExp(`^#.*\\[server_cert\\] ${name}`, 'm'),
    )
  })

  it('maps CDP and AIA URLs, default_days, and the x509_extensions default profile', () => {
    const config = parseCaConfig(readFileSync(join(dir, 'ca.yml'), 'utf8'))
    expect(config.issuance.crlUrls).toEqual(['http://pki.example.com/intermediate.crl'])
    expect(config.issuance.ocspUrls).toEqual(['http://ocsp.example.com'])
    expect(config.issuance.caIssuersUrls).toEqual(['http://pki.example.com/intermediate.cer'])
    expect(config.issuance.days).toBe(90)
    expect(config.issuance.profile).toBe('client-cert')
    expect(config.profiles['client-cert']).toEqual({
      extendedKeyUsage: ['clientAuth'],
      keyUsage: ['digitalSignature'],
      requireSan: false,
      copyCommonName: false,
    })
    expect(result.profiles.map((p) => [p.name, p.default])).toEqual([
      ['server-cert', false],
      ['client-cert', true],
    ])
    // an absolute dir inside the CA directory becomes a relative one
    expect(config.intermediate.dir).toBe('intermediateCA')
  })

  it('issues a client certificate with the adopted URLs that openssl accepts', async () => {
    const work = tempDir()
    const csr = makeCsr(work, 'svc', { subject: '/CN=payments', key: 'ec:P-256' })
    const r = await runCli(['sign', '--dir', dir, csr], work)
    expect(r.stderr).toBe('')
    const cert = join(dir, 'certs/svc.cert.pem')
    const text = opensslOk(['x509', '-in', cert, '-noout', '-text'])
    expect(text).toContain('URI:http://pki.example.com/intermediate.crl')
    expect(text).toContain('OCSP - URI:http://ocsp.example.com')
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/)
    const chain = join(dir, 'intermediateCA/certs/ca-chain.cert.pem')
    const v = openssl([
      'verify',
      '-x509_strict',
      '-check_ss_sig',
      '-purpose',
      'sslclient',
      '-CAfile',
      chain,
      cert,
    ])
    expect(v.stdout).toContain(': OK')
  })
})

describe('relative paths and .include are read from the current directory, as openssl ca does', () => {
  it('adopts a configuration with a relative dir and an included leaf section', async () => {
    const dir = tutorialCa()
    const original = readFileSync(join(dir, 'openssl_intermediate.cnf'), 'utf8')
    const main = original
      .replace(/^dir +=.*$/m, 'dir = ./intermediateCA')
      .replace(/\[ server_cert \][\s\S]*$/, '.include conf.d/leaf.cnf\n')
    writeFileSync(join(dir, 'relative.cnf'), main)
    mkdirSync(join(dir, 'conf.d'))
    const leaf =
      '[ server_cert ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth, clientAuth\ncertificatePolicies = 1.2.3.4\n'
    writeFileSync(join(dir, 'conf.d/leaf.cnf'), leaf)

    // From elsewhere, conf.d/leaf.cnf is outside the CA's folder: refused, nothing written.
    const parent = join(dir, '..')
    const before = snapshot(dir)
    const elsewhere = await runCli(
      ['adopt', '--intermediate-config', 'myCA/relative.cnf', '--dir', 'myCA'],
      parent,
    )
    expect(elsewhere.status).toBe(1)
    expect(elsewhere.stderr).toMatch(
      /: \.include "conf\.d\/leaf\.cnf": .* is outside .*\[adopt\.include_outside\]/,
    )
    expect(snapshot(dir)).toEqual(before)

    const r = await runCli(['adopt', '--intermediate-config', 'relative.cnf', '--json'], dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.unmapped).toEqual([
      expect.objectContaining({
        file: 'conf.d/leaf.cnf',
        section: 'server_cert',
        line: 4,
        name: 'certificatePolicies',
      }),
    ])
    expect(result.profiles).toEqual([
      expect.objectContaining({
        name: 'server-cert',
        from: 'conf.d/leaf.cnf [server_cert] line 2',
        extendedKeyUsage: ['serverAuth', 'clientAuth'],
        default: true,
      }),
    ])
    const config = parseCaConfig(readFileSync(join(dir, 'ca.yml'), 'utf8'))
    expect(config.intermediate.dir).toBe('intermediateCA')
    expect(config.intermediate.certificate).toBe('intermediateCA/certs/intermediate.cert.pem')
  })
})
