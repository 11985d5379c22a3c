/**
 * A CA section's files as ca.yml names them: the CA folder, the database files (written only where
 * they differ from the defaults under the folder), the certificate and key paths and the CRL file;
 * and the CA-section settings that change nothing in mtls-ca or cannot be carried over.
 */
import { dirname } from 'node:path'
import { CaError } from '../ca/errors.js'
import { databaseFiles } from '../config/layout.js'
import { lookupEntry } from '../openssl-config/index.js'
import { inside, type PathBase } from './ca-paths.js'
import { at, where } from './config-location.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

export interface CaFiles {
  /** The ca.yml section so far: dir and the files that are not where the defaults put them. */
  yml: Record<string, unknown>
  dir: string
  database: string
  serialFile: string | undefined
  certificate: string
}

type RequiredKey = 'database' | 'certificate' | 'new_certs_dir' | 'private_key'

/** The value of a setting `openssl ca` cannot issue without, or `adopt.config_invalid`. */
export function required(p: ParsedConfig, key: RequiredKey): string {
  const value = p.ca[key]
  if (value === undefined) {
    throw new CaError(
      'adopt.config_invalid',
      `[${p.ca.section}] has no ${key}: openssl ca cannot issue without it`,
      { file: p.source.file },
    )
  }
  return value
}

export function caFiles(base: PathBase, p: ParsedConfig, role: Role, f: Findings): CaFiles {
  const { ca } = p
  const yml: Record<string, unknown> = {}
  const database = inside(base, p, 'database', required(p, 'database'))
  let dir: string
  if (ca.dir !== undefined) {
    dir = inside(base, p, 'dir', ca.dir)
    f.map(`${role}.dir`, dir, where(p, 'dir'))
  } else {
    dir = dirname(database)
    if (dir === '.') {
      throw new CaError(
        'adopt.unsupported',
        `${at(p, 'database')}: the database is directly in ${base.root}; mtls-ca needs each CA's ` +
          'database in a folder of its own: adopt with --dir set to the parent folder',
        { file: p.source.file },
      )
    }
    f.map(`${role}.dir`, dir, `${where(p, 'database')} (its folder; no dir variable)`)
  }
  yml.dir = dir
  const defaults = databaseFiles(dir)
  const override = (key: string, value: string, fallback: string, configKey: string): void => {
    if (value === fallback) f.map(`${role}.${key}`, `${value} (the default under dir)`, where(p, configKey))
    else {
      yml[key] = value
      f.map(`${role}.${key}`, value, where(p, configKey))
    }
  }
  override('database', database, defaults.index, 'database')
  const newCerts = inside(base, p, 'new_certs_dir', required(p, 'new_certs_dir'))
  override('newCertsDir', newCerts, defaults.newcerts, 'new_certs_dir')
  const serialFile = ca.serial === undefined ? undefined : inside(base, p, 'serial', ca.serial)
  if (serialFile !== undefined) override('serialFile', serialFile, defaults.serial, 'serial')
  if (ca.crlnumber !== undefined) {
    override('crlnumberFile', inside(base, p, 'crlnumber', ca.crlnumber), defaults.crlnumber, 'crlnumber')
  } else {
    f.notes.push(
      `${p.source.file}: no crlnumber: openssl ca made CRLs without a CRL number; mtls-ca keeps one in ` +
        `${defaults.crlnumber}, which it creates`,
    )
  }
  const certificate = inside(base, p, 'certificate', required(p, 'certificate'))
  return { yml, dir, database, serialFile, certificate }
}

/** The CRL file: the configuration's `crl`, else the tutorial's name under the CA folder. */
export function crlFile(base: PathBase, p: ParsedConfig, role: Role, dir: string, f: Findings): string {
  const { ca } = p
  const file =
    ca.crl !== undefined
      ? inside(base, p, 'crl', ca.crl)
      : `${dir}/crl/${role === 'root' ? 'ca' : 'intermediate'}.crl.pem`
  if (ca.crl === undefined) {
    f.notes.push(
      `${p.source.file}: no crl file named (openssl ca -gencrl needed -out): mtls-ca writes ${file}`,
    )
  }
  return file
}

export function copyExtensionsNote(p: ParsedConfig, role: Role, f: Findings): void {
  if (role === 'root') {
    if (p.ca.copy_extensions !== 'none') {
      f.item(
        p,
        f.ignored,
        p.ca.section,
        'copy_extensions',
        "mtls-ca never copies a CSR's extensions into an intermediate",
      )
    }
    return
  }
  const from = where(p, 'copy_extensions', 'copy_extensions (not set: none)')
  // readCaConfig has said what openssl ca did; this is what mtls-ca does instead.
  f.notes.push(
    `${from}: mtls-ca copies only the SANs a CSR asks for that pass issuance.sans (and a server profile's ` +
      "hostname CN), never the CSR's other extensions",
  )
}

/** CA-section settings that change nothing in mtls-ca or cannot be carried over. */
export function caSectionItems(p: ParsedConfig, role: Role, f: Findings): void {
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
    if (lookupEntry(p.config, s, key)) f.item(p, f.unmapped, s, key, reason)
  }
  for (const [key, reason] of ignored) {
    if (lookupEntry(p.config, s, key)) f.item(p, f.ignored, s, key, reason)
  }
}
