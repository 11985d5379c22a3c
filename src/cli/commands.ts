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
import { adoptCa, formatAdoptReport, includeReader, readConfigSource } from '../commands/adopt.js'
import { rotateIntermediate } from '../commands/rotate-intermediate.js'
import { systemRuntime } from '../commands/runtime.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { writeGitHubScaffold } from '../commands/github-scaffold.js'
import { checkActionRef } from '../github/scaffold.js'
import { runDemo } from './demo.js'
import {
  DIR,
  DIR_HELP,
  JSON_HELP,
  cliRuntime,
  daysOption,
  listOption,
  noPositionals,
  stringOption,
  type Command,
  type CommandContext,
} from './options.js'
import { REVOCATION_COMMANDS } from './revocation-commands.js'
import { publish } from './publish-command.js'

const init: Command = {
  name: 'init',
  summary: 'create a root and an intermediate CA with OpenSSL-compatible state (keys in files or Key Vault)',
  usage:
    'mtls-ca init [--dir D] [--root-key REF] [--intermediate-key REF] [--create] [--key-type T] [--root-subject DN] [--intermediate-subject DN] [--allow-dns NAME]... [--allow-ip CIDR]... [--allow-email PATTERN]... [--allow-uri PATTERN]... [--crl-url URL] [--ocsp-url URL] [--github --action-ref OWNER/REPO@SHA]',
  help: [
    'Each key REF is file:PATH (inside D; used when the file exists, generated when not) or a Key Vault',
    'key URL https://<vault>/keys/<name>[/<version>] (an existing key; without a version the latest one,',
    'which ca.yml then pins). Any mix works. With --create, each Key Vault key is made as a new Key Vault',
    'certificate (issuer Unknown, non-exportable RSA-HSM or EC-HSM key) and the CA certificate mtls-ca',
    'makes is merged back into it. Key Vault credentials: DefaultAzureCredential (az login, environment,',
    'managed identity). Nothing is written to D unless everything succeeded.',
    '',
    'Options:',
    DIR_HELP,
    '  --root-key REF   default: file:rootCA/private/ca.key.pem',
    '  --intermediate-key REF      default: file:intermediateCA/private/intermediate.key.pem',
    '  --create         make the Key Vault keys (as certificates) instead of using existing ones',
    `  --key-type T     ${KEY_TYPES.join('|')} (default: rsa-2048): generated and created keys`,
    '  --root-subject DN           default: /C=US/ST=California/L=San Francisco/O=Example Corp/OU=IT Department/CN=Root CA',
    '  --intermediate-subject DN   default: the same with CN=Intermediate CA',
    '  --allow-dns NAME repeatable: DNS names certificates may carry; example.com allows itself,',
    '                   .example.com its subdomains',
    '  --allow-ip CIDR  repeatable: IP ranges (10.0.0.0/8, 2001:db8::/32) or addresses',
    '  --allow-email PATTERN       repeatable: user@example.com, example.com (any mailbox there), .example.com',
    '  --allow-uri PATTERN         repeatable: scheme://host or scheme://.parent (spiffe://.example.com)',
    '                   The same lists hold for the CN and emailAddress. Once one --allow-* is given, the',
    '                   kinds without one are refused; without any, every name of every kind is allowed',
    '                   (init warns, and ca.yml says issuance.sans.unrestricted: [dns, ip, email, uri]).',
    '  --crl-url URL    CRL distribution point written into certificates',
    '  --ocsp-url URL   OCSP responder URL written into certificates (AIA)',
    "  --github         also write the CA repository's GitHub workflows, revoke issue form, CODEOWNERS",
    '                   hint and README (needs --action-ref OWNER/REPO@SHA: the Action, pinned)',
    JSON_HELP,
  ],
  options: {
    ...DIR,
    'root-key': { type: 'string' },
    'intermediate-key': { type: 'string' },
    create: { type: 'boolean' },
    'key-type': { type: 'string' },
    'root-subject': { type: 'string' },
    'intermediate-subject': { type: 'string' },
    'allow-dns': { type: 'string', multiple: true },
    'allow-ip': { type: 'string', multiple: true },
    'allow-email': { type: 'string', multiple: true },
    'allow-uri': { type: 'string', multiple: true },
    'crl-url': { type: 'string' },
    'ocsp-url': { type: 'string' },
    github: { type: 'boolean' },
    'action-ref': { type: 'string' },
  },
  async run(ctx) {
    noPositionals(ctx)
    const github = githubOption(ctx)
    const keyType = keyTypeOption(ctx) ?? 'rsa-2048'
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
        rootKey: stringOption(ctx, 'root-key'),
        intermediateKey: stringOption(ctx, 'intermediate-key'),
        create: ctx.values.create === true,
        rootSubject: stringOption(ctx, 'root-subject'),
        intermediateSubject: stringOption(ctx, 'intermediate-subject'),
        allowDns: listOption(ctx, 'allow-dns'),
        allowIp: listOption(ctx, 'allow-ip'),
        allowEmail: listOption(ctx, 'allow-email'),
        allowUri: listOption(ctx, 'allow-uri'),
        crlUrl: stringOption(ctx, 'crl-url'),
        ocspUrl: stringOption(ctx, 'ocsp-url'),
      },
      cliRuntime(ctx),
    )
    ctx.out(`Created a CA in ${ctx.dir}`)
    ctx.out(
      `  root          ${result.root.subject}  serial ${result.root.serial}  until ${result.root.notAfter.toISOString()}`,
    )
    ctx.out(
      `  intermediate  ${result.intermediate.subject}  serial ${result.intermediate.serial}  until ${result.intermediate.notAfter.toISOString()}`,
    )
    ctx.out(`  root key          ${describeKey(result.keys.root)}`)
    ctx.out(`  intermediate key  ${describeKey(result.keys.intermediate)}`)
    for (const note of result.notes) ctx.out(note.startsWith('WARNING') ? note : `Note: ${note}`)
    const scaffold = github ? await writeGitHubScaffold(openDirectoryStore(ctx.dir), github) : undefined
    for (const f of scaffold?.written ?? []) ctx.out(`  wrote ${f}`)
    for (const f of scaffold?.skipped ?? []) ctx.out(`  kept the existing ${f}`)
    return { json: { dir: ctx.dir, ...result, ...(scaffold ? { github: scaffold } : {}) } }
  },
}

/** `--github --action-ref OWNER/REPO@SHA`: checked before init makes anything. */
function githubOption(ctx: CommandContext): { actionRef: string } | undefined {
  const ref = stringOption(ctx, 'action-ref')
  if (ctx.values.github !== true) {
    if (ref !== undefined) throw new CaError('usage.invalid', '--action-ref goes with --github')
    return undefined
  }
  if (ref === undefined) {
    throw new CaError(
      'usage.invalid',
      '--github needs --action-ref OWNER/REPO@SHA: the workflows pin the mtls-ca Action by full commit SHA',
    )
  }
  return { actionRef: checkActionRef(ref) }
}

function keyTypeOption(ctx: CommandContext): KeyType | undefined {
  const keyType = stringOption(ctx, 'key-type')
  if (keyType !== undefined && !KEY_TYPES.includes(keyType as KeyType)) {
    throw new CaError('usage.invalid', `--key-type must be one of ${KEY_TYPES.join(', ')}, not "${keyType}"`)
  }
  return keyType as KeyType | undefined
}

function describeKey(ref: string): string {
  return ref.startsWith('file:')
    ? `${ref.slice('file:'.length)} (mode 0400, git-ignored)`
    : `${ref} (Key Vault)`
}

const rotate: Command = {
  name: 'rotate-intermediate',
  summary: 'replace the intermediate with a new one signed by the root; the old one stays revocable',
  usage:
    'mtls-ca rotate-intermediate [--dir D] [--intermediate-key REF] [--create] [--key-type T] [--intermediate-subject DN]',
  help: [
    "Makes a new intermediate certificate signed by the root key and puts it in the old one's place",
    '(certificate, chain, key in ca.yml, an empty index.txt and a first CRL). The old intermediate moves to',
    'intermediateCA/previous/<SERIAL>/ and ca.yml intermediate.previous: revoke, release and crl take',
    '--intermediate <SERIAL> to work on the certificates it issued.',
    '',
    'Options:',
    DIR_HELP,
    '  --intermediate-key REF      file:PATH or a Key Vault key URL. Default: the current Key Vault key',
    '                   (a new version with --create, else its latest version), or a new key file',
    '  --create         make the new Key Vault key version as a Key Vault certificate',
    `  --key-type T     ${KEY_TYPES.join('|')} (default: the current intermediate's)`,
    "  --intermediate-subject DN   default: the current intermediate's subject",
    JSON_HELP,
  ],
  options: {
    ...DIR,
    'intermediate-key': { type: 'string' },
    create: { type: 'boolean' },
    'key-type': { type: 'string' },
    'intermediate-subject': { type: 'string' },
  },
  async run(ctx) {
    noPositionals(ctx)
    const result = await rotateIntermediate(
      openDirectoryStore(ctx.dir),
      {
        intermediateKey: stringOption(ctx, 'intermediate-key'),
        create: ctx.values.create === true,
        keyType: keyTypeOption(ctx),
        subject: stringOption(ctx, 'intermediate-subject'),
      },
      cliRuntime(ctx),
    )
    const i = result.intermediate
    ctx.out(`New intermediate ${i.subject}  serial ${i.serial}  until ${i.notAfter.toISOString()}`)
    ctx.out(`  key       ${describeKey(i.key)}`)
    ctx.out(`  CRL       ${result.crl.file} (number ${result.crl.crlNumber}, empty)`)
    ctx.out(`Previous intermediate ${result.previous.serial} moved to ${result.previous.dir}/`)
    for (const note of result.notes) ctx.out(note.startsWith('WARNING') ? note : `Note: ${note}`)
    return { json: result }
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
      cliRuntime(ctx),
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

const adopt: Command = {
  name: 'adopt',
  summary: "write ca.yml for an existing openssl ca directory (the tutorial's), leaving its files in place",
  usage: 'mtls-ca adopt --intermediate-config FILE [--root-config FILE] [--dir D] [--json]',
  help: [
    'Reads the OpenSSL configuration files as openssl ca does (relative paths and .include from the',
    'current directory) and maps them to ca.yml in D. Every file of the CA, and every .include, must lie',
    'inside D; a value copied into ca.yml may not use $ENV::X (write the literal value instead).',
    'Lists what was mapped, notes, every item not mapped (file, section, line) and next steps.',
    'Without --root-config the root is offline: its certificate is taken from the chain file.',
    '',
    'Options:',
    '  --intermediate-config FILE  the configuration openssl ca issued leaves with (required)',
    "  --root-config FILE          the root's configuration (optional)",
    DIR_HELP,
    JSON_HELP,
  ],
  options: { ...DIR, 'intermediate-config': { type: 'string' }, 'root-config': { type: 'string' } },
  async run(ctx) {
    noPositionals(ctx)
    const intermediate = stringOption(ctx, 'intermediate-config')
    if (intermediate === undefined)
      throw new CaError('usage.invalid', '--intermediate-config FILE is required')
    const root = stringOption(ctx, 'root-config')
    const result = await adoptCa(openDirectoryStore(ctx.dir), {
      intermediate: readConfigSource(intermediate, ctx.cwd),
      ...(root === undefined ? {} : { root: readConfigSource(root, ctx.cwd) }),
      cwd: ctx.cwd,
      env: ctx.env,
      readInclude: includeReader(ctx.cwd),
      now: systemRuntime.now(),
    })
    for (const line of formatAdoptReport(result)) ctx.out(line)
    return { json: result }
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

export const COMMANDS: Command[] = [init, adopt, rotate, sign, list, ...REVOCATION_COMMANDS, publish, demo]
