/**
 * `mtls-ca rotate-intermediate`: a new intermediate, signed by the root, takes the old one's place —
 * its certificate, chain, key reference and an empty database with a first CRL — while the old one
 * retires to `<intermediate dir>/previous/<SERIAL>/` (index.txt, index.txt.attr, serial, crlnumber,
 * certs/, crl/; its issued certificates stay in newcerts/) and into ca.yml's `intermediate.previous`,
 * so that `revoke`, `release` and `crl --intermediate <SERIAL>` still work on what it issued.
 *
 * The new key: `--intermediate-key REF`, or by default a new version of the current Key Vault key
 * (`create`: made as a Key Vault certificate and merged, as init does; without it: the key's latest
 * version, which must be another key than the current one), or a new key file beside the old one.
 * One atomic commit: nothing is written unless the new certificate, the vault merge and the new CRL
 * all succeeded.
 */
import { isMap, isSeq, parseDocument } from 'yaml'
import { CaError } from '../ca/errors.js'
import { buildCrl, crlDer, crlPem } from '../ca/crl.js'
import { createIntermediateCertificate } from '../ca/ca-certificates.js'
import { formatOneline, parseSlashDn } from '../ca/distinguished-name.js'
import { subjectKeyIdentifier } from '../ca/extensions.js'
import { formatIndexAttr } from '../ca/index-attr.js'
import { formatIndexTime } from '../ca/index-time.js'
import { serializeIndex } from '../ca/index-txt.js'
import {
  formatSerialFile,
  parseSerialFile,
  randomSerial,
  serialFromHex,
  serialToHex,
} from '../ca/serial-number.js'
import { parseCaConfig, type PreviousIntermediateConfig } from '../config/ca-config.js'
import { CONFIG_FILE, databaseFiles, newCertPath } from '../config/layout.js'
import type { KeyType } from '../keys/file-signer.js'
import { formatKeyUrl, parseKeyUrl } from '../keys/key-vault-runtime.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import { keyTypeOf, planCaKey } from './ca-keys.js'
import { loadCa, loadDatabase, openIssuer, readText, requireText } from './ca-state.js'
import type { Runtime } from './runtime.js'

export interface RotateIntermediateOptions {
  /** The new key: `file:PATH` or a Key Vault key URL. Default: see the module comment. */
  intermediateKey?: string | undefined
  /** Make the new Key Vault key version as a Key Vault certificate. */
  create?: boolean | undefined
  /** For a generated or created key; default: the current intermediate's key type. */
  keyType?: KeyType | undefined
  /** `/C=…/O=…/CN=…`; default: the current intermediate's subject. */
  subject?: string | undefined
}

export interface RotateIntermediateResult {
  intermediate: { subject: string; serial: string; notAfter: Date; certificate: string; key: string }
  previous: { serial: string; dir: string; key: string }
  crl: { file: string; crlNumber: string }
  files: string[]
  notes: string[]
}

function derPath(pemPath: string): string {
  return pemPath.replace(/(\.crl)?\.pem$/, '') + '.crl.der'
}

export async function rotateIntermediate(
  store: StateStore,
  options: RotateIntermediateOptions,
  runtime: Runtime,
): Promise<RotateIntermediateResult> {
  const create = options.create === true
  return store.locked(async () => {
    const ca = await loadCa(store)
    const cfg = ca.config.intermediate
    const old = ca.intermediate
    const oldSerial = serialToHex(serialFromHex(old.certificate.serialNumber))
    const previousDir = `${cfg.dir}/previous/${oldSerial}`
    if (cfg.previous.some((p) => p.dir === previousDir) || (await store.list(previousDir)).length > 0) {
      throw new CaError(
        'state.exists',
        `${previousDir} already exists: the intermediate ${oldSerial} was retired before`,
        {
          file: previousDir,
        },
      )
    }
    const newSerial = randomSerial(runtime.random)
    const newSerialHex = serialToHex(newSerial)

    let ref = options.intermediateKey
    if (ref === undefined) {
      if (cfg.key.startsWith('https://')) {
        ref = formatKeyUrl({ ...parseKeyUrl(cfg.key), version: undefined })
      } else if (create) {
        throw new CaError(
          'usage.invalid',
          `--create makes a new Key Vault key version, but the intermediate's key is ${cfg.key}: leave out ` +
            '--create for a new key file, or give --intermediate-key https://<vault>/keys/<name>',
        )
      } else {
        ref = `file:${cfg.dir}/private/intermediate-${newSerialHex}.key.pem`
      }
    }
    const subject = options.subject !== undefined ? parseSlashDn(options.subject) : old.subject
    const plan = planCaKey(
      {
        ref,
        role: 'intermediate',
        keyType: options.keyType ?? keyTypeOf(old.spki) ?? 'rsa-2048',
        create,
        subject,
        scheme: cfg.signature,
        concurrency: cfg.concurrency,
      },
      store,
      runtime,
    )

    // Read everything that moves before any vault changes.
    const files = databaseFiles(cfg)
    const oldIndex = await requireText(store, files.index)
    const oldAttr = await readText(store, files.attr)
    const oldSerialFile = await readText(store, files.serial)
    const crlNumberText = await readText(store, files.crlnumber)
    const oldCrlPem = await readText(store, cfg.crl.file)
    const oldCrlDer = await store.read(derPath(cfg.crl.file))
    let crlNumber: bigint
    try {
      crlNumber = crlNumberText === undefined ? 0x1000n : parseSerialFile(crlNumberText)
    } catch (e) {
      throw e instanceof CaError ? e.withFile(files.crlnumber) : e
    }
    const configText = await requireText(store, CONFIG_FILE)
    const rootDb =
      ca.config.root.dir === undefined
        ? undefined
        : databaseFiles({ ...ca.config.root, dir: ca.config.root.dir })
    const rootIndex =
      rootDb === undefined
        ? undefined
        : (await loadDatabase(store, { ...ca.config.root, dir: ca.config.root.dir! })).index

    const root = await openIssuer(ca, 'root', runtime)
    const key = await plan.prepare()
    if (Buffer.from(key.spki).equals(Buffer.from(old.spki))) {
      throw new CaError(
        'usage.invalid',
        `${ref} is the current intermediate's key: a rotation needs a new key` +
          (ref.startsWith('https://') && !create ? ' (--create makes a new version in the vault)' : ''),
      )
    }
    if (Buffer.from(key.spki).equals(Buffer.from(ca.root.spki))) {
      throw new CaError('usage.invalid', `${ref} is the root's key: the intermediate needs a key of its own`)
    }
    const now = runtime.now()
    const certificate = await createIntermediateCertificate({
      subject,
      spki: key.spki,
      root,
      serial: newSerial,
      now,
    })
    const done = await key.complete([
      new Uint8Array(certificate.rawData),
      new Uint8Array(root.certificate.rawData),
    ])

    // The new intermediate's first CRL: the CRL file always belongs to the current intermediate.
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000)
    const crl = await buildCrl({
      entries: [],
      issuer: { certificate, keyId: subjectKeyIdentifier(key.spki), signer: done.signer },
      crlNumber,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + cfg.crl.days * 86_400_000),
    })

    const pem = certificate.toString('pem') + '\n'
    const previous: PreviousIntermediateConfig = {
      serial: oldSerial,
      dir: previousDir,
      newCertsDir: files.newcerts,
      certificate: `${previousDir}/certs/intermediate.cert.pem`,
      key: cfg.key,
      ...(cfg.signature ? { signature: cfg.signature } : {}),
      ...(cfg.concurrency !== undefined ? { concurrency: cfg.concurrency } : {}),
      crl: { file: `${previousDir}/crl/intermediate.crl.pem`, days: cfg.crl.days },
    }
    const moved = databaseFiles({ dir: previousDir })
    const writes: FileWrite[] = [
      { path: CONFIG_FILE, data: rotatedConfig(configText, done.ref, previous) },
      ...done.writes,
      // the old intermediate, retired
      { path: moved.index, data: oldIndex },
      ...(oldAttr !== undefined ? [{ path: moved.attr, data: oldAttr }] : []),
      ...(oldSerialFile !== undefined ? [{ path: moved.serial, data: oldSerialFile }] : []),
      { path: moved.crlnumber, data: crlNumberText ?? formatSerialFile(crlNumber) },
      { path: previous.certificate, data: old.pem },
      ...(oldCrlPem !== undefined ? [{ path: previous.crl.file, data: oldCrlPem }] : []),
      ...(oldCrlDer !== undefined ? [{ path: derPath(previous.crl.file), data: oldCrlDer }] : []),
      // the new one in its place; `serial` goes on (sequential serials never repeat in newcerts/)
      { path: cfg.certificate, data: pem },
      { path: cfg.chain, data: pem + ca.root.pem },
      { path: files.index, data: '' },
      { path: files.attr, data: formatIndexAttr({ uniqueSubject: cfg.uniqueSubject }) },
      { path: cfg.crl.file, data: crlPem(crl) },
      { path: derPath(cfg.crl.file), data: crlDer(crl) },
      { path: files.crlnumber, data: formatSerialFile(crlNumber + 1n) },
    ]
    const notes: string[] = []
    if (rootDb && rootIndex) {
      writes.push(
        {
          path: rootDb.index,
          data: serializeIndex([
            ...rootIndex,
            {
              status: 'V',
              expiry: formatIndexTime(certificate.notAfter),
              revocation: '',
              serial: newSerialHex,
              file: 'unknown',
              subject: formatOneline(subject),
            },
          ]),
        },
        { path: newCertPath(rootDb, newSerialHex), data: pem },
      )
    } else {
      notes.push(`the root's database is not in this directory: record intermediate ${newSerialHex} there`)
    }
    notes.push(
      `the previous intermediate ${oldSerial} stays valid until ${old.certificate.notAfter.toISOString()}: ` +
        `revoke its certificates and publish its CRL with --intermediate ${oldSerial}`,
    )
    await store.commit(writes)
    return {
      intermediate: {
        subject: formatOneline(subject),
        serial: newSerialHex,
        notAfter: certificate.notAfter,
        certificate: cfg.certificate,
        key: done.ref,
      },
      previous: { serial: oldSerial, dir: previousDir, key: cfg.key },
      crl: { file: cfg.crl.file, crlNumber: crlNumber.toString(16).toUpperCase() },
      files: writes.map((w) => w.path),
      notes,
    }
  })
}

/** ca.yml with the new key and the retired intermediate first in `intermediate.previous`; comments kept. */
function rotatedConfig(text: string, key: string, previous: PreviousIntermediateConfig): string {
  const doc = parseDocument(text)
  const intermediate = doc.get('intermediate')
  if (!isMap(intermediate))
    throw new CaError('config.invalid', 'intermediate: expected a mapping', { file: CONFIG_FILE })
  intermediate.set('key', key)
  const list = intermediate.get('previous')
  if (isSeq(list)) list.items.unshift(doc.createNode(previous))
  else intermediate.set('previous', doc.createNode([previous]))
  const out = doc.toString({ lineWidth: 0 })
  parseCaConfig(out, CONFIG_FILE)
  return out
}
