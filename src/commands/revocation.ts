/**
 * `mtls-ca revoke`, `release` and `crl`: the database transitions of src/ca/revocation.ts and the CRL
 * of src/ca/crl.ts, committed together. A revocation is published at once: the same atomic commit
 * writes the R line, the new CRL (PEM and DER) and the next CRL number, unless told not to.
 */
import 'reflect-metadata'
import { CaError } from '../ca/errors.js'
import { buildCrl, crlDer, crlPem } from '../ca/crl.js'
import { parseCrlPem } from '../ca/crl-reading.js'
import { certificateIssuedBy, release, revoke, type RevokeOutcome } from '../ca/revocation.js'
import { formatSerialFile, parseSerialFile, serialToHex } from '../ca/serial-number.js'
import { formatIndexAttr } from '../ca/index-attr.js'
import { serializeIndex } from '../ca/index-txt.js'
import { type IndexEntry } from '../ca/index-entry.js'
import { type RevocationReason } from '../ca/index-revocation.js'
import { databaseFiles, newCertPath, type DatabaseFiles } from '../config/layout.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import {
  checkCa,
  effectiveUniqueSubject,
  loadCa,
  loadDatabase,
  openIssuer,
  parseCertificatePem,
  readText,
  type Database,
  type LoadedCa,
  type Side,
} from './ca-state.js'
import type { Runtime } from './runtime.js'

export const REVOCATION_REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'CACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
]

export interface CrlOptions {
  side: Side
  /** The serial of a previous intermediate (ca.yml intermediate.previous) to work on instead. */
  intermediate?: string | undefined
  /** nextUpdate = now + days; default: ca.yml's crl.days. */
  days?: number
}

export interface CrlResult {
  file: string
  derFile: string
  crlNumber: string
  thisUpdate: Date
  nextUpdate: Date
  revoked: number
}

export interface RevokeOptions {
  side: Side
  /** The serial of a previous intermediate (ca.yml intermediate.previous) to work on instead. */
  intermediate?: string | undefined
  /** A serial in hex, or the certificate as PEM text (with the file it came from). */
  target: { serial: string } | { pem: string; file: string }
  reason: RevocationReason
  invalidityDate?: Date
  /** Publish a new CRL in the same commit (default true). */
  crl?: boolean
  crlDays?: number
}

export interface RevokeResult {
  outcome: RevokeOutcome
  serial: string
  subject: string
  revocation: string
  crl: CrlResult | undefined
}

function sideConfig(ca: LoadedCa, side: Side) {
  const cfg = ca.config[side]
  if (cfg.dir === undefined) {
    throw new CaError(
      'state.missing',
      `ca.yml names no database for the ${side} (${side}.dir): it is kept elsewhere`,
    )
  }
  return { ...cfg, dir: cfg.dir }
}

function derPath(pemPath: string): string {
  return pemPath.replace(/(\.crl)?\.pem$/, '') + '.crl.der'
}

/** The CRL of `entries` signed by the side's key, and the writes that publish it. */
async function crlWrites(
  ca: LoadedCa,
  side: Side,
  entries: readonly IndexEntry[],
  runtime: Runtime,
  days: number | undefined,
): Promise<{ writes: FileWrite[]; result: CrlResult }> {
  const cfg = sideConfig(ca, side)
  if (!cfg.crl) throw new CaError('config.invalid', `ca.yml names no CRL file for the ${side} (${side}.crl)`)
  const files = databaseFiles(cfg)
  const numberText = await readText(ca.store, files.crlnumber)
  if (numberText === undefined) {
    throw new CaError('state.missing', `${files.crlnumber} does not exist: it holds the next CRL number`, {
      file: files.crlnumber,
    })
  }
  let crlNumber: bigint
  try {
    crlNumber = parseSerialFile(numberText)
  } catch (e) {
    throw e instanceof CaError ? e.withFile(files.crlnumber) : e
  }
  const validDays = days ?? cfg.crl.days
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > 3650) {
    throw new CaError('usage.invalid', `--days must be a whole number from 1 to 3650, not ${validDays}`)
  }
  const previousThisUpdate = await previousCrlThisUpdate(ca.store, cfg.crl.file)
  const now = runtime.now()
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000)
  const nextUpdate = new Date(thisUpdate.getTime() + validDays * 86_400_000)
  const issuer = await openIssuer(ca, side, runtime)
  const crl = await buildCrl({
    entries,
    issuer: { certificate: issuer.certificate, keyId: issuer.keyId, signer: issuer.signer },
    crlNumber,
    thisUpdate,
    nextUpdate,
    previousThisUpdate,
  })
  const derFile = derPath(cfg.crl.file)
  return {
    writes: [
      { path: cfg.crl.file, data: crlPem(crl) },
      { path: derFile, data: crlDer(crl) },
      { path: files.crlnumber, data: formatSerialFile(crlNumber + 1n) },
    ],
    result: {
      file: cfg.crl.file,
      derFile,
      crlNumber: crlNumber.toString(16).toUpperCase(),
      thisUpdate,
      nextUpdate,
      revoked: crl.entries.length,
    },
  }
}

/** thisUpdate of the CRL now published, if it can be read: entries expired before it may drop out. */
async function previousCrlThisUpdate(store: StateStore, file: string): Promise<Date | undefined> {
  const pem = await readText(store, file)
  if (pem === undefined) return undefined
  try {
    return parseCrlPem(pem).thisUpdate
  } catch {
    return undefined // an unreadable old CRL is replaced; listing everything is the safe side
  }
}

export async function generateCrl(
  store: StateStore,
  options: CrlOptions,
  runtime: Runtime,
): Promise<CrlResult> {
  return store.locked(async () => {
    const ca = await loadCa(store, options)
    const db = await loadDatabase(store, sideConfig(ca, options.side))
    const { writes, result } = await crlWrites(ca, options.side, db.index, runtime, options.days)
    await store.commit(writes)
    return result
  })
}

export async function revokeCertificate(
  store: StateStore,
  options: RevokeOptions,
  runtime: Runtime,
): Promise<RevokeResult> {
  return store.locked(async () => {
    const ca = await loadCa(store, options)
    const cfg = sideConfig(ca, options.side)
    const files = databaseFiles(cfg)
    const db = await loadDatabase(store, cfg)
    const now = runtime.now()
    checkCa(ca, options.side, now)
    const caCertificate = ca[options.side].certificate
    let serial: bigint
    let notBefore: Date | undefined
    if ('pem' in options.target) {
      let cert
      try {
        cert = certificateIssuedBy(options.target.pem, caCertificate)
      } catch (e) {
        if (!(e instanceof CaError)) throw e
        throw (await previousIntermediateHint(ca, options, e)).withFile(options.target.file)
      }
      serial = BigInt(`0x${cert.serialNumber}`)
      notBefore = cert.notBefore
    } else {
      serial = parseSerialArgument(options.target.serial)
      notBefore = await issuedNotBefore(ca, files, serial)
    }
    const result = revoke(
      db.index,
      {
        serial,
        reason: options.reason,
        time: now,
        ...(options.invalidityDate ? { invalidityDate: options.invalidityDate } : {}),
        // a certificate cannot have become invalid before it, or its CA, existed
        certificateNotBefore: notBefore ?? caCertificate.notBefore,
      },
      now,
    )
    let crl: CrlResult | undefined
    if (result.outcome !== 'unchanged') {
      const writes = indexWrites(files, result.entries, db, cfg.uniqueSubject)
      if (options.crl !== false) {
        const published = await crlWrites(ca, options.side, result.entries, runtime, options.crlDays)
        writes.push(...published.writes)
        crl = published.result
      }
      await store.commit(writes)
    }
    return {
      outcome: result.outcome,
      serial: result.entry.serial,
      subject: result.entry.subject,
      revocation: result.entry.revocation,
      crl,
    }
  })
}

export async function releaseCertificate(
  store: StateStore,
  options: { side: Side; serial: string; crl?: boolean; intermediate?: string | undefined },
  runtime: Runtime,
): Promise<{ serial: string; subject: string; crl: CrlResult | undefined }> {
  return store.locked(async () => {
    const ca = await loadCa(store, options)
    const cfg = sideConfig(ca, options.side)
    const db = await loadDatabase(store, cfg)
    checkCa(ca, options.side, runtime.now())
    const result = release(db.index, options.serial)
    const writes = indexWrites(databaseFiles(cfg), result.entries, db, cfg.uniqueSubject)
    let crl: CrlResult | undefined
    if (options.crl !== false) {
      const published = await crlWrites(ca, options.side, result.entries, runtime, undefined)
      writes.push(...published.writes)
      crl = published.result
    }
    await store.commit(writes)
    return { serial: result.entry.serial, subject: result.entry.subject, crl }
  })
}

/** index.txt and, as openssl ca's save_index writes them together, index.txt.attr. */
function indexWrites(
  files: DatabaseFiles,
  entries: readonly IndexEntry[],
  db: Database,
  configuredUnique: boolean,
): FileWrite[] {
  return [
    { path: files.index, data: serializeIndex(entries) },
    {
      path: files.attr,
      data: formatIndexAttr({ uniqueSubject: effectiveUniqueSubject(db, configuredUnique) }),
    },
  ]
}

function parseSerialArgument(serial: string): bigint {
  if (!/^[0-9A-Fa-f]{1,64}$/.test(serial)) {
    throw new CaError('usage.invalid', `"${serial}" is not a serial in hex`)
  }
  return BigInt(`0x${serial}`)
}

/** notBefore of the certificate newcerts/ holds for the serial, when it is there and readable. */
async function issuedNotBefore(
  ca: LoadedCa,
  files: DatabaseFiles,
  serial: bigint,
): Promise<Date | undefined> {
  const path = newCertPath(files, serialToHex(serial))
  const pem = await readText(ca.store, path)
  if (pem === undefined) return undefined
  try {
    const cert = parseCertificatePem(pem, path).certificate
    return BigInt(`0x${cert.serialNumber}`) === serial ? cert.notBefore : undefined
  } catch {
    return undefined // the CA's own notBefore still bounds the date
  }
}

/**
 * A certificate refused as not this intermediate's may be one of a previous intermediate's: the
 * refusal then says which --intermediate to give.
 */
async function previousIntermediateHint(
  ca: LoadedCa,
  options: RevokeOptions,
  refusal: CaError,
): Promise<CaError> {
  if (options.side !== 'intermediate' || options.intermediate !== undefined || !('pem' in options.target)) {
    return refusal
  }
  for (const previous of ca.config.intermediate.previous) {
    const pem = await readText(ca.store, previous.certificate)
    if (pem === undefined) continue
    try {
      certificateIssuedBy(options.target.pem, parseCertificatePem(pem, previous.certificate).certificate)
    } catch {
      continue
    }
    return new CaError(
      refusal.code,
      `${refusal.message}; it was issued by the previous intermediate ${previous.serial}: ` +
        `revoke it with --intermediate ${previous.serial}`,
      { cause: refusal },
    )
  }
  return refusal
}
