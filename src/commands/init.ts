/**
 * `mtls-ca init`: the tutorial's root and intermediate, made in one step, with OpenSSL's database files
 * and a validated ca.yml. Each key is a file (the default, generated unless the file exists) or a Key
 * Vault key, used as it is or made with `create` as a Key Vault certificate (see ca-keys.ts); the CA
 * certificates are always ours. Refuses to touch a directory that already holds a CA, and writes
 * nothing to it unless every key and certificate was made.
 */
import { CaError } from '../ca/errors.js'
import { formatOneline, parseSlashDn } from '../ca/distinguished-name.js'
import { createIntermediateCertificate, createRootCertificate } from '../ca/ca-certificates.js'
import { formatIndexTime } from '../ca/index-time.js'
import { formatIndexAttr } from '../ca/index-attr.js'
import { serializeIndex } from '../ca/index-txt.js'
import { randomSerial, serialToHex, formatSerialFile } from '../ca/serial-number.js'
import { formatCaConfig, validateCaConfig, type CaConfigInput } from '../config/ca-config.js'
import { POLICY_LOOSE, POLICY_STRICT } from '../ca/subject-policy.js'
import { validateSanPolicy, type SanPolicy } from '../ca/san-policy.js'
import { SAN_TYPE_LABEL, SAN_TYPES, type SanType } from '../ca/subject-alt-name.js'
import {
  CONFIG_FILE,
  DEFAULT_INTERMEDIATE_SUBJECT,
  DEFAULT_LAYOUT,
  DEFAULT_ROOT_SUBJECT,
  CERTS_DIR,
  REQUESTS_DIR,
  databaseFiles,
  newCertPath,
} from '../config/layout.js'
import type { KeyType } from '../keys/file-signer.js'
import { subjectKeyIdentifier } from '../ca/extensions.js'
import { planCaKey, prepareCaKeys, type PreparedCaKey } from './ca-keys.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import type { Runtime } from './runtime.js'

export interface InitOptions {
  keyType: KeyType
  /** `file:PATH` (default `file:rootCA/private/ca.key.pem`) or a Key Vault key URL. */
  rootKey?: string | undefined
  /** `file:PATH` (default `file:intermediateCA/private/intermediate.key.pem`) or a Key Vault key URL. */
  intermediateKey?: string | undefined
  /** Make the Key Vault keys as new Key Vault certificates instead of using existing keys. */
  create?: boolean | undefined
  rootSubject?: string
  intermediateSubject?: string
  /**
   * The allow-list (issuance.sans), one list per kind of name. When every list is empty, every name
   * of every kind is allowed, and ca.yml says so; when any is given, the kinds without one are refused.
   */
  allowDns: string[]
  allowIp?: string[] | undefined
  allowEmail?: string[] | undefined
  allowUri?: string[] | undefined
  crlUrl?: string
  ocspUrl?: string
}

export interface InitResult {
  root: { subject: string; serial: string; notAfter: Date; certificate: string }
  intermediate: { subject: string; serial: string; notAfter: Date; certificate: string }
  /** The key references ca.yml pins (Key Vault keys with their version). */
  keys: { root: string; intermediate: string }
  files: string[]
  notes: string[]
}

const GITIGNORE = `# CA private keys never go into git.
rootCA/private/
intermediateCA/private/
`

export async function initCa(store: StateStore, options: InitOptions, runtime: Runtime): Promise<InitResult> {
  const rootDn = parseSlashDn(options.rootSubject ?? DEFAULT_ROOT_SUBJECT)
  const intermediateDn = parseSlashDn(options.intermediateSubject ?? DEFAULT_INTERMEDIATE_SUBJECT)
  const L = DEFAULT_LAYOUT
  const rootKeyRef = options.rootKey ?? `file:${L.root.key}`
  const intermediateKeyRef = options.intermediateKey ?? `file:${L.intermediate.key}`
  const create = options.create === true
  if (create && !rootKeyRef.startsWith('https://') && !intermediateKeyRef.startsWith('https://')) {
    throw new CaError(
      'usage.invalid',
      '--create makes keys in Key Vault: give --root-key and/or --intermediate-key as https://<vault>/keys/<name>',
    )
  }
  const sans = initialSanPolicy(options)
  const config: CaConfigInput = {
    version: 1,
    root: {
      dir: L.root.dir,
      certificate: L.root.certificate,
      key: rootKeyRef,
      policy: POLICY_STRICT.map((p) => ({ ...p })),
      crl: { file: L.root.crl, days: 30 },
    },
    intermediate: {
      dir: L.intermediate.dir,
      certificate: L.intermediate.certificate,
      chain: L.intermediate.chain,
      key: intermediateKeyRef,
      policy: POLICY_LOOSE.map((p) => ({ ...p })),
      crl: { file: L.intermediate.crl, days: 30 },
    },
    issuance: {
      profile: 'server',
      days: 375,
      sans,
      crlUrls: options.crlUrl ? [options.crlUrl] : [],
      ocspUrls: options.ocspUrl ? [options.ocspUrl] : [],
    },
  }
  const plans = [
    planCaKey(
      { ref: rootKeyRef, role: 'root', keyType: options.keyType, create, subject: rootDn },
      store,
      runtime,
    ),
    planCaKey(
      {
        ref: intermediateKeyRef,
        role: 'intermediate',
        keyType: options.keyType,
        create,
        subject: intermediateDn,
      },
      store,
      runtime,
    ),
  ]
  if (sameReference(rootKeyRef, intermediateKeyRef)) {
    throw new CaError('usage.invalid', `the root and the intermediate need two keys, not both ${rootKeyRef}`)
  }
  validateSanPolicy(sans)
  validateCaConfig(config)

  return store.locked(async () => {
    for (const existing of [
      CONFIG_FILE,
      databaseFiles(L.root.dir).index,
      databaseFiles(L.intermediate.dir).index,
    ]) {
      if ((await store.read(existing)) !== undefined) {
        throw new CaError(
          'state.exists',
          `a CA already exists in ${store.root} (${existing}); refusing to overwrite it`,
          {
            file: existing,
          },
        )
      }
    }
    const now = runtime.now()
    const [rootKey, intermediateKey] = (await prepareCaKeys(plans)) as [PreparedCaKey, PreparedCaKey]
    if (Buffer.from(rootKey.spki).equals(Buffer.from(intermediateKey.spki))) {
      throw new CaError(
        'usage.invalid',
        `${rootKeyRef} and ${intermediateKeyRef} are the same key: the root and the intermediate need two keys`,
      )
    }
    const rootSigner = await rootKey.signer()

    const rootSerial = randomSerial(runtime.random)
    const root = await createRootCertificate({ subject: rootDn, signer: rootSigner, serial: rootSerial, now })
    const intermediateSerial = randomSerial(runtime.random)
    const intermediate = await createIntermediateCertificate({
      subject: intermediateDn,
      spki: intermediateKey.spki,
      root: {
        certificate: root,
        subject: rootDn,
        keyId: subjectKeyIdentifier(rootSigner.spki),
        signer: rootSigner,
      },
      serial: intermediateSerial,
      now,
    })
    const rootDer = new Uint8Array(root.rawData)
    const rootDone = await rootKey.complete([rootDer])
    const intermediateDone = await intermediateKey.complete([new Uint8Array(intermediate.rawData), rootDer])
    config.root.key = rootDone.ref
    config.intermediate.key = intermediateDone.ref
    const rootPem = root.toString('pem') + '\n'
    const intermediatePem = intermediate.toString('pem') + '\n'
    const rootDb = databaseFiles(L.root.dir)
    const intDb = databaseFiles(L.intermediate.dir)
    const intSerialHex = serialToHex(intermediateSerial)
    const writes: FileWrite[] = [
      { path: CONFIG_FILE, data: formatCaConfig(config) },
      { path: '.gitignore', data: GITIGNORE },
      ...rootDone.writes,
      ...intermediateDone.writes,
      { path: L.root.certificate, data: rootPem },
      { path: L.intermediate.certificate, data: intermediatePem },
      { path: L.intermediate.chain, data: intermediatePem + rootPem },
      {
        path: rootDb.index,
        data: serializeIndex([
          {
            status: 'V',
            expiry: formatIndexTime(intermediate.notAfter),
            revocation: '',
            serial: intSerialHex,
            file: 'unknown',
            subject: formatOneline(intermediateDn),
          },
        ]),
      },
      { path: rootDb.attr, data: formatIndexAttr({ uniqueSubject: false }) },
      { path: rootDb.serial, data: formatSerialFile(0x1000n) },
      { path: rootDb.crlnumber, data: formatSerialFile(0x1000n) },
      { path: newCertPath(rootDb, intSerialHex), data: intermediatePem },
      { path: intDb.index, data: '' },
      { path: intDb.attr, data: formatIndexAttr({ uniqueSubject: false }) },
      { path: intDb.serial, data: formatSerialFile(0x1000n) },
      { path: intDb.crlnumber, data: formatSerialFile(0x1000n) },
      { path: `${intDb.newcerts}/.gitkeep`, data: '' },
      { path: `${REQUESTS_DIR}/.gitkeep`, data: '' },
      { path: `${CERTS_DIR}/.gitkeep`, data: '' },
    ]
    await store.commit(writes)
    const notes = sanPolicyNotes(sans)
    return {
      root: {
        subject: formatOneline(rootDn),
        serial: serialToHex(rootSerial),
        notAfter: root.notAfter,
        certificate: L.root.certificate,
      },
      intermediate: {
        subject: formatOneline(intermediateDn),
        serial: intSerialHex,
        notAfter: intermediate.notAfter,
        certificate: L.intermediate.certificate,
      },
      keys: { root: rootDone.ref, intermediate: intermediateDone.ref },
      files: writes.map((w) => w.path).filter((p) => !p.endsWith('.gitkeep')),
      notes,
    }
  })
}

const FLAGS: Record<SanType, string> = {
  dns: '--allow-dns',
  ip: '--allow-ip',
  email: '--allow-email',
  uri: '--allow-uri',
}

function initialSanPolicy(options: InitOptions): SanPolicy {
  const lists: Record<SanType, string[]> = {
    dns: options.allowDns,
    ip: options.allowIp ?? [],
    email: options.allowEmail ?? [],
    uri: options.allowUri ?? [],
  }
  const given = SAN_TYPES.filter((kind) => lists[kind].length > 0)
  if (given.length === 0) return { unrestricted: [...SAN_TYPES] }
  const policy: SanPolicy = { unrestricted: [] }
  for (const kind of given) policy[kind] = lists[kind]
  return policy
}

/** What init says about the allow-list: loudly when there is none, and which kinds are closed. */
function sanPolicyNotes(policy: SanPolicy): string[] {
  const open = policy.unrestricted ?? []
  if (open.length === SAN_TYPES.length) {
    return [
      'WARNING: no --allow-dns, --allow-ip, --allow-email or --allow-uri given: this CA certifies ANY DNS name, IP address, e-mail address and URI a request asks for, in its SANs and its subject (ca.yml: issuance.sans.unrestricted: [dns, ip, email, uri]). Give the names your organisation owns, or edit issuance.sans, before issuing.',
    ]
  }
  const closed = SAN_TYPES.filter((kind) => policy[kind] === undefined && !open.includes(kind))
  if (closed.length === 0) return []
  return [
    `no names of kind ${closed.map((k) => SAN_TYPE_LABEL[k]).join(', ')} are allowed (no ${closed.map((k) => FLAGS[k]).join(', ')}): requests with them are refused (ca.yml issuance.sans)`,
  ]
}

/** Two references to one key file or one Key Vault key (any versions). */
function sameReference(a: string, b: string): boolean {
  const key = (ref: string) =>
    ref.startsWith('https://') ? ref.toLowerCase().split('/').slice(0, 5).join('/') : ref
  return key(a) === key(b)
}
