/**
 * Names a configuration gives in extension values are looked up in tables of their own, never on
 * Object.prototype: `keyUsage = constructor` is an unknown usage, as the real openssl says, not an
 * empty keyUsage; the same for nsCertType bits and extended key usage purposes.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isCaError } from '../src/ca/errors.js'
import { extensionSection } from '../src/openssl-config/ca-config.js'
import { parseOpensslConfig } from '../src/openssl-config/parse.js'
import { cleanupTempDirs, openssl, opensslOk, tempDir } from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']

function section(body: string) {
  return extensionSection(parseOpensslConfig(`[ ext ]\n${body}\n`), 'ext')
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

/** Whether the real openssl makes a certificate from `[ ext ] body`. */
function opensslAccepts(dir: string, body: string): boolean {
  const cnf = join(dir, 'ext.cnf')
  writeFileSync(cnf, `[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = x\n[ ext ]\n${body}\n`)
  const key = join(dir, 'key.pem')
  const r = openssl([
    'req',
    '-new',
    '-x509',
    '-config',
    cnf,
    '-extensions',
    'ext',
    '-key',
    key,
    '-subj',
    '/CN=x',
    '-days',
    '1',
    '-out',
    join(dir, 'c.pem'),
  ])
  return r.status === 0
}

describe('extension value names that are Object.prototype properties', () => {
  const dir = tempDir('mtls-ca-extension-names-')
  beforeAll(() => {
    opensslOk([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      join(dir, 'key.pem'),
    ])
  })

  it.each(
    PROTOTYPE_NAMES.flatMap((n) => [
      `keyUsage = ${n}`,
      `keyUsage = digitalSignature, ${n}`,
      `nsCertType = ${n}`,
    ]),
  )('%s is refused, as openssl refuses it', (body) => {
    expect(codeOf(() => section(body))).toBe('adopt.config_invalid')
    expect(opensslAccepts(dir, body)).toBe(false)
  })

  it.each(PROTOTYPE_NAMES.map((n) => `extendedKeyUsage = clientAuth, ${n}`))(
    '%s is an unknown purpose, listed as unmapped',
    (body) => {
      const s = section(body)
      expect(s.extensions).toEqual([])
      expect(s.unmapped).toEqual([
        expect.objectContaining({
          name: 'extendedKeyUsage',
          reason: expect.stringMatching(/is not a purpose mtls-ca knows/),
        }),
      ])
    },
  )

  it.each([
    ['keyUsage = Digital Signature, CRL Sign', { kind: 'keyUsage', usages: ['digitalSignature', 'cRLSign'] }],
    ['nsCertType = SSL Server', undefined],
  ])('still reads the long names: %s', (body, spec) => {
    const s = section(body)
    if (spec) expect(s.extensions).toEqual([expect.objectContaining(spec)])
    else expect(s.ignored.map((i) => i.name)).toEqual(['nsCertType'])
    expect(opensslAccepts(dir, body)).toBe(true)
  })
})
