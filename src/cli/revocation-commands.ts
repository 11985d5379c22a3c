/** The CLI's revocation commands: revoke, release, crl and verify. */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { CaError } from '../ca/errors.js'
import type { RevocationReason } from '../ca/index-revocation.js'
import {
  generateCrl,
  releaseCertificate,
  REVOCATION_REASONS,
  revokeCertificate,
  type CrlResult,
} from '../commands/revocation.js'
import { verifyAgainstCa } from '../commands/verify.js'
import { systemRuntime } from '../commands/runtime.js'
import { openDirectoryStore } from '../store/directory-store.js'
import {
  DIR,
  DIR_HELP,
  JSON_HELP,
  cliRuntime,
  daysOption,
  noPositionals,
  previousIntermediateOption,
  stringOption,
  type Command,
  type CommandContext,
} from './options.js'

const MAX_CERT_BYTES = 256 * 1024

function readPem(ctx: CommandContext, file: string): { pem: string; file: string } {
  const path = resolve(ctx.cwd, file)
  let size: number
  try {
    size = statSync(path).size
  } catch (cause) {
    throw new CaError('usage.invalid', 'cannot read the certificate file', { file, cause })
  }
  if (size > MAX_CERT_BYTES)
    throw new CaError('usage.invalid', `the file is ${size} bytes: not a certificate`, { file })
  return { pem: readFileSync(path, 'utf8'), file }
}

function onePositional(ctx: CommandContext, what: string): string {
  if (ctx.positionals.length !== 1) {
    throw new CaError('usage.invalid', `expected exactly one ${what}, got ${ctx.positionals.length}`)
  }
  return ctx.positionals[0] as string
}

function printCrl(ctx: CommandContext, crl: CrlResult | undefined): void {
  if (!crl) return
  ctx.out(
    `CRL ${crl.file}: number ${crl.crlNumber}, ${crl.revoked} revoked, next update ${crl.nextUpdate.toISOString()}`,
  )
}

const side = (ctx: CommandContext) =>
  (ctx.values.root === true ? 'root' : 'intermediate') as 'root' | 'intermediate'

const revoke: Command = {
  name: 'revoke',
  summary: 'revoke a certificate (by serial or file) and publish a new CRL',
  usage:
    'mtls-ca revoke <SERIAL|CERT.pem> --reason R [--invalidity-date T] [--root | --intermediate SERIAL] [--no-crl] [--dir D]',
  help: [
    "Writes OpenSSL's R line into index.txt and, in the same atomic commit, a new CRL (PEM and DER) and",
    'the next CRL number. Revoking again with the same reason changes nothing; another reason is refused,',
    'except that a certificateHold can be made final (or released with mtls-ca release).',
    '',
    'Options:',
    `  --reason R             ${REVOCATION_REASONS.join(', ')}`,
    '  --invalidity-date T    when the key was compromised (ISO 8601; keyCompromise, CACompromise)',
    "  --root                 revoke in the root's database (an intermediate)",
    '  --intermediate SERIAL  a certificate of a previous intermediate (see rotate-intermediate)',
    '  --no-crl               only record the revocation; publish later with mtls-ca crl',
    DIR_HELP,
    JSON_HELP,
  ],
  options: {
    ...DIR,
    reason: { type: 'string' },
    'invalidity-date': { type: 'string' },
    root: { type: 'boolean' },
    intermediate: { type: 'string' },
    'no-crl': { type: 'boolean' },
  },
  async run(ctx) {
    const previous = previousIntermediateOption(ctx)
    const target = onePositional(ctx, 'serial or certificate file')
    const reason = stringOption(ctx, 'reason')
    if (reason === undefined)
      throw new CaError('usage.invalid', `--reason is required: one of ${REVOCATION_REASONS.join(', ')}`)
    if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) {
      throw new CaError(
        'usage.invalid',
        `--reason must be one of ${REVOCATION_REASONS.join(', ')}, not "${reason}"`,
      )
    }
    const invalidity = stringOption(ctx, 'invalidity-date')
    const invalidityDate = invalidity === undefined ? undefined : parseIsoTime(invalidity)
    const isSerial = /^[0-9A-Fa-f]{1,40}$/.test(target) && !existsSync(resolve(ctx.cwd, target))
    const result = await revokeCertificate(
      openDirectoryStore(ctx.dir),
      {
        side: side(ctx),
        intermediate: previous,
        target: isSerial ? { serial: target } : readPem(ctx, target),
        reason: reason as RevocationReason,
        ...(invalidityDate ? { invalidityDate } : {}),
        crl: ctx.values['no-crl'] !== true,
      },
      cliRuntime(ctx),
    )
    if (result.outcome === 'unchanged') {
      ctx.out(`${result.serial} (${result.subject}) was already revoked for ${reason}: nothing changed.`)
    } else {
      const what = result.outcome === 'hold-made-final' ? 'hold made final' : 'revoked'
      ctx.out(`${result.serial} (${result.subject}) ${what}: ${result.revocation}`)
      if (!result.crl) ctx.out('No CRL published (--no-crl): run mtls-ca crl to publish the revocation.')
    }
    printCrl(ctx, result.crl)
    return { json: result }
  },
}

const release: Command = {
  name: 'release',
  summary: 'take a certificate off hold (certificateHold) and publish a new CRL',
  usage: 'mtls-ca release <SERIAL> [--root | --intermediate SERIAL] [--no-crl] [--dir D]',
  help: [
    'Options:',
    "  --root           in the root's database",
    '  --intermediate SERIAL  in the database of a previous intermediate',
    '  --no-crl         do not publish a new CRL',
    DIR_HELP,
    JSON_HELP,
  ],
  options: {
    ...DIR,
    root: { type: 'boolean' },
    intermediate: { type: 'string' },
    'no-crl': { type: 'boolean' },
  },
  async run(ctx) {
    const previous = previousIntermediateOption(ctx)
    const serial = onePositional(ctx, 'serial')
    if (!/^[0-9A-Fa-f]{1,40}$/.test(serial))
      throw new CaError('usage.invalid', `"${serial}" is not a serial in hex`)
    const result = await releaseCertificate(
      openDirectoryStore(ctx.dir),
      { side: side(ctx), intermediate: previous, serial, crl: ctx.values['no-crl'] !== true },
      cliRuntime(ctx),
    )
    ctx.out(`${result.serial} (${result.subject}) released: valid again.`)
    printCrl(ctx, result.crl)
    return { json: result }
  },
}

const crl: Command = {
  name: 'crl',
  summary: "issue a new CRL for the intermediate (or, with --root, the root's CRL of intermediates)",
  usage: 'mtls-ca crl [--days N] [--root | --intermediate SERIAL] [--dir D]',
  help: [
    'Writes crl/<name>.crl.pem (PEM "X509 CRL") and .crl.der beside it, and advances crlnumber.',
    '',
    'Options:',
    '  --days N         nextUpdate = now + N days (default: ca.yml crl.days)',
    "  --root           the root's CRL, listing revoked intermediates",
    '  --intermediate SERIAL  the CRL of a previous intermediate (see rotate-intermediate)',
    DIR_HELP,
    JSON_HELP,
  ],
  options: { ...DIR, days: { type: 'string' }, root: { type: 'boolean' }, intermediate: { type: 'string' } },
  async run(ctx) {
    noPositionals(ctx)
    const days = daysOption(ctx)
    const previous = previousIntermediateOption(ctx)
    const result = await generateCrl(
      openDirectoryStore(ctx.dir),
      { side: side(ctx), intermediate: previous, ...(days === undefined ? {} : { days }) },
      cliRuntime(ctx),
    )
    printCrl(ctx, result)
    return { json: result }
  },
}

const verify: Command = {
  name: 'verify',
  summary: 'check a certificate: chain to the root, validity, and revocation against the current CRL',
  usage: 'mtls-ca verify CERT [--dir D]',
  help: [
    'Exit 0 when the certificate is good; 1 with the reason otherwise.',
    '',
    'Options:',
    DIR_HELP,
    JSON_HELP,
  ],
  options: { ...DIR },
  async run(ctx) {
    const file = onePositional(ctx, 'certificate file')
    const result = await verifyAgainstCa(openDirectoryStore(ctx.dir), readPem(ctx, file), systemRuntime.now())
    ctx.out(`${file}: ${result.message}`)
    return { json: result }
  },
}

export const REVOCATION_COMMANDS: Command[] = [revoke, release, crl, verify]

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * An ISO 8601 date (UTC midnight) or time with its zone. Date's own parser takes far more ("1",
 * "March 7", local times) and rolls 2026-02-30 over to March: a time in a CRL must be the one meant.
 */
export function parseIsoTime(text: string): Date {
  const m = ISO_TIME.exec(text)
  const bad = () =>
    new CaError(
      'usage.invalid',
      `--invalidity-date must be an ISO 8601 date or time with its zone (2026-03-01 or ` +
        `2026-03-01T09:30:00Z), not "${text}"`,
    )
  if (m === null) throw bad()
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  const exact =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second
  const date = new Date(text)
  if (!exact || Number.isNaN(date.getTime())) throw bad()
  return date
}
