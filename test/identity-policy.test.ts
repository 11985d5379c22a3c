/**
 * Every identity a certificate carries is under the allow-list (issue 9, items 2, 3 and 12), checked
 * through `mtls-ca` run as a process: CNs in every form and string type, emailAddress, every SAN kind
 * per profile, the SAN extension's encoding, and what init writes and says. Each refusal asserts its
 * code and that the CA directory is byte-identical afterwards.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { classifyCommonName, type CommonNameKind } from '../src/ca/identity-policy.js'
import { bundleForTest } from './support/bundle.js'
import {
  cleanupTempDirs,
  editCaYml,
  opensslOk,
  readCaYml,
  snapshot,
  tempDir,
  verifyLeaf,
  type RunResult,
} from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

let cli: string
const work = tempDir('mtls-ca-identity-')

function run(args: string[]): RunResult {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

function init(args: string[]): { dir: string; out: string } {
  const dir = tempDir()
  const r = run(['init', '--dir', dir, '--key-type', 'ec-p256', ...args])
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`)
  return { dir, out: r.stdout }
}

/** openssl string_mask values that force one ASN.1 string type for the subject. */
const MASKS = {
  utf8: 'utf8only',
  printable: 'MASK:0x2',
  teletex: 'MASK:0x4',
  bmp: 'MASK:0x800',
  universal: 'MASK:0x100',
} as const

interface Csr {
  subject: string
  /** subjectAltName values, or raw extension lines in `ext`. */
  sans?: string[]
  ext?: string[]
  mask?: keyof typeof MASKS
}

let counter = 0
/** A CSR made by the real openssl; returns its PEM. */
function csr(spec: Csr): string {
  const name = `r${counter++}`
  const ext = [
    ...(spec.sans?.length ? [`subjectAltName = ${spec.sans.join(', ')}`] : []),
    ...(spec.ext ?? []),
  ]
  const cnf = join(work, `${name}.cnf`)
  writeFileSync(
    cnf,
    [
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      'utf8 = yes',
      `string_mask = ${MASKS[spec.mask ?? 'utf8']}`,
      ...(ext.length ? ['req_extensions = ext'] : []),
      '[ dn ]',
      'CN = unused',
      '[ ext ]',
      ...ext,
      '',
    ].join('\n'),
  )
  const out = join(work, `${name}.csr.pem`)
  opensslOk([
    'req',
    '-new',
    '-config',
    cnf,
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(work, `${name}.key.pem`),
    '-subj',
    spec.subject,
    '-utf8',
    '-out',
    out,
  ])
  return readFileSync(out, 'utf8')
}

/** Puts the CSR in requests/, runs `sign`, and returns the outcome (the request is removed after). */
function sign(
  dir: string,
  pem: string,
  profile: string,
): { r: RunResult; before: Record<string, string>; after: Record<string, string> } {
  const name = `req${counter++}`
  const file = join(dir, 'requests', `${name}.csr.pem`)
  writeFileSync(file, pem)
  const before = snapshot(dir)
  const r = run(['sign', '--dir', dir, '--profile', profile])
  const after = snapshot(dir)
  if (r.status !== 0) rmSync(file)
  return { r, before, after }
}

function expectRefused(dir: string, spec: Csr, profile: string, code: string, message?: RegExp): void {
  const { r, before, after } = sign(dir, csr(spec), profile)
  expect(r.stderr).toContain(`[${code}]`)
  expect(r.status).toBe(1)
  if (message) expect(r.stderr).toMatch(message)
  expect(after).toEqual(before)
}

function expectIssued(dir: string, spec: Csr, profile: string): string {
  const { r } = sign(dir, csr(spec), profile)
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  const name = /Issued (\S+):/.exec(r.stdout)?.[1] as string
  const cert = join(dir, 'certs', `${name}.cert.pem`)
  const purpose = profile === 'client' || profile === 'svc' ? 'sslclient' : 'sslserver'
  const v = verifyLeaf(dir, cert, purpose)
  expect(`${v.stdout}${v.stderr}`).toContain(': OK')
  return opensslOk(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName'])
}

let dnsOnly: { dir: string; out: string }
let restricted: { dir: string; out: string }
let open: { dir: string; out: string }

beforeAll(async () => {
  cli = await bundleForTest('src/cli.ts')
  dnsOnly = init(['--allow-dns', '.example.com'])
  restricted = init([
    '--allow-dns',
    '.example.com',
    '--allow-ip',
    '10.0.0.0/8',
    '--allow-email',
    'example.com',
    '--allow-uri',
    'spiffe://.example.com',
  ])
  editCaYml(restricted.dir, (c) => {
    c.profiles = {
      // Servers with DNS names under web.example.com only; service clients with SPIFFE IDs only.
      web: { extendedKeyUsage: ['serverAuth'], sans: { dns: ['.web.example.com'] } },
      svc: { extendedKeyUsage: ['clientAuth'], sans: { uri: ['spiffe://.example.com'] } },
      any: { extendedKeyUsage: ['clientAuth', '2.5.29.37.0'] },
    }
  })
  open = init([])
}, 60_000)

describe('what a CN is read as', () => {
  it.each<[string, CommonNameKind]>([
    ['www.example.com', 'dns'],
    ['WWW.EXAMPLE.COM', 'dns'],
    ['*.example.com', 'dns'],
    ['www.example.com.', 'dns'],
    ['bücher.example.com', 'dns'],
    ['www\uff0eevil\uff0ecom', 'dns'], // full-width full stops
    ['www\u3002evil\u3002com', 'dns'], // ideographic full stops
    ['evil.com:443', 'dns'],
    ['10.0.0.1', 'ip'],
    ['2001:db8::1', 'ip'],
    ['[::1]', 'ip'],
    ['fe80::1%eth0', 'ip'],
    ['127.1', 'ip'],
    ['0x7f.0.0.1', 'ip'],
    ['ceo@evil.com', 'email'],
    ['ceo\uff20evil.com', 'email'], // full-width at sign
    ['https://www.evil.com/', 'uri'],
    ['spiffe://example.com/a', 'uri'],
    ['urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'uri'],
    ['Web Server', 'label'],
    ['Web Server v1.2', 'label'],
    ['alice', 'label'],
    ['payments-client', 'label'],
    ['12345', 'label'],
  ])('%j is %s', (value, kind) => {
    expect(classifyCommonName(value)).toBe(kind)
  })
})

describe('the reproduction of issue 9 item 2', () => {
  it('"/CN=Web Server/CN=www.evil.com" with an e-mail SAN is refused on a DNS-only CA', () => {
    expectRefused(
      dnsOnly.dir,
      { subject: '/CN=Web Server/CN=www.evil.com', sans: ['email:web@example.com'] },
      'server',
      'policy.subject_name_not_allowed',
      /CN "Web Server" is not a host name.*and 1 more/,
    )
  })
})

describe('each CN is an identity (restricted CA: .example.com, 10.0.0.0/8, example.com, spiffe://.example.com)', () => {
  const refused = 'policy.subject_name_not_allowed'
  // A CN a server profile copies into the SANs is refused as the SAN it would become.
  const copied = 'policy.san_not_allowed'
  const invalid = 'policy.name_invalid'
  it.each<[string, Csr, string, string, RegExp]>([
    [
      'a second CN outside the list',
      { subject: '/CN=www.example.com/CN=www.evil.com' },
      'server',
      copied,
      /"www\.evil\.com" is a DNS name/,
    ],
    [
      'a CN outside the list, SAN inside',
      { subject: '/CN=www.evil.com', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /www\.evil\.com/,
    ],
    [
      'upper case',
      { subject: '/CN=WWW.EVIL.COM', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /WWW\.EVIL\.COM/,
    ],
    [
      'trailing dot',
      { subject: '/CN=www.example.com.', sans: ['DNS:www.example.com'] },
      'server',
      invalid,
      /trailing dot/,
    ],
    [
      'wildcard',
      { subject: '/CN=*.evil.com', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /\*\.evil\.com/,
    ],
    [
      'IDN U-label',
      { subject: '/CN=bücher.example.com', sans: ['DNS:www.example.com'] },
      'server',
      invalid,
      /A-label \(xn--bcher-kva\.example\.com\)/,
    ],
    ['full-width dots', { subject: '/CN=www．evil．com' }, 'client', invalid, /non-ASCII/],
    [
      'an IP outside the ranges (server)',
      { subject: '/CN=8.8.8.8', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /IP name/,
    ],
    ['an IP outside the ranges (client)', { subject: '/CN=8.8.8.8' }, 'client', refused, /IP name/],
    ['a dotted number an IP parser reads', { subject: '/CN=127.1' }, 'client', invalid, /reads as an IP/],
    [
      'an e-mail address (server)',
      { subject: '/CN=web@example.com', sans: ['DNS:www.example.com'] },
      'server',
      refused,
      /is an e-mail address/,
    ],
    [
      'an e-mail address outside the list (client)',
      { subject: '/CN=ceo@evil.com' },
      'client',
      refused,
      /email name/,
    ],
    [
      'a URI (server)',
      { subject: '/CN=spiffe:\\/\\/a.example.com\\/x', sans: ['DNS:www.example.com'] },
      'server',
      refused,
      /is a URI/,
    ],
    [
      'a URI outside the list (client)',
      { subject: '/CN=https:\\/\\/www.evil.com\\/' },
      'client',
      refused,
      /URI name/,
    ],
    ['a label (anyExtendedKeyUsage)', { subject: '/CN=Web Server' }, 'any', refused, /not a host name/],
    [
      'a label (server)',
      { subject: '/CN=Web Server', sans: ['DNS:www.example.com'] },
      'server',
      refused,
      /not a host name/,
    ],
    [
      'a single-label name (server)',
      { subject: '/CN=intranet', sans: ['DNS:www.example.com'] },
      'server',
      refused,
      /not a host name/,
    ],
    [
      'BMPString',
      { subject: '/CN=www.evil.com', mask: 'bmp', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /www\.evil\.com/,
    ],
    [
      'TeletexString',
      { subject: '/CN=www.evil.com', mask: 'teletex', sans: ['DNS:www.example.com'] },
      'server',
      copied,
      /www\.evil\.com/,
    ],
    [
      'UniversalString',
      { subject: '/CN=www.evil.com', mask: 'universal' },
      'client',
      refused,
      /www\.evil\.com/,
    ],
    [
      'PrintableString',
      { subject: '/CN=www.evil.com', mask: 'printable' },
      'client',
      refused,
      /www\.evil\.com/,
    ],
    [
      'emailAddress outside the list',
      { subject: '/CN=alice/emailAddress=ceo@evil.com' },
      'client',
      refused,
      /emailAddress "ceo@evil\.com"/,
    ],
    [
      'emailAddress on a server',
      { subject: '/CN=www.example.com/emailAddress=a@evil.example.net' },
      'server',
      refused,
      /emailAddress/,
    ],
    ['a CN of one space', { subject: '/CN= ' }, 'client', 'policy.subject_invalid', /only white space/],
    [
      'a CN the profile narrows away',
      { subject: '/CN=www.example.com' },
      'web',
      copied,
      /profiles\.web\.sans\.dns/,
    ],
    [
      'a CN the uri-only profile closes',
      { subject: '/CN=a.example.com' },
      'svc',
      refused,
      /profiles\.svc\.sans allows no DNS/,
    ],
  ])('%s', (_name, spec, profile, code, message) => {
    expectRefused(restricted.dir, spec, profile, code, message)
  })

  it('500 OUs (31 KB of subject) are refused', () => {
    const subject = `${'/OU=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'.repeat(500)}/CN=a.example.com`
    expectRefused(
      restricted.dir,
      { subject },
      'server',
      'policy.subject_invalid',
      /501 attributes; at most 20/,
    )
  })
})

describe('every SAN kind per profile', () => {
  const no = 'policy.san_not_allowed'
  // Issue 9 item 3: `init --allow-dns .example.com` used to issue these.
  it.each<[string, string, RegExp]>([
    ['IP:8.8.8.8', 'server', /allows no IP names/],
    ['URI:https://www.evil.com/', 'server', /allows no URI names/],
    ['email:ceo@evil.com', 'server', /allows no email names/],
    ['IP:10.0.0.1', 'client', /allows no IP names/],
    ['URI:spiffe://example.com/a', 'client', /allows no URI names/],
    ['email:ceo@example.com', 'server-client', /allows no email names/],
  ])('DNS-only CA: %s (%s) is refused', (san, profile, message) => {
    expectRefused(
      dnsOnly.dir,
      { subject: '/CN=www.example.com', sans: [`DNS:www.example.com`, san] },
      profile,
      no,
      message,
    )
  })

  it.each<[string, string, RegExp]>([
    ['IP:11.0.0.1', 'server', /issuance\.sans\.ip: 10\.0\.0\.0\/8/],
    ['email:ceo@evil.com', 'client', /issuance\.sans\.email/],
    ['URI:spiffe://evil.com/a', 'client', /issuance\.sans\.uri/],
    ['DNS:www.evil.com', 'client', /issuance\.sans\.dns/],
    ['DNS:www.example.com', 'web', /profiles\.web\.sans\.dns: \.web\.example\.com/],
    ['IP:10.0.0.1', 'web', /profiles\.web\.sans allows no IP/],
    ['DNS:a.example.com', 'svc', /profiles\.svc\.sans allows no DNS/],
    ['email:a@example.com', 'svc', /profiles\.svc\.sans allows no email/],
  ])('restricted CA: %s (%s) is refused', (san, profile, message) => {
    const subject =
      profile === 'web'
        ? '/CN=www.web.example.com'
        : profile === 'server'
          ? '/CN=www.example.com'
          : '/CN=alice'
    expectRefused(restricted.dir, { subject, sans: [san] }, profile, no, message)
  })

  it('a second GeneralNames list after the first in the SAN extension is refused', () => {
    const first = Buffer.concat([Buffer.from([0x30, 0x11, 0x82, 0x0f]), Buffer.from('www.example.com')])
    const second = Buffer.concat([Buffer.from([0x30, 0x0e, 0x82, 0x0c]), Buffer.from('www.evil.com')])
    const hex = Buffer.concat([first, second]).toString('hex')
    expectRefused(
      restricted.dir,
      { subject: '/CN=www.example.com', ext: [`2.5.29.17 = DER:${hex}`] },
      'server',
      'csr.malformed',
      /16 octets after its GeneralNames/,
    )
  })

  it('UTF-8 octets in a dNSName are shown as UTF-8, with the A-label', () => {
    expectRefused(
      restricted.dir,
      { subject: '/CN=alice', sans: ['DNS:bücher.example.com'] },
      'client',
      'policy.name_invalid',
      /dNSName SAN "bücher\.example\.com" has non-ASCII octets.*\(xn--bcher-kva\.example\.com\)/,
    )
  })
})

describe('what is still issued', () => {
  it.each<[string, Csr, string, RegExp]>([
    [
      'a server CN, copied into the SANs',
      { subject: '/CN=WWW.Example.com' },
      'server',
      /DNS:www\.example\.com/,
    ],
    [
      'a wildcard CN below an allowed domain',
      { subject: '/CN=*.example.com' },
      'server',
      /DNS:\*\.example\.com/,
    ],
    [
      'every allowed CN is copied',
      { subject: '/CN=a.example.com/CN=10.1.2.3' },
      'server',
      /DNS:a\.example\.com, IP Address:10\.1\.2\.3/,
    ],
    [
      'a BMPString CN inside the list',
      { subject: '/CN=b.example.com', mask: 'bmp' },
      'server',
      /DNS:b\.example\.com/,
    ],
    [
      'a client label CN with an allowed e-mail',
      { subject: '/CN=Alice Smith/emailAddress=alice@example.com', sans: ['email:alice@example.com'] },
      'client',
      /email:alice@example\.com/,
    ],
    [
      'a client single-label CN',
      { subject: '/CN=payments-client', sans: ['IP:10.0.0.7'] },
      'client',
      /IP Address:10\.0\.0\.7/,
    ],
    [
      'a SPIFFE ID on the uri-only profile',
      { subject: '/CN=payments', sans: ['URI:spiffe://prod.example.com/payments'] },
      'svc',
      /URI:spiffe:\/\/prod\.example\.com\/payments/,
    ],
    [
      'a client CN that is an allowed URI',
      { subject: '/CN=spiffe:\\/\\/a.example.com\\/x', sans: ['URI:spiffe://a.example.com/x'] },
      'client',
      /URI:spiffe:\/\/a\.example\.com\/x/,
    ],
    [
      'a name below the web profile',
      { subject: '/CN=shop.web.example.com' },
      'web',
      /DNS:shop\.web\.example\.com/,
    ],
  ])('%s', (_name, spec, profile, sans) => {
    expect(expectIssued(restricted.dir, spec, profile)).toMatch(sans)
  })

  it('a CA without an allow-list issues any name, but a server CN must still be a host name', () => {
    expect(
      expectIssued(
        open.dir,
        { subject: '/CN=www.evil.com', sans: ['IP:8.8.8.8', 'URI:https://x.evil.com/'] },
        'server',
      ),
    ).toMatch(/DNS:www\.evil\.com, IP Address:8\.8\.8\.8, URI:https:\/\/x\.evil\.com\//)
    expectRefused(
      open.dir,
      { subject: '/CN=Web Server/CN=www.evil.com' },
      'server',
      'policy.subject_name_not_allowed',
      /Web Server/,
    )
  })
})

describe('init and ca.yml say which kinds are open', () => {
  it('without --allow-*, init warns and ca.yml lists every kind as unrestricted', () => {
    expect(open.out).toMatch(
      /^WARNING: no --allow-dns, --allow-ip, --allow-email or --allow-uri given: this CA certifies ANY/m,
    )
    expect(readCaYml(open.dir).issuance).toMatchObject({
      sans: { unrestricted: ['dns', 'ip', 'email', 'uri'] },
    })
  })

  it('with some --allow-*, the other kinds are closed and init names them', () => {
    expect(dnsOnly.out).toContain(
      'Note: no names of kind IP, email, URI are allowed (no --allow-ip, --allow-email, --allow-uri)',
    )
    expect(readCaYml(dnsOnly.dir).issuance).toMatchObject({
      sans: { dns: ['.example.com'], unrestricted: [] },
    })
    expect(restricted.out).not.toContain('no names of kind')
    expect(readCaYml(restricted.dir).issuance).toMatchObject({
      sans: {
        dns: ['.example.com'],
        ip: ['10.0.0.0/8'],
        email: ['example.com'],
        uri: ['spiffe://.example.com'],
        unrestricted: [],
      },
    })
  })

  it.each<[string[], RegExp]>([
    [['--allow-ip', '10.0.0.1/8'], /ip entry "10\.0\.0\.1\/8" is not valid: it has bits set/],
    [['--allow-uri', 'spiffe'], /uri entry "spiffe" is not valid/],
    [['--allow-email', '@example.com'], /email entry "@example\.com" is not valid/],
  ])('init %j is refused and writes nothing', (args, message) => {
    const dir = tempDir()
    const r = run(['init', '--dir', dir, '--key-type', 'ec-p256', ...args])
    expect(r.stderr).toContain('[config.invalid]')
    expect(r.stderr).toMatch(message)
    expect(r.status).toBe(1)
    expect(snapshot(dir)).toEqual({})
  })
})

describe('ca.yml files written before issuance.sans.unrestricted', () => {
  it('an empty issuance.sans keeps its meaning: every kind open', () => {
    const { dir } = init([])
    editCaYml(dir, (c) => {
      ;(c.issuance as Record<string, unknown>).sans = {}
    })
    expect(expectIssued(dir, { subject: '/CN=www.evil.com', sans: ['IP:8.8.8.8'] }, 'server')).toMatch(
      /IP Address:8\.8\.8\.8/,
    )
  })

  it.each<[Record<string, unknown>, RegExp]>([
    [
      { dns: ['.example.com'] },
      /issuance\.sans\.unrestricted: missing: the policy lists dns but does not say what ip, email, uri names may be\. Add "unrestricted: \[ip, email, uri\]"/,
    ],
    [{ dns: ['.example.com'], ip: [] }, /lists dns, ip but does not say what email, uri/],
    [
      { dns: ['.example.com'], unrestricted: ['dns'] },
      /issuance\.sans\.unrestricted: dns has a list and is also unrestricted/,
    ],
    [{ dns: ['.example.com'], unrestricted: ['dnsname'] }, /issuance\.sans\.unrestricted\.0/],
    [
      { dns: ['*.example.com'], unrestricted: [] },
      /dns entry "\*\.example\.com" is not valid: write "\.example\.com"/,
    ],
  ])('issuance.sans %j is a config error naming the key', (sans, message) => {
    const { dir } = init([])
    editCaYml(dir, (c) => {
      ;(c.issuance as Record<string, unknown>).sans = sans
    })
    expectRefused(dir, { subject: '/CN=www.example.com' }, 'server', 'config.invalid', message)
  })
})
