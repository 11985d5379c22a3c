/**
 * What `openssl ca` takes from an adopted configuration: the tutorial's two configurations (as the
 * tutorial script writes them, and verbatim from the tutorial with its trailing comments), the CA
 * section's quirks, policy sections, extension sections, and every refusal.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isCaError, type CaError } from '../src/ca/errors.js'
import {
  extensionSection,
  readCaConfig,
  type CaConfig,
  type ExtensionSection,
  type ExtensionSpec,
} from '../src/openssl-config/ca-config.js'
import { parseOpensslConfig, type OpenSslConfig } from '../src/openssl-config/parse.js'

const TUTORIAL = '/work/shared/reference/tutorial-ca.sh'
const FIXTURES = fileURLToPath(new URL('./fixtures/openssl-config/', import.meta.url))

function fail(f: () => unknown): CaError {
  try {
    f()
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a refusal')
}

/** A spec without its name and line, for comparing with what a value should mean. */
const withoutPlace = ({ line: _line, name: _name, ...spec }: ExtensionSpec) => spec

/** Specs without their line numbers, for comparing with what a section should mean. */
function specs(s: ExtensionSection): Omit<ExtensionSpec, 'line'>[] {
  return s.extensions.map(({ line: _line, ...rest }) => rest)
}

const STRICT = [
  ['countryName', 'match'],
  ['stateOrProvinceName', 'match'],
  ['organizationName', 'match'],
  ['organizationalUnitName', 'optional'],
  ['commonName', 'supplied'],
  ['emailAddress', 'optional'],
]
const LOOSE = [
  ['countryName', 'optional'],
  ['stateOrProvinceName', 'optional'],
  ['localityName', 'optional'],
  ['organizationName', 'optional'],
  ['organizationalUnitName', 'optional'],
  ['commonName', 'supplied'],
  ['emailAddress', 'optional'],
]

const V3_INTERMEDIATE_CA = [
  { kind: 'subjectKeyIdentifier', name: 'subjectKeyIdentifier', critical: false, method: 'hash' },
  {
    kind: 'authorityKeyIdentifier',
    name: 'authorityKeyIdentifier',
    critical: false,
    keyid: 'always',
    issuer: 'if_available',
  },
  { kind: 'basicConstraints', name: 'basicConstraints', critical: true, ca: true, pathlen: 0 },
  {
    kind: 'keyUsage',
    name: 'keyUsage',
    critical: true,
    usages: ['digitalSignature', 'keyCertSign', 'cRLSign'],
  },
]

const SERVER_CERT = [
  { kind: 'basicConstraints', name: 'basicConstraints', critical: false, ca: false },
  { kind: 'keyUsage', name: 'keyUsage', critical: true, usages: ['digitalSignature', 'keyEncipherment'] },
  {
    kind: 'extendedKeyUsage',
    name: 'extendedKeyUsage',
    critical: false,
    usages: ['serverAuth'],
    oids: ['1.3.6.1.5.5.7.3.1'],
  },
  {
    kind: 'authorityKeyIdentifier',
    name: 'authorityKeyIdentifier',
    critical: false,
    keyid: 'if_available',
    issuer: 'if_available',
  },
]

function expectRootCa(ca: CaConfig, dir: string): void {
  expect(ca).toMatchObject({
    section: 'CA_default',
    dir,
    certs: `${dir}/certs`,
    crl_dir: `${dir}/crl`,
    new_certs_dir: `${dir}/newcerts`,
    database: `${dir}/index.txt`,
    serial: `${dir}/serial`,
    private_key: `${dir}/private/ca.key.pem`,
    certificate: `${dir}/certs/ca.cert.pem`,
    crl: `${dir}/crl/ca.crl.pem`,
    crlnumber: `${dir}/crlnumber`,
    crl_extensions: 'crl_ext',
    x509_extensions: undefined,
    default_days: undefined,
    default_crl_days: 30,
    default_crl_hours: undefined,
    default_md: 'sha256',
    policy: 'policy_strict',
    unique_subject: false,
    copy_extensions: 'none',
    preserve: false,
    email_in_dn: false,
    rand_serial: false,
  })
  expect(ca.policyFields.map((f) => [f.field, f.rule])).toEqual(STRICT)
}

function expectIntermediateCa(ca: CaConfig, dir: string): void {
  expect(ca).toMatchObject({
    section: 'CA_default',
    dir,
    database: `${dir}/index.txt`,
    private_key: `${dir}/private/intermediate.key.pem`,
    certificate: `${dir}/certs/intermediate.cert.pem`,
    crl: `${dir}/crl/intermediate.crl.pem`,
    default_crl_days: 30,
    policy: 'policy_loose',
    unique_subject: true,
    preserve: false,
    email_in_dn: false,
  })
  expect(ca.policyFields.map((f) => [f.field, f.rule])).toEqual(LOOSE)
}

describe('the configurations tutorial-ca.sh writes', () => {
  let dir: string
  let root: OpenSslConfig
  let intermediate: OpenSslConfig
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-ca-openssl-config-'))
    execFileSync('bash', [TUTORIAL, join(dir, 'ca')], {
      env: { ...process.env, KEYBITS: '2048' },
      stdio: 'pipe',
    })
    root = parseOpensslConfig(readFileSync(join(dir, 'ca', 'openssl_root.cnf')), { file: 'openssl_root.cnf' })
    intermediate = parseOpensslConfig(readFileSync(join(dir, 'ca', 'openssl_intermediate.cnf')), {
      file: 'openssl_intermediate.cnf',
    })
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('root: CA_default with $dir expanded and policy_strict in order', () => {
    const ca = readCaConfig(root)
    expectRootCa(ca, join(dir, 'ca', 'rootCA'))
    expect(ca.notes.join('\n')).toMatch(/preserve = no in \[CA_default\] \(line 18\) is ignored/)
    expect(ca.notes.join('\n')).toMatch(/RANDFILE \(line 10\) is ignored/)
  })

  it('root: v3_ca and crl_ext', () => {
    expect(specs(extensionSection(root, 'v3_ca'))).toEqual([
      { kind: 'subjectKeyIdentifier', name: 'subjectKeyIdentifier', critical: false, method: 'hash' },
      {
        kind: 'authorityKeyIdentifier',
        name: 'authorityKeyIdentifier',
        critical: false,
        keyid: 'always',
        issuer: 'if_available',
      },
      { kind: 'basicConstraints', name: 'basicConstraints', critical: true, ca: true },
      { kind: 'keyUsage', name: 'keyUsage', critical: true, usages: ['keyCertSign', 'cRLSign'] },
    ])
    expect(specs(extensionSection(root, 'crl_ext'))).toEqual([
      {
        kind: 'authorityKeyIdentifier',
        name: 'authorityKeyIdentifier',
        critical: false,
        keyid: 'always',
        issuer: 'if_available',
      },
    ])
  })

  it('intermediate: CA_default with policy_loose in order', () => {
    expectIntermediateCa(readCaConfig(intermediate), join(dir, 'ca', 'intermediateCA'))
  })

  it('intermediate: v3_intermediate_ca, in both files', () => {
    expect(specs(extensionSection(root, 'v3_intermediate_ca'))).toEqual(V3_INTERMEDIATE_CA)
    expect(specs(extensionSection(intermediate, 'v3_intermediate_ca'))).toEqual(V3_INTERMEDIATE_CA)
  })

  it('intermediate: server_cert, with nsCertType ignored and noted', () => {
    const s = extensionSection(intermediate, 'server_cert')
    expect(specs(s)).toEqual(SERVER_CERT)
    expect(s.ignored).toEqual([
      expect.objectContaining({ section: 'server_cert', name: 'nsCertType', value: 'server', line: 49 }),
    ])
    expect(s.unmapped).toEqual([])
    expect(s.notes.join('\n')).toMatch(/line 49: nsCertType is an obsolete Netscape extension/)
    expect(s.notes.join('\n')).toMatch(/\[server_cert\] is for TLS servers but has no subjectAltName/)
  })

  it('intermediate: crl_ext is keyid:always alone', () => {
    expect(specs(extensionSection(intermediate, 'crl_ext'))).toEqual([
      {
        kind: 'authorityKeyIdentifier',
        name: 'authorityKeyIdentifier',
        critical: false,
        keyid: 'always',
        issuer: 'omit',
      },
    ])
  })
})

describe('the configurations verbatim from the tutorial (trailing comments, 0.organizationName)', () => {
  const root = parseOpensslConfig(readFileSync(join(FIXTURES, 'tutorial-root.cnf')))
  const intermediate = parseOpensslConfig(readFileSync(join(FIXTURES, 'tutorial-intermediate.cnf')))

  it('read the same as the script-written ones', () => {
    expectRootCa(readCaConfig(root), '/root/myCA/rootCA')
    expectIntermediateCa(readCaConfig(intermediate), '/root/myCA/intermediateCA')
    expect(specs(extensionSection(intermediate, 'v3_intermediate_ca'))).toEqual(V3_INTERMEDIATE_CA)
    expect(specs(extensionSection(intermediate, 'server_cert'))).toEqual(SERVER_CERT)
  })

  it('keep the request DN template, with 0.organizationName as written', () => {
    const dn = root.sections.get('req_distinguished_name')?.entries.map((e) => [e.name, e.value])
    expect(dn).toContainEqual(['0.organizationName', 'Organization Name (company)'])
    expect(dn).toContainEqual(['countryName', 'Country Name (2 letter code)'])
  })
})

/** A minimal valid CA configuration, with lines to add or replace. */
function caConf(extra = '', policy = 'commonName = supplied'): string {
  return [
    '[ ca ]',
    'default_ca = CA_default',
    '[ CA_default ]',
    'dir = /srv/ca',
    'database = $dir/index.txt',
    'policy = pol',
    extra,
    '[ pol ]',
    policy,
  ].join('\n')
}

describe('the CA section', () => {
  const read = (text: string, name?: string) => readCaConfig(parseOpensslConfig(text), name ? { name } : {})

  it.each([
    ['default_days = 365', { default_days: 365 }],
    ['default_days = 0', { default_days: undefined }],
    ['default_crl_hours = 12', { default_crl_hours: 12, default_crl_days: undefined }],
    ['unique_subject = no', { unique_subject: false }],
    ['unique_subject = False', { unique_subject: false }],
    ['unique_subject = 0', { unique_subject: false }],
    ['unique_subject = yes', { unique_subject: true }],
    ['unique_subject = maybe', { unique_subject: true }],
    ['copy_extensions = copy', { copy_extensions: 'copy' }],
    ['copy_extensions = CopyAll', { copy_extensions: 'copyall' }],
    ['email_in_dn = no', { email_in_dn: false }],
    ['email_in_dn = No', { email_in_dn: true }],
    ['email_in_dn = yes', { email_in_dn: true }],
    ['preserve = yes', { preserve: false }],
    ['rand_serial = no', { rand_serial: true }],
    [
      'x509_extensions = ext\n[ ext ]\nbasicConstraints = CA:false\n[ CA_default ]',
      { x509_extensions: 'ext' },
    ],
  ])('%j', (line, expected) => {
    expect(read(caConf(line))).toMatchObject(expected)
  })

  it.each([
    [
      '[ ca ] preserve = yes',
      caConf().replace('default_ca = CA_default', 'default_ca = CA_default\npreserve = yes'),
      true,
    ],
    ['[default] preserve = Yesterday', `preserve = Yesterday\n${caConf()}`, true],
    [
      '[ ca ] preserve = no beats the CA section',
      caConf('preserve = yes').replace('default_ca = CA_default', 'default_ca = CA_default\npreserve = no'),
      false,
    ],
  ])('preserve is read from [ ca ]: %s', (_what, text, preserve) => {
    expect(read(text).preserve).toBe(preserve)
  })

  it('falls back to [default] for every key, as ca.c does', () => {
    const ca = read(`default_days = 90\ndefault_md = sha384\n${caConf()}`)
    expect(ca).toMatchObject({ default_days: 90, default_md: 'sha384', database: '/srv/ca/index.txt' })
  })

  it('takes the CA section from the name option, like openssl ca -name', () => {
    const text = `${caConf()}\n[ other_ca ]\ndatabase = /other/index.txt\npolicy = pol`
    expect(read(text, 'other_ca')).toMatchObject({ section: 'other_ca', database: '/other/index.txt' })
  })

  it('finds default_ca in [default] when there is no [ ca ]', () => {
    const text = caConf().replace('[ ca ]\n', '')
    expect(read(text).section).toBe('CA_default')
  })

  it.each([
    ['C', 'countryName', '2.5.4.6'],
    ['countryName', 'countryName', '2.5.4.6'],
    ['CN', 'commonName', '2.5.4.3'],
    ['DC', 'domainComponent', '0.9.2342.19200300.100.1.25'],
    ['2.5.4.10', 'organizationName', '2.5.4.10'],
    ['1.2.3.4', '1.2.3.4', '1.2.3.4'],
    ['myAttr', '1.3.6.1.4.1.99999.1', '1.3.6.1.4.1.99999.1'],
  ])('resolves the policy name %s to %s', (name, field, oid) => {
    const text = `oid_section = oids\n[ oids ]\nmyAttr = My Attribute, 1.3.6.1.4.1.99999.1\n${caConf('', `${name} = optional`)}`
    expect(read(text).policyFields).toEqual([{ field, oid, rule: 'optional', name, line: 12 }])
  })

  it('notes relative paths, missing essentials, and the tutorial-style omissions', () => {
    const notes = read(caConf('database = index.txt\nname_opt = ca_default')).notes.join('\n')
    expect(notes).toMatch(/database: relative to the directory openssl ca was run from/)
    expect(notes).toMatch(/no private_key in \[CA_default\]/)
    expect(notes).toMatch(/no default_days/)
    expect(notes).toMatch(
      /copy_extensions is none: openssl ca drops the CSR's extensions, subjectAltName included/,
    )
    expect(notes).toMatch(/index\.txt\.attr/)
  })

  it.each([
    [
      'no [ ca ] section',
      'x = 1\n[ CA_default ]\npolicy = p',
      'adopt.config_invalid',
      /^no \[ ca \] section with default_ca/,
    ],
    ['[ ca ] without default_ca', '[ ca ]\nx = 1', 'adopt.config_invalid', /^\[ ca \] has no default_ca/],
    [
      'default_ca naming nothing',
      '[ ca ]\ndefault_ca = nowhere',
      'adopt.config_invalid',
      /^line 2: default_ca names section \[nowhere\], which is not defined/,
    ],
    [
      'no policy',
      caConf().replace('policy = pol\n', ''),
      'adopt.config_invalid',
      /^\[CA_default\] has no policy/,
    ],
    [
      'policy naming nothing',
      caConf().replace('policy = pol', 'policy = policy_gone'),
      'adopt.config_invalid',
      /^line 6: policy names section \[policy_gone\], which is not defined/,
    ],
    [
      'bad policy rule',
      caConf('', 'countryName = required'),
      'adopt.config_invalid',
      /^line 9: policy \[pol\] countryName = "required": the rule must be match, supplied or optional/,
    ],
    [
      'upper-case policy rule',
      caConf('', 'commonName = Supplied'),
      'adopt.config_invalid',
      /^line 9: .*"Supplied"/,
    ],
    [
      'unknown policy attribute',
      caConf('', 'favouriteColour = optional'),
      'adopt.unsupported',
      /^line 9: policy \[pol\] names "favouriteColour"/,
    ],
    [
      'days with a unit',
      caConf('default_days = 30d'),
      'adopt.config_invalid',
      /^line 7: default_days = "30d" is not a whole number of days \(OpenSSL would read it as 30\)/,
    ],
    [
      'days in words',
      caConf('default_days = thirty'),
      'adopt.config_invalid',
      /^line 7: default_days = "thirty" .*\(OpenSSL would read it as 0, meaning "not set"\)/,
    ],
    [
      'negative days',
      caConf('default_days = -5'),
      'adopt.config_invalid',
      /^line 7: default_days = "-5" is not a whole number/,
    ],
    [
      'absurd days',
      caConf('default_days = 99999999999'),
      'adopt.config_invalid',
      /^line 7: default_days = 99999999999 days is beyond year 9999/,
    ],
    [
      'bad crl hours',
      caConf('default_crl_hours = 1.5'),
      'adopt.config_invalid',
      /^line 7: default_crl_hours = "1\.5" is not a whole number of hours/,
    ],
    [
      'bad copy_extensions',
      caConf('copy_extensions = all'),
      'adopt.config_invalid',
      /^line 7: copy_extensions = "all": expected none, copy or copyall/,
    ],
    [
      'x509_extensions naming nothing',
      caConf('x509_extensions = v3_gone'),
      'adopt.config_invalid',
      /^line 7: x509_extensions names section \[v3_gone\]/,
    ],
    [
      'crl_extensions naming nothing',
      caConf('crl_extensions = crl_gone'),
      'adopt.config_invalid',
      /^line 7: crl_extensions names section \[crl_gone\]/,
    ],
  ])('refuses %s', (_what, text, code, message) => {
    const e = fail(() => read(text))
    expect(e.code).toBe(code)
    expect(e.message).toMatch(message)
  })
})

describe('extension sections', () => {
  const section = (body: string, extra = '') =>
    extensionSection(parseOpensslConfig(`[ ext ]\n${body}\n${extra}`), 'ext')
  const one = (body: string, extra = '') => {
    const s = section(body, extra)
    expect(s.unmapped).toEqual([])
    expect(s.extensions).toHaveLength(1)
    return withoutPlace(s.extensions[0] as ExtensionSpec)
  }

  it.each([
    ['basicConstraints = CA:TRUE', { kind: 'basicConstraints', critical: false, ca: true }],
    [
      'basicConstraints = critical,CA:true,pathlen:0',
      { kind: 'basicConstraints', critical: true, ca: true, pathlen: 0 },
    ],
    [
      'basicConstraints = critical,   CA:yes, pathlen:0x10',
      { kind: 'basicConstraints', critical: true, ca: true, pathlen: 16 },
    ],
    ['basicConstraints = CA:FALSE', { kind: 'basicConstraints', critical: false, ca: false }],
    [
      'basicConstraints = @bc',
      { kind: 'basicConstraints', critical: false, ca: true, pathlen: 1 },
      '[ bc ]\nCA = true\npathlen = 1',
    ],
    [
      'keyUsage = critical, keyCertSign, cRLSign',
      { kind: 'keyUsage', critical: true, usages: ['keyCertSign', 'cRLSign'] },
    ],
    [
      'keyUsage = Digital Signature, CRL Sign, digitalSignature',
      { kind: 'keyUsage', critical: false, usages: ['digitalSignature', 'cRLSign'] },
    ],
    [
      'keyUsage = nonRepudiation,dataEncipherment,keyAgreement,encipherOnly,decipherOnly',
      {
        kind: 'keyUsage',
        critical: false,
        usages: ['nonRepudiation', 'dataEncipherment', 'keyAgreement', 'encipherOnly', 'decipherOnly'],
      },
    ],
    [
      'extendedKeyUsage = serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning',
      {
        kind: 'extendedKeyUsage',
        critical: false,
        usages: ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'OCSPSigning'],
        oids: [
          '1.3.6.1.5.5.7.3.1',
          '1.3.6.1.5.5.7.3.2',
          '1.3.6.1.5.5.7.3.3',
          '1.3.6.1.5.5.7.3.4',
          '1.3.6.1.5.5.7.3.8',
          '1.3.6.1.5.5.7.3.9',
        ],
      },
    ],
    [
      'extendedKeyUsage = TLS Web Client Authentication, 1.3.6.1.5.5.7.3.1, 1.2.3.4',
      {
        kind: 'extendedKeyUsage',
        critical: false,
        usages: ['clientAuth', 'serverAuth', '1.2.3.4'],
        oids: ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1', '1.2.3.4'],
      },
    ],
    ['subjectKeyIdentifier = hash', { kind: 'subjectKeyIdentifier', critical: false, method: 'hash' }],
    ['subjectKeyIdentifier = none', { kind: 'subjectKeyIdentifier', critical: false, method: 'none' }],
    [
      'authorityKeyIdentifier = keyid',
      { kind: 'authorityKeyIdentifier', critical: false, keyid: 'if_available', issuer: 'omit' },
    ],
    [
      'authorityKeyIdentifier = keyid:always',
      { kind: 'authorityKeyIdentifier', critical: false, keyid: 'always', issuer: 'omit' },
    ],
    [
      'authorityKeyIdentifier = issuer',
      { kind: 'authorityKeyIdentifier', critical: false, keyid: 'omit', issuer: 'if_available' },
    ],
    [
      'authorityKeyIdentifier = keyid,issuer:always',
      { kind: 'authorityKeyIdentifier', critical: false, keyid: 'if_available', issuer: 'always' },
    ],
    [
      'subjectAltName = DNS:www.example.com, IP:10.0.0.1, IP:::1, email:ops@example.com, URI:spiffe://example/ns/a, email:copy',
      {
        kind: 'subjectAltName',
        critical: false,
        names: [
          { type: 'DNS', value: 'www.example.com' },
          { type: 'IP', value: '10.0.0.1' },
          { type: 'IP', value: '::1' },
          { type: 'email', value: 'ops@example.com' },
          { type: 'URI', value: 'spiffe://example/ns/a' },
          { type: 'email:copy' },
        ],
      },
    ],
    [
      'subjectAltName = @alt_names',
      {
        kind: 'subjectAltName',
        critical: false,
        names: [
          { type: 'DNS', value: 'a.example' },
          { type: 'DNS', value: 'b.example' },
          { type: 'IP', value: '192.168.0.1' },
        ],
      },
      '[ alt_names ]\nDNS.1 = a.example\nDNS.2 = b.example\nIP.1 = 192.168.000.001',
    ],
    [
      'crlDistributionPoints = URI:http://crl.example/a.crl, URI:http://crl2.example/a.crl',
      {
        kind: 'crlDistributionPoints',
        critical: false,
        points: [{ uris: ['http://crl.example/a.crl'] }, { uris: ['http://crl2.example/a.crl'] }],
      },
    ],
    [
      'crlDistributionPoints = @crl_section',
      { kind: 'crlDistributionPoints', critical: false, points: [{ uris: ['http://crl.example/i.crl'] }] },
      '[ crl_section ]\nURI.0 = http://crl.example/i.crl',
    ],
    [
      'crlDistributionPoints = dp1',
      {
        kind: 'crlDistributionPoints',
        critical: false,
        points: [{ uris: ['http://a/b.crl', 'http://c/d.crl'] }],
      },
      '[ dp1 ]\nfullname = URI:http://a/b.crl, URI:http://c/d.crl',
    ],
    [
      'authorityInfoAccess = OCSP;URI:http://ocsp.example, caIssuers;URI:http://ca.example/i.crt',
      {
        kind: 'authorityInfoAccess',
        critical: false,
        ocsp: ['http://ocsp.example'],
        caIssuers: ['http://ca.example/i.crt'],
      },
    ],
    [
      'authorityInfoAccess = @aia',
      { kind: 'authorityInfoAccess', critical: false, ocsp: ['http://o'], caIssuers: ['http://c'] },
      '[ aia ]\nOCSP;URI.0 = http://o\ncaIssuers;URI.0 = http://c',
    ],
  ])('%j', (body, expected, extra = '') => {
    expect(one(body, extra)).toEqual(expected)
  })

  it('keeps the section order and each line', () => {
    const s = section('keyUsage = digitalSignature\nbasicConstraints = CA:false\nsubjectAltName = DNS:x')
    expect(s.extensions.map((e) => [e.kind, e.line])).toEqual([
      ['keyUsage', 2],
      ['basicConstraints', 3],
      ['subjectAltName', 4],
    ])
  })

  it.each([
    ['nsCertType = server, client', 'nsCertType'],
    ['nsComment = "OpenSSL Generated Server Certificate"', 'nsComment'],
  ])('ignores %s as obsolete, saying so', (body, name) => {
    const s = section(body)
    expect(s.extensions).toEqual([])
    expect(s.ignored).toEqual([
      expect.objectContaining({ name, section: 'ext', line: 2, reason: expect.stringMatching(/obsolete/) }),
    ])
  })

  it.each([
    ['certificatePolicies = 1.2.3.4', /certificatePolicies is not modelled/],
    ['nameConstraints = permitted;DNS:.example.com', /nameConstraints is not modelled/],
    ['issuerAltName = issuer:copy', /issuerAltName is not modelled/],
    ['1.2.3.4 = DER:05:00', /raw DER\/ASN1/],
    ['basicConstraints = ASN1:NULL', /raw DER\/ASN1/],
    ['madeUpExtension = whatever', /"madeUpExtension" is not an extension name mtls-ca knows/],
    ['subjectAltName = DNS:a, RID:1.2.3', /RID names are not modelled/],
    ['subjectAltName = dirName:dir_sect', /dirName names are not modelled/],
    ['subjectAltName = email:move', /email:move/],
    ['subjectKeyIdentifier = 01:02:AB', /explicit key identifier/],
    [
      'extendedKeyUsage = serverAuth, someVendorPurpose',
      /"someVendorPurpose" is not a purpose mtls-ca knows/,
    ],
    [
      'crlDistributionPoints = dp\n[ dp ]\nfullname = URI:http://x\nreasons = keyCompromise',
      /\[dp\] uses reasons/,
    ],
    ['authorityInfoAccess = caRepository;URI:http://x', /access method caRepository is not modelled/],
    ['authorityInfoAccess = OCSP;DNS:ocsp.example', /a DNS location, not a URI/],
  ])('reports %j as unmapped, with section and line', (body, reason) => {
    const s = section(body)
    expect(s.extensions).toEqual([])
    expect(s.unmapped).toEqual([
      expect.objectContaining({ section: 'ext', line: 2, reason: expect.stringMatching(reason) }),
    ])
  })

  it.each([
    ['basicConstraints = CA:True', /line 2: CA:True is not a boolean OpenSSL accepts/],
    [
      'basicConstraints = critical , CA:true',
      /line 2: basicConstraints: "critical" is neither CA nor pathlen \("critical," must come first/,
    ],
    ['basicConstraints = Critical,CA:true', /line 2: basicConstraints: "Critical" is neither CA nor pathlen/],
    ['basicConstraints = CA:true, pathlen:3x', /line 2: basicConstraints: pathlen "3x" is not a number/],
    ['basicConstraints = CA:true, pathlen:-1', /line 2: basicConstraints: negative pathlen -1/],
    ['basicConstraints = CA', /line 2: CA: is not a boolean/],
    ['keyUsage = digitalSignature,', /line 2: keyUsage: empty name in the list/],
    ['keyUsage = digitalSignature, signEverything', /line 2: keyUsage: unknown usage "signEverything"/],
    ['keyUsage =', /line 2: keyUsage: empty name in the list/],
    ['subjectKeyIdentifier = bogus', /line 2: subjectKeyIdentifier: "bogus" is neither hash, none nor hex/],
    [
      'authorityKeyIdentifier = keyid:always, serial',
      /line 2: authorityKeyIdentifier: unknown option "serial"/,
    ],
    ['subjectAltName = dns:x', /line 2: subjectAltName: unsupported name type "dns"/],
    ['subjectAltName = DNS', /line 2: subjectAltName: DNS without a value/],
    ['subjectAltName = DNS:', /line 2: subjectAltName: DNS: empty value/],
    ['subjectAltName = IP:10.0.0.256', /line 2: subjectAltName: "10\.0\.0\.256" is not an IP address/],
    [
      'subjectAltName = DNS:bücher.example',
      /line 2: subjectAltName: DNS:bücher\.example is not printable ASCII/,
    ],
    ['subjectAltName = @nosuch', /line 2: subjectAltName refers to section \[nosuch\], which is not defined/],
    [
      'subjectAltName = @empty\n[ empty ]',
      /line 2: subjectAltName refers to section \[empty\], which is empty/,
    ],
    ['subjectAltName = @alt\n[ alt ]\nDNS.1 =', /\[ext\] line 4: subjectAltName: empty DNS name/],
    [
      'crlDistributionPoints = nosuch_dp',
      /line 2: crlDistributionPoints: section \[nosuch_dp\] is not defined/,
    ],
    ['authorityInfoAccess = URI:http://ocsp', /line 2: authorityInfoAccess: "URI" is not method;type/],
    ['nsCertType = server, bogus', /line 2: unknown nsCertType bogus/],
  ])('refuses %j as OpenSSL does', (body, message) => {
    const e = fail(() => section(body))
    expect(e.code).toBe('adopt.config_invalid')
    expect(e.message).toMatch(message)
  })

  it('refuses a section that does not exist', () => {
    expect(fail(() => extensionSection(parseOpensslConfig('x = 1'), 'v3_gone')).message).toBe(
      'extension section [v3_gone] is not defined',
    )
  })

  it('notes what a person should look at', () => {
    const notes = section(
      'basicConstraints = CA:true\nsubjectKeyIdentifier = critical,hash\nauthorityKeyIdentifier = keyid:sometimes\n' +
        'subjectAltName = IP:010.0.0.1',
    ).notes.join('\n')
    expect(notes).toMatch(/line 2: basicConstraints CA:TRUE is not critical/)
    expect(notes).toMatch(/line 3: subjectKeyIdentifier is marked critical/)
    expect(notes).toMatch(
      /line 4: authorityKeyIdentifier keyid:sometimes is read by OpenSSL 3\.0 as plain keyid/,
    )
    expect(notes).toMatch(/line 5: IP:010\.0\.0\.1 is read by OpenSSL as 10\.0\.0\.1/)
  })
})
