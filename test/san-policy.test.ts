import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnConvert } from '@peculiar/asn1-schema'
import { GeneralName, Name } from '@peculiar/asn1-x509'
import { CaError, type ErrorCode } from '../src/ca/errors.js'
import { checkSans, normaliseSans, validateSanPolicy, type SanPolicy } from '../src/ca/san-policy.js'
import { validateDnsName, validateEmailAddress, validateUri } from '../src/ca/san-syntax.js'
import {
  canonicalIpAddress,
  formatIpAddress,
  formatSan,
  formatSans,
  parseIpAddress,
  parseSanList,
  parseSanText,
  sansFromExtensionValue,
  sansFromGeneralNames,
  sansToExtensionValue,
  sansToGeneralNames,
  type SanEntry,
} from '../src/ca/subject-alt-name.js'

function refusal(fn: () => unknown): { code: ErrorCode; message: string; details: CaError[] } {
  try {
    fn()
  } catch (e) {
    if (e instanceof CaError) return { code: e.code, message: e.message, details: e.details }
    throw e
  }
  throw new Error('expected a CaError, nothing was thrown')
}

const dns = (value: string): SanEntry => ({ type: 'dns', value })
const ip = (value: string): SanEntry => ({ type: 'ip', value })
const email = (value: string): SanEntry => ({ type: 'email', value })
const uri = (value: string): SanEntry => ({ type: 'uri', value })

// -------------------------------------------------------------------------------------------------
describe('DNS name syntax', () => {
  it.each([
    'example.com',
    'www.example.com',
    'a.b.c.d.e.example.com',
    'localhost',
    'db',
    'WWW.Example.COM',
    'a-b.example.com',
    'a--b.example.com',
    '1password.com',
    '123.example.com',
    'x.123abc',
    'xn--bcher-kva.example',
    'www.xn--bcher-kva.example',
    'xn--55qx5d.xn--fiqs8s',
    'XN--BCHER-KVA.example',
    'a'.repeat(63) + '.example.com',
    [...Array(4)].map(() => 'a'.repeat(61)).join('.') + '.abc', // 253 octets
    '*.example.com',
    '*.a.example.com',
    '*.xn--bcher-kva.example',
    '*.EXAMPLE.com',
    'a.b-c.d',
    '0-0.example',
  ])('%s is a valid DNS SAN', (name) => {
    expect(() => validateDnsName(name, { wildcard: true })).not.toThrow()
  })

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['example.com.', /ends with a dot/],
    ['.example.com', /empty label/],
    ['a..example.com', /empty label/],
    ['a.example..', /ends with a dot/],
    ['-a.example.com', /starts or ends with a hyphen/],
    ['a-.example.com', /starts or ends with a hyphen/],
    ['a.example-', /starts or ends with a hyphen/],
    ['a_b.example.com', /underscore/],
    ['_acme-challenge.example.com', /underscore/],
    ['a b.example.com', /space or control/],
    ['a\u0000.example.com', /space or control/],
    ['a\t.example.com', /space or control/],
    ['a\u007f.example.com', /space or control/],
    ['a\u0085.example.com', /space or control/],
    ['a.ex@mple.com', /letters, digits and hyphens/],
    ['a:b.example.com', /letters, digits and hyphens/],
    ['a/b.example.com', /letters, digits and hyphens/],
    ['a%2e.example.com', /letters, digits and hyphens/],
    ['a'.repeat(64) + '.example.com', /64 octets long, over 63/],
    [[...Array(4)].map(() => 'a'.repeat(62)).join('.') + '.ab', /over 253/],
    ['bücher.example', /non-ASCII.*A-label \(xn--bcher-kva\.example\)/],
    ['例え.テスト', /non-ASCII.*A-label \(xn--r8jz45g\.xn--zckzah\)/],
    ['exаmple.com', /non-ASCII/], // Cyrillic a
    ['example.com\u200b', /non-ASCII/],
    ['ｅｘａｍｐｌｅ.com', /non-ASCII/],
    ['xn--.example', /starts or ends with a hyphen/],
    ['xn--a.example', /not a valid A-label/],
    ['xn--zz-.example', /starts or ends with a hyphen/],
    ['xn--xn--abc.example', /not a valid A-label/],
    ['ab--cd.example', /reserved for A-labels/],
    ['10.0.0.1', /IP address/],
    ['192.168.1.255', /IP address/],
    ['::1', /IP address/],
    ['2001:db8::1', /IP address/],
    ['[::1]', /IP address/],
    ['[2001:db8::1]', /IP address/],
    ['1.2.3', /numeric/],
    ['127.1', /numeric/],
    ['0x7f.1', /numeric/],
    ['example.123', /numeric/],
    ['999', /numeric/],
    ['*', /at least two labels/],
    ['*.com', /at least two labels/],
    ['*.localhost', /at least two labels/],
    ['a*.example.com', /partial-label wildcard/],
    ['*a.example.com', /partial-label wildcard/],
    ['f*o.example.com', /partial-label wildcard/],
    ['**.example.com', /partial-label wildcard/],
    ['*.*.example.com', /only allowed as the whole left-most label/],
    ['foo.*.example.com', /only allowed as the whole left-most label/],
    ['example.*', /only allowed as the whole left-most label/],
  ])('%j is refused (%s)', (name, message) => {
    const r = refusal(() => validateDnsName(name, { wildcard: true }))
    expect(r.code).toBe('policy.name_invalid')
    expect(r.message).toMatch(message)
  })

  it.each(['*.example.com', '*.a.example.com'])('%s is refused where wildcards are not allowed', (name) => {
    expect(refusal(() => validateDnsName(name)).message).toMatch(/wildcard is not allowed here/)
  })
})

// -------------------------------------------------------------------------------------------------
describe('email address syntax', () => {
  it.each([
    'alice@example.com',
    'Alice.Smith@Example.COM',
    'a+tag@example.com',
    "o'brien@example.com",
    'x!#$%&*/=?^_`{|}~-@example.com',
    'a@xn--bcher-kva.example',
    'a@localhost',
    'a'.repeat(64) + '@example.com',
  ])('%s is valid', (address) => {
    expect(() => validateEmailAddress(address)).not.toThrow()
  })

  it.each<[string, RegExp]>([
    ['', /no "@"/],
    ['alice', /no "@"/],
    ['@example.com', /before "@" is empty/],
    ['alice@', /domain of the email address "alice@" is not valid: it is empty/],
    ['a@b@example.com', /more than one "@"/],
    ['.alice@example.com', /not a valid local part/],
    ['alice.@example.com', /not a valid local part/],
    ['al..ice@example.com', /not a valid local part/],
    ['"alice"@example.com', /quoted local parts/],
    ['al(ice)@example.com', /not a valid local part/],
    ['alice smith@example.com', /space, control or non-ASCII/],
    ['alice\u0000@example.com', /space, control or non-ASCII/],
    ['alice@bücher.example', /space, control or non-ASCII/],
    ['ålice@example.com', /space, control or non-ASCII/],
    ['a'.repeat(65) + '@example.com', /65 octets long, over 64/],
    ['alice@' + ['a', 'b', 'c', 'd'].map((c) => c.repeat(61)).join('.') + '.com', /over 254/],
    ['alice@-example.com', /hyphen/],
    ['alice@example.com.', /trailing dot/],
    ['alice@[10.0.0.1]', /IP address/],
    ['alice@10.0.0.1', /IP address/],
    ['alice@*.example.com', /wildcard is not allowed/],
    ['alice@exa_mple.com', /underscore/],
  ])('%j is refused (%s)', (address, message) => {
    const r = refusal(() => validateEmailAddress(address))
    expect(r.code).toBe('policy.name_invalid')
    expect(r.message).toMatch(message)
  })
})

// -------------------------------------------------------------------------------------------------
describe('URI syntax', () => {
  it.each([
    'spiffe://example.org/ns/prod/sa/web',
    'spiffe://example.org',
    'spiffe://prod.example.org/a-b/c_d/e.f',
    'https://www.example.com/',
    'https://www.example.com:8443/path?q=1#frag',
    'HTTPS://WWW.EXAMPLE.COM/',
    'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    'mailto:alice@example.com',
    'https://[2001:db8::1]/',
    'https://10.0.0.1/',
    'https://example.com/%20space',
    'ldap://ldap.example.com/cn=x,dc=example,dc=com',
  ])('%s is valid', (value) => {
    expect(() => validateUri(value)).not.toThrow()
  })

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['example.com', /not an absolute URI/],
    ['/relative/path', /not an absolute URI/],
    ['//example.com/x', /not an absolute URI/],
    ['1http://example.com', /not an absolute URI/],
    ['https://user@example.com/', /userinfo/],
    ['https://user:pass@example.com/', /userinfo/],
    ['spiffe://evil@example.org/x', /userinfo/],
    ['https://exa mple.com/', /space, control or non-ASCII/],
    ['https://example.com/\u0000', /space, control or non-ASCII/],
    ['https://bücher.example/', /non-ASCII/],
    ['https://example.com/a\\b', /not allow unencoded/],
    ['https://example.com/<script>', /not allow unencoded/],
    ['https://example.com/%zz', /broken %-escape/],
    ['https:///path', /empty host/],
    ['https://exa_mple.com/', /underscore/],
    ['https://-bad.example.com/', /hyphen/],
    ['https://example.com:99999/', /not a number from 0 to 65535/],
    ['https://example.com:http/', /not a number/],
    ['https://[2001:db8::1/', /closing/],
    ['https://[not-an-ip]/', /not a valid IP literal/],
    ['https://*.example.com/', /wildcard is not allowed/],
    ['spiffe:///no-trust-domain', /trust domain|empty host/],
    ['spiffe://example.org:443/x', /no port/],
    ['spiffe://example.org/x?q', /no query or fragment/],
    ['spiffe://example.org/x#f', /no query or fragment/],
    ['spiffe://example.org/a//b', /empty, "\." or "\.\." segments/],
    ['spiffe://example.org/a/./b', /segments/],
    ['spiffe://example.org/a/../b', /segments/],
    ['spiffe://example.org/a/', /trailing slash/],
    ['spiffe://Example.org/x', /lower-case/],
    ['SPIFFE://example.org/x', /lower-case/],
    ['x'.repeat(2049), /over 2048/],
  ])('%j is refused (%s)', (value, message) => {
    const r = refusal(() => validateUri(value))
    expect(r.code).toBe('policy.name_invalid')
    expect(r.message).toMatch(message)
  })
})

// -------------------------------------------------------------------------------------------------
describe('IP addresses', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first longest run (RFC 5952 §4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run wins
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::c000:201'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('%s is canonically %s', (text, canonical) => {
    expect(canonicalIpAddress(text)).toBe(canonical)
  })

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '010.0.0.1',
    '1.2.3.4 ',
    '[::1]',
    'fe80::1%eth0',
    '::1::',
    '12345::',
    'g::1',
    'localhost',
    '1.2.3.4/32',
  ])('%j is not an IP address', (text) => {
    expect(refusal(() => parseIpAddress(text)).code).toBe('policy.name_invalid')
  })

  it.each([
    [[10, 0, 0, 1], '10.0.0.1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], '::ffff:1.2.3.4'],
  ])('octets %j format as %s', (octets, text) => {
    expect(formatIpAddress(Uint8Array.from(octets))).toBe(text)
    expect(Array.from(parseIpAddress(text))).toEqual(octets)
  })

  it.each([0, 1, 3, 5, 8, 15, 17, 32])('%i octets are refused', (n) => {
    expect(refusal(() => formatIpAddress(new Uint8Array(n))).code).toBe('policy.name_invalid')
  })
})

// -------------------------------------------------------------------------------------------------
describe('the SAN policy itself', () => {
  it.each<[string, SanPolicy]>([
    ['empty policy', {}],
    ['empty lists', { dns: [], ip: [], email: [], uri: [] }],
    ['domains', { dns: ['example.com', '.example.com', 'xn--bcher-kva.example', 'localhost', '.internal'] }],
    [
      'IP ranges',
      {
        ip: [
          '10.0.0.0/8',
          '192.168.1.1',
          '192.168.0.0/16',
          '2001:db8::/32',
          '::1',
          '0.0.0.0/0',
          '::/0',
          'fe80::/10',
        ],
      },
    ],
    ['email', { email: ['alice@example.com', 'example.com', '.example.com'] }],
    ['uri', { uri: ['spiffe://example.org', 'https://.example.com', 'urn+x://a.example'] }],
  ])('%s is valid', (_name, policy) => {
    expect(() => validateSanPolicy(policy)).not.toThrow()
  })

  it.each<[string, unknown, RegExp]>([
    ['wildcard domain', { dns: ['*.example.com'] }, /write ".example.com"/],
    ['bad domain', { dns: ['exa_mple.com'] }, /dns entry "exa_mple.com" is not valid: .*underscore/],
    ['domain with a trailing dot', { dns: ['example.com.'] }, /trailing dot/],
    ['two leading dots', { dns: ['..example.com'] }, /empty label/],
    ['IP as a DNS entry', { dns: ['10.0.0.1'] }, /IP address/],
    ['non-ASCII domain', { dns: ['bücher.example'] }, /A-label/],
    ['empty string', { dns: [''] }, /not a non-empty string/],
    ['number', { dns: [42] }, /not a non-empty string/],
    ['not a list', { dns: 'example.com' }, /must be a list/],
    ['unknown key', { dnsNames: ['example.com'] }, /unknown key "dnsNames"/],
    [
      'CIDR host bits',
      { ip: ['10.0.0.1/8'] },
      /bits set after the \/8 prefix \(did you mean 10.0.0.0\/8\?\)/,
    ],
    ['IPv6 host bits', { ip: ['2001:db8::1/32'] }, /did you mean 2001:db8::\/32/],
    ['prefix too long', { ip: ['10.0.0.0/33'] }, /from 0 to 32/],
    ['IPv6 prefix too long', { ip: ['::/129'] }, /from 0 to 128/],
    ['prefix not a number', { ip: ['10.0.0.0/x'] }, /not a number/],
    ['empty prefix', { ip: ['10.0.0.0/'] }, /not a number/],
    ['not an address', { ip: ['ten.0.0.0/8'] }, /not an IP address/],
    ['bracketed', { ip: ['[::1]'] }, /not an IP address/],
    ['bad mailbox', { email: ['a@@example.com'] }, /more than one "@"/],
    ['bad mail domain', { email: ['-example.com'] }, /hyphen/],
    ['URI with a path', { uri: ['spiffe://example.org/ns'] }, /expected scheme:\/\/host/],
    ['URI with a port', { uri: ['https://example.com:443'] }, /expected scheme:\/\/host/],
    ['URI with userinfo', { uri: ['https://u@example.com'] }, /expected scheme:\/\/host/],
    ['URI without host', { uri: ['urn:uuid'] }, /expected scheme:\/\/host/],
    ['URI wildcard host', { uri: ['https://*.example.com'] }, /write ".example.com"/],
    ['URI bad host', { uri: ['https://exa_mple.com'] }, /underscore/],
    ['policy not an object', null, /must be an object/],
  ])('%s is config.invalid', (_name, policy, message) => {
    const r = refusal(() => validateSanPolicy(policy as SanPolicy))
    expect(r.code).toBe('config.invalid')
    expect(r.message).toMatch(message)
  })

  it('checkSans validates the policy first', () => {
    expect(refusal(() => checkSans([dns('a.example.com')], { dns: ['*.example.com'] })).code).toBe(
      'config.invalid',
    )
  })
})

// -------------------------------------------------------------------------------------------------
describe('checkSans: the allow-list', () => {
  const policy: SanPolicy = {
    dns: ['example.com', '.example.com', 'exact.example.net', '.svc.cluster.local'],
    ip: ['10.0.0.0/8', '192.168.1.10', '2001:db8::/32', '::1'],
    email: ['ops@example.net', 'example.com', '.corp.example.org'],
    uri: ['spiffe://example.org', 'https://.example.com', 'urn+x://exact.example'],
  }

  it.each<[string, SanEntry]>([
    ['exact domain', dns('example.com')],
    ['exact domain, other case', dns('EXAMPLE.com')],
    ['one level below', dns('www.example.com')],
    ['several levels below', dns('a.b.c.example.com')],
    ['wildcard below', dns('*.example.com')],
    ['deeper wildcard', dns('*.api.example.com')],
    ['exact other name', dns('exact.example.net')],
    ['kubernetes service', dns('web.prod.svc.cluster.local')],
    ['IPv4 in range', ip('10.1.2.3')],
    ['IPv4 at start of range', ip('10.0.0.0')],
    ['IPv4 at end of range', ip('10.255.255.255')],
    ['single IPv4', ip('192.168.1.10')],
    ['IPv6 in range', ip('2001:db8:1234::1')],
    ['IPv6 in range, non-canonical text', ip('2001:DB8:0:0::1')],
    ['single IPv6', ip('::1')],
    ['exact mailbox', email('ops@example.net')],
    ['exact mailbox, domain case', email('ops@EXAMPLE.net')],
    ['any mailbox at domain', email('anyone@example.com')],
    ['mailbox at subdomain', email('bob@eu.corp.example.org')],
    ['SPIFFE ID', uri('spiffe://example.org/ns/prod/sa/web')],
    ['SPIFFE trust domain alone', uri('spiffe://example.org')],
    ['https below', uri('https://api.example.com/v1')],
    ['https below with port', uri('https://api.example.com:8443/')],
    ['https scheme in upper case', uri('HTTPS://api.example.com/')],
    ['exact custom scheme', uri('urn+x://exact.example/thing')],
  ])('%s: %j is allowed', (_name, san) => {
    expect(() => checkSans([san], policy)).not.toThrow()
  })

  it.each<[string, SanEntry, ErrorCode, RegExp]>([
    [
      'other domain',
      dns('example.org'),
      'policy.san_not_allowed',
      /DNS:example.org is not allowed: .*\(issuance\.sans\.dns: example\.com/,
    ],
    ['suffix trick', dns('evilexample.com'), 'policy.san_not_allowed', /not allowed/],
    ['suffix trick 2', dns('example.com.evil.net'), 'policy.san_not_allowed', /not allowed/],
    ['only exact', dns('www.exact.example.net'), 'policy.san_not_allowed', /not allowed/],
    ['parent of exact', dns('example.net'), 'policy.san_not_allowed', /not allowed/],
    ['parent of .svc.cluster.local', dns('svc.cluster.local'), 'policy.san_not_allowed', /not allowed/],
    ['wildcard above', dns('*.cluster.local'), 'policy.san_not_allowed', /not allowed/],
    ['wildcard on exact', dns('*.exact.example.net'), 'policy.san_not_allowed', /not allowed/],
    ['bad syntax first', dns('exa_mple.com'), 'policy.name_invalid', /underscore/],
    ['IP as DNS', dns('10.0.0.1'), 'policy.name_invalid', /put IP addresses in an IP SAN/],
    ['trailing dot', dns('www.example.com.'), 'policy.name_invalid', /trailing dot/],
    [
      'IPv4 outside',
      ip('11.0.0.1'),
      'policy.san_not_allowed',
      /IP:11.0.0.1 is not allowed: it is in none of the allowed ranges/,
    ],
    ['IPv4 near single', ip('192.168.1.11'), 'policy.san_not_allowed', /none of the allowed ranges/],
    ['IPv6 outside', ip('2001:db9::1'), 'policy.san_not_allowed', /none of the allowed ranges/],
    ['mapped IPv4 does not match an IPv4 range', ip('::ffff:10.0.0.1'), 'policy.san_not_allowed', /none/],
    ['bad IP text', ip('10.0.0.256'), 'policy.name_invalid', /not an IP address/],
    ['IP with zone', ip('fe80::1%eth0'), 'policy.name_invalid', /zone/],
    [
      'other mailbox at exact domain',
      email('dev@example.net'),
      'policy.san_not_allowed',
      /not an allowed mailbox/,
    ],
    [
      'local part is case-sensitive',
      email('OPS@example.net'),
      'policy.san_not_allowed',
      /not an allowed mailbox/,
    ],
    [
      'mailbox at subdomain of plain domain',
      email('a@eu.example.com'),
      'policy.san_not_allowed',
      /not an allowed mailbox/,
    ],
    [
      'mailbox at the .domain itself',
      email('a@corp.example.org'),
      'policy.san_not_allowed',
      /not an allowed mailbox/,
    ],
    ['bad mailbox', email('not-an-address'), 'policy.name_invalid', /no "@"/],
    [
      'SPIFFE other trust domain',
      uri('spiffe://evil.org/x'),
      'policy.san_not_allowed',
      /match none of the allowed patterns/,
    ],
    ['SPIFFE subdomain of exact', uri('spiffe://prod.example.org/x'), 'policy.san_not_allowed', /none/],
    ['wrong scheme', uri('http://api.example.com/'), 'policy.san_not_allowed', /none/],
    ['https on the parent itself', uri('https://example.com/'), 'policy.san_not_allowed', /none/],
    ['IP host', uri('https://10.0.0.1/'), 'policy.san_not_allowed', /DNS host/],
    ['IPv6 literal host', uri('https://[2001:db8::1]/'), 'policy.san_not_allowed', /DNS host/],
    ['no host', uri('urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6'), 'policy.san_not_allowed', /DNS host/],
    ['userinfo', uri('https://user@api.example.com/'), 'policy.name_invalid', /userinfo/],
    ['suffix trick in URI', uri('https://api.example.com.evil.net/'), 'policy.san_not_allowed', /none/],
    ['unparseable', uri('not a uri'), 'policy.name_invalid', /space/],
  ])('%s: %j → %s', (_name, san, code, message) => {
    const r = refusal(() => checkSans([san], policy))
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  const OPEN: SanPolicy = { unrestricted: ['dns', 'ip', 'email', 'uri'] }

  it('unrestricted kinds take any name, still syntax-checked', () => {
    expect(() =>
      checkSans([dns('anything.example'), ip('8.8.8.8'), email('a@b.example'), uri('urn:x:y')], OPEN),
    ).not.toThrow()
    expect(refusal(() => checkSans([dns('bad_name.example')], OPEN)).code).toBe('policy.name_invalid')
    expect(refusal(() => checkSans([ip('1.2.3')], OPEN)).code).toBe('policy.name_invalid')
    expect(refusal(() => checkSans([email('x')], OPEN)).code).toBe('policy.name_invalid')
    expect(refusal(() => checkSans([uri('https://u@x.example/')], OPEN)).code).toBe('policy.name_invalid')
  })

  // Issue 9 item 3: restricting one kind must not leave the others open.
  it.each<[SanPolicy, SanEntry, string]>([
    [{ dns: ['.example.com'] }, ip('8.8.8.8'), 'IP'],
    [{ dns: ['.example.com'] }, uri('https://www.evil.com/'), 'URI'],
    [{ dns: ['.example.com'] }, email('ceo@evil.com'), 'email'],
    [{ ip: ['10.0.0.0/8'] }, dns('www.evil.com'), 'DNS'],
    [{ uri: ['spiffe://.example.com'] }, dns('a.example.com'), 'DNS'],
    [{ email: ['example.com'], unrestricted: ['uri'] }, ip('10.0.0.1'), 'IP'],
    [{}, dns('a.example.com'), 'DNS'],
    [{ unrestricted: [] }, email('a@example.com'), 'email'],
  ])('a kind neither listed nor unrestricted is refused: %j, %j', (policy, san, label) => {
    const r = refusal(() => checkSans([san], policy))
    expect(r.code).toBe('policy.san_not_allowed')
    expect(r.message).toContain(`issuance.sans allows no ${label} names`)
    expect(r.message).toContain(`${san.type} is not in issuance.sans.unrestricted`)
  })

  it.each<[keyof SanPolicy, SanEntry, string]>([
    ['dns', dns('a.example.com'), 'DNS'],
    ['ip', ip('10.0.0.1'), 'IP'],
    ['email', email('a@example.com'), 'email'],
    ['uri', uri('https://a.example.com/'), 'URI'],
  ])('an empty %s list allows none', (key, san, label) => {
    const r = refusal(() => checkSans([san], { [key]: [] }))
    expect(r.code).toBe('policy.san_not_allowed')
    expect(r.message).toContain(`issuance.sans.${key} is empty: it allows no ${label} names`)
  })

  it.each<[string, SanPolicy, SanEntry, string | undefined]>([
    // A profile narrows: a name must pass both lists.
    ['allowed by both', { dns: ['.example.com'] }, dns('a.svc.example.com'), undefined],
    [
      'CA allows, profile does not',
      { dns: ['.svc.example.com'] },
      dns('www.example.com'),
      'profiles.p.sans.dns',
    ],
    [
      'profile closes a kind the CA leaves open',
      { dns: ['.example.com'] },
      uri('spiffe://x.example.com/a'),
      'profiles.p.sans allows no URI',
    ],
    ['profile allows what the CA does not', { ip: ['0.0.0.0/0'] }, ip('8.8.8.8'), 'issuance.sans.ip'],
    [
      'profile unrestricted defers to the CA',
      { unrestricted: ['dns'] },
      dns('www.evil.com'),
      'issuance.sans.dns',
    ],
    ['profile unrestricted, CA allows', { unrestricted: ['dns'] }, dns('www.example.com'), undefined],
  ])('profile narrowing: %s', (_name, profile, san, refusedBy) => {
    const ca: SanPolicy = { dns: ['.example.com'], ip: ['10.0.0.0/8'], unrestricted: ['uri'] }
    const check = () => checkSans([san], ca, { policy: profile, key: 'profiles.p.sans' })
    if (refusedBy === undefined) return expect(check).not.toThrow()
    const r = refusal(check)
    expect(r.code).toBe('policy.san_not_allowed')
    expect(r.message).toContain(refusedBy)
  })

  it.each<[SanPolicy, RegExp]>([
    [{ dns: ['.example.com'], unrestricted: ['dns'] }, /both lists dns names and says dns is unrestricted/],
    [{ unrestricted: ['dnsname' as never] }, /unrestricted list has "dnsname"/],
    [{ unrestricted: 'dns' as never }, /unrestricted must be a list/],
  ])('a malformed policy is config.invalid: %j', (policy, message) => {
    const r = refusal(() => checkSans([dns('a.example.com')], policy))
    expect(r.code).toBe('config.invalid')
    expect(r.message).toMatch(message)
  })

  it('an IPv6 range does not admit IPv4 and vice versa', () => {
    expect(refusal(() => checkSans([ip('10.0.0.1')], { ip: ['::/0'] })).code).toBe('policy.san_not_allowed')
    expect(refusal(() => checkSans([ip('::1')], { ip: ['0.0.0.0/0'] })).code).toBe('policy.san_not_allowed')
    expect(() => checkSans([ip('::ffff:10.0.0.1')], { ip: ['::ffff:0:0/96'] })).not.toThrow()
  })

  it.each<[string, string, boolean]>([
    ['10.0.0.0/32', '10.0.0.0', true],
    ['10.0.0.0/32', '10.0.0.1', false],
    ['10.0.0.0/31', '10.0.0.1', true],
    ['10.0.0.0/31', '10.0.0.2', false],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['2001:db8::/127', '2001:db8::1', true],
    ['2001:db8::/127', '2001:db8::2', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
  ])('range %s contains %s: %s', (range, address, inside) => {
    const check = () => checkSans([ip(address)], { ip: [range] })
    if (inside) expect(check).not.toThrow()
    else expect(refusal(check).code).toBe('policy.san_not_allowed')
  })

  it('names the first offending SAN and lists every refusal in details', () => {
    const r = refusal(() =>
      checkSans(
        [dns('www.example.com'), dns('evil.net'), ip('8.8.8.8'), dns('bad_name.example.com')],
        policy,
      ),
    )
    expect(r.code).toBe('policy.san_not_allowed')
    expect(r.message).toMatch(/^the SAN DNS:evil.net is not allowed.*\(and 2 more refused SANs\)$/)
    expect(r.details.map((d) => d.code)).toEqual([
      'policy.san_not_allowed',
      'policy.san_not_allowed',
      'policy.name_invalid',
    ])
    expect(r.details[1]?.message).toMatch(/IP:8.8.8.8/)
  })

  it('a single refusal is thrown as it is', () => {
    const r = refusal(() => checkSans([dns('www.example.com'), dns('evil.net')], policy))
    expect(r.details).toEqual([])
  })

  it('an empty SAN list passes', () => {
    expect(() => checkSans([], { dns: [] })).not.toThrow()
  })
})

// -------------------------------------------------------------------------------------------------
describe('normaliseSans', () => {
  it.each<[string, SanEntry[], SanEntry[]]>([
    ['lower-cases DNS names', [dns('WWW.Example.COM')], [dns('www.example.com')]],
    ['collapses case duplicates', [dns('a.example.com'), dns('A.EXAMPLE.COM')], [dns('a.example.com')]],
    [
      'keeps the first position',
      [dns('b.example'), dns('a.example'), dns('b.example')],
      [dns('b.example'), dns('a.example')],
    ],
    ['canonical IPs', [ip('2001:DB8:0::1'), ip('2001:db8::1')], [ip('2001:db8::1')]],
    [
      'lower-cases mail domains only',
      [email('Alice@Example.COM'), email('Alice@example.com')],
      [email('Alice@example.com')],
    ],
    [
      'keeps local-part case',
      [email('a@example.com'), email('A@example.com')],
      [email('a@example.com'), email('A@example.com')],
    ],
    [
      'keeps URIs as they are',
      [uri('spiffe://example.org/A'), uri('spiffe://example.org/a')],
      [uri('spiffe://example.org/A'), uri('spiffe://example.org/a')],
    ],
    [
      'same value, different types',
      [dns('a.example'), uri('a.example')],
      [dns('a.example'), uri('a.example')],
    ],
    ['empty', [], []],
  ])('%s', (_name, input, expected) => {
    expect(normaliseSans(input)).toEqual(expected)
  })
})

// -------------------------------------------------------------------------------------------------
describe('SAN text forms', () => {
  it.each<[string, SanEntry]>([
    ['DNS:a.example.com', dns('a.example.com')],
    ['dns:a.example.com', dns('a.example.com')],
    ['DNS: a.example.com ', dns('a.example.com')],
    ['IP:10.0.0.1', ip('10.0.0.1')],
    ['IP:2001:DB8:0:0:0:0:0:1', ip('2001:db8::1')],
    ['IP Address:0:0:0:0:0:0:0:1', ip('::1')], // as `openssl x509 -text` prints it
    ['email:alice@example.com', email('alice@example.com')],
    ['EMAIL:alice@example.com', email('alice@example.com')],
    ['URI:spiffe://example.org/x', uri('spiffe://example.org/x')],
    ['URI:https://example.com:8443/a:b', uri('https://example.com:8443/a:b')],
  ])('%s', (text, entry) => {
    expect(parseSanText(text)).toEqual(entry)
  })

  it.each<[string, ErrorCode, RegExp]>([
    ['a.example.com', 'policy.name_invalid', /expected TYPE:value/],
    ['FQDN:a.example.com', 'policy.name_invalid', /expected TYPE:value/],
    ['DNS:', 'policy.name_invalid', /empty value/],
    ['IP:not-an-ip', 'policy.name_invalid', /not an IP address/],
    ['IP:10.0.0.0/8', 'policy.name_invalid', /not an IP address/],
    ['RID:1.2.3.4', 'policy.san_not_allowed', /registeredID are not supported/],
    ['dirName:dir_sect', 'policy.san_not_allowed', /directoryName/],
    ['otherName:1.2.3.4;UTF8:x', 'policy.san_not_allowed', /otherName/],
  ])('%s → %s', (text, code, message) => {
    const r = refusal(() => parseSanText(text))
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  it('parses and formats a list', () => {
    const list = parseSanList(
      'DNS:a.example.com, IP:10.0.0.1,email:a@example.com , URI:spiffe://example.org/x',
    )
    expect(list).toEqual([
      dns('a.example.com'),
      ip('10.0.0.1'),
      email('a@example.com'),
      uri('spiffe://example.org/x'),
    ])
    expect(formatSans(list)).toBe(
      'DNS:a.example.com, IP:10.0.0.1, email:a@example.com, URI:spiffe://example.org/x',
    )
    expect(parseSanList(formatSans(list))).toEqual(list)
    expect(parseSanList('  ')).toEqual([])
    expect(formatSan(ip('::1'))).toBe('IP:::1')
  })
})

// -------------------------------------------------------------------------------------------------
describe('GeneralName conversions', () => {
  const all: SanEntry[] = [
    dns('a.example.com'),
    dns('*.example.com'),
    ip('10.0.0.1'),
    ip('2001:db8::1'),
    ip('::ffff:192.0.2.1'),
    ip('::'),
    email('alice@example.com'),
    uri('spiffe://example.org/ns/x'),
  ]

  it('round-trips through DER', () => {
    expect(sansFromExtensionValue(sansToExtensionValue(all))).toEqual(all)
  })

  it('encodes IP addresses as 4 or 16 octets', () => {
    const names = sansToGeneralNames([ip('10.0.0.1'), ip('::ffff:192.0.2.1'), ip('2001:db8::1')])
    const der = names.map((n) => Buffer.from(AsnConvert.serialize(n)).toString('hex'))
    expect(der).toEqual([
      '87040a000001',
      '8710' + '00000000000000000000ffffc0000201',
      '8710' + '20010db8000000000000000000000001',
    ])
  })

  it.each<[string, GeneralName]>([
    [
      'otherName',
      new GeneralName({
        otherName: { typeId: '1.3.6.1.4.1.311.20.2.3', value: new Uint8Array([0x0c, 0x01, 0x61]).buffer },
      }),
    ],
    ['directoryName', new GeneralName({ directoryName: new Name([]) })],
    ['registeredID', new GeneralName({ registeredID: '1.2.3.4' })],
  ])('a %s is refused as not supported', (kind, gn) => {
    const r = refusal(() => sansFromGeneralNames([gn]))
    expect(r.code).toBe('policy.san_not_allowed')
    expect(r.message).toContain(`type ${kind}`)
    expect(r.message).toMatch(/only DNS, IP, email and URI/)
  })

  it.each<[string, string]>([
    ['5 octets', '3007870501020304 05'],
    ['8 octets (a name-constraint range)', '300a8708 0a000000ff000000'],
    ['0 octets', '30028700'],
    ['3 octets', '3005870301 0203'],
  ])('an iPAddress of %s is refused', (_name, hex) => {
    const der = Buffer.from(hex.replace(/ /g, ''), 'hex')
    const r = refusal(() => sansFromExtensionValue(der))
    expect(r.code).toBe('policy.name_invalid')
    expect(r.message).toMatch(/not a 4-octet IPv4 or 16-octet IPv6 address/)
  })

  it('garbage is refused', () => {
    expect(refusal(() => sansFromExtensionValue(Buffer.from('0403010203', 'hex'))).code).toBe(
      'policy.name_invalid',
    )
  })

  describe('against OpenSSL', () => {
    let dir: string
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'san-'))
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('reads the SANs of a CSR made by openssl req', () => {
      const key = join(dir, 'k.pem')
      const csr = join(dir, 'r.der')
      execFileSync('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        key,
      ])
      execFileSync('openssl', [
        'req',
        '-new',
        '-key',
        key,
        '-subj',
        '/CN=x',
        '-outform',
        'DER',
        '-out',
        csr,
        '-addext',
        'subjectAltName=DNS:a.example.com,IP:10.0.0.1,IP:2001:DB8::1,email:a@example.com,URI:spiffe://example.org/x',
      ])
      const der = readFileSync(csr)
      // The extension value follows the SAN OID (06 03 55 1d 11) and an OCTET STRING header.
      const at = der.indexOf(Buffer.from('0603551d11', 'hex'))
      const octet = der.subarray(at + 5)
      expect(octet[0]).toBe(0x04)
      const len = octet[1] as number
      const value = octet.subarray(2, 2 + len)
      expect(sansFromExtensionValue(value)).toEqual([
        dns('a.example.com'),
        ip('10.0.0.1'),
        ip('2001:db8::1'),
        email('a@example.com'),
        uri('spiffe://example.org/x'),
      ])
    })

    it('writes SANs that openssl prints back', () => {
      const value = sansToExtensionValue(all)
      const file = join(dir, 'san.der')
      writeFileSync(file, Buffer.from(value))
      const text = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file, '-i']).toString()
      expect(text).toMatch(/cont \[ 2 \]/)
      expect(text).toMatch(/cont \[ 7 \]/)
      expect(text).toMatch(/cont \[ 1 \]/)
      expect(text).toMatch(/cont \[ 6 \]/)
    })
  })
})
