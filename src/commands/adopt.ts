/**
 * `mtls-ca adopt`: writes ca.yml for an existing `openssl ca` directory (typically the tutorial's) from
 * its OpenSSL configuration files, read as `openssl ca` reads them, and leaves every existing file
 * where it is. Every setting of the configuration ends up in ca.yml, in a note, or in the `unmapped`
 * / `ignored` lists with its file, section and line: nothing is dropped silently. A configuration or a
 * directory that `openssl ca` could not have worked with, or that mtls-ca cannot run as it is, is
 * refused before anything is written (`adopt.*`, or `state.exists` when a ca.yml is already there).
 *
 * Paths: a relative path in the configuration is relative to the directory `openssl ca` ran from,
 * which is taken to be the current directory (as for `.include`). Every path must lie inside the CA
 * directory, because ca.yml paths, like all state paths, are relative to it.
 */
import 'reflect-metadata'
import { X509Certificate as NodeCertificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { realpathSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import * as x509 from '@peculiar/x509'
import { CaError } from '../ca/errors.js'
import { SAN_TYPES } from '../ca/subject-alt-name.js'
import { parseIndex } from '../ca/index-txt.js'
import { parseIndexAttr } from '../ca/index-attr.js'
import { type IndexEntry } from '../ca/index-entry.js'
import { parseSerialFile, serialToHex } from '../ca/serial-number.js'
import { BUILTIN_PROFILES, EKU_OIDS } from '../ca/profiles.js'
import { formatCaConfig, validateCaConfig, type CaConfigInput } from '../config/ca-config.js'
import { CONFIG_FILE, databaseFiles } from '../config/layout.js'
import {
  confineIncludes,
  extensionSection,
  includeReader as configIncludeReader,
  lookupEntry,
  parseOpensslConfig,
  readCaConfig,
  readConfigFile,
  type CaConfig as OpensslCaConfig,
  type ConfigEntry,
  type ExtensionSection,
  type IncludeReader,
  type OpenSslConfig,
  type SkippedExtension,
} from '../openssl-config/index.js'
import type { FileWrite, StateStore } from '../store/state-store.js'

/** An OpenSSL configuration file as the user named it, and its bytes. */
export interface ConfigSource {
  /** The path as given on the command line: errors and the unmapped list cite it. */
  file: string
  text: Uint8Array
}

export interface AdoptInput {
  intermediate: ConfigSource
  root?: ConfigSource
  /** Where `openssl ca` ran: relative paths in the configurations are resolved against it. */
  cwd: string
  /**
   * The environment for `$ENV::X`: only for values adopt never copies; a value it would copy into
   * ca.yml or its report that takes anything from it is refused (`adopt.env_in_value`).
   */
  env: Readonly<Record<string, string | undefined>>
  /** Reads included files; adopt only ever passes it real paths inside the CA directory. */
  readInclude: IncludeReader
  /** For the notes about expired CA certificates. */
  now: Date
}

/** A configuration item that is not (or not fully) carried over, with where it is. */
export interface AdoptItem {
  file: string
  section: string
  line: number
  name: string
  value: string
  reason: string
}

/** One ca.yml value and the configuration item it came from. */
export interface MappedValue {
  key: string
  value: string
  from: string
}

export interface AdoptedProfile {
  name: string
  /** The extension section it was made from. */
  section: string
  from: string
  extendedKeyUsage: string[]
  keyUsage: string[] | undefined
  requireSan: boolean
  default: boolean
}

export interface AdoptResult {
  dir: string
  /** Files written (ca.yml, and a chain or root certificate file when the directory had none). */
  written: string[]
  config: CaConfigInput
  mapped: MappedValue[]
  profiles: AdoptedProfile[]
  notes: string[]
  unmapped: AdoptItem[]
  ignored: AdoptItem[]
  nextSteps: string[]
}

type Role = 'root' | 'intermediate'

interface Parsed {
  source: ConfigSource
  config: OpenSslConfig
  ca: OpensslCaConfig
}

interface LoadedCertificate {
  path: string
  pem: string
  node: NodeCertificate
  x509: x509.X509Certificate
}

interface AdoptedSide {
  yml: Record<string, unknown>
  dir: string
  certificate: LoadedCertificate
  index: IndexEntry[]
  nextSerial: bigint | undefined
}

interface ExtensionUrls {
  crl: string[]
  ocsp: string[]
  caIssuers: string[]
}

const CHAIN_NAME = 'ca-chain.cert.pem'
const MAX_DAYS = 3650
const MAX_CRL_DAYS = 3650
/** The usages mtls-ca gives an RSA leaf by key type (an EC leaf gets digitalSignature only). */
const KEY_TYPE_USAGES = ['digitalSignature', 'keyEncipherment']
/** Extensions of a CA section that mtls-ca's fixed CA profiles write anyway. */
const CA_PROFILE_KINDS = new Set([
  'basicConstraints',
  'keyUsage',
  'subjectKeyIdentifier',
  'authorityKeyIdentifier',
])

/** Reads a configuration file named on the command line (relative to cwd), refusing what is not one. */
export function readConfigSource(path: string, cwd: string): ConfigSource {
  return { file: path, text: readConfigFile(path, cwd) }
}

/** `.include` as OpenSSL resolves it: a relative path is relative to the current directory. */
export function includeReader(cwd: string): IncludeReader {
  return configIncludeReader(cwd)
}

export async function adoptCa(store: StateStore, input: AdoptInput): Promise<AdoptResult> {
  return new Adoption(store, input).run()
}

class Adoption {
  private readonly mapped: MappedValue[] = []
  private readonly notes: string[] = []
  private readonly unmapped: AdoptItem[] = []
  private readonly ignored: AdoptItem[] = []
  private readonly writes: FileWrite[] = []
  private readonly profiles: AdoptedProfile[] = []

  constructor(
    private readonly store: StateStore,
    private readonly input: AdoptInput,
  ) {}

  async run(): Promise<AdoptResult> {
    let isDirectory = false
    try {
      isDirectory = statSync(this.store.root).isDirectory()
    } catch {
      // reported below
    }
    if (!isDirectory) {
      throw new CaError('state.missing', `no directory at ${this.store.root} to adopt`, {
        file: this.store.root,
      })
    }
    // Everything is checked before the store is locked: taking the lock creates the store's own
    // folder, and a refusal must leave the directory exactly as it was.
    await this.refuseExisting()
    const intermediate = this.parse(this.input.intermediate)
    const root = this.input.root ? this.parse(this.input.root) : undefined
    const inter = await this.side('intermediate', intermediate)
    const rootSide = root ? await this.side('root', root) : undefined
    if (rootSide && rootSide.dir === inter.dir) {
      throw new CaError(
        'adopt.unsupported',
        `the root and the intermediate use the same folder ${inter.dir}: they need a database each`,
        { file: root?.source.file },
      )
    }
    const chain = await this.chain(intermediate, inter, rootSide)
    const rootYml = rootSide ? rootSide.yml : { certificate: chain.rootPath }
    if (rootSide) this.checkRootIndex(root as Parsed, rootSide, inter)
    else {
      this.map('root.certificate', chain.rootPath, chain.rootFrom)
      this.notes.push(
        'no --root-config: the root is offline to mtls-ca (no root key, database or CRL in ca.yml); ' +
          'only its certificate is used, for chains and verification',
      )
    }

    const urls: ExtensionUrls = { crl: [], ocsp: [], caIssuers: [] }
    const defaultProfile = this.extensions(intermediate, 'intermediate', urls)
    if (root) this.extensions(root, 'root', urls)

    const issuance: Record<string, unknown> = {
      profile: defaultProfile,
      days: this.issuanceDays(intermediate),
      crlUrls: urls.crl,
      ocspUrls: urls.ocsp,
      caIssuersUrls: urls.caIssuers,
      // openssl ca checks no names: say so in ca.yml rather than leave it implied by an empty policy.
      sans: { unrestricted: [...SAN_TYPES] },
    }
    const profiles: Record<string, unknown> = {}
    for (const p of this.profiles) {
      profiles[p.name] = {
        extendedKeyUsage: p.extendedKeyUsage,
        ...(p.keyUsage ? { keyUsage: p.keyUsage } : {}),
        requireSan: p.requireSan,
        copyCommonName: p.requireSan,
      }
    }
    const config: CaConfigInput = {
      version: 1,
      root: rootYml as CaConfigInput['root'],
      intermediate: { ...inter.yml, chain: chain.path } as CaConfigInput['intermediate'],
      issuance: issuance as CaConfigInput['issuance'],
      profiles: profiles as CaConfigInput['profiles'],
    }
    try {
      validateCaConfig(config, CONFIG_FILE)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      throw new CaError(
        'adopt.unsupported',
        `the adopted configuration is not valid for mtls-ca: ${e.message}`,
        {
          file: this.input.intermediate.file,
          cause: e,
        },
      )
    }
    this.notes.push(
      'issuance.sans.unrestricted is [dns, ip, email, uri]: every name a CSR asks for is allowed, as with openssl ca; list your names in issuance.sans and set unrestricted: [] to restrict it',
    )
    const yml = formatCaConfig(config) + this.adoptionComment()
    const writes: FileWrite[] = [{ path: CONFIG_FILE, data: yml }, ...this.writes]

    await this.store.locked(async () => {
      await this.refuseExisting()
      for (const w of this.writes) {
        if ((await this.store.read(w.path)) !== undefined) {
          throw new CaError('state.conflict', `${w.path} appeared while adopting; nothing was written`, {
            file: w.path,
          })
        }
      }
      await this.store.commit(writes)
    })

    return {
      dir: this.store.root,
      written: writes.map((w) => w.path),
      config,
      mapped: this.mapped,
      profiles: this.profiles,
      notes: this.notes,
      unmapped: this.unmapped,
      ignored: this.ignored,
      nextSteps: this.nextSteps(inter, rootSide),
    }
  }

  private async refuseExisting(): Promise<void> {
    if ((await this.store.read(CONFIG_FILE)) !== undefined) {
      throw new CaError(
        'state.exists',
        `${this.store.root} already has a ${CONFIG_FILE}: it is already an mtls-ca directory; refusing to overwrite it`,
        { file: CONFIG_FILE },
      )
    }
  }

  private parse(source: ConfigSource): Parsed {
    const config = parseOpensslConfig(source.text, {
      file: source.file,
      env: this.input.env,
      // Whatever reader the caller passes, it never sees a path outside the CA directory.
      readInclude: confineIncludes(this.input.readInclude, this.input.cwd, this.store.root),
      // Values end up in ca.yml (committed) and the report: none may come from the environment.
      sealEnvironment: true,
    })
    const ca = readCaConfig(config)
    for (const n of ca.notes) this.notes.push(`${source.file}: ${n}`)
    return { source, config, ca }
  }

  // ---------------------------------------------------------------------------------------------
  // One CA: its files, checked, and its ca.yml section

  private async side(role: Role, p: Parsed): Promise<AdoptedSide> {
    const { ca } = p
    const required = (key: 'database' | 'certificate' | 'new_certs_dir' | 'private_key'): string => {
      const value = ca[key]
      if (value === undefined) {
        throw new CaError(
          'adopt.config_invalid',
          `[${ca.section}] has no ${key}: openssl ca cannot issue without it`,
          { file: p.source.file },
        )
      }
      return value
    }
    const yml: Record<string, unknown> = {}
    const database = this.inside(p, 'database', required('database'))
    let dir: string
    if (ca.dir !== undefined) {
      dir = this.inside(p, 'dir', ca.dir)
      this.map(`${role}.dir`, dir, this.where(p, 'dir'))
    } else {
      dir = dirname(database)
      if (dir === '.') {
        throw new CaError(
          'adopt.unsupported',
          `${this.at(p, 'database')}: the database is directly in ${this.store.root}; mtls-ca needs each CA's ` +
            'database in a folder of its own: adopt with --dir set to the parent folder',
          { file: p.source.file },
        )
      }
      this.map(`${role}.dir`, dir, `${this.where(p, 'database')} (its folder; no dir variable)`)
    }
    yml.dir = dir
    const defaults = databaseFiles(dir)
    const override = (key: string, value: string, fallback: string, configKey: string): void => {
      if (value === fallback)
        this.map(`${role}.${key}`, `${value} (the default under dir)`, this.where(p, configKey))
      else {
        yml[key] = value
        this.map(`${role}.${key}`, value, this.where(p, configKey))
      }
    }
    override('database', database, defaults.index, 'database')
    const newCerts = this.inside(p, 'new_certs_dir', required('new_certs_dir'))
    override('newCertsDir', newCerts, defaults.newcerts, 'new_certs_dir')
    const serialFile = ca.serial === undefined ? undefined : this.inside(p, 'serial', ca.serial)
    if (serialFile !== undefined) override('serialFile', serialFile, defaults.serial, 'serial')
    if (ca.crlnumber !== undefined) {
      override('crlnumberFile', this.inside(p, 'crlnumber', ca.crlnumber), defaults.crlnumber, 'crlnumber')
    } else {
      this.notes.push(
        `${p.source.file}: no crlnumber: openssl ca made CRLs without a CRL number; mtls-ca keeps one in ` +
          `${defaults.crlnumber}, which it creates`,
      )
    }

    // The certificate and its key.
    const certPath = this.inside(p, 'certificate', required('certificate'))
    const certificate = await this.caCertificate(p, 'certificate', certPath, role)
    yml.certificate = certPath
    this.map(`${role}.certificate`, certPath, this.where(p, 'certificate'))
    if (ca.private_key === undefined && role === 'root') {
      this.notes.push(
        `${p.source.file}: [${ca.section}] has no private_key: the root key is left out (offline root)`,
      )
    } else {
      const keyPath = this.inside(p, 'private_key', required('private_key'))
      await this.privateKey(p, keyPath, certificate)
      yml.key = `file:${keyPath}`
      this.map(`${role}.key`, `file:${keyPath}`, this.where(p, 'private_key'))
      yml.signature = this.signature(p, role, certificate)
    }

    // The database as openssl ca left it.
    const indexText = await this.readText(p, database)
    if (indexText === undefined) {
      throw new CaError('adopt.ca_invalid', `${this.at(p, 'database')}: ${database} does not exist`, {
        file: p.source.file,
      })
    }
    let index: IndexEntry[]
    try {
      index = parseIndex(indexText)
    } catch (e) {
      throw this.stateError(p, database, e)
    }
    const revoked = index.filter((e) => e.status === 'R').length
    this.notes.push(
      `${database}: ${index.length} certificate(s) issued by openssl ca (${revoked} revoked) stay where they are`,
    )

    let nextSerial: bigint | undefined
    if (ca.rand_serial) {
      yml.serials = 'random'
      this.map(`${role}.serials`, 'random', this.where(p, 'rand_serial'))
    } else if (serialFile === undefined) {
      yml.serials = 'random'
      this.notes.push(
        `${p.source.file}: [${ca.section}] has neither serial nor rand_serial: mtls-ca uses random serials`,
      )
    } else {
      const serialText = await this.readText(p, serialFile)
      if (serialText === undefined) {
        yml.serials = 'random'
        this.notes.push(
          `${serialFile} does not exist (openssl ca needed -create_serial, which starts with a random serial): ` +
            'mtls-ca uses random serials',
        )
      } else {
        try {
          nextSerial = parseSerialFile(serialText)
        } catch (e) {
          throw this.stateError(p, serialFile, e)
        }
        yml.serials = 'sequential'
        const hex = serialToHex(nextSerial)
        this.map(`${role}.serials`, `sequential (next ${hex})`, `${this.where(p, 'serial')}, no rand_serial`)
        if (index.some((e) => BigInt(`0x${e.serial}`) === nextSerial)) {
          this.notes.push(
            `${serialFile} holds ${hex}, which index.txt already has: mtls-ca will refuse to issue until it is fixed`,
          )
        }
      }
    }

    // unique_subject: index.txt.attr, when it says so, wins over the configuration (as in openssl ca).
    const attrPath = `${database}.attr`
    const attrText = await this.readText(p, attrPath)
    let uniqueSubject = ca.unique_subject
    let uniqueFrom = this.where(p, 'unique_subject', `unique_subject (not set: openssl ca's default is yes)`)
    if (attrText !== undefined) {
      let attr
      try {
        attr = parseIndexAttr(attrText)
      } catch (e) {
        throw this.stateError(p, attrPath, e)
      }
      if (attr.uniqueSubject !== undefined) {
        if (attr.uniqueSubject !== uniqueSubject) {
          this.notes.push(
            `${attrPath} says unique_subject = ${attr.uniqueSubject ? 'yes' : 'no'}, which overrides the configuration, as in openssl ca`,
          )
        }
        uniqueSubject = attr.uniqueSubject
        uniqueFrom = attrPath
      }
    }
    yml.uniqueSubject = uniqueSubject
    this.map(`${role}.uniqueSubject`, String(uniqueSubject), uniqueFrom)

    // The subject rules.
    const fields = ca.policyFields.map((f) => f.field)
    const twice = fields.find((f, i) => fields.indexOf(f) !== i)
    if (fields.length === 0 || twice !== undefined) {
      throw new CaError(
        'adopt.unsupported',
        `${this.at(p, 'policy')}: policy [${ca.policy}] ${twice ? `names ${twice} twice` : 'is empty'}: ` +
          'mtls-ca needs each field once, and at least one',
        { file: p.source.file },
      )
    }
    yml.policy = ca.policyFields.map((f) => ({ field: f.field, rule: f.rule }))
    this.map(
      `${role}.policy`,
      ca.policyFields.map((f) => `${f.field}=${f.rule}`).join(', '),
      `${this.where(p, 'policy')} → [${ca.policy}]`,
    )
    yml.preserveDn = ca.preserve
    this.map(
      `${role}.preserveDn`,
      String(ca.preserve),
      this.whereIn(p, 'ca', 'preserve', 'preserve (not set: no)'),
    )
    yml.emailInDn = ca.email_in_dn
    this.map(
      `${role}.emailInDn`,
      String(ca.email_in_dn),
      this.where(p, 'email_in_dn', 'email_in_dn (not set: yes)'),
    )

    // The CRL.
    const crlFile =
      ca.crl !== undefined
        ? this.inside(p, 'crl', ca.crl)
        : `${dir}/crl/${role === 'root' ? 'ca' : 'intermediate'}.crl.pem`
    if (ca.crl === undefined) {
      this.notes.push(
        `${p.source.file}: no crl file named (openssl ca -gencrl needed -out): mtls-ca writes ${crlFile}`,
      )
    }
    yml.crl = { file: crlFile, days: this.crlDays(p, role) }
    this.map(`${role}.crl.file`, crlFile, this.where(p, 'crl', 'crl (not set)'))

    this.copyExtensionsNote(p, role)
    this.caSectionItems(p, role)
    return { yml, dir, certificate, index, nextSerial }
  }

  private crlDays(p: Parsed, role: Role): number {
    const { ca } = p
    let days: number
    let from: string
    if (ca.default_crl_days !== undefined) {
      days = ca.default_crl_days
      from = this.where(p, 'default_crl_days')
    } else if (ca.default_crl_hours !== undefined) {
      days = Math.max(1, Math.ceil(ca.default_crl_hours / 24))
      from = this.where(p, 'default_crl_hours')
      if (ca.default_crl_hours % 24 !== 0) {
        this.item(
          p,
          this.unmapped,
          ca.section,
          'default_crl_hours',
          `mtls-ca counts CRL validity in whole days: ${days}`,
        )
      }
    } else {
      days = 30
      from = 'not set (openssl ca -gencrl needed -crldays): 30'
    }
    if (days > MAX_CRL_DAYS) {
      this.notes.push(`${p.source.file}: CRL validity of ${days} days cut to ${MAX_CRL_DAYS}`)
      days = MAX_CRL_DAYS
    }
    this.map(`${role}.crl.days`, String(days), from)
    return days
  }

  private issuanceDays(p: Parsed): number {
    const { ca } = p
    if (ca.default_days === undefined) {
      this.map('issuance.days', '375', `${p.source.file} default_days (not set: the tutorial's -days 375)`)
      return 375
    }
    let days = ca.default_days
    if (days > MAX_DAYS) {
      this.notes.push(
        `${p.source.file}: default_days ${days} is more than mtls-ca issues (${MAX_DAYS}): cut to ${MAX_DAYS}`,
      )
      days = MAX_DAYS
    }
    this.map('issuance.days', String(days), this.where(p, 'default_days'))
    return days
  }

  private copyExtensionsNote(p: Parsed, role: Role): void {
    if (role === 'root') {
      if (p.ca.copy_extensions !== 'none') {
        this.item(
          p,
          this.ignored,
          p.ca.section,
          'copy_extensions',
          "mtls-ca never copies a CSR's extensions into an intermediate",
        )
      }
      return
    }
    const from = this.where(p, 'copy_extensions', 'copy_extensions (not set: none)')
    // readCaConfig has said what openssl ca did; this is what mtls-ca does instead.
    this.notes.push(
      `${from}: mtls-ca copies only the SANs a CSR asks for that pass issuance.sans (and a server profile's ` +
        "hostname CN), never the CSR's other extensions",
    )
  }

  /** CA-section settings that change nothing in mtls-ca or cannot be carried over. */
  private caSectionItems(p: Parsed, role: Role): void {
    const s = p.ca.section
    const unmapped: [string, string][] = [
      [
        'default_startdate',
        'fixes the start date of every certificate; mtls-ca dates each certificate when it signs it',
      ],
      ['default_enddate', 'fixes the end date of every certificate; mtls-ca uses days'],
      ['string_mask', 'mtls-ca chooses the string types of subject attributes itself'],
    ]
    const ignored: [string, string][] = [
      ['name_opt', 'only changes how openssl ca displays names'],
      ['cert_opt', 'only changes how openssl ca displays certificates'],
      ['certs', 'a folder variable; openssl ca does not read it'],
      ['crl_dir', 'a folder variable; openssl ca does not read it'],
      ['utf8', 'only affects openssl ca -subj and -ss_cert input; mtls-ca reads subjects from CSRs'],
    ]
    if (role === 'root') {
      unmapped.push(['default_days', "ca.yml has no setting for how long the root's intermediates are valid"])
    }
    for (const [key, reason] of unmapped) {
      if (lookupEntry(p.config, s, key)) this.item(p, this.unmapped, s, key, reason)
    }
    for (const [key, reason] of ignored) {
      if (lookupEntry(p.config, s, key)) this.item(p, this.ignored, s, key, reason)
    }
  }

  private checkRootIndex(root: Parsed, rootSide: AdoptedSide, inter: AdoptedSide): void {
    const serial = inter.certificate.node.serialNumber.toUpperCase().replace(/^0+(?=.)/, '')
    const known = rootSide.index.some((e) => e.serial.replace(/^0+(?=.)/, '') === serial)
    if (!known) {
      this.notes.push(
        `${root.source.file}: the root's index.txt has no entry for the intermediate (serial ${serial}): ` +
          'a root CRL cannot revoke it by index',
      )
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Certificates, keys and the chain

  private async caCertificate(p: Parsed, key: string, path: string, role: Role): Promise<LoadedCertificate> {
    const where = this.at(p, key)
    const text = await this.readText(p, path)
    if (text === undefined) {
      throw new CaError('adopt.ca_invalid', `${where}: ${path} does not exist`, { file: p.source.file })
    }
    const blocks = pemCertificates(text)
    const first = blocks[0]
    if (first === undefined) {
      throw new CaError('adopt.ca_invalid', `${where}: ${path} holds no PEM certificate`, {
        file: p.source.file,
      })
    }
    if (blocks.length > 1)
      this.notes.push(`${path} holds ${blocks.length} certificates: the first is the ${role}'s`)
    const cert = this.loadCertificate(p, where, path, first)
    const bc = cert.x509.getExtension(x509.BasicConstraintsExtension)
    const ku = cert.x509.getExtension(x509.KeyUsagesExtension)
    if (bc?.ca !== true || (ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0)) {
      throw new CaError(
        'adopt.ca_invalid',
        `${where}: ${path} is not a CA certificate (${bc?.ca !== true ? 'no basicConstraints CA:TRUE' : 'no keyCertSign'}): ` +
          `${cert.node.subject.replace(/\n/g, ', ')}`,
        { file: p.source.file },
      )
    }
    const selfSigned = isSelfSigned(cert.node)
    if (role === 'root' && !selfSigned) {
      throw new CaError('adopt.ca_invalid', `${where}: ${path} is not self-signed, so it is not a root`, {
        file: p.source.file,
      })
    }
    if (role === 'intermediate' && selfSigned) {
      throw new CaError(
        'adopt.unsupported',
        `${where}: ${path} is self-signed: mtls-ca issues from an intermediate under a root, not from a root`,
        { file: p.source.file },
      )
    }
    if (new Date(cert.node.validTo) <= this.input.now) {
      this.notes.push(
        `${path}: the ${role} certificate expired on ${new Date(cert.node.validTo).toISOString()}`,
      )
    }
    return cert
  }

  private loadCertificate(p: Parsed, where: string, path: string, pem: string): LoadedCertificate {
    try {
      return { path, pem, node: new NodeCertificate(pem), x509: new x509.X509Certificate(pem) }
    } catch (cause) {
      throw new CaError('adopt.ca_invalid', `${where}: ${path} is not a readable certificate`, {
        file: p.source.file,
        cause,
      })
    }
  }

  /** The key file must be readable by mtls-ca and be the certificate's key. */
  private async privateKey(p: Parsed, path: string, cert: LoadedCertificate): Promise<void> {
    const where = this.at(p, 'private_key')
    const data = await this.readFile(p, path)
    if (data === undefined) {
      throw new CaError('adopt.ca_invalid', `${where}: ${path} does not exist`, { file: p.source.file })
    }
    let key: KeyObject
    try {
      key = createPrivateKey(data)
    } catch (cause) {
      const encrypted =
        (cause as { code?: string }).code === 'ERR_MISSING_PASSPHRASE' ||
        /ENCRYPTED/.test(data.toString('latin1'))
      throw encrypted
        ? new CaError(
            'adopt.unsupported',
            `${where}: ${path} is encrypted; mtls-ca needs the key unencrypted (openssl pkey -in KEY -out KEY, ` +
              'mode 0400, outside git) or in Key Vault',
            { file: p.source.file, cause },
          )
        : new CaError('adopt.ca_invalid', `${where}: ${path} is not a private key`, {
            file: p.source.file,
            cause,
          })
    }
    let matches: boolean
    try {
      matches = cert.node.checkPrivateKey(key)
    } catch {
      matches = false // a key of another type
    }
    if (!matches) {
      throw new CaError(
        'adopt.ca_invalid',
        `${where}: ${path} is not the key of the certificate ${cert.path}`,
        {
          file: p.source.file,
        },
      )
    }
  }

  /** `default_md` and the key type give the signature scheme (openssl ca has no PSS setting of its own). */
  private signature(p: Parsed, role: Role, cert: LoadedCertificate): string {
    const type = cert.node.publicKey.asymmetricKeyType
    const curve = cert.node.publicKey.asymmetricKeyDetails?.namedCurve
    let prefix: string
    if (type === 'rsa') prefix = 'RS'
    else if (type === 'rsa-pss') prefix = 'PS'
    else if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(curve ?? '')) prefix = 'ES'
    else {
      throw new CaError(
        'adopt.unsupported',
        `${cert.path}: the ${role} key is ${[type, curve].filter(Boolean).join(' ')}; mtls-ca signs with RSA or EC P-256/P-384/P-521 keys`,
        { file: p.source.file },
      )
    }
    const md = p.ca.default_md
    const m = md === undefined ? undefined : /^sha-?(256|384|512)$/i.exec(md)
    let bits = '256'
    if (m?.[1] !== undefined) bits = m[1]
    else if (md === undefined || md === 'default') {
      this.notes.push(`${p.source.file}: default_md ${md ?? 'not set'}: the ${role} signs with SHA-256`)
    } else {
      this.notes.push(
        `${this.where(p, 'default_md')}: default_md = ${md} is not one mtls-ca signs with: the ${role} signs with SHA-256`,
      )
    }
    const scheme = `${prefix}${bits}`
    this.map(
      `${role}.signature`,
      scheme,
      `${this.where(p, 'default_md', 'default_md (not set)')} and the ${type} key of ${cert.path}`,
    )
    return scheme
  }

  /** The intermediate + root bundle: checked when it exists, written when only the root config names the root. */
  private async chain(
    p: Parsed,
    inter: AdoptedSide,
    root: AdoptedSide | undefined,
  ): Promise<{ path: string; rootPath: string; rootFrom: string }> {
    const certDir = dirname(inter.certificate.path)
    const candidates = [...new Set([`${certDir}/${CHAIN_NAME}`, `${inter.dir}/certs/${CHAIN_NAME}`])]
    let found: { path: string; text: string } | undefined
    for (const c of candidates) {
      const text = await this.readText(p, c)
      if (text !== undefined) {
        found = { path: c, text }
        break
      }
    }
    if (found === undefined) {
      if (root === undefined) {
        throw new CaError(
          'adopt.ca_invalid',
          `no chain file (${candidates.join(' or ')}) and no --root-config: the root certificate cannot be found; ` +
            `pass --root-config, or write the intermediate and the root into ${candidates[0]}`,
          { file: p.source.file },
        )
      }
      if (!verifiedBy(inter.certificate.node, root.certificate.node)) {
        throw new CaError(
          'adopt.ca_invalid',
          `${inter.certificate.path} is not signed by the root ${root.certificate.path}`,
          { file: p.source.file },
        )
      }
      const path = `${inter.dir}/certs/${CHAIN_NAME}`
      this.writes.push({ path, data: inter.certificate.pem + root.certificate.pem })
      this.map('intermediate.chain', path, 'written now: intermediate + root (there was none)')
      return { path, rootPath: root.certificate.path, rootFrom: '' }
    }

    const where = `chain file ${found.path}`
    const blocks = pemCertificates(found.text).map((pem) => this.loadCertificate(p, where, found.path, pem))
    const [first, last] = [blocks[0], blocks.at(-1)]
    if (first === undefined || last === undefined || blocks.length !== 2) {
      throw new CaError(
        blocks.length > 2 ? 'adopt.unsupported' : 'adopt.ca_invalid',
        `${found.path} holds ${blocks.length} certificate(s); mtls-ca expects the intermediate then the root` +
          (blocks.length > 2 ? ' (chains of more than two CAs are not supported)' : ''),
        { file: p.source.file },
      )
    }
    if (!first.node.raw.equals(inter.certificate.node.raw)) {
      throw new CaError(
        'adopt.ca_invalid',
        `${found.path} does not start with the intermediate certificate ${inter.certificate.path} (a stale chain?)`,
        { file: p.source.file },
      )
    }
    if (!isSelfSigned(last.node) || !verifiedBy(first.node, last.node)) {
      throw new CaError(
        'adopt.ca_invalid',
        `${found.path}: its second certificate is not a self-signed root that signed the intermediate`,
        { file: p.source.file },
      )
    }
    if (root !== undefined && !last.node.raw.equals(root.certificate.node.raw)) {
      throw new CaError(
        'adopt.ca_invalid',
        `${found.path} ends with a root other than ${root.certificate.path} of the root configuration`,
        { file: p.source.file },
      )
    }
    this.map('intermediate.chain', found.path, 'found beside the intermediate certificate; checked')
    if (root !== undefined) return { path: found.path, rootPath: root.certificate.path, rootFrom: '' }

    // Without the root configuration, the root is the chain's last certificate: use a file that
    // already holds it, or write one.
    const existing = await this.findCertificateFile(last)
    if (existing !== undefined) {
      return {
        path: found.path,
        rootPath: existing,
        rootFrom: `the last certificate of ${found.path}, found in ${existing}`,
      }
    }
    const rootPath = `${inter.dir}/certs/root.cert.pem`
    if ((await this.readFile(p, rootPath)) !== undefined) {
      throw new CaError(
        'adopt.unsupported',
        `${rootPath} exists but is not the root of ${found.path}; pass --root-config`,
        { file: p.source.file },
      )
    }
    this.writes.push({ path: rootPath, data: last.pem })
    return {
      path: found.path,
      rootPath,
      rootFrom: `the last certificate of ${found.path}, written to ${rootPath}`,
    }
  }

  /** A `<folder>/certs/*.pem` file holding exactly this certificate (the tutorial's rootCA/certs/ca.cert.pem). */
  private async findCertificateFile(cert: LoadedCertificate): Promise<string | undefined> {
    const folders = await this.store.list('').catch(() => [] as string[])
    for (const folder of folders) {
      if (folder.startsWith('.')) continue
      const names = await this.store.list(`${folder}/certs`).catch(() => [] as string[])
      for (const name of names.filter((n) => n.endsWith('.pem') && n !== CHAIN_NAME)) {
        const path = `${folder}/certs/${name}`
        const data = await this.store.read(path).catch(() => undefined)
        if (data === undefined || data.length > 64 * 1024) continue
        const blocks = pemCertificates(data.toString('utf8'))
        try {
          if (blocks.length === 1 && new NodeCertificate(blocks[0] as string).raw.equals(cert.node.raw))
            return path
        } catch {
          // not a certificate: not the one
        }
      }
    }
    return undefined
  }

  // ---------------------------------------------------------------------------------------------
  // Extension sections: leaf profiles, CA profiles, CRL extensions

  /** Reads every extension section of a configuration; returns the default profile's name. */
  private extensions(p: Parsed, role: Role, urls: ExtensionUrls): string {
    const { config, ca } = p
    const reqX509 = lookupEntry(config, 'req', 'x509_extensions')?.value
    const reqExtensions = lookupEntry(config, 'req', 'req_extensions')?.value
    const leafSections: { name: string; section: ExtensionSection }[] = []
    for (const name of config.sections.keys()) {
      if (name === 'default') continue
      const entries = config.sections.get(name)?.entries ?? []
      const named = name === ca.x509_extensions || name === ca.crl_extensions || name === reqX509
      const looksLikeExtensions = entries.some(
        (e) => e.name === 'basicConstraints' || e.name === 'extendedKeyUsage',
      )
      if (!named && !looksLikeExtensions) continue
      if (name === reqExtensions && !named) {
        this.notes.push(
          `${p.source.file}: [${name}] holds what openssl req puts into CSRs: not a certificate profile`,
        )
        continue
      }
      const section = extensionSection(config, name)
      for (const n of section.notes) this.notes.push(`${p.source.file}: ${n}`)
      for (const s of section.ignored) this.skipped(p, this.ignored, s)
      for (const s of section.unmapped) this.skipped(p, this.unmapped, s)
      if (name === ca.crl_extensions) {
        this.crlSection(p, role, section)
        continue
      }
      const bc = section.extensions.find((e) => e.kind === 'basicConstraints')
      const eku = section.extensions.find((e) => e.kind === 'extendedKeyUsage')
      if (bc?.kind === 'basicConstraints' && bc.ca) {
        this.caSection(p, section)
      } else if (role === 'root') {
        this.sectionItem(
          p,
          this.unmapped,
          section,
          "a leaf profile in the root's configuration: in mtls-ca only the intermediate issues leaves",
        )
      } else if (eku === undefined) {
        this.sectionItem(
          p,
          this.unmapped,
          section,
          'a leaf profile without extendedKeyUsage (any purpose): mtls-ca profiles name their purposes; add one to ca.yml by hand',
        )
      } else {
        leafSections.push({ name, section })
      }
    }
    if (role === 'root') return ''

    // Leaf profiles. CDP and AIA URLs are one setting for all profiles in ca.yml.
    const taken = new Set<string>()
    const urlSets = new Set<string>()
    for (const { name, section } of leafSections) {
      const own: ExtensionUrls = { crl: [], ocsp: [], caIssuers: [] }
      this.profiles.push(this.leafProfile(p, name, section, taken, own))
      urlSets.add(JSON.stringify(own))
      for (const k of ['crl', 'ocsp', 'caIssuers'] as const) {
        for (const u of own[k]) if (!urls[k].includes(u)) urls[k].push(u)
      }
    }
    if (urlSets.size > 1) {
      this.notes.push(
        'the leaf sections differ in their crlDistributionPoints / authorityInfoAccess: ca.yml has one set of URLs ' +
          'for every profile, the union of them all',
      )
    }

    // The default profile: x509_extensions, else the only leaf profile, else the built-in server.
    let chosen = this.profiles.find((pr) => pr.section === ca.x509_extensions)
    let why: string
    if (chosen) why = this.where(p, 'x509_extensions')
    else if (this.profiles.length === 1) {
      chosen = this.profiles[0]
      why = `the only leaf section (openssl ca was run with -extensions ${chosen?.section ?? ''})`
    } else {
      why =
        this.profiles.length === 0
          ? 'no leaf section: the built-in server profile'
          : `no x509_extensions names a leaf section: the built-in server profile (adopted: ${this.profiles.map((x) => x.name).join(', ')})`
    }
    if (ca.x509_extensions !== undefined && !this.profiles.some((pr) => pr.section === ca.x509_extensions)) {
      this.notes.push(
        `${this.where(p, 'x509_extensions')}: [${ca.x509_extensions}] is not a leaf profile mtls-ca can adopt, so it is not the default`,
      )
    }
    if (chosen) chosen.default = true
    const name = chosen?.name ?? 'server'
    this.map('issuance.profile', name, why)
    return name
  }

  private leafProfile(
    p: Parsed,
    sectionName: string,
    section: ExtensionSection,
    taken: Set<string>,
    urls: ExtensionUrls,
  ): AdoptedProfile {
    let name = profileName(sectionName)
    for (let i = 2; taken.has(name); i++) name = `${profileName(sectionName)}-${i}`
    taken.add(name)
    const firstLine = section.extensions[0]?.line ?? 0
    const from = `${this.sectionFile(p, sectionName)} [${sectionName}] line ${firstLine}`
    if (BUILTIN_PROFILES[name] !== undefined) {
      this.notes.push(`${from}: the profile ${name} replaces mtls-ca's built-in profile of that name`)
    }
    let extendedKeyUsage: string[] = []
    let keyUsage: string[] | undefined
    for (const ext of section.extensions) {
      const at = `${this.sectionFile(p, sectionName)} [${sectionName}] line ${ext.line}`
      switch (ext.kind) {
        case 'extendedKeyUsage':
          extendedKeyUsage = ext.usages.map((u, i) =>
            EKU_OIDS[u] !== undefined ? u : (ext.oids[i] as string),
          )
          if (ext.critical)
            this.notes.push(`${at}: extendedKeyUsage is critical there; mtls-ca writes it non-critical`)
          break
        case 'keyUsage': {
          const isCaUsage = (u: string): boolean => u === 'keyCertSign' || u === 'cRLSign'
          const forbidden = ext.usages.filter(isCaUsage)
          const usages = ext.usages.filter((u) => !isCaUsage(u))
          if (forbidden.length) {
            this.unmapped.push({
              file: this.fileOfLine(p, sectionName, ext.name),
              section: sectionName,
              line: ext.line,
              name: ext.name,
              value: forbidden.join(', '),
              reason: 'mtls-ca never gives a leaf keyCertSign or cRLSign',
            })
          }
          if (sameSet(usages, KEY_TYPE_USAGES)) {
            this.notes.push(
              `${at}: keyUsage ${usages.join(', ')} becomes "by key type": RSA keys get exactly that, EC keys ` +
                'digitalSignature only (they cannot encipher)',
            )
          } else if (usages.length) {
            keyUsage = usages
            if (usages.includes('keyEncipherment')) {
              this.notes.push(
                `${at}: keyUsage includes keyEncipherment, which EC keys get too under this profile`,
              )
            }
          }
          if (!ext.critical)
            this.notes.push(`${at}: keyUsage is not critical there; mtls-ca writes it critical`)
          break
        }
        case 'basicConstraints':
          break
        case 'subjectKeyIdentifier':
          if (ext.method === 'none')
            this.notes.push(`${at}: subjectKeyIdentifier = none; mtls-ca always writes one`)
          break
        case 'authorityKeyIdentifier':
          if (ext.issuer !== 'omit') {
            this.notes.push(`${at}: authorityKeyIdentifier issuer: mtls-ca writes the key identifier only`)
          }
          break
        case 'subjectAltName':
          this.unmapped.push({
            file: this.fileOfLine(p, sectionName, ext.name),
            section: sectionName,
            line: ext.line,
            name: ext.name,
            value: this.valueOf(p, sectionName, ext.name),
            reason:
              'fixed SANs in a profile: mtls-ca takes SANs from the CSR (and the CN), checked against issuance.sans',
          })
          break
        case 'crlDistributionPoints': {
          const all = ext.points.flatMap((pt) => pt.uris)
          if (ext.points.some((pt) => pt.uris.length > 1)) {
            this.notes.push(`${at}: a distribution point with several names becomes one point per URL`)
          }
          for (const u of all) if (!urls.crl.includes(u)) urls.crl.push(u)
          this.map('issuance.crlUrls', all.join(', '), at)
          break
        }
        case 'authorityInfoAccess':
          for (const u of ext.ocsp) if (!urls.ocsp.includes(u)) urls.ocsp.push(u)
          for (const u of ext.caIssuers) if (!urls.caIssuers.includes(u)) urls.caIssuers.push(u)
          if (ext.ocsp.length) this.map('issuance.ocspUrls', ext.ocsp.join(', '), at)
          if (ext.caIssuers.length) this.map('issuance.caIssuersUrls', ext.caIssuers.join(', '), at)
          break
      }
    }
    if (!section.extensions.some((e) => e.kind === 'subjectKeyIdentifier')) {
      this.notes.push(`${from}: [${sectionName}] has no subjectKeyIdentifier; mtls-ca always writes one`)
    }
    const requireSan = extendedKeyUsage.includes('serverAuth')
    if (requireSan) {
      this.notes.push(
        `${from}: ${name} certificates always carry a SAN in mtls-ca: the CN when it is a hostname, plus the ` +
          "CSR's SANs that pass issuance.sans",
      )
    }
    this.map(
      `profiles.${name}`,
      [
        `extendedKeyUsage ${extendedKeyUsage.join(',')}`,
        `keyUsage ${keyUsage?.join(',') ?? 'by key type'}`,
        requireSan ? 'requireSan' : '',
      ]
        .filter(Boolean)
        .join('; '),
      from,
    )
    return { name, section: sectionName, from, extendedKeyUsage, keyUsage, requireSan, default: false }
  }

  private caSection(p: Parsed, section: ExtensionSection): void {
    const bc = section.extensions.find((e) => e.kind === 'basicConstraints')
    this.notes.push(
      `${this.sectionFile(p, section.section)} [${section.section}] line ${bc?.line ?? 0} is a CA profile (CA:TRUE): mtls-ca's fixed CA ` +
        'profiles apply (critical CA:TRUE, pathlen:0 for the intermediate, keyCertSign and cRLSign, SKI, AKI)',
    )
    for (const ext of section.extensions) {
      if (CA_PROFILE_KINDS.has(ext.kind)) continue
      this.unmapped.push({
        file: this.fileOfLine(p, section.section, ext.name),
        section: section.section,
        line: ext.line,
        name: ext.name,
        value: this.valueOf(p, section.section, ext.name),
        reason: "an extension of a CA certificate: mtls-ca's CA profiles are fixed and do not write it",
      })
    }
  }

  private crlSection(p: Parsed, role: Role, section: ExtensionSection): void {
    this.map(
      `${role}.crl (extensions)`,
      'AKI keyid, CRL number (always)',
      `${this.where(p, 'crl_extensions')} → [${section.section}]`,
    )
    for (const ext of section.extensions) {
      if (ext.kind === 'authorityKeyIdentifier') {
        if (ext.issuer !== 'omit') {
          this.notes.push(
            `${this.sectionFile(p, section.section)} [${section.section}] line ${ext.line}: authorityKeyIdentifier issuer: mtls-ca CRLs carry the key identifier only`,
          )
        }
        continue
      }
      this.unmapped.push({
        file: this.fileOfLine(p, section.section, ext.name),
        section: section.section,
        line: ext.line,
        name: ext.name,
        value: this.valueOf(p, section.section, ext.name),
        reason: 'not an extension of a CRL that mtls-ca writes',
      })
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A path of the configuration as a path inside the CA directory, or `adopt.unsupported`. */
  private inside(p: Parsed, key: string, value: string): string {
    const full = resolve(this.input.cwd, value)
    const rel = within(this.store.root, full) ?? within(realish(this.store.root), realish(full))
    if (rel === undefined || rel === '') {
      throw new CaError(
        'adopt.unsupported',
        `${this.at(p, key)}: ${value}${value === full ? '' : ` (${full})`} is ` +
          `${rel === '' ? 'the CA directory itself' : `outside ${this.store.root}`}; ` +
          'mtls-ca keeps every file of a CA inside the CA directory (relative paths are read from the current ' +
          'directory, as openssl ca does): adopt with --dir set to the folder that holds them all',
        { file: p.source.file },
      )
    }
    return rel
  }

  private async readFile(p: Parsed, path: string): Promise<Buffer | undefined> {
    try {
      return await this.store.read(path)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      throw new CaError('adopt.unsupported', `${path}: ${e.message}`, { file: p.source.file, cause: e })
    }
  }

  private async readText(p: Parsed, path: string): Promise<string | undefined> {
    return (await this.readFile(p, path))?.toString('utf8')
  }

  private stateError(p: Parsed, path: string, e: unknown): CaError {
    if (!(e instanceof CaError)) throw e
    return new CaError('adopt.ca_invalid', `${path}: ${e.message}`, { file: p.source.file, cause: e })
  }

  private entry(p: Parsed, section: string, key: string): ConfigEntry | undefined {
    return lookupEntry(p.config, section, key)
  }

  /** `[CA_default] certificate (line 12)`, or `fallback` when the key is not set. */
  private where(p: Parsed, key: string, fallback?: string): string {
    return this.whereIn(p, p.ca.section, key, fallback)
  }

  /** `[CA_default] certificate (line 12)`, for errors (which name the configuration file already). */
  private at(p: Parsed, key: string): string {
    const e = this.entry(p, p.ca.section, key)
    if (e === undefined) return `[${p.ca.section}] ${key}`
    const included = e.includedFrom === undefined ? '' : ` of included ${JSON.stringify(e.includedFrom)}`
    return `[${e.section}] ${key} (line ${e.line}${included})`
  }

  private whereIn(p: Parsed, section: string, key: string, fallback?: string): string {
    const e = this.entry(p, section, key)
    if (e === undefined) return `${p.source.file} ${fallback ?? `${key} (not set)`}`
    return `${e.includedFrom ?? p.source.file} [${e.section}] ${key} (line ${e.line})`
  }

  private map(key: string, value: string, from: string): void {
    this.mapped.push({ key, value, from })
  }

  private item(p: Parsed, list: AdoptItem[], section: string, key: string, reason: string): void {
    const e = this.entry(p, section, key)
    if (e === undefined) return
    list.push({
      file: e.includedFrom ?? p.source.file,
      section: e.section,
      line: e.line,
      name: key,
      value: e.value,
      reason,
    })
  }

  private skipped(p: Parsed, list: AdoptItem[], s: SkippedExtension): void {
    list.push({
      file: this.fileOfLine(p, s.section, s.name),
      section: s.section,
      line: s.line,
      name: s.name,
      value: s.value,
      reason: s.reason,
    })
  }

  private sectionItem(p: Parsed, list: AdoptItem[], section: ExtensionSection, reason: string): void {
    const entries = p.config.sections.get(section.section)?.entries ?? []
    list.push({
      file: entries[0]?.includedFrom ?? p.source.file,
      section: section.section,
      line: entries[0]?.line ?? 0,
      name: `[${section.section}]`,
      value: entries.map((e) => e.name).join(', '),
      reason,
    })
  }

  /** The file a section's entries come from (an included file, or the configuration itself). */
  private sectionFile(p: Parsed, section: string): string {
    return p.config.sections.get(section)?.entries[0]?.includedFrom ?? p.source.file
  }

  private fileOfLine(p: Parsed, section: string, name: string): string {
    return p.config.sections.get(section)?.values.get(name)?.includedFrom ?? p.source.file
  }

  private valueOf(p: Parsed, section: string, name: string): string {
    return p.config.sections.get(section)?.values.get(name)?.value ?? ''
  }

  /** Appended to ca.yml: where it came from and what it does not say. */
  private adoptionComment(): string {
    const files = [this.input.intermediate.file, this.input.root?.file].filter(Boolean).join(' and ')
    const lines = [``, `# Adopted by "mtls-ca adopt" from ${files}.`]
    if (this.unmapped.length) {
      lines.push('# Not carried over (certificates from mtls-ca will not reflect these):')
      for (const u of this.unmapped) lines.push(`#   ${clean(formatItem(u))}`)
    }
    return lines.join('\n') + '\n'
  }

  private nextSteps(inter: AdoptedSide, root: AdoptedSide | undefined): string[] {
    const keys = [inter.yml.key, root?.yml.key].filter((k): k is string => typeof k === 'string')
    const steps = [
      'Review ca.yml, and set issuance.sans (e.g. dns: [".example.com"] and unrestricted: []) so that only your names can be certified.',
      `Keep the CA keys out of git (${keys.map((k) => k.slice('file:'.length)).join(', ')}): add their folders to ` +
        '.gitignore; later, move the intermediate key to Key Vault (intermediate.key: https://<vault>/keys/<name>/<version>).',
      inter.nextSerial !== undefined
        ? `mtls-ca sign issues the next certificate with serial ${serialToHex(inter.nextSerial)}; openssl ca keeps working on the same files.`
        : 'mtls-ca sign issues with random serials; openssl ca keeps working on the same files.',
      'mtls-ca list shows the certificates openssl ca issued and the ones mtls-ca will issue.',
    ]
    if (this.unmapped.length) {
      steps.push(
        `Look at each of the ${this.unmapped.length} item(s) not mapped: certificates from mtls-ca will not have them.`,
      )
    }
    return steps
  }
}

/** Human output of an adoption, one line per element. */
export function formatAdoptReport(r: AdoptResult): string[] {
  const out = [`Adopted ${r.dir}: wrote ${r.written.join(', ')}`, '', 'Mapped:']
  const width = Math.min(32, Math.max(...r.mapped.map((m) => m.key.length)))
  for (const m of r.mapped) out.push(`  ${m.key.padEnd(width)}  ${m.value}  ← ${m.from}`)
  if (r.profiles.length) {
    out.push('', 'Profiles:')
    for (const p of r.profiles) {
      out.push(
        `  ${p.name}${p.default ? ' (default)' : ''}: ${p.extendedKeyUsage.join(',')}; keyUsage ` +
          `${p.keyUsage?.join(',') ?? 'by key type'}${p.requireSan ? '; SAN required' : ''}  ← ${p.from}`,
      )
    }
  }
  out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`))
  out.push('', r.unmapped.length ? `Not mapped (${r.unmapped.length}):` : 'Not mapped: nothing')
  for (const u of r.unmapped) out.push(`  ${formatItem(u)}`)
  if (r.ignored.length) {
    out.push('', `Ignored (${r.ignored.length}):`)
    for (const u of r.ignored) out.push(`  ${formatItem(u)}`)
  }
  out.push('', 'Next steps:', ...r.nextSteps.map((s, i) => `  ${i + 1}. ${s}`))
  return out
}

function formatItem(u: AdoptItem): string {
  return `${u.file}:${u.line} [${u.section}] ${u.name} = ${u.value}: ${u.reason}`
}

function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, ' ')
}

/** `server_cert` → `server-cert`: what ca.yml allows as a profile name. */
export function profileName(section: string): string {
  const name = section
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
  return /^[a-z]/.test(name) ? name : `profile-${name || 'x'}`
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function pemCertificates(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (b) => `${b}\n`,
  )
}

function isSelfSigned(cert: NodeCertificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey)
}

function verifiedBy(cert: NodeCertificate, issuer: NodeCertificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/** `full` relative to `root` ('/'-separated), '' for root itself, undefined when outside. */
function within(root: string, full: string): string | undefined {
  const rel = relative(root, full)
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined
  return rel.split(sep).join('/')
}

/** The real path of the longest existing prefix, plus the rest: sees through symlinked folders like /tmp. */
function realish(path: string): string {
  const rest: string[] = []
  let p = path
  for (;;) {
    try {
      return resolve(realpathSync(p), ...rest.reverse())
    } catch {
      const parent = dirname(p)
      if (parent === p) return path
      rest.push(basename(p))
      p = parent
    }
  }
}
