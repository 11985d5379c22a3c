/**
 * Loading a CA repository's state through the StateStore: ca.yml, the CA certificates, the database
 * files, and (only when a command signs) the signers. Every file problem becomes a CaError naming it.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Name } from '@peculiar/asn1-x509'
import { CaError } from '../ca/errors.js'
import { MAX_CONFIG_BYTES, parseCaConfig, type CaConfig } from '../config/ca-config.js'
import { CONFIG_FILE, databaseFiles, type DatabaseLocation } from '../config/layout.js'
import { fromAsnName, type DistinguishedName } from '../ca/distinguished-name.js'
import { parseIndex } from '../ca/index-txt.js'
import { parseIndexAttr, type IndexAttributes } from '../ca/index-attr.js'
import { type IndexEntry } from '../ca/index-entry.js'
import { checkCaCertificates } from '../ca/ca-self-check.js'
import { parseSerialFile } from '../ca/serial-number.js'
import { subjectKeyIdentifier } from '../ca/extensions.js'
import type { Issuer } from '../ca/issue.js'
import { openSigner } from '../keys/open-signer.js'
import type { StateStore } from '../store/state-store.js'
import type { Runtime } from './runtime.js'

export type Side = 'root' | 'intermediate'

export interface CaCertificate {
  certificate: x509.X509Certificate
  pem: string
  subject: DistinguishedName
  keyId: string
  spki: Uint8Array
}

export interface LoadedCa {
  store: StateStore
  config: CaConfig
  root: CaCertificate
  intermediate: CaCertificate
}

export async function readText(store: StateStore, path: string): Promise<string | undefined> {
  const data = await store.read(path)
  return data?.toString('utf8')
}

export async function requireText(store: StateStore, path: string): Promise<string> {
  const text = await readText(store, path)
  if (text === undefined) throw new CaError('state.missing', `${path} does not exist`, { file: path })
  return text
}

export function parseCertificatePem(pem: string, file: string): CaCertificate {
  let certificate: x509.X509Certificate
  try {
    certificate = new x509.X509Certificate(pem)
  } catch (cause) {
    throw new CaError('state.corrupt', 'not a PEM certificate', { file, cause })
  }
  const spki = new Uint8Array(certificate.publicKey.rawData)
  return {
    certificate,
    pem: certificate.toString('pem') + '\n',
    subject: fromAsnName(AsnConvert.parse(certificate.subjectName.toArrayBuffer(), Name)),
    keyId: subjectKeyIdentifier(spki),
    spki,
  }
}

export interface LoadCaOptions {
  /**
   * The serial (hex) of a previous intermediate (ca.yml `intermediate.previous`): it then stands in
   * for the intermediate, so that revoke, release and crl work on its database, CRL and key.
   */
  intermediate?: string | undefined
}

/** ca.yml, refused before it is read (and parsed) when it is larger than a configuration can be. */
async function readConfigText(store: StateStore): Promise<string | undefined> {
  try {
    return (await store.read(CONFIG_FILE, { maxBytes: MAX_CONFIG_BYTES }))?.toString('utf8')
  } catch (e) {
    if (e instanceof CaError && e.code === 'state.too_large') {
      throw new CaError('config.too_large', `${e.message} for ${CONFIG_FILE}`, {
        file: CONFIG_FILE,
      })
    }
    throw e
  }
}

export async function loadCa(store: StateStore, options: LoadCaOptions = {}): Promise<LoadedCa> {
  const text = await readConfigText(store)
  if (text === undefined) {
    throw new CaError(
      'state.missing',
      `no CA here: ${CONFIG_FILE} not found in ${store.root} (run mtls-ca init)`,
      {
        file: CONFIG_FILE,
      },
    )
  }
  const config = selectIntermediate(parseCaConfig(text, CONFIG_FILE), options.intermediate)
  const root = parseCertificatePem(await requireText(store, config.root.certificate), config.root.certificate)
  const intermediate = parseCertificatePem(
    await requireText(store, config.intermediate.certificate),
    config.intermediate.certificate,
  )
  return { store, config, root, intermediate }
}

/** The config with a previous intermediate in the intermediate's place (see LoadCaOptions). */
function selectIntermediate(config: CaConfig, serial: string | undefined): CaConfig {
  if (serial === undefined) return config
  const wanted = serial.replace(/^0+/, '').toUpperCase()
  const previous = config.intermediate.previous.find(
    (p) => p.serial.replace(/^0+/, '').toUpperCase() === wanted,
  )
  if (!previous) {
    const known = config.intermediate.previous.map((p) => p.serial)
    throw new CaError(
      'state.missing',
      `no previous intermediate with serial ${serial} in ca.yml (intermediate.previous: ${known.length ? known.join(', ') : 'none'})`,
      { file: CONFIG_FILE },
    )
  }
  return {
    ...config,
    intermediate: {
      ...config.intermediate,
      dir: previous.dir,
      database: undefined,
      serialFile: undefined,
      crlnumberFile: undefined,
      newCertsDir: previous.newCertsDir,
      certificate: previous.certificate,
      key: previous.key,
      signature: previous.signature,
      concurrency: previous.concurrency,
      crl: previous.crl,
      previous: [],
    },
  }
}

export interface Database {
  index: IndexEntry[]
  /** Next sequential serial, when the CA has a serial file. */
  nextSerial: bigint | undefined
  /** index.txt.attr as read, when it exists: what it says overrides ca.yml, as in openssl ca. */
  attr: Partial<IndexAttributes> | undefined
}

export async function loadDatabase(store: StateStore, location: DatabaseLocation): Promise<Database> {
  const files = databaseFiles(location)
  const indexText = await readText(store, files.index)
  if (indexText === undefined)
    throw new CaError('state.missing', `${files.index} does not exist`, { file: files.index })
  let index: IndexEntry[]
  try {
    index = parseIndex(indexText)
  } catch (e) {
    throw e instanceof CaError ? e.withFile(files.index) : e
  }
  const serialText = await readText(store, files.serial)
  let nextSerial: bigint | undefined
  try {
    nextSerial = serialText === undefined ? undefined : parseSerialFile(serialText)
  } catch (e) {
    throw e instanceof CaError ? e.withFile(files.serial) : e
  }
  const attrText = await readText(store, files.attr)
  let attr: Partial<IndexAttributes> | undefined
  try {
    attr = attrText === undefined ? undefined : parseIndexAttr(attrText)
  } catch (e) {
    throw e instanceof CaError ? e.withFile(files.attr) : e
  }
  return { index, nextSerial, attr }
}

/**
 * unique_subject in force: on when index.txt.attr or ca.yml says so. `openssl ca` lets the attr file
 * override its config either way, but here ca.yml is the file people edit, so turning the rule on
 * there must not be undone by an attr file written earlier; and an attr file that says yes must hold,
 * or `openssl ca -gencrl` fails on the duplicate subjects. The attr file is rewritten with this value.
 */
export function effectiveUniqueSubject(db: Database, configured: boolean): boolean {
  return db.attr?.uniqueSubject === true || configured
}

/**
 * The CA's own certificates as the side needs them (see ca/ca-self-check.ts): the root alone when the
 * root signs (its CRL, a new intermediate: an expired intermediate must not stop its rotation).
 */
export function checkCa(ca: LoadedCa, side: Side, now: Date): void {
  const root = { certificate: ca.root.certificate, file: ca.config.root.certificate }
  const intermediate = { certificate: ca.intermediate.certificate, file: ca.config.intermediate.certificate }
  checkCaCertificates(side === 'intermediate' ? { root, intermediate, now } : { root, now })
}

/**
 * The issuing side with its signer, after checking the CA's own certificates (before any key is
 * opened: a broken ca.yml costs no vault call) and that the key belongs to the certificate.
 */
export async function openIssuer(ca: LoadedCa, side: Side, runtime: Runtime): Promise<Issuer> {
  const cert = ca[side]
  const cfg = ca.config[side]
  checkCa(ca, side, runtime.now())
  if (cfg.key === undefined) {
    throw new CaError('signer.unavailable', `the ${side} key is offline: ca.yml names no ${side}.key`, {
      file: CONFIG_FILE,
    })
  }
  const signer = await openSigner(
    cfg.key,
    { readFile: (path) => ca.store.read(path), openKeyVault: runtime.openKeyVault },
    { scheme: cfg.signature, concurrency: cfg.concurrency },
  )
  if (!Buffer.from(signer.spki).equals(Buffer.from(cert.spki))) {
    throw new CaError(
      'signer.mismatch',
      `the key ${cfg.key} is not the key of ${cfg.certificate}: refusing to sign with it`,
      { file: cfg.certificate },
    )
  }
  return { certificate: cert.certificate, subject: cert.subject, keyId: cert.keyId, signer }
}
