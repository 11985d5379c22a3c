/**
 * The commands of the CLI: each turns parsed options into a call of the same command functions the
 * Action uses, and prints what happened. Validation of option values happens here, at the edge.
 */
import { CaError } from '../ca/errors.js'
import { KEY_TYPES, type KeyType } from '../keys/file-signer.js'
import { formatSans } from '../ca/subject-alt-name.js'
import { initCa } from '../commands/init.js'
import { signRequests } from '../commands/sign.js'
import { listCertificates } from '../commands/list.js'
import { systemRuntime } from '../commands/runtime.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { runDemo } from './demo.js'
import {
  DIR,
  DIR_HELP,
  JSON_HELP,
  daysOption,
  listOption,
  noPositionals,
  stringOption,
  type Command,
} from './options.js'
import { REVOCATION_COMMANDS } from './revocation-commands.js'

const init: Command = {
  name: 'init',
  summary: 'create a root and an intermediate CA with OpenSSL-compatible state (keys in files)',
  usage:
    'mtls-ca init [--dir D] [--key-type T] [--root-subject DN] [--intermediate-subject DN] [--allow-dns NAME]... [--crl-url URL] [--ocsp-url URL]',
  help: [
    'Options:',
    DIR_HELP,
    `  --key-type T     ${KEY_TYPES.join('|')} (default: rsa-2048)`,
    '  --root-subject DN           default: /C=US/ST=California/L=San Francisco/O=Example Corp/OU=IT Department/CN=Root CA',
    '  --intermediate-subject DN   default: the same with CN=Intermediate CA',
    '  --allow-dns NAME repeatable: DNS names certificates may carry; example.com allows itself,',
    '                   .example.com its subdomains. Without it every DNS name is allowed.',
    '  --crl-url URL    CRL distribution point written into certificates',
    '  --ocsp-url URL   OCSP responder URL written into certificates (AIA)',
    JSON_HELP,
  ],
  options: {
    ...DIR,
    'key-type': { type: 'string' },
    'root-subject': { type: 'string' },
    'intermediate-subject': { type: 'string' },
    'allow-dns': { type: 'string', multiple: true },
    'crl-url': { type: 'string' },
    'ocsp-url': { type: 'string' },
  },
  async run(ctx) {
    noPositionals(ctx)
    const keyType = (stringOption(ctx, 'key-type') ?? 'rsa-2048') as KeyType
    if (!KEY_TYPES.includes(keyType)) {
      throw new CaError(
        'usage.invalid',
        `--key-type must be one of ${KEY_TYPES.join(', ')}, not "${keyType}"`,
      )
    }
    for (const name of ['crl-url', 'ocsp-url']) {
      const url = stringOption(ctx, name)
      if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) {
        throw new CaError('usage.invalid', `--${name} must be an http(s) URL, not "${url}"`)
      }
    }
    const result = await initCa(
      openDirectoryStore(ctx.dir, { create: true }),
      {
        keyType,
        rootSubject: stringOption(ctx, 'root-subject'),
        intermediateSubject: stringOption(ctx, 'intermediate-subject'),
        allowDns: listOption(ctx, 'allow-dns'),
        crlUrl: stringOption(ctx, 'crl-url'),
        ocspUrl: stringOption(ctx, 'ocsp-url'),
      },
      systemRuntime,
    )
    ctx.out(`Created a CA in ${ctx.dir}`)
    ctx.out(
      `  root          ${result.root.subject}  serial ${result.root.serial}  until ${result.root.notAfter.toISOString()}`,
    )
    ctx.out(
      `  intermediate  ${result.intermediate.subject}  serial ${result.intermediate.serial}  until ${result.intermediate.notAfter.toISOString()}`,
    )
    ctx.out(`  keys in rootCA/private/ and intermediateCA/private/ (mode 0400, git-ignored)`)
    for (const note of result.notes) ctx.out(`Note: ${note}`)
    return { json: { dir: ctx.dir, ...result } }
  },
}

const sign: Command = {
  name: 'sign',
  summary: 'sign pending requests/<name>.csr.pem (or the CSR files given) with the intermediate',
  usage: 'mtls-ca sign [--dir D] [--profile server|client|server-client] [--days N] [CSR...]',
  help: [
    'With no CSR arguments, signs every requests/<name>.csr.pem that has no certs/<name>.cert.pem yet;',
    'requests/<name>.yml may set profile and days. All requests are one batch: if one is refused,',
    'nothing is issued and every refusal is listed.',
    '',
    'Options:',
    DIR_HELP,
    '  --profile P      profile for every request (default: ca.yml issuance.profile)',
    '  --days N         validity in days for every request (default: profile or ca.yml)',
    JSON_HELP,
  ],
  options: { ...DIR, profile: { type: 'string' }, days: { type: 'string' } },
  async run(ctx) {
    const result = await signRequests(
      openDirectoryStore(ctx.dir),
      {
        csrFiles: ctx.positionals,
        cwd: ctx.cwd,
        profile: stringOption(ctx, 'profile'),
        days: daysOption(ctx),
      },
      systemRuntime,
    )
    if (result.issued.length === 0) ctx.out('Nothing to sign: every request has a certificate.')
    for (const c of result.issued) {
      ctx.out(`Issued ${c.name}: serial ${c.serialHex}, ${c.profile}, until ${c.notAfter.toISOString()}`)
      ctx.out(`  subject ${c.indexEntry.subject}`)
      if (c.sans.length) ctx.out(`  SANs    ${formatSans(c.sans)}`)
      ctx.out(`  wrote   certs/${c.name}.cert.pem, certs/${c.name}.fullchain.pem`)
      for (const note of c.notes) ctx.out(`  note    ${note}`)
    }
    return {
      json: {
        issued: result.issued.map((c) => ({
          name: c.name,
          serial: c.serialHex,
          subject: c.indexEntry.subject,
          sans: c.sans,
          profile: c.profile,
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
          clamped: c.clamped,
          notes: c.notes,
          certificate: `certs/${c.name}.cert.pem`,
          fullchain: `certs/${c.name}.fullchain.pem`,
        })),
      },
    }
  },
}

const list: Command = {
  name: 'list',
  summary: "list the intermediate's certificates: status, serial, subject, SANs, profile, notAfter",
  usage: 'mtls-ca list [--dir D] [--json]',
  help: ['Options:', DIR_HELP, JSON_HELP],
  options: { ...DIR },
  async run(ctx) {
    noPositionals(ctx)
    const certs = await listCertificates(openDirectoryStore(ctx.dir), systemRuntime.now())
    if (certs.length === 0) ctx.out('No certificates issued yet.')
    for (const c of certs) {
      ctx.out(
        [
          c.status.padEnd(7),
          c.serial,
          c.notAfter.slice(0, 10),
          (c.profile ?? '-').padEnd(13),
          c.subject,
          c.sans.join(','),
        ]
          .join('  ')
          .trimEnd(),
      )
    }
    return { json: { certificates: certs } }
  },
}

const demo: Command = {
  name: 'demo',
  summary: "run the tutorial's whole flow in a temporary folder, printing each step",
  usage: 'mtls-ca demo [--keep]',
  help: ['Options:', '  --keep           keep the temporary folder and print its path', JSON_HELP],
  options: { keep: { type: 'boolean' } },
  async run(ctx) {
    noPositionals(ctx)
    const result = await runDemo({ keep: ctx.values.keep === true, out: ctx.out, env: ctx.env })
    return { json: result, exitCode: result.ok ? 0 : 1 }
  },
}

export const COMMANDS: Command[] = [init, sign, list, ...REVOCATION_COMMANDS, demo]
