/**
 * Revocation transitions on index.txt: table-driven rules, the R lines compared byte for byte with
 * what `openssl ca -revoke` writes, and recognising this CA's certificates among others.
 */
import { cleanupTempDirs } from './support/ca-fixture.js'
import { issueWithOpensslCa, tutorialCa } from './support/tutorial-ca.js'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CaError, type ErrorCode } from '../src/ca/errors.js'
import { parseIndex, serializeIndex } from '../src/ca/index-txt.js'
import { parseRevocation, type RevocationReason } from '../src/ca/index-revocation.js'
import { type IndexEntry } from '../src/ca/index-entry.js'
import { release, revoke, serialOfCertificate, type RevokeRequest } from '../src/ca/revocation.js'

afterAll(cleanupTempDirs)

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
  return `${r.stdout}${r.stderr}`
}

function codeOf(f: () => unknown): ErrorCode | undefined {
  try {
    f()
  } catch (e) {
    if (e instanceof CaError) return e.code
    throw e
  }
  return undefined
}

const NOW = new Date('2026-06-01T12:00:00Z')
const T = new Date('2026-06-01T11:59:00Z')
const line = (status: 'V' | 'R' | 'E', expiry: string, revocation: string, serial: string): IndexEntry => ({
  status,
  expiry,
  revocation,
  serial,
  file: 'unknown',
  subject: `/O=Example Corp/CN=s${serial}.example.com`,
})
const INDEX: readonly IndexEntry[] = Object.freeze([
  line('V', '270101000000Z', '', '1000'),
  line('R', '270101000000Z', '260101000000Z,keyCompromise', '1001'),
  line('R', '270101000000Z', '260101000000Z,certificateHold', '1002'),
  line('R', '270101000000Z', '260101000000Z,holdInstruction,holdInstructionCallIssuer', '1003'),
  line('E', '250101000000Z', '', '1004'),
  line('V', '260601120000Z', '', '1005'), // expires exactly now
  line('R', '270101000000Z', '260101000000Z', '1006'), // revoked without a reason
  line('R', '260301000000Z', '260101000000Z,certificateHold', '1007'), // on hold, since expired
  line('V', '260601120001Z', '', '1008'), // valid for one more second
  line('R', '270101000000Z', '260101000000Z,unspecified', '1009'),
])
INDEX.forEach((e) => Object.freeze(e))

describe('revoke: the invalidity date', () => {
  const began = new Date('2026-05-01T00:00:00Z')
  it.each<[string, Date, ErrorCode | undefined]>([
    ['now', NOW, undefined],
    ['the second the certificate began', began, undefined],
    ['one second after now', new Date(NOW.getTime() + 1000), 'revoke.invalidity_in_future'],
    ['in 2099', new Date('2099-01-01T00:00:00Z'), 'revoke.invalidity_in_future'],
    [
      'one second before the certificate began',
      new Date(began.getTime() - 1000),
      'revoke.invalidity_before_issue',
    ],
    ['in 1970', new Date(0), 'revoke.invalidity_before_issue'],
    ['not a time', new Date(Number.NaN), 'usage.invalid'],
  ])('%s: %s', (_name, invalidityDate, code) => {
    const request: RevokeRequest = {
      serial: '1000',
      reason: 'keyCompromise',
      time: T,
      invalidityDate,
      certificateNotBefore: began,
    }
    expect(codeOf(() => revoke(INDEX, request, NOW))).toBe(code)
    // a retried revocation of a revoked certificate is checked the same way
    expect(codeOf(() => revoke(INDEX, { ...request, serial: '1001' }, NOW))).toBe(code)
  })
})

describe('revoke', () => {
  it.each<[string, Partial<RevokeRequest> & { serial: string | bigint }, string, string]>([
    [
      'a valid certificate',
      { serial: '1000', reason: 'keyCompromise' },
      'revoked',
      '260601115900Z,keyCompromise',
    ],
    ['by bigint serial', { serial: 0x1000n, reason: 'superseded' }, 'revoked', '260601115900Z,superseded'],
    [
      'by lower-case serial with leading zeros',
      { serial: '001000', reason: 'superseded' },
      'revoked',
      '260601115900Z,superseded',
    ],
    ['unspecified, named', { serial: '1000', reason: 'unspecified' }, 'revoked', '260601115900Z,unspecified'],
    ['without a reason', { serial: '1000' }, 'revoked', '260601115900Z'],
    ['without a reason when none was recorded: a no-op', { serial: '1006' }, 'unchanged', '260101000000Z'],
    [
      'without a reason when unspecified was recorded: a no-op',
      { serial: '1009' },
      'unchanged',
      '260101000000Z,unspecified',
    ],
    [
      'with an invalidity date',
      { serial: '1000', reason: 'keyCompromise', invalidityDate: new Date('2026-05-30T08:00:00Z') },
      'revoked',
      '260601115900Z,keyTime,20260530080000Z',
    ],
    [
      'CA compromise with an invalidity date',
      { serial: '1000', reason: 'CACompromise', invalidityDate: new Date('2026-05-30T08:00:00Z') },
      'revoked',
      '260601115900Z,CAkeyTime,20260530080000Z',
    ],
    [
      'on hold with an instruction',
      { serial: '1000', reason: 'certificateHold', holdInstruction: 'holdInstructionReject' },
      'revoked',
      '260601115900Z,holdInstruction,holdInstructionReject',
    ],
    [
      'valid for one more second',
      { serial: '1008', reason: 'superseded' },
      'revoked',
      '260601115900Z,superseded',
    ],
    [
      'same reason again: a no-op',
      { serial: '1001', reason: 'keyCompromise' },
      'unchanged',
      '260101000000Z,keyCompromise',
    ],
    [
      'hold again: a no-op',
      { serial: '1002', reason: 'certificateHold' },
      'unchanged',
      '260101000000Z,certificateHold',
    ],
    [
      'hold again, another instruction: the first one stands',
      { serial: '1003', reason: 'certificateHold', holdInstruction: 'holdInstructionReject' },
      'unchanged',
      '260101000000Z,holdInstruction,holdInstructionCallIssuer',
    ],
    [
      'unspecified when no reason was recorded: a no-op',
      { serial: '1006', reason: 'unspecified' },
      'unchanged',
      '260101000000Z',
    ],
    [
      'hold made final, keeping the hold date',
      { serial: '1002', reason: 'keyCompromise' },
      'hold-made-final',
      '260101000000Z,keyCompromise',
    ],
    [
      'hold with an instruction made final',
      { serial: '1003', reason: 'cessationOfOperation' },
      'hold-made-final',
      '260101000000Z,cessationOfOperation',
    ],
    [
      'hold made final with a compromise date',
      { serial: '1002', reason: 'keyCompromise', invalidityDate: new Date('2025-12-24T00:00:00Z') },
      'hold-made-final',
      '260101000000Z,keyTime,20251224000000Z',
    ],
  ])('%s', (_name, request, outcome, revocation) => {
    const before = serializeIndex(INDEX)
    const result = revoke(INDEX, { time: T, ...request }, NOW)
    expect(result.outcome).toBe(outcome)
    expect(result.entry.status).toBe('R')
    expect(result.entry.revocation).toBe(revocation)
    expect(result.entries).not.toBe(INDEX)
    expect(serializeIndex(INDEX)).toBe(before)
    // exactly one line may change, and only its status and revocation columns
    const changed = result.entries.filter((e, i) => e !== INDEX[i])
    expect(changed.length).toBe(outcome === 'unchanged' ? 0 : 1)
    for (const e of changed) {
      const old = INDEX.find((o) => o.serial === e.serial)!
      expect({ ...e, status: old.status, revocation: old.revocation }).toEqual(old)
    }
    expect(parseIndex(serializeIndex(result.entries))).toEqual(result.entries)
  })

  it.each<[string, Partial<RevokeRequest> & { serial: string | bigint }, ErrorCode]>([
    ['an unknown serial', { serial: '2000', reason: 'superseded' }, 'revoke.unknown_serial'],
    ['an unknown bigint serial', { serial: 7n, reason: 'superseded' }, 'revoke.unknown_serial'],
    ['a serial that is not hex', { serial: 'zz', reason: 'superseded' }, 'revoke.unknown_serial'],
    [
      'another reason than the recorded one',
      { serial: '1001', reason: 'superseded' },
      'revoke.already_revoked',
    ],
    [
      'on hold after a final revocation',
      { serial: '1001', reason: 'certificateHold' },
      'revoke.already_revoked',
    ],
    [
      'a reason when none was recorded',
      { serial: '1006', reason: 'keyCompromise' },
      'revoke.already_revoked',
    ],
    ['no reason after a final revocation', { serial: '1001' }, 'revoke.already_revoked'],
    ['an expired certificate (E)', { serial: '1004', reason: 'keyCompromise' }, 'revoke.expired'],
    ['a certificate whose notAfter is now', { serial: '1005', reason: 'keyCompromise' }, 'revoke.expired'],
    [
      'making final the hold of an expired certificate',
      { serial: '1007', reason: 'superseded' },
      'revoke.expired',
    ],
    [
      'removeFromCRL (delta CRLs only; use release)',
      { serial: '1002', reason: 'removeFromCRL' },
      'usage.invalid',
    ],
    [
      'an invalidity date with a reason other than a compromise',
      { serial: '1000', reason: 'superseded', invalidityDate: new Date('2026-01-01T00:00:00Z') },
      'usage.invalid',
    ],
    [
      'a hold instruction without certificateHold',
      { serial: '1000', reason: 'keyCompromise', holdInstruction: 'holdInstructionReject' },
      'usage.invalid',
    ],
    [
      'a hold instruction OpenSSL does not know',
      { serial: '1000', reason: 'certificateHold', holdInstruction: 'pleaseCall' },
      'usage.invalid',
    ],
    [
      'a revocation time OpenSSL cannot read back (2050)',
      { serial: '1000', reason: 'superseded', time: new Date('2050-01-01T00:00:00Z') },
      'usage.invalid',
    ],
  ])('refuses %s', (_name, request, code) => {
    expect(codeOf(() => revoke(INDEX, { time: T, ...request }, NOW))).toBe(code)
  })

  it('says in the refusal when and why it was revoked', () => {
    expect(() => revoke(INDEX, { serial: '1001', reason: 'superseded', time: T }, NOW)).toThrow(
      'certificate 1001 was already revoked (keyCompromise) on 2026-01-01T00:00:00Z',
    )
  })
})

describe('release', () => {
  it.each([
    ['1002', '260101000000Z,certificateHold'],
    ['1003', '260101000000Z,holdInstruction,holdInstructionCallIssuer'],
    ['1007', '260101000000Z,certificateHold'],
  ])('takes %s off hold: V with an empty revocation field', (serial, revocation) => {
    expect(INDEX.find((e) => e.serial === serial)?.revocation).toBe(revocation)
    const result = release(INDEX, serial)
    expect(result.entry).toEqual({ ...INDEX.find((e) => e.serial === serial), status: 'V', revocation: '' })
    expect(result.entries.filter((e, i) => e !== INDEX[i])).toEqual([result.entry])
    expect(serializeIndex(result.entries)).toContain(`V\t${result.entry.expiry}\t\t${serial}\t`)
  })

  it.each([
    ['1000', 'revoke.not_on_hold'],
    ['1001', 'revoke.not_on_hold'],
    ['1006', 'revoke.not_on_hold'],
    ['1004', 'revoke.not_on_hold'],
    ['9999', 'revoke.unknown_serial'],
  ])('refuses %s: %s', (serial, code) => {
    expect(codeOf(() => release(INDEX, serial))).toBe(code)
  })

  it('undoes a hold exactly, and a hold can be made final after a release and a new hold', () => {
    const held = revoke(INDEX, { serial: '1000', reason: 'certificateHold', time: T }, NOW)
    const released = release(held.entries, '1000')
    expect(serializeIndex(released.entries)).toBe(serializeIndex(INDEX))
    const later = new Date('2026-06-01T11:59:30Z')
    const heldAgain = revoke(
      released.entries,
      { serial: '1000', reason: 'certificateHold', time: later },
      NOW,
    )
    const final = revoke(heldAgain.entries, { serial: '1000', reason: 'superseded', time: NOW }, NOW)
    expect(final.outcome).toBe('hold-made-final')
    expect(final.entry.revocation).toBe('260601115930Z,superseded')
  })
})

describe('transitions as properties', () => {
  const reasons: RevocationReason[] = [
    'unspecified',
    'keyCompromise',
    'CACompromise',
    'affiliationChanged',
    'superseded',
    'cessationOfOperation',
    'certificateHold',
  ]
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('revoke' as const),
      serial: fc.constantFrom(...INDEX.map((e) => e.serial)),
      reason: fc.constantFrom(...reasons),
    }),
    fc.record({
      kind: fc.constant('release' as const),
      serial: fc.constantFrom(...INDEX.map((e) => e.serial)),
    }),
  )

  // INDEX and its entries are frozen: a transition that mutated its input would throw a TypeError.
  it('never mutate their input, and a final revocation is never undone or changed', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        let entries: readonly IndexEntry[] = INDEX
        const finals = new Map<string, string>()
        for (const s of steps) {
          try {
            entries =
              s.kind === 'revoke'
                ? revoke(entries, { serial: s.serial, reason: s.reason, time: T }, NOW).entries
                : release(entries, s.serial).entries
          } catch (e) {
            if (!(e instanceof CaError)) throw e
          }
          for (const e of entries) {
            if (e.status === 'R' && parseRevocation(e.revocation).reason !== 'certificateHold') {
              finals.set(e.serial, finals.get(e.serial) ?? e.revocation)
            }
          }
          for (const [serial, revocation] of finals) {
            const e = entries.find((x) => x.serial === serial)
            expect(e?.status).toBe('R')
            expect(e?.revocation).toBe(revocation)
          }
        }
      }),
    )
  })
})

describe('against openssl ca -revoke', () => {
  let dir: string
  let cnf: string
  beforeAll(() => {
    dir = tutorialCa()
    cnf = join(dir, 'openssl_intermediate.cnf')
  })

  it.each([
    ['no reason', [], {}],
    ['unspecified', ['-crl_reason', 'unspecified'], { reason: 'unspecified' }],
    ['superseded', ['-crl_reason', 'superseded'], { reason: 'superseded' }],
    ['certificateHold', ['-crl_reason', 'certificateHold'], { reason: 'certificateHold' }],
    [
      '-crl_hold',
      ['-crl_hold', 'holdInstructionReject'],
      { reason: 'certificateHold', holdInstruction: 'holdInstructionReject' },
    ],
    [
      '-crl_hold OID',
      ['-crl_hold', '1.2.840.10040.2.2'],
      { reason: 'certificateHold', holdInstruction: '1.2.840.10040.2.2' },
    ],
    [
      '-crl_compromise',
      ['-crl_compromise', '20260101120000Z'],
      { reason: 'keyCompromise', invalidityDate: new Date('2026-01-01T12:00:00Z') },
    ],
    [
      '-crl_CA_compromise',
      ['-crl_CA_compromise', '20250101000000Z'],
      { reason: 'CACompromise', invalidityDate: new Date('2025-01-01T00:00:00Z') },
    ],
  ] as const)('writes the same index.txt as openssl ca -revoke with %s', (name, args, request) => {
    const slug = name.replace(/[^a-z]/gi, '')
    const { cert } = issueWithOpensslCa(dir, slug)
    const indexFile = join(dir, 'intermediateCA/index.txt')
    const before = readFileSync(indexFile, 'utf8')
    openssl(['ca', '-config', cnf, '-revoke', cert, ...args])
    const after = readFileSync(indexFile, 'utf8')

    const pem = readFileSync(cert, 'utf8')
    const intermediate = new x509.X509Certificate(
      readFileSync(join(dir, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8'),
    )
    const serial = serialOfCertificate(pem, intermediate)
    const theirs = parseIndex(after).find((e) => BigInt(`0x${e.serial}`) === serial)!
    const time = parseRevocation(theirs.revocation).time
    const ours = revoke(parseIndex(before), { serial, time, ...request }, new Date())
    expect(ours.outcome).toBe('revoked')
    expect(serializeIndex(ours.entries)).toBe(after)
  })
})

describe('serialOfCertificate', () => {
  let ours: string
  let other: string
  let intermediate: x509.X509Certificate
  beforeAll(() => {
    ours = tutorialCa()
    // a second CA made by the same script: the same names, other keys
    other = tutorialCa()
    intermediate = new x509.X509Certificate(
      readFileSync(join(ours, 'intermediateCA/certs/intermediate.cert.pem'), 'utf8'),
    )
  })
  const pem = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8')
  const www = 'intermediateCA/certs/www.example.com.cert.pem'

  it('finds the serial of a certificate this CA issued (by DER subject and key id)', () => {
    expect(serialOfCertificate(pem(ours, www), intermediate)).toBe(0x1000n)
  })

  it('takes the leaf of a full chain', () => {
    const chain = pem(ours, www) + pem(ours, 'intermediateCA/certs/ca-chain.cert.pem')
    expect(serialOfCertificate(chain, intermediate)).toBe(0x1000n)
  })

  it.each([
    [
      'a certificate of another CA with the same names (its AKI is another key)',
      () => pem(other, www),
      /another key/,
    ],
    [
      'the intermediate itself (issued by the root)',
      () => pem(ours, 'intermediateCA/certs/intermediate.cert.pem'),
      /issued by .*Root CA/,
    ],
  ])('refuses %s: revoke.wrong_issuer', (_name, input, message) => {
    let error: unknown
    try {
      serialOfCertificate(input(), intermediate)
    } catch (e) {
      error = e
    }
    expect((error as CaError).code).toBe('revoke.wrong_issuer')
    expect((error as CaError).message).toMatch(message)
  })

  it('refuses what is not a PEM certificate', () => {
    expect(codeOf(() => serialOfCertificate('-----BEGIN CERTIFICATE REQUEST-----', intermediate))).toBe(
      'usage.invalid',
    )
    expect(
      codeOf(() =>
        serialOfCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', intermediate),
      ),
    ).toBe('usage.invalid')
  })
})
