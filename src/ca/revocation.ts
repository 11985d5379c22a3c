/**
 * Revocation as state transitions on index.txt: revoking a certificate (writing the R line exactly as
 * `openssl ca -revoke` does), making a hold final, releasing a hold, and finding which of this CA's
 * certificates a PEM file is. Every transition returns a new array and leaves its input untouched,
 * so a caller that cannot commit the result has nothing to undo.
 *
 * Where OpenSSL refuses to touch a revoked certificate at all ("Already revoked"), this engine is
 * idempotent for the same reason (a retried workflow run is not an error) and follows RFC 5280 for
 * holds: certificateHold is the one revocation that can be made final, or released.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { certificateNames, sameName } from './chain-verification.js'
import { verifiesWith } from './certificate.js'
import { CaError } from './errors.js'
import { findBySerial } from './index-lookup.js'
import {
  formatRevocation,
  parseRevocation,
  type Revocation,
  type RevocationReason,
} from './index-revocation.js'
import { parseIndexTime } from './index-time.js'
import { type IndexEntry } from './index-entry.js'
import { serialToHex } from './serial-number.js'

export interface RevokeRequest {
  /** A bigint, or hex in either case with or without leading zeros. */
  serial: bigint | string
  /**
   * Absent: revoked without a reason, as `openssl ca -revoke` without -crl_reason writes it; the CRL
   * entry then has no reason code, which is what RFC 5280 §5.3.1 and the CA/Browser Forum ask for
   * when there is no particular reason. `unspecified` is written as `openssl ca -crl_reason
   * unspecified` writes it, and OpenSSL then puts reason code 0 in the CRL.
   */
  reason?: RevocationReason
  /** The revocation date (normally now); OpenSSL can only read times up to 2049. */
  time: Date
  /**
   * When the key was compromised (keyCompromise, CACompromise only): index.txt's keyTime/CAkeyTime.
   * Not after `now` (a compromise is known, not foreseen) and not before `certificateNotBefore`.
   */
  invalidityDate?: Date
  /** When the certificate became valid (or, when it cannot be read, its CA): bounds the invalidity date. */
  certificateNotBefore?: Date
  /** certificateHold only: a hold instruction name OpenSSL knows or a dotted OID. */
  holdInstruction?: string
}

/**
 * `revoked`: the certificate was valid and is now revoked. `unchanged`: it already was, for the same
 * reason (the caller says so, nothing needs committing). `hold-made-final`: a certificateHold became
 * a permanent revocation.
 */
export type RevokeOutcome = 'revoked' | 'unchanged' | 'hold-made-final'

export interface RevokeResult {
  entries: IndexEntry[]
  outcome: RevokeOutcome
  /** The certificate's entry after the transition. */
  entry: IndexEntry
}

/**
 * Revokes a certificate. Rules, in order:
 * - an unknown serial is refused (`revoke.unknown_serial`);
 * - already revoked for the same reason: `unchanged` (no reason counts as unspecified; the first
 *   record's time, invalidity date and hold instruction stand);
 * - already revoked for another reason: refused (`revoke.already_revoked`), unless it is on hold;
 * - expired (status E, or V whose notAfter is not after `now`), or on hold but expired: refused
 *   (`revoke.expired`): it is invalid anyway, and a CRL would soon drop it;
 * - on hold, with another reason: made final, keeping the hold's revocation date. The certificate has
 *   been unusable since then; a later date would tell anyone who checks "was it revoked at time t"
 *   against the new CRL that it was fine during the hold. RFC 5280 §5.3.1 lets a hold become final;
 *   it does not move the date, and neither does this;
 * - removeFromCRL is refused as a reason: it belongs to delta CRLs; `release` takes a hold back.
 */
export function revoke(entries: readonly IndexEntry[], request: RevokeRequest, now: Date): RevokeResult {
  if (request.reason === 'removeFromCRL') {
    throw new CaError(
      'usage.invalid',
      'removeFromCRL is not a reason to revoke: it only exists in delta CRLs; to take a certificate off hold, release it',
    )
  }
  const { entry, index } = locate(entries, request.serial)
  const serial = entry.serial
  refuseInvalidityDate(serial, request, now)

  if (entry.status === 'R') {
    const current = parseRevocation(entry.revocation)
    const currentReason = current.reason ?? 'unspecified'
    const requested = request.reason ?? 'unspecified'
    if (currentReason === requested) return { entries: [...entries], outcome: 'unchanged', entry }
    if (currentReason !== 'certificateHold') {
      throw new CaError(
        'revoke.already_revoked',
        `certificate ${serial} was already revoked (${currentReason}) on ${isoSeconds(current.time)}; ` +
          `a revocation cannot be changed to ${requested}`,
      )
    }
    refuseExpired(entry, now)
    const revoked = withRevocation(entry, { ...request, time: current.time })
    return { entries: replaced(entries, index, revoked), outcome: 'hold-made-final', entry: revoked }
  }

  refuseExpired(entry, now)
  const revoked = withRevocation(entry, request)
  return { entries: replaced(entries, index, revoked), outcome: 'revoked', entry: revoked }
}

/** Takes a certificate off hold: back to V with an empty revocation field, as if never revoked. */
export function release(
  entries: readonly IndexEntry[],
  serial: bigint | string,
): { entries: IndexEntry[]; entry: IndexEntry } {
  const { entry, index } = locate(entries, serial)
  const reason = entry.status === 'R' ? parseRevocation(entry.revocation).reason : undefined
  if (reason !== 'certificateHold') {
    const state = entry.status === 'R' ? `revoked (${reason ?? 'no reason'})` : 'not revoked'
    throw new CaError(
      'revoke.not_on_hold',
      `certificate ${entry.serial} is ${state}: only a certificate on hold (certificateHold) can be released`,
    )
  }
  const released: IndexEntry = { ...entry, status: 'V', revocation: '' }
  return { entries: replaced(entries, index, released), entry: released }
}

/**
 * The certificate given as PEM (the first certificate of the file, so a full chain works), after
 * checking that `ca` issued it: its issuer must be the CA's subject and its authority key identifier,
 * when it has one, the CA's (`revoke.wrong_issuer`), and its signature must verify with the CA's key
 * (`revoke.not_issued_by_ca`). Without the signature, anyone could make a certificate with the CA's
 * name and a victim's serial, and revoking "it" would revoke the victim.
 */
export function certificateIssuedBy(pem: string, ca: x509.X509Certificate): x509.X509Certificate {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)
  let cert: x509.X509Certificate
  try {
    if (block === null) throw new Error('no PEM CERTIFICATE block')
    cert = new x509.X509Certificate(block[0])
  } catch (cause) {
    throw new CaError('usage.invalid', 'not a PEM certificate (-----BEGIN CERTIFICATE-----)', { cause })
  }
  const serial = serialToHex(BigInt(`0x${cert.serialNumber}`))
  if (!sameName(certificateNames(cert).issuer, certificateNames(ca).subject)) {
    throw new CaError(
      'revoke.wrong_issuer',
      `certificate ${serial} (${cert.subject}) was issued by ${cert.issuer}, not by this CA`,
    )
  }
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId
  const keyId = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
  if (aki !== undefined && keyId !== undefined && aki.toLowerCase() !== keyId.toLowerCase()) {
    throw new CaError(
      'revoke.wrong_issuer',
      `certificate ${serial} (${cert.subject}) was issued by another key named ${cert.issuer}: ` +
        `its authority key identifier ${aki} is not this CA's ${keyId.toLowerCase()}`,
    )
  }
  if (!verifiesWith(cert.rawData, new Uint8Array(ca.publicKey.rawData))) {
    throw new CaError(
      'revoke.not_issued_by_ca',
      `certificate ${serial} (${cert.subject}) names this CA as its issuer, but its signature does not ` +
        `verify with the CA's key: this CA did not issue it, so it cannot stand for serial ${serial}`,
    )
  }
  return cert
}

/** The serial of a certificate this CA issued (see certificateIssuedBy). */
export function serialOfCertificate(pem: string, ca: x509.X509Certificate): bigint {
  return BigInt(`0x${certificateIssuedBy(pem, ca).serialNumber}`)
}

// ---------------------------------------------------------------------------------------------------

function locate(
  entries: readonly IndexEntry[],
  serial: bigint | string,
): { entry: IndexEntry; index: number } {
  const entry = findBySerial(entries, serial)
  if (entry === undefined) {
    const shown = typeof serial === 'bigint' ? serialToHex(serial) : serial
    throw new CaError('revoke.unknown_serial', `no certificate with serial ${shown} in index.txt`)
  }
  return { entry, index: entries.indexOf(entry) }
}

function refuseInvalidityDate(serial: string, request: RevokeRequest, now: Date): void {
  const date = request.invalidityDate
  if (date === undefined) return
  if (Number.isNaN(date.getTime())) {
    throw new CaError('usage.invalid', `the invalidity date of ${serial} is not a time`)
  }
  if (date.getTime() > now.getTime()) {
    throw new CaError(
      'revoke.invalidity_in_future',
      `the invalidity date ${isoSeconds(date)} is after now (${isoSeconds(now)}): give when the key ` +
        'was compromised or is suspected to have been, which has already happened',
    )
  }
  const notBefore = request.certificateNotBefore
  if (notBefore !== undefined && date.getTime() < notBefore.getTime()) {
    throw new CaError(
      'revoke.invalidity_before_issue',
      `the invalidity date ${isoSeconds(date)} is before certificate ${serial} became valid ` +
        `(${isoSeconds(notBefore)}): give a time from then on`,
    )
  }
}

function refuseExpired(entry: IndexEntry, now: Date): void {
  const expiry = parseIndexTime(entry.expiry)
  if (entry.status === 'E' || expiry.getTime() <= now.getTime()) {
    throw new CaError(
      'revoke.expired',
      `certificate ${entry.serial} expired on ${isoSeconds(expiry)}: an expired certificate is not revoked`,
    )
  }
}

/** The R line `openssl ca -revoke` writes: status R, the revocation column, the rest untouched. */
function withRevocation(entry: IndexEntry, request: RevokeRequest): IndexEntry {
  const revocation: Revocation = { time: request.time }
  if (request.reason !== undefined) revocation.reason = request.reason
  if (request.invalidityDate !== undefined) revocation.invalidityDate = request.invalidityDate
  if (request.holdInstruction !== undefined) revocation.holdInstruction = request.holdInstruction
  try {
    return { ...entry, status: 'R', revocation: formatRevocation(revocation) }
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause
    throw new CaError('usage.invalid', `cannot revoke ${entry.serial}: ${cause.message}`, { cause })
  }
}

function replaced(entries: readonly IndexEntry[], index: number, entry: IndexEntry): IndexEntry[] {
  const copy = [...entries]
  copy[index] = entry
  return copy
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
