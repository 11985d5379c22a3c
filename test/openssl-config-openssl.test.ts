/**
 * Cross-checks against the real `openssl` binary where NCONF behaviour is subtle. A value is read
 * back exactly with `openssl asn1parse -genconf` (`asn1 = OCT:${section::name}` puts the stored
 * bytes in an OCTET STRING), a section's order with `asn1 = SEQUENCE:section`, extension values
 * with `openssl req -x509 -extensions`, and the CA section's quirks with `openssl ca` itself on the
 * tutorial's CA. Few and fast: one process per case.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isCaError, type CaError } from '../src/ca/errors.js'
import { extensionSection, readCaConfig } from '../src/openssl-config/ca-config.js'
import { parseOpensslConfig } from '../src/openssl-config/parse.js'

const TUTORIAL = '/work/shared/reference/tutorial-ca.sh'
const ENV = { HOME: '/home/probe', PATH: process.env['PATH'] ?? '/usr/bin:/bin' }

let dir: string
let n = 0
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mtls-ca-openssl-nconf-'))
  execFileSync('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    join(dir, 'k.pem'),
  ])
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function refusal(f: () => unknown): CaError {
  try {
    f()
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a refusal')
}

function file(text: string | Uint8Array): string {
  const path = join(dir, `c${n++}.cnf`)
  writeFileSync(path, text)
  return path
}

/** The DER that `openssl asn1parse -genconf` writes, or the line OpenSSL reports an error on. */
function genconf(text: string): { der: Buffer } | { errorLine: number } {
  const out = join(dir, `o${n++}.der`)
  const r = spawnSync('openssl', ['asn1parse', '-genconf', file(text), '-noout', '-out', out], { env: ENV })
  if (r.status !== 0) {
    const m = /Error on line (\d+)/.exec(r.stderr.toString())
    if (!m) throw new Error(`openssl failed without a line: ${r.stderr.toString()}`)
    return { errorLine: Number(m[1]) }
  }
  return { der: readFileSync(out) }
}

/** The contents of a DER element, and what follows it. */
function tlv(der: Buffer, at = 0): { content: Buffer; next: number } {
  let len = der[at + 1] ?? 0
  let start = at + 2
  if (len & 0x80) {
    const bytes = len & 0x7f
    len = der.subarray(at + 2, at + 2 + bytes).readUIntBE(0, bytes)
    start += bytes
  }
  return { content: der.subarray(start, start + len), next: start + len }
}

/** What OpenSSL stored for [section] name, as bytes decoded as UTF-8; or its error line. */
function opensslValue(text: string, section: string, name: string): string | { errorLine: number } {
  const r = genconf(`${text}\n[ default ]\nasn1 = OCT:\${${section}::${name}}\n`)
  return 'der' in r ? tlv(r.der).content.toString('utf8') : r
}

/** Our value, or the line we refuse. */
function ourValue(text: string, section: string, name: string): string | { errorLine: number } {
  try {
    return parseOpensslConfig(text, { env: ENV }).sections.get(section)?.values.get(name)?.value ?? '<absent>'
  } catch (e) {
    if (!isCaError(e)) throw e
    return { errorLine: Number(/^lines? (\d+)/.exec(e.message)?.[1]) }
  }
}

describe('values read back from openssl asn1parse -genconf', () => {
  it.each([
    ['escapes outside quotes', 'v = a\\nb\\rc\\bd\\te \\q \\\\ \\$ \\#', 'default'],
    ['quotes, and escapes inside them', 'v = "a\\nb" \'c\\td\' `bt` x"y"z "say \\"hi\\""', 'default'],
    ['comments and quoted #', 'v = "abc # not" \'#\' x # comment "y"', 'default'],
    ['trailing escaped space', 'v = b\\ ', 'default'],
    ['escaped leading space', 'v = \\ x', 'default'],
    ['continuation', 'v = line1\\\n  line2', 'default'],
    ['continuation inside quotes', 'v = "multi \\\nline"', 'default'],
    ['continuation swallowed by a comment', 'v = a # c \\\nstill comment', 'default'],
    ['\\\\ at the end of a line', 'v = a\\\\\nw = 1', 'default'],
    ['\\\\\\ at the end of a line', 'v = a\\\\\\\nw = 1', 'default'],
    ['CR inside a line and CRLF', 'v = a\rb\r\r\nw = 1\r\n', 'default'],
    ['UTF-8', 'v = Zürich — 東京', 'default'],
    ['$(x) ${x} $x.y', 'x = X\nv = $(x)-${x}-$x.y-$x/z', 'default'],
    ['$section::var forms', '[ s ]\nx = S\n[ t ]\nv = $s::x ${s::x} $(s::x)', 't'],
    ['current section before [default]', 'x = D\n[ t ]\nx = T\nv = $x $default::x', 't'],
    ['$section::var falling back to [default]', 'x = D\n[ s ]\ny = 1\n[ t ]\nv = $s::x', 't'],
    ['an [ENV] section before the environment', '[ ENV ]\nHOME = /cfg\n[ t ]\nv = $ENV::HOME', 't'],
    ['the environment', 'v = $ENV::HOME/ca', 'default'],
    ['expanded once, when read', 'a = 1\nb = $a\na = 2\nv = $b$a', 'default'],
    ['dollarid', '.pragma dollarid:on\na$b = v\nx = 1\nv = ${a$b} $x $(x) cost$5', 'default'],
    ['section::name assignment', '[ here ]\nother::v = 1\n[ other ]\nw = 2', 'other'],
    ['duplicate name: the last wins', 'v = 1\nv = 2', 'default'],
  ])('%s', (_what, text, section) => {
    const theirs = opensslValue(text, section, 'v')
    expect(typeof theirs).toBe('string')
    expect(ourValue(text, section, 'v')).toEqual(theirs)
  })

  it('a byte-order mark at the start of the file', () => {
    const text = '\uFEFFv = bom'
    expect(ourValue(text, 'default', 'v')).toEqual(opensslValue(text, 'default', 'v'))
  })

  it.each([
    [
      'the last of duplicate names moves to the end',
      '[ seq ]\na = OCT:1\nb = OCT:2\na = OCT:3\nc = OCT:4',
      'seq',
    ],
    ['a section header with inner spaces', '[  my   sec  ]\nx = OCT:1\ny = OCT:2', 'my   sec'],
    ['values assigned from another section', '[ seq ]\na = OCT:1\n[ elsewhere ]\nseq::b = OCT:2', 'seq'],
  ])('section order: %s', (_what, text, section) => {
    const r = genconf(`${text}\n[ default ]\nasn1 = SEQUENCE:${section}\n`)
    if (!('der' in r)) throw new Error(`openssl refused: line ${r.errorLine}`)
    const theirs: string[] = []
    const seq = tlv(r.der).content
    for (let at = 0; at < seq.length;) {
      const { content, next } = tlv(seq, at)
      theirs.push(content.toString())
      at = next
    }
    const ours = parseOpensslConfig(text)
      .sections.get(section)
      ?.entries.map((e) => e.value.replace(/^OCT:/, ''))
    expect(ours).toEqual(theirs)
  })

  it.each([
    ['undefined variable', 'a = 1\nb = 2\nv = $nothere'],
    ['defined only later', 'v = $later\nlater = 1'],
    ['self reference', 'x = 1\na = $a'],
    ['unclosed brace', 'x = 1\nv = ${x'],
    ['space inside braces', 'x = 1\nv = ${ x }'],
    ['lone dollar', 'v = costs 5$'],
    ['missing =', 'x = 1\nname value'],
    ['missing ]', 'x = 1\n[ ca\ny = 2'],
    ['invalid pragma', '.pragma nocolon'],
    ['invalid pragma value', 'x = 1\n.pragma dollarid:maybe'],
    [
      'exponential doubling',
      Array.from({ length: 20 }, (_, i) =>
        i ? `a${i} = $a${i - 1}$a${i - 1}` : 'a0 = xxxxxxxxxxxxxxxx',
      ).join('\n'),
    ],
    [
      'one byte past the expansion limit',
      `c = ${'x'.repeat(16384)}\nd = ${'y'.repeat(16380)}\nv = OCT:$c$c$c$d`,
    ],
  ])('refused on the same line: %s', (_what, text) => {
    const theirs = genconf(text)
    expect(theirs).toHaveProperty('errorLine')
    expect(ourValue(text, 'default', 'v')).toEqual(theirs)
  })

  it('accepts exactly the longest expansion OpenSSL accepts', () => {
    // Read back directly: a further ${…} in the probe line would itself pass the limit.
    const text = `c = ${'x'.repeat(16384)}\nd = ${'y'.repeat(16379)}\nasn1 = OCT:$c$c$c$d`
    const theirs = genconf(text)
    if (!('der' in theirs)) throw new Error(`openssl refused: line ${theirs.errorLine}`)
    const ours = parseOpensslConfig(text).sections.get('default')?.values.get('asn1')?.value ?? ''
    expect(ours.length).toBe(65535)
    expect(`OCT:${tlv(theirs.der).content.toString()}` === ours).toBe(true)
  })

  it.each([
    ['an unterminated quote', 'v = "abc # not a comment', 'abc # not a comment'],
    ['an apostrophe that opens a quote', "v = O'Reilly # c", 'OReilly # c'],
    ['a reference to a section that does not exist', 'x = D\nv = $nosuch::x', 'D'],
  ])(
    'where mtls-ca refuses what OpenSSL accepts, the message says what OpenSSL read: %s',
    (_what, text, read) => {
      expect(opensslValue(text, 'default', 'v')).toBe(read)
      const e = refusal(() => parseOpensslConfig(text))
      expect(e.code).toBe('adopt.config_invalid')
      expect(e.message).toContain(JSON.stringify(read))
    },
  )
})

describe('extension values against openssl req -x509 -extensions', () => {
  function opensslAccepts(body: string): { ok: boolean; text: string } {
    const cfg = file(`[ req ]\ndistinguished_name = dn\n[ dn ]\n[ ext ]\n${body}\n`)
    const key = join(dir, 'k.pem')
    const args = ['req', '-new', '-x509', '-key', key, '-subj', '/CN=t', '-config', cfg, '-extensions', 'ext']
    const r = spawnSync('openssl', [...args, '-days', '1', '-noout', '-text'], { env: ENV, encoding: 'utf8' })
    return r.status === 0 ? { ok: true, text: r.stdout } : { ok: false, text: r.stderr }
  }
  function weAccept(body: string): boolean {
    try {
      extensionSection(parseOpensslConfig(`[ ext ]\n${body}\n`), 'ext')
      return true
    } catch (e) {
      if (isCaError(e) && e.code === 'adopt.config_invalid') return false
      throw e
    }
  }

  it.each([
    ['basicConstraints = critical,CA:true,pathlen:0', /Basic Constraints: critical\s+CA:TRUE, pathlen:0/],
    ['basicConstraints = critical,   CA:yes', /CA:TRUE/],
    ['keyUsage = Digital Signature, cRLSign, keyCertSign', /Digital Signature, Certificate Sign, CRL Sign/],
    [
      'extendedKeyUsage = TLS Web Server Authentication, 1.2.3.4, clientAuth',
      /TLS Web Server Authentication, 1\.2\.3\.4, TLS Web Client Authentication/,
    ],
    [
      'subjectAltName = @alt\n[ alt ]\nDNS.1 = a.example\nDNS.2 = b.example\nIP.1 = 010.0.0.1',
      /DNS:a\.example, DNS:b\.example, IP Address:10\.0\.0\.1/,
    ],
    ['subjectAltName = DNS:x, IP:::1', /DNS:x, IP Address:0:0:0:0:0:0:0:1/],
    ['authorityKeyIdentifier = keyid:sometimes', /./],
    [
      'crlDistributionPoints = dp1, URI:http://x/y.crl\n[ dp1 ]\nfullname = URI:http://a/b.crl, URI:http://c/d.crl',
      /URI:http:\/\/a\/b\.crl\s+URI:http:\/\/c\/d\.crl\s+Full Name:\s+URI:http:\/\/x\/y\.crl/,
    ],
    [
      'authorityInfoAccess = OCSP;URI:http://o.example, caIssuers;URI:http://c.example/i.crt',
      /OCSP - URI:http:\/\/o\.example\s+CA Issuers - URI:http:\/\/c\.example\/i\.crt/,
    ],
    ['nsCertType = server, SSL Client', /SSL Client, SSL Server/],
    ['certificatePolicies = 1.2.3.4', /Policy: 1\.2\.3\.4/],
  ])('both accept %j', (body, shows) => {
    const theirs = opensslAccepts(body)
    expect(theirs.ok).toBe(true)
    expect(theirs.text).toMatch(shows)
    expect(weAccept(body)).toBe(true)
  })

  it.each([
    'basicConstraints = CA:True',
    'basicConstraints = critical , CA:true',
    'basicConstraints = Critical,CA:true',
    'basicConstraints = CA:true, pathlen:3x',
    'keyUsage = digitalSignature,',
    'keyUsage = signEverything',
    'extendedKeyUsage =',
    'subjectAltName = dns:x',
    'subjectAltName = IP:10.0.0.256',
    'subjectAltName = @nosuch',
    'subjectAltName = DNS',
    'authorityKeyIdentifier = keyid, foo',
    'subjectKeyIdentifier = bogus',
    'nsCertType = server, bogus',
    'authorityInfoAccess = URI:http://ocsp',
    'crlDistributionPoints = nosuch_dp',
  ])('both refuse %j', (body) => {
    expect(opensslAccepts(body).ok).toBe(false)
    expect(weAccept(body)).toBe(false)
  })

  it.each([
    ['a negative pathlen', 'basicConstraints = CA:true, pathlen:-1', /pathlen:-1/],
    ['an empty DNS name', 'subjectAltName = @alt\n[ alt ]\nDNS.1 =', /DNS:\s*\n/],
    ['a non-ASCII DNS name', 'subjectAltName = DNS:bücher.example', /DNS:b/],
  ])('mtls-ca is stricter than OpenSSL on %s', (_what, body, shows) => {
    const theirs = opensslAccepts(body)
    expect(theirs.ok).toBe(true)
    expect(theirs.text).toMatch(shows)
    expect(weAccept(body)).toBe(false)
  })
})

describe('the CA section against openssl ca on the tutorial CA', () => {
  let ca: string
  beforeAll(() => {
    ca = join(dir, 'tutorial')
    execFileSync('bash', [TUTORIAL, ca], { env: { ...process.env, KEYBITS: '2048' }, stdio: 'pipe' })
    const key = join(ca, 'intermediateCA', 'private', 'www.example.com.key.pem')
    const subj = '/CN=probe.example/O=Probe Corp/emailAddress=ops@probe.example'
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', subj, '-out', join(ca, 'probe.csr')])
    copyFileSync(join(ca, 'intermediateCA', 'index.txt'), join(ca, 'index.orig'))
  })

  /** Issues the probe CSR with a variant of the intermediate's configuration; returns the subject or the error. */
  function issue(
    edit: (cnf: string) => string,
    days = true,
  ): { subject?: string; days?: number; error?: string } {
    const cnf = edit(readFileSync(join(ca, 'openssl_intermediate.cnf'), 'utf8'))
    const path = join(ca, 'variant.cnf')
    writeFileSync(path, cnf)
    copyFileSync(join(ca, 'index.orig'), join(ca, 'intermediateCA', 'index.txt'))
    rmSync(join(ca, 'intermediateCA', 'index.txt.attr'), { force: true })
    const out = join(ca, 'probe.pem')
    rmSync(out, { force: true })
    const args = [
      'ca',
      '-batch',
      '-config',
      path,
      '-extensions',
      'server_cert',
      '-notext',
      '-in',
      join(ca, 'probe.csr'),
    ]
    const r = spawnSync('openssl', [...args, ...(days ? ['-days', '10'] : []), '-out', out], {
      encoding: 'utf8',
    })
    if (r.status !== 0) return { error: r.stderr }
    const text = execFileSync(
      'openssl',
      ['x509', '-in', out, '-noout', '-subject', '-startdate', '-enddate'],
      {
        encoding: 'utf8',
      },
    )
    unlinkSync(out)
    const [, subject = '', start = '', end = ''] =
      /subject=(.*)\nnotBefore=(.*)\nnotAfter=(.*)/.exec(text) ?? []
    return { subject, days: Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000) }
  }
  const read = (edit: (cnf: string) => string) =>
    readCaConfig(parseOpensslConfig(edit(readFileSync(join(ca, 'openssl_intermediate.cnf'), 'utf8'))))
  const policyOrder = 'O = Probe Corp, CN = probe.example'
  const csrOrder = 'CN = probe.example, O = Probe Corp'

  it.each([
    ['in the CA section is ignored', (c: string) => c.replace(/^preserve .*$/m, 'preserve = yes'), false],
    [
      'in [ ca ] is honoured',
      (c: string) => c.replace('default_ca = CA_default', 'default_ca = CA_default\npreserve = yes'),
      true,
    ],
    ['"Yesterday" in [default] counts as yes', (c: string) => `preserve = Yesterday\n${c}`, true],
  ])('preserve %s', (_what, edit, preserve) => {
    expect(read(edit).preserve).toBe(preserve)
    expect(issue(edit).subject).toBe(preserve ? csrOrder : policyOrder)
  })

  it.each([
    ['no', false],
    ['No', true],
  ])('email_in_dn = %s', (value, kept) => {
    const edit = (c: string) => c.replace(/^email_in_dn .*$/m, `email_in_dn = ${value}`)
    expect(read(edit).email_in_dn).toBe(kept)
    expect(issue(edit).subject).toBe(policyOrder + (kept ? ', emailAddress = ops@probe.example' : ''))
  })

  it('default_days = 30d: openssl ca reads 30, mtls-ca refuses and says so', () => {
    const edit = (c: string) => c.replace('default_md ', 'default_days = 30d\ndefault_md ')
    expect(issue(edit, false).days).toBe(30)
    expect(refusal(() => read(edit)).message).toMatch(/OpenSSL would read it as 30\)$/)
  })

  it('default_days = thirty: openssl ca has no default, mtls-ca refuses and says so', () => {
    const edit = (c: string) => c.replace('default_md ', 'default_days = thirty\ndefault_md ')
    expect(issue(edit, false).error).toMatch(/cannot lookup how many days/)
    expect(refusal(() => read(edit)).message).toMatch(/OpenSSL would read it as 0, meaning "not set"\)$/)
  })
})
