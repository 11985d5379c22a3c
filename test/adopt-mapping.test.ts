/**
 * The mapping rules of `mtls-ca adopt`, each on its own: a configuration text in, the ca.yml
 * fragment, the mapped values, the notes and the unmapped items out. No CA directory: these are
 * the pure pieces of src/adopt/ that the command composes with the store.
 */
import { isCaError } from '../src/ca/errors.js'
import { parseIndex } from '../src/ca/index-txt.js'
import { subjectRules } from '../src/adopt/subject-policy.js'
import { caFiles, caSectionItems, crlFile } from '../src/adopt/ca-section.js'
import { indexEntries, uniqueSubject } from '../src/adopt/ca-database.js'
import { adoptExtensionSections } from '../src/adopt/extension-sections.js'
import { Findings } from '../src/adopt/findings.js'
import { leafProfile, profileName } from '../src/adopt/leaf-profile.js'
import { includeReader, parseConfig } from '../src/adopt/read-config.js'
import { adoptionComment, nextSteps } from '../src/adopt/report.js'
import { serialMode } from '../src/adopt/serial-mode.js'
import { noUrls, type ParsedConfig } from '../src/adopt/types.js'
import { crlDays, issuanceDays } from '../src/adopt/validity.js'
import type { ExtensionSection } from '../src/openssl-config/index.js'

const ROOT = '/srv/ca'
const BASE = { cwd: ROOT, root: ROOT }

/** A minimal `openssl ca` configuration: CA_default with `settings`, a policy, then `more`. */
function config(settings = '', more = ''): string {
  return [
    '[ ca ]',
    'default_ca = CA_default',
    '[ CA_default ]',
    'dir = /srv/ca/intermediateCA',
    'database = $dir/index.txt',
    'new_certs_dir = $dir/newcerts',
    'certificate = $dir/certs/intermediate.cert.pem',
    'private_key = $dir/private/intermediate.key.pem',
    'policy = policy_loose',
    settings,
    '[ policy_loose ]',
    'commonName = supplied',
    'organizationName = optional',
    more,
    '',
  ].join('\n')
}

function parsed(text: string): { p: ParsedConfig; f: Findings } {
  const f = new Findings()
  const p = parseConfig(
    { file: 'ca.cnf', text: Buffer.from(text) },
    { env: {}, readInclude: includeReader(ROOT) },
    BASE,
    f,
  )
  f.notes.length = 0 // what readCaConfig says is tested with it; here only the piece under test speaks
  return { p, f }
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (e) {
    if (isCaError(e)) return e.code
    throw e
  }
  return undefined
}

const mappedValue = (f: Findings, key: string) => f.mapped.find((m) => m.key === key)?.value

describe('profileName', () => {
  it.each([
    ['server_cert', 'server-cert'],
    ['Client Cert', 'client-cert'],
    ['--odd__name--', 'odd-name'],
    ['1st', 'profile-1st'],
    ['___', 'profile-x'],
    ['constructor', 'constructor'],
  ])('%s → %s', (section, name) => {
    expect(profileName(section)).toBe(name)
  })
})

describe('leaf profiles', () => {
  it.each<[string, string, Record<string, unknown>, RegExp | undefined]>([
    [
      'server_cert',
      'extendedKeyUsage = serverAuth\nkeyUsage = critical, digitalSignature, keyEncipherment\nsubjectKeyIdentifier = hash',
      { name: 'server-cert', extendedKeyUsage: ['serverAuth'], keyUsage: undefined, requireSan: true },
      /becomes "by key type"/,
    ],
    [
      'usr_cert',
      'extendedKeyUsage = clientAuth, emailProtection\nkeyUsage = digitalSignature',
      {
        name: 'usr-cert',
        extendedKeyUsage: ['clientAuth', 'emailProtection'],
        keyUsage: ['digitalSignature'],
      },
      /keyUsage is not critical there/,
    ],
    [
      'signer',
      'extendedKeyUsage = 1.3.6.1.5.5.7.3.9',
      { name: 'signer', extendedKeyUsage: ['OCSPSigning'], requireSan: false },
      /has no subjectKeyIdentifier/,
    ],
    [
      'server',
      'extendedKeyUsage = serverAuth',
      { name: 'server' },
      /the profile server replaces mtls-ca's built-in profile/,
    ],
  ])('[%s]', (section, body, expected, note) => {
    const { p, f } = parsed(config('', `[ ${section} ]\nbasicConstraints = CA:FALSE\n${body}`))
    adoptExtensionSections(p, 'intermediate', noUrls(), f)
    expect(f.profiles).toHaveLength(1)
    expect(f.profiles[0]).toMatchObject(expected)
    if (note) expect(f.notes.some((n) => note.test(n))).toBe(true)
  })

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'a section named %s is a profile of its own, not a built-in one',
    (section) => {
      const { p, f } = parsed(
        config('', `[ ${section} ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth`),
      )
      adoptExtensionSections(p, 'intermediate', noUrls(), f)
      expect(f.profiles.map((x) => x.extendedKeyUsage)).toEqual([['clientAuth']])
      expect(f.notes.filter((n) => n.includes('built-in profile'))).toEqual([])
    },
  )

  it.each(['constructor', 'toString', '__proto__', 'valueOf'])(
    'extendedKeyUsage = %s is an unknown purpose, listed as unmapped',
    (purpose) => {
      const { p, f } = parsed(
        config('', `[ odd ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth, ${purpose}`),
      )
      adoptExtensionSections(p, 'intermediate', noUrls(), f)
      expect(f.unmapped).toContainEqual(
        expect.objectContaining({
          section: 'odd',
          name: 'extendedKeyUsage',
          reason: `extendedKeyUsage: ${JSON.stringify(purpose)} is not a purpose mtls-ca knows`,
        }),
      )
      expect(f.profiles).toEqual([])
    },
  )

  it.each(['constructor', 'toString', 'hasOwnProperty'])(
    'a purpose named %s (by an oid_section) is written as its OID, never looked up on a prototype',
    (usage) => {
      const { p, f } = parsed(config())
      const section: ExtensionSection = {
        section: 'custom',
        extensions: [
          {
            kind: 'extendedKeyUsage',
            name: 'extendedKeyUsage',
            critical: false,
            line: 1,
            usages: ['clientAuth', usage],
            oids: ['1.3.6.1.5.5.7.3.2', '1.2.3.4'],
          },
        ],
        ignored: [],
        unmapped: [],
        notes: [],
      }
      const profile = leafProfile(p, section, new Set(), noUrls(), f)
      expect(profile.extendedKeyUsage).toEqual(['clientAuth', '1.2.3.4'])
    },
  )

  it('names two sections that map to one name apart', () => {
    const leaf = 'basicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth'
    const { p, f } = parsed(config('', `[ a_b ]\n${leaf}\n[ a-b ]\n${leaf}`))
    adoptExtensionSections(p, 'intermediate', noUrls(), f)
    expect(f.profiles.map((x) => x.name)).toEqual(['a-b', 'a-b-2'])
  })
})

describe('the default profile and the URLs', () => {
  const leaf = (eku: string, extra = '') => `basicConstraints = CA:FALSE\nextendedKeyUsage = ${eku}\n${extra}`
  it.each<[string, string, string, string]>([
    [
      'x509_extensions names it',
      'x509_extensions = b',
      `[ a ]\n${leaf('serverAuth')}\n[ b ]\n${leaf('clientAuth')}`,
      'b',
    ],
    ['the only leaf section', '', `[ a ]\n${leaf('clientAuth')}`, 'a'],
    ['several, none named', '', `[ a ]\n${leaf('serverAuth')}\n[ b ]\n${leaf('clientAuth')}`, 'server'],
    ['none at all', '', '', 'server'],
    [
      'x509_extensions names a CA section',
      'x509_extensions = v3_ca',
      '[ v3_ca ]\nbasicConstraints = critical, CA:true',
      'server',
    ],
  ])('%s', (_label, settings, sections, expected) => {
    const { p, f } = parsed(config(settings, sections))
    expect(adoptExtensionSections(p, 'intermediate', noUrls(), f)).toBe(expected)
    expect(mappedValue(f, 'issuance.profile')).toBe(expected)
  })

  it('joins the URLs of every leaf section, and says when they differ', () => {
    const cdp = (u: string) => `crlDistributionPoints = URI:${u}`
    const { p, f } = parsed(
      config(
        '',
        `[ a ]\n${leaf('serverAuth', `${cdp('http://crl/a')}\nauthorityInfoAccess = OCSP;URI:http://ocsp/`)}\n` +
          `[ b ]\n${leaf('clientAuth', cdp('http://crl/b'))}`,
      ),
    )
    const urls = noUrls()
    adoptExtensionSections(p, 'intermediate', urls, f)
    expect(urls).toEqual({ crl: ['http://crl/a', 'http://crl/b'], ocsp: ['http://ocsp/'], caIssuers: [] })
    expect(f.notes.some((n) => n.includes('the leaf sections differ'))).toBe(true)
  })

  it("lists a leaf section of the root's configuration as unmapped, and adopts no profile from it", () => {
    const { p, f } = parsed(config('', `[ a ]\n${leaf('serverAuth')}`))
    expect(adoptExtensionSections(p, 'root', noUrls(), f)).toBe('')
    expect(f.profiles).toEqual([])
    expect(f.unmapped.map((u) => u.name)).toEqual(['[a]'])
  })

  it("lists a CA section's extra extensions as unmapped", () => {
    const { p, f } = parsed(
      config(
        '',
        '[ v3_ca ]\nbasicConstraints = critical, CA:true\nnameConstraints = permitted;DNS:.example.com',
      ),
    )
    adoptExtensionSections(p, 'intermediate', noUrls(), f)
    expect(f.unmapped.map((u) => [u.section, u.name])).toEqual([['v3_ca', 'nameConstraints']])
  })
})

describe('serial mode', () => {
  const index = parseIndex(
    'V\t270101000000Z\t\t1000\tunknown\t/CN=a\nV\t270101000000Z\t\t1001\tunknown\t/CN=b\n',
  )
  it.each<[string, string, string | undefined, string | undefined, string, bigint | undefined, string]>([
    [
      'rand_serial',
      'rand_serial = yes\nserial = $dir/serial',
      'intermediateCA/serial',
      '1002\n',
      'random',
      undefined,
      'random',
    ],
    ['no serial file named', '', undefined, undefined, 'random', undefined, 'neither serial nor rand_serial'],
    [
      'a serial file that does not exist',
      'serial = $dir/serial',
      'intermediateCA/serial',
      undefined,
      'random',
      undefined,
      'does not exist',
    ],
    [
      'a serial file',
      'serial = $dir/serial',
      'intermediateCA/serial',
      '1002\n',
      'sequential',
      0x1002n,
      'sequential (next 1002)',
    ],
    [
      'a serial index.txt already has',
      'serial = $dir/serial',
      'intermediateCA/serial',
      '1001\n',
      'sequential',
      0x1001n,
      'which index.txt already has',
    ],
  ])('%s', (_label, settings, file, text, serials, next, said) => {
    const { p, f } = parsed(config(settings))
    const mode = serialMode(p, 'intermediate', file, text, index, f)
    expect(mode).toEqual({ serials, nextSerial: next })
    expect([...f.notes, ...f.mapped.map((m) => m.value)].some((s) => s.includes(said))).toBe(true)
  })

  it('refuses a serial file openssl ca could not have written', () => {
    const { p, f } = parsed(config('serial = $dir/serial'))
    expect(codeOf(() => serialMode(p, 'intermediate', 'intermediateCA/serial', 'xyz\n', index, f))).toBe(
      'adopt.ca_invalid',
    )
  })
})

describe('the database', () => {
  it.each<[string, string, string | undefined, boolean, string]>([
    ['not set, no attr file', '', undefined, true, "not set: openssl ca's default is yes"],
    ['set to no, no attr file', 'unique_subject = no', undefined, false, 'unique_subject (line'],
    ['set to no, attr says yes', 'unique_subject = no', 'unique_subject = yes\n', true, 'index.txt.attr'],
    ['set to yes, attr says no', '', 'unique_subject = no\n', false, 'index.txt.attr'],
    ['attr file without the key', 'unique_subject = no', '', false, 'unique_subject (line'],
  ])('unique_subject %s', (_label, settings, attr, expected, from) => {
    const { p, f } = parsed(config(settings))
    expect(uniqueSubject(p, 'intermediate', 'intermediateCA/index.txt.attr', attr, f)).toBe(expected)
    expect(f.mapped.find((m) => m.key === 'intermediate.uniqueSubject')?.from).toContain(from)
  })

  it.each<[string, string | undefined, string | undefined]>([
    ['a missing index.txt', undefined, 'adopt.ca_invalid'],
    ['a damaged index.txt', 'V\tnot a line\n', 'adopt.ca_invalid'],
    ['an empty index.txt', '', undefined],
  ])('%s', (_label, text, code) => {
    const { p, f } = parsed(config())
    expect(codeOf(() => indexEntries(p, 'intermediateCA/index.txt', text, f))).toBe(code)
  })
})

describe('validity', () => {
  it.each<[string, string, number, string]>([
    ['not set', '', 375, "the tutorial's -days 375"],
    ['set', 'default_days = 90', 90, 'default_days (line'],
    ['too long', 'default_days = 9000', 3650, 'default_days (line'],
  ])('issuance days %s', (_label, settings, days, from) => {
    const { p, f } = parsed(config(settings))
    expect(issuanceDays(p, f)).toBe(days)
    expect(f.mapped.find((m) => m.key === 'issuance.days')?.from).toContain(from)
  })

  it.each<[string, string, number, number]>([
    ['not set', '', 30, 0],
    ['in days', 'default_crl_days = 7', 7, 0],
    ['in whole days of hours', 'default_crl_hours = 48', 2, 0],
    ['in hours, rounded up', 'default_crl_hours = 30', 2, 1],
    ['too long', 'default_crl_days = 5000', 3650, 0],
  ])('CRL days %s', (_label, settings, days, unmapped) => {
    const { p, f } = parsed(config(settings))
    expect(crlDays(p, 'intermediate', f)).toBe(days)
    expect(f.unmapped).toHaveLength(unmapped)
  })
})

describe('the CA section and its files', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['the defaults under dir', '', { dir: 'intermediateCA' }],
    [
      'files elsewhere in the CA directory',
      'serial = /srv/ca/state/serial\ncrlnumber = $dir/crl.number',
      { dir: 'intermediateCA', serialFile: 'state/serial', crlnumberFile: 'intermediateCA/crl.number' },
    ],
  ])('%s', (_label, settings, yml) => {
    const { p, f } = parsed(config(settings))
    expect(caFiles(BASE, p, 'intermediate', f).yml).toEqual(yml)
  })

  it.each<[string, string, string]>([
    ['a database outside the CA directory', 'database = /etc/index.txt', 'adopt.unsupported'],
    ['the CA directory itself as dir', 'dir = /srv/ca', 'adopt.unsupported'],
    ['a relative path that climbs out', 'certificate = ../elsewhere/ca.pem', 'adopt.unsupported'],
  ])('refuses %s', (_label, settings, code) => {
    const { p, f } = parsed(config(settings))
    expect(codeOf(() => caFiles(BASE, p, 'intermediate', f))).toBe(code)
  })

  it('needs a database in a folder of its own when there is no dir', () => {
    const text = config()
      .replace('dir = /srv/ca/intermediateCA\n', '')
      .replace('$dir/index.txt', '/srv/ca/index.txt')
    const { p, f } = parsed(text.replace(/\$dir/g, '/srv/ca/x'))
    expect(codeOf(() => caFiles(BASE, p, 'intermediate', f))).toBe('adopt.unsupported')
  })

  it.each<[string, string, string]>([
    ['named', 'crl = $dir/crl/my.crl.pem', 'intermediateCA/crl/my.crl.pem'],
    ['not named', '', 'intermediateCA/crl/intermediate.crl.pem'],
  ])('the CRL file, %s', (_label, settings, file) => {
    const { p, f } = parsed(config(settings))
    expect(crlFile(BASE, p, 'intermediate', 'intermediateCA', f)).toBe(file)
  })

  it.each<[string, 'root' | 'intermediate', string[], string[]]>([
    ['display settings', 'intermediate', [], ['name_opt', 'cert_opt']],
    ['fixed dates', 'intermediate', ['default_startdate', 'default_enddate'], []],
    ["the root's default_days", 'root', ['default_days'], []],
    ["the intermediate's default_days", 'intermediate', [], []],
  ])('%s', (_label, role, unmapped, ignored) => {
    const settings: Record<string, string> = {
      'display settings': 'name_opt = ca_default\ncert_opt = ca_default',
      'fixed dates': 'default_startdate = 20250101000000Z\ndefault_enddate = 20260101000000Z',
      "the root's default_days": 'default_days = 3650',
      "the intermediate's default_days": 'default_days = 375',
    }
    const { p, f } = parsed(config(settings[_label]))
    caSectionItems(p, role, f)
    expect(f.unmapped.map((u) => u.name)).toEqual(unmapped)
    expect(f.ignored.map((u) => u.name)).toEqual(ignored)
  })
})

describe('the subject policy', () => {
  it('maps the fields in order, with preserve and email_in_dn', () => {
    const { p, f } = parsed(config('email_in_dn = no'))
    expect(subjectRules(p, 'intermediate', f)).toEqual({
      policy: [
        { field: 'commonName', rule: 'supplied' },
        { field: 'organizationName', rule: 'optional' },
      ],
      preserveDn: false,
      emailInDn: false,
    })
  })

  it.each([['a field named twice', 'commonName = supplied\nCN = optional']])(
    'refuses %s',
    (_label, fields) => {
      const { p, f } = parsed(config().replace('commonName = supplied\norganizationName = optional', fields))
      expect(codeOf(() => subjectRules(p, 'intermediate', f))).toBe('adopt.unsupported')
    },
  )
})

describe('the report', () => {
  it('puts no control character into the ca.yml comment', () => {
    const item = { file: 'ca.cnf', section: 's', line: 3, name: 'x', value: 'a\nb\rc\u0007', reason: 'why' }
    const comment = adoptionComment(['ca.cnf', 'root.cnf'], [item])
    expect(comment).toContain('from ca.cnf and root.cnf.')
    expect(comment.split('\n').filter((l) => l.includes('why'))).toEqual(['#   ca.cnf:3 [s] x = a b c : why'])
  })

  it.each<[bigint | undefined, number, RegExp, number]>([
    [0x1002n, 0, /next certificate with serial 1002/, 4],
    [undefined, 2, /random serials/, 5],
  ])('next steps (serial %s, %d unmapped)', (next, unmapped, said, count) => {
    const steps = nextSteps({ keys: ['file:intermediateCA/private/k.pem'], nextSerial: next, unmapped })
    expect(steps).toHaveLength(count)
    expect(steps.some((s) => said.test(s))).toBe(true)
    expect(steps[1]).toContain('(intermediateCA/private/k.pem)')
  })
})
