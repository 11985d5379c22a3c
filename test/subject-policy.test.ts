import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CaError, type ErrorCode } from '../src/ca/errors.js'
import {
  formatOneline,
  parseSlashDn,
  type DistinguishedName,
  type NameAttribute,
} from '../src/ca/distinguished-name.js'
import {
  applySubjectPolicy,
  POLICY_LOOSE,
  POLICY_STRICT,
  validateSubjectPolicy,
  type SubjectPolicyField,
  type SubjectPolicyOptions,
} from '../src/ca/subject-policy.js'

const ISSUER = parseSlashDn(
  '/C=GB/ST=England/O=Alice Ltd/OU=Alice Ltd Certificate Authority/CN=Alice Ltd Root CA',
)

/** Policy shorthand: `CN=supplied,O=match`. */
function policy(text: string): SubjectPolicyField[] {
  return text.split(',').map((part) => {
    const [field, rule] = part.split('=') as [string, string]
    return { field, rule: rule as SubjectPolicyField['rule'] }
  })
}

function apply(
  request: string | DistinguishedName,
  pol: readonly SubjectPolicyField[],
  options?: SubjectPolicyOptions,
  issuer: DistinguishedName = ISSUER,
): string {
  const dn = typeof request === 'string' ? parseSlashDn(request) : request
  return formatOneline(applySubjectPolicy(dn, issuer, pol, options))
}

function refusal(fn: () => unknown): { code: ErrorCode; message: string } {
  try {
    fn()
  } catch (e) {
    if (e instanceof CaError) return { code: e.code, message: e.message }
    throw e
  }
  throw new Error('expected a CaError, nothing was thrown')
}

function attr(oid: string, value: string, tag: NameAttribute['tag']): NameAttribute {
  return { oid, value, tag }
}

describe('applySubjectPolicy: accepted requests (preserve = no, the default)', () => {
  it.each<[string, string, string, SubjectPolicyOptions]>([
    // The order of the policy wins, as `openssl ca` does (checked against OpenSSL 3.0).
    [
      '/C=US/O=x/CN=y/emailAddress=e@example.com',
      'CN=supplied,O=optional,C=optional,emailAddress=optional',
      '/CN=y/O=x/C=US/emailAddress=e@example.com',
      {},
    ],
    ['/CN=y/C=GB', 'C=optional,CN=supplied', '/C=GB/CN=y', {}],
    // Attributes whose type the policy does not name are dropped.
    ['/C=GB/L=London/CN=y', 'C=optional,CN=supplied', '/C=GB/CN=y', {}],
    ['/CN=y/title=Boss/serialNumber=42', 'CN=supplied', '/CN=y', {}],
    ['/DC=com/DC=example/CN=y', 'CN=supplied', '/CN=y', {}],
    // Several values of one type are all kept, in request order.
    ['/OU=b/CN=y/OU=a', 'OU=optional,CN=supplied', '/OU=b/OU=a/CN=y', {}],
    ['/CN=one/CN=two', 'CN=supplied', '/CN=one/CN=two', {}],
    ['/DC=com/DC=example/CN=y', 'DC=optional,CN=supplied', '/DC=com/DC=example/CN=y', {}],
    // Optional fields may be absent.
    ['/CN=y', 'C=optional,ST=optional,L=optional,O=optional,OU=optional,CN=supplied', '/CN=y', {}],
    // Match: equal to the issuer's value.
    [
      '/C=GB/ST=England/O=Alice Ltd/CN=y',
      'C=match,ST=match,O=match,CN=supplied',
      '/C=GB/ST=England/O=Alice Ltd/CN=y',
      {},
    ],
    ['/O=Alice Ltd/C=GB/CN=y', 'C=match,O=match,CN=supplied', '/C=GB/O=Alice Ltd/CN=y', {}],
    [
      '/OU=Alice Ltd Certificate Authority/CN=y',
      'OU=match,CN=supplied',
      '/OU=Alice Ltd Certificate Authority/CN=y',
      {},
    ],
    // Field names: long, short, any case, dotted OID.
    ['/C=GB/CN=y', 'countryName=optional,commonName=supplied', '/C=GB/CN=y', {}],
    ['/C=GB/CN=y', 'COUNTRYNAME=optional,cn=supplied', '/C=GB/CN=y', {}],
    ['/C=GB/CN=y', '2.5.4.6=optional,2.5.4.3=supplied', '/C=GB/CN=y', {}],
    [
      '/CN=y/emailAddress=a@example.com',
      'CN=supplied,emailAddress=supplied',
      '/CN=y/emailAddress=a@example.com',
      {},
    ],
    // email_in_dn = no: checked by the policy, then removed.
    ['/CN=y/emailAddress=a@example.com', 'CN=supplied,emailAddress=supplied', '/CN=y', { emailInDn: false }],
    ['/emailAddress=a@example.com/CN=y', 'CN=supplied,emailAddress=optional', '/CN=y', { emailInDn: false }],
    [
      '/CN=y/emailAddress=a@example.com',
      'CN=supplied,emailAddress=optional',
      '/CN=y/emailAddress=a@example.com',
      { emailInDn: true },
    ],
    // Empty optional values are dropped.
    ['/CN=y', 'OU=optional,CN=supplied', '/CN=y', {}],
    // Unicode values pass through.
    [
      '/O=Société Générale/CN=ünïcødé',
      'O=optional,CN=supplied',
      '/O=Soci\\xC3\\xA9t\\xC3\\xA9 G\\xC3\\xA9n\\xC3\\xA9rale/CN=\\xC3\\xBCn\\xC3\\xAFc\\xC3\\xB8d\\xC3\\xA9',
      {},
    ],
  ])('%s with %s gives %s', (request, pol, expected, options) => {
    expect(apply(request, policy(pol), options)).toBe(expected)
  })
})

describe('applySubjectPolicy: preserve = yes keeps the request order and attributes', () => {
  it.each<[string, string, string, SubjectPolicyOptions]>([
    [
      '/C=US/O=x/CN=y/emailAddress=e@example.com',
      'CN=supplied,O=optional,C=optional',
      '/C=US/O=x/CN=y/emailAddress=e@example.com',
      {},
    ],
    ['/CN=y/L=London/title=Boss', 'CN=supplied', '/CN=y/L=London/title=Boss', {}],
    ['/O=Alice Ltd/CN=y/C=GB', 'C=match,O=match,CN=supplied', '/O=Alice Ltd/CN=y/C=GB', {}],
    ['/OU=b/CN=y/OU=a', 'OU=optional,CN=supplied', '/OU=b/CN=y/OU=a', {}],
    ['/CN=y/emailAddress=e@example.com/OU=z', 'CN=supplied', '/CN=y/OU=z', { emailInDn: false }],
  ])('%s with %s gives %s', (request, pol, expected, options) => {
    expect(apply(request, policy(pol), { preserve: true, ...options })).toBe(expected)
  })

  it.each<[string, string, ErrorCode]>([
    ['/O=x', 'CN=supplied', 'policy.subject_missing'],
    ['/O=Bob Ltd/CN=y', 'O=match,CN=supplied', 'policy.subject_mismatch'],
    ['/CN=y', 'O=match,CN=supplied', 'policy.subject_missing'],
    ['/CN=y', 'CN=supplied,nonsense=optional', 'config.invalid'],
  ])('%s with %s is still refused with %s', (request, pol, code) => {
    expect(refusal(() => apply(request, policy(pol), { preserve: true })).code).toBe(code)
  })
})

describe('applySubjectPolicy: refusals', () => {
  it.each<[string, string, ErrorCode, RegExp]>([
    // supplied
    [
      '/O=x',
      'CN=supplied',
      'policy.subject_missing',
      /commonName \(CN\) must be supplied, but it is missing/,
    ],
    ['/CN=y', 'CN=supplied,O=supplied', 'policy.subject_missing', /organizationName \(O\) must be supplied/],
    ['/CN=y', 'CN=supplied,emailAddress=supplied', 'policy.subject_missing', /emailAddress must be supplied/],
    // match: missing
    [
      '/CN=y',
      'C=match,CN=supplied',
      'policy.subject_missing',
      /countryName \(C\) must be present and equal the issuer's, but it is missing/,
    ],
    ['/C=GB/CN=y', 'C=match,ST=match,CN=supplied', 'policy.subject_missing', /stateOrProvinceName/],
    // match: different
    [
      '/C=US/CN=y',
      'C=match,CN=supplied',
      'policy.subject_mismatch',
      /countryName \(C\) must be "GB", the issuer's, but the request has "US"/,
    ],
    ['/O=Bob Ltd/CN=y', 'O=match,CN=supplied', 'policy.subject_mismatch', /"Alice Ltd".*"Bob Ltd"/],
    ['/O=alice ltd/CN=y', 'O=match,CN=supplied', 'policy.subject_mismatch', /organizationName/],
    [
      '/O=Alice Ltd /CN=y',
      'O=match,CN=supplied',
      'policy.subject_invalid',
      /organizationName.*ends with white space/,
    ],
    ['/ST=england/CN=y', 'ST=match,CN=supplied', 'policy.subject_mismatch', /stateOrProvinceName/],
    // Each value of a matched type must match.
    ['/O=Alice Ltd/O=Mallory/CN=y', 'O=match,CN=supplied', 'policy.subject_mismatch', /Mallory/],
    // The policy itself.
    ['/CN=y', 'CN=supplied,bogusName=optional', 'config.invalid', /unknown attribute "bogusName"/],
    [
      '/CN=y',
      'CN=supplied,L=match',
      'config.invalid',
      /localityName \(L\) must match the issuer's, but the issuer's subject has none/,
    ],
    ['/CN=y', 'CN=supplied,CN=optional', 'config.invalid', /names commonName \(CN\) twice/],
    ['/CN=y', 'CN=supplied,commonName=optional', 'config.invalid', /twice/],
    ['/CN=y', 'CN=required', 'config.invalid', /rule "required"/],
    ['/CN=y', 'CN=Supplied', 'config.invalid', /rule "Supplied"/],
    // Empty result.
    ['/L=London', 'CN=optional', 'policy.subject_missing', /subject is empty/],
  ])('%s with %s → %s', (request, pol, code, message) => {
    const r = refusal(() => apply(request, policy(pol)))
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  it('an email-only subject with email_in_dn = no becomes empty and is refused', () => {
    const r = refusal(() =>
      apply('/emailAddress=a@example.com', policy('emailAddress=optional'), { emailInDn: false }),
    )
    expect(r.code).toBe('policy.subject_missing')
    expect(r.message).toMatch(/subject is empty/)
  })

  it('a missing email with email_in_dn = no is still required when the policy says supplied', () => {
    expect(
      refusal(() => apply('/CN=y', policy('CN=supplied,emailAddress=supplied'), { emailInDn: false })).code,
    ).toBe('policy.subject_missing')
  })

  it('an empty policy is config.invalid', () => {
    expect(refusal(() => apply('/CN=y', [])).code).toBe('config.invalid')
  })

  it('a policy field that is not a string is config.invalid', () => {
    const bad = [{ field: 42, rule: 'supplied' }] as unknown as SubjectPolicyField[]
    expect(refusal(() => validateSubjectPolicy(bad)).code).toBe('config.invalid')
  })
})

describe('applySubjectPolicy: empty values count as absent', () => {
  const CN = '2.5.4.3'
  const O = '2.5.4.10'
  const OU = '2.5.4.11'
  it.each<[string, NameAttribute[], string, ErrorCode | string]>([
    ['supplied CN empty', [attr(CN, '', 'utf8')], 'CN=supplied', 'policy.subject_missing'],
    [
      'matched O empty',
      [attr(O, '', 'utf8'), attr(CN, 'y', 'utf8')],
      'O=match,CN=supplied',
      'policy.subject_missing',
    ],
    [
      'optional OU empty is dropped',
      [attr(OU, '', 'utf8'), attr(CN, 'y', 'utf8')],
      'OU=optional,CN=supplied',
      '/CN=y',
    ],
    ['preserve drops empty values', [attr(OU, '', 'utf8'), attr(CN, 'y', 'utf8')], 'CN=supplied', '/CN=y'],
  ])('%s', (_name, dn, pol, expected) => {
    if (expected.startsWith('/')) {
      expect(apply(dn, policy(pol), { preserve: _name.startsWith('preserve') })).toBe(expected)
    } else {
      const r = refusal(() => apply(dn, policy(pol)))
      expect(r.code).toBe(expected)
      expect(r.message).toMatch(/is empty/)
    }
  })
})

describe('applySubjectPolicy: attribute checks', () => {
  const C = '2.5.4.6'
  const CN = '2.5.4.3'
  const O = '2.5.4.10'
  const EMAIL = '1.2.840.113549.1.9.1'
  const cn = attr(CN, 'y', 'utf8')
  it.each<[string, NameAttribute[], ErrorCode, RegExp]>([
    [
      'NUL in CN',
      [attr(CN, 'a\u0000b', 'utf8')],
      'policy.name_invalid',
      /commonName \(CN\) contains a control character/,
    ],
    ['newline in CN', [attr(CN, 'a\nb', 'utf8')], 'policy.name_invalid', /control character/],
    ['tab in O', [attr(O, 'a\tb', 'utf8'), cn], 'policy.name_invalid', /organizationName/],
    ['ESC in O', [attr(O, '\u001b[31m', 'utf8'), cn], 'policy.name_invalid', /control/],
    ['DEL in CN', [attr(CN, 'a\u007f', 'utf8')], 'policy.name_invalid', /control/],
    ['C1 NEL in CN', [attr(CN, 'a\u0085', 'utf8')], 'policy.name_invalid', /control/],
    ['C1 CSI in CN', [attr(CN, '\u009b', 'utf8')], 'policy.name_invalid', /control/],
    // Attributes the policy drops are checked too.
    [
      'control char in a dropped attribute',
      [attr('2.5.4.7', 'x\u0000', 'utf8'), cn],
      'policy.name_invalid',
      /localityName/,
    ],
    [
      'country of three letters',
      [attr(C, 'GBR', 'printable'), cn],
      'policy.subject_invalid',
      /countryName \(C\) "GBR" must be two upper-case letters/,
    ],
    [
      'country of one letter',
      [attr(C, 'G', 'printable'), cn],
      'policy.subject_invalid',
      /two upper-case letters/,
    ],
    [
      'country in lower case',
      [attr(C, 'gb', 'printable'), cn],
      'policy.subject_invalid',
      /two upper-case letters/,
    ],
    [
      'country with digits',
      [attr(C, '12', 'printable'), cn],
      'policy.subject_invalid',
      /two upper-case letters/,
    ],
    ['country non-ASCII', [attr(C, 'ÜK', 'utf8'), cn], 'policy.subject_invalid', /two upper-case letters/],
    [
      'PrintableString with @',
      [attr(O, 'a@b', 'printable'), cn],
      'policy.subject_invalid',
      /PrintableString/,
    ],
    [
      'PrintableString with *',
      [attr(CN, '*.example.com', 'printable')],
      'policy.subject_invalid',
      /PrintableString/,
    ],
    [
      'PrintableString with non-ASCII',
      [attr(O, 'Café', 'printable'), cn],
      'policy.subject_invalid',
      /PrintableString/,
    ],
    ['IA5String with non-ASCII', [attr(O, 'Café', 'ia5'), cn], 'policy.subject_invalid', /IA5String/],
    ['BMPString outside the BMP', [attr(O, 'a\u{1F600}', 'bmp'), cn], 'policy.subject_invalid', /BMP/],
    ['unpaired surrogate', [attr(O, 'a\ud800', 'utf8'), cn], 'policy.subject_invalid', /surrogate/],
    // Issue 9 item 12: a blank CN and an unbounded subject.
    ['CN of one space', [attr(CN, ' ', 'utf8')], 'policy.subject_invalid', /only white space/],
    ['CN of a no-break space', [attr(CN, '\u00a0', 'utf8')], 'policy.subject_invalid', /only white space/],
    [
      'CN with a leading space',
      [attr(CN, ' www.example.com', 'utf8')],
      'policy.subject_invalid',
      /starts or ends with white space/,
    ],
    [
      'O with a trailing space',
      [attr(O, 'Example ', 'utf8'), cn],
      'policy.subject_invalid',
      /starts or ends/,
    ],
    [
      '500 OUs (31 KB)',
      [...Array.from({ length: 500 }, () => attr('2.5.4.11', 'x'.repeat(62), 'utf8')), cn],
      'policy.subject_invalid',
      /501 attributes; at most 20/,
    ],
    [
      '21 attributes',
      [...Array.from({ length: 20 }, (_, i) => attr('2.5.4.11', `u${i}`, 'utf8')), cn],
      'policy.subject_invalid',
      /21 attributes; at most 20/,
    ],
    [
      '1,025 characters in 17 attributes',
      [...Array.from({ length: 16 }, () => attr('2.5.4.11', 'x'.repeat(64), 'utf8')), attr(CN, 'y', 'utf8')],
      'policy.subject_invalid',
      /1025 characters long together; at most 1024/,
    ],
    [
      'an attribute without an RFC bound, 257 characters',
      [attr('1.3.6.1.4.1.99999.1', 'z'.repeat(257), 'utf8'), cn],
      'policy.subject_invalid',
      /257 characters long; at most 256 are accepted/,
    ],
    [
      'CN of 65 characters',
      [attr(CN, 'a'.repeat(65), 'utf8')],
      'policy.subject_invalid',
      /65 characters long; RFC 5280 allows at most 64/,
    ],
    ['O of 65 characters', [attr(O, 'é'.repeat(65), 'utf8'), cn], 'policy.subject_invalid', /at most 64/],
    [
      'L of 129 characters',
      [attr('2.5.4.7', 'l'.repeat(129), 'utf8'), cn],
      'policy.subject_invalid',
      /at most 128/,
    ],
    [
      'emailAddress as UTF8String',
      [cn, attr(EMAIL, 'a@example.com', 'utf8')],
      'policy.subject_invalid',
      /must be an IA5String/,
    ],
    [
      'emailAddress without @',
      [cn, attr(EMAIL, 'not-an-address', 'ia5')],
      'policy.subject_invalid',
      /no "@"/,
    ],
    [
      'emailAddress with a bad domain',
      [cn, attr(EMAIL, 'a@-bad-.example', 'ia5')],
      'policy.subject_invalid',
      /hyphen/,
    ],
  ])('%s → %s', (_name, dn, code, message) => {
    const r = refusal(() => apply(dn, POLICY_LOOSE))
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  it.each<[string, NameAttribute[]]>([
    ['CN of exactly 64 characters', [attr(CN, 'a'.repeat(64), 'utf8')]],
    ['CN of 64 multi-byte characters', [attr(CN, '€'.repeat(64), 'utf8')]],
    ['PrintableString with all its punctuation', [attr(O, "A-z 0'()+,-./:=?", 'printable'), cn]],
    ['TeletexString value', [attr(O, 'Example', 'teletex'), cn]],
    ['BMPString inside the BMP', [attr(O, 'Ünïcode', 'bmp'), cn]],
    ['UniversalString with an astral character', [attr(O, 'a\u{1F600}', 'universal'), cn]],
  ])('%s is accepted', (_name, dn) => {
    expect(() => apply(dn, POLICY_LOOSE)).not.toThrow()
  })
})

describe('match compares values, not string types (unlike OpenSSL)', () => {
  const issuer: DistinguishedName = [
    attr('2.5.4.6', 'GB', 'printable'),
    attr('2.5.4.10', 'Alice Ltd', 'printable'),
    attr('2.5.4.3', 'Root', 'printable'),
  ]
  it.each<[NameAttribute['tag']]>([['utf8'], ['printable'], ['teletex'], ['bmp'], ['universal']])(
    'a request O as %s matches an issuer PrintableString O, and the issuer attribute is issued',
    (tag) => {
      const request: DistinguishedName = [attr('2.5.4.10', 'Alice Ltd', tag), attr('2.5.4.3', 'leaf', 'utf8')]
      const out = applySubjectPolicy(request, issuer, policy('O=match,CN=supplied'))
      expect(out[0]).toEqual(attr('2.5.4.10', 'Alice Ltd', 'printable'))
    },
  )

  it('a request with one of several issuer values matches that value', () => {
    const two: DistinguishedName = [
      ...issuer,
      attr('2.5.4.11', 'Ops', 'utf8'),
      attr('2.5.4.11', 'Sec', 'utf8'),
    ]
    const out = applySubjectPolicy(
      [attr('2.5.4.11', 'Sec', 'utf8'), attr('2.5.4.3', 'y', 'utf8')],
      two,
      policy('OU=match,CN=supplied'),
    )
    expect(formatOneline(out)).toBe('/OU=Sec/CN=y')
  })

  it('countryName is issued as a PrintableString even when requested as UTF8String', () => {
    const out = applySubjectPolicy(
      [attr('2.5.4.6', 'US', 'utf8'), attr('2.5.4.3', 'y', 'utf8')],
      issuer,
      POLICY_LOOSE,
    )
    expect(out[0]).toEqual(attr('2.5.4.6', 'US', 'printable'))
  })

  it('other attributes keep their requested string type', () => {
    const out = applySubjectPolicy(
      [attr('2.5.4.10', 'Bob', 'bmp'), attr('2.5.4.3', 'y', 'teletex')],
      issuer,
      POLICY_LOOSE,
    )
    expect(out.map((a) => a.tag)).toEqual(['bmp', 'teletex'])
  })

  it('does not modify its inputs', () => {
    const request: NameAttribute[] = [attr('2.5.4.6', 'US', 'utf8'), attr('2.5.4.3', 'y', 'utf8')]
    const copy = JSON.stringify(request)
    applySubjectPolicy(request, issuer, POLICY_LOOSE)
    expect(JSON.stringify(request)).toBe(copy)
  })
})

describe("the tutorial's policies", () => {
  it.each<[string, readonly SubjectPolicyField[], string, string | ErrorCode]>([
    [
      'strict: intermediate request from the tutorial',
      POLICY_STRICT,
      '/C=GB/ST=England/O=Alice Ltd/OU=Alice Ltd Certificate Authority/CN=Alice Ltd Intermediate CA',
      '/C=GB/ST=England/O=Alice Ltd/OU=Alice Ltd Certificate Authority/CN=Alice Ltd Intermediate CA',
    ],
    [
      'strict: wrong organisation',
      POLICY_STRICT,
      '/C=GB/ST=England/O=Mallory/CN=x',
      'policy.subject_mismatch',
    ],
    ['strict: wrong country', POLICY_STRICT, '/C=US/ST=England/O=Alice Ltd/CN=x', 'policy.subject_mismatch'],
    ['strict: no state', POLICY_STRICT, '/C=GB/O=Alice Ltd/CN=x', 'policy.subject_missing'],
    ['strict: no CN', POLICY_STRICT, '/C=GB/ST=England/O=Alice Ltd', 'policy.subject_missing'],
    [
      'strict: locality is dropped',
      POLICY_STRICT,
      '/C=GB/ST=England/L=London/O=Alice Ltd/CN=x',
      '/C=GB/ST=England/O=Alice Ltd/CN=x',
    ],
    [
      'loose: server certificate from the tutorial',
      POLICY_LOOSE,
      '/C=US/ST=California/L=Mountain View/O=Alice Ltd/OU=Alice Ltd Web Services/CN=www.example.com',
      '/C=US/ST=California/L=Mountain View/O=Alice Ltd/OU=Alice Ltd Web Services/CN=www.example.com',
    ],
    ['loose: CN only', POLICY_LOOSE, '/CN=client-42', '/CN=client-42'],
    ['loose: reordered to policy order', POLICY_LOOSE, '/CN=a/O=b/C=DE', '/C=DE/O=b/CN=a'],
    ['loose: title dropped', POLICY_LOOSE, '/CN=a/title=CTO', '/CN=a'],
    ['loose: no CN', POLICY_LOOSE, '/O=Alice Ltd', 'policy.subject_missing'],
  ])('%s', (_name, pol, request, expected) => {
    if (expected.startsWith('/')) expect(apply(request, pol)).toBe(expected)
    else expect(refusal(() => apply(request, pol)).code).toBe(expected)
  })

  it('are what the tutorial says', () => {
    expect(POLICY_STRICT.map((f) => `${f.field}=${f.rule}`)).toEqual([
      'countryName=match',
      'stateOrProvinceName=match',
      'organizationName=match',
      'organizationalUnitName=optional',
      'commonName=supplied',
      'emailAddress=optional',
    ])
    expect(POLICY_LOOSE.map((f) => `${f.field}=${f.rule}`)).toEqual([
      'countryName=optional',
      'stateOrProvinceName=optional',
      'localityName=optional',
      'organizationName=optional',
      'organizationalUnitName=optional',
      'commonName=supplied',
      'emailAddress=optional',
    ])
    expect(Object.isFrozen(POLICY_STRICT) && Object.isFrozen(POLICY_LOOSE)).toBe(true)
  })
})

describe('against openssl ca (the reference for order, preserve and email_in_dn)', () => {
  let dir: string
  let n = 0
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'subject-policy-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.pem'),
        '-days',
        '2',
        '-subj',
        formatOneline(ISSUER),
      ],
      { stdio: 'pipe' },
    )
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      join(dir, 'r.key'),
    ])
    writeFileSync(join(dir, 'index.txt'), '')
    writeFileSync(join(dir, 'serial'), '1000\n')
    mkdirSync(join(dir, 'newcerts'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** Runs `openssl ca` on a CSR with this subject; the issued subject in oneline form, or undefined if refused. */
  function opensslCa(
    subject: string,
    pol: readonly SubjectPolicyField[],
    options: SubjectPolicyOptions,
  ): string | undefined {
    const i = ++n
    const cnf = join(dir, `ca${i}.cnf`)
    writeFileSync(
      cnf,
      [
        '[ca]',
        'default_ca = CA_default',
        '[CA_default]',
        `database = ${join(dir, 'index.txt')}`,
        `new_certs_dir = ${join(dir, 'newcerts')}`,
        `serial = ${join(dir, 'serial')}`,
        `certificate = ${join(dir, 'ca.pem')}`,
        `private_key = ${join(dir, 'ca.key')}`,
        'default_md = sha256',
        'default_days = 1',
        'unique_subject = no',
        'policy = the_policy',
        '[the_policy]',
        ...pol.map((f) => `${f.field} = ${f.rule}`),
        '',
      ].join('\n'),
    )
    const csr = join(dir, `r${i}.csr`)
    const cert = join(dir, `r${i}.pem`)
    execFileSync('openssl', ['req', '-new', '-key', join(dir, 'r.key'), '-subj', subject, '-out', csr], {
      stdio: 'pipe',
    })
    const args = ['ca', '-batch', '-config', cnf, '-in', csr, '-out', cert]
    if (options.preserve) args.push('-preserveDN')
    if (options.emailInDn === false) args.push('-noemailDN')
    spawnSync('openssl', args, { stdio: 'pipe' })
    if (!existsSync(cert) || statSync(cert).size === 0) return undefined
    const out = execFileSync('openssl', [
      'x509',
      '-in',
      cert,
      '-noout',
      '-subject',
      '-nameopt',
      'compat',
    ]).toString()
    return out.trim().replace(/^subject=/, '')
  }

  it.each<[string, readonly SubjectPolicyField[], SubjectPolicyOptions]>([
    [
      '/C=US/O=x/CN=y/emailAddress=e@example.com',
      policy('CN=supplied,O=optional,C=optional,emailAddress=optional'),
      {},
    ],
    ['/OU=b/CN=y/OU=a', policy('OU=optional,CN=supplied'), {}],
    ['/C=GB/L=London/CN=y', policy('C=optional,CN=supplied'), {}],
    ['/O=Alice Ltd/C=GB/CN=y', policy('C=match,O=match,CN=supplied'), {}],
    ['/O=Alice Ltd/C=GB/CN=y/L=Leeds', policy('C=match,O=match,CN=supplied'), { preserve: true }],
    ['/CN=y/emailAddress=a@example.com', policy('CN=supplied,emailAddress=supplied'), { emailInDn: false }],
    [
      '/emailAddress=a@example.com/CN=y/OU=z',
      policy('CN=supplied,OU=optional'),
      { preserve: true, emailInDn: false },
    ],
    [
      '/C=GB/ST=England/O=Alice Ltd/OU=Alice Ltd Certificate Authority/CN=Alice Ltd Intermediate CA',
      POLICY_STRICT,
      {},
    ],
    ['/CN=www.example.com/OU=Web/O=Alice Ltd/L=Mountain View/ST=California/C=US', POLICY_LOOSE, {}],
    ['/O=x', policy('CN=supplied'), {}],
    ['/C=US/CN=y', policy('C=match,CN=supplied'), {}],
    ['/CN=y', policy('C=match,CN=supplied'), {}],
    ['/O=Alice Ltd/O=Mallory/CN=y', policy('O=match,CN=supplied'), {}],
    ['/C=GB/ST=Wales/O=Alice Ltd/CN=x', POLICY_STRICT, {}],
  ])('%s: the same result as openssl ca', (subject, pol, options) => {
    const theirs = opensslCa(subject, pol, options)
    let ours: string | undefined
    try {
      ours = formatOneline(applySubjectPolicy(parseSlashDn(subject), ISSUER, pol, options))
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      ours = undefined
    }
    expect(ours).toBe(theirs)
  })
})
