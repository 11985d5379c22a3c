/**
 * Which index.txt entries a CRL lists, in what order (crlListings, the reference), and the fast path
 * that writes the revokedCertificates list straight from index.txt's text (revokedCertificatesDer):
 * an entry in the form `openssl ca` writes is read where it lies, any other goes through crlListings.
 * test/crl.test.ts compares the two on every form, odd and invalid entries included.
 */
import { CaError } from './errors.js'
import { RevokedListWriter, type DerRevokedEntry } from './der-writer.js'
import {
  REVOCATION_REASON_CODES,
  holdInstructionOid,
  isUsualRevocation,
  reasonNameAt,
  parseRevocation,
  type Revocation,
  type RevocationReason,
} from './index-revocation.js'
import { formatGeneralizedTime, formatIndexTime, indexTimeMs, parseIndexTime } from './index-time.js'
import { isHex } from './index-scan.js'
import type { IndexEntry } from './index-entry.js'
import { MAX_SERIAL, serialFromHex } from './serial-number.js'

/** One certificate a CRL lists. */
export interface CrlListing {
  serial: bigint
  /** The certificate's notAfter, from index.txt. */
  expiry: Date
  revocation: Revocation
}

/**
 * The revoked entries a full CRL lists, in serial order (X509_CRL_sort, whatever the index order).
 * An entry revoked with removeFromCRL is not listed: RFC 5280 §5.3.1 reserves that reason for delta
 * CRLs, and on a full CRL verifiers disagree on its meaning (OpenSSL treats it as not revoked, others
 * as revoked); OpenSSL's -gencrl lists it anyway.
 */
export function crlListings(entries: readonly IndexEntry[], previousThisUpdate?: Date): CrlListing[] {
  const listed: CrlListing[] = []
  for (const entry of entries) {
    if (entry.status !== 'R') continue
    const revocation = parseRevocation(entry.revocation)
    if (revocation.reason === 'removeFromCRL') continue
    const expiry = parseIndexTime(entry.expiry)
    if (previousThisUpdate !== undefined && expiry.getTime() < previousThisUpdate.getTime()) continue
    const serial = serialFromHex(entry.serial)
    if (serial <= 0n || serial > MAX_SERIAL) {
      throw new CaError('state.corrupt', `serial ${entry.serial} cannot be listed on a CRL (1…2^159-1)`)
    }
    listed.push({ serial, expiry, revocation })
  }
  return listed.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))
}

/**
 * The revokedCertificates list buildCrl writes, undefined when it lists nothing: the entries of
 * crlListings(entries, previousThisUpdate), with its errors, written by der-writer.ts.
 *
 * The fast path. crlListings builds a Revocation (Dates included) and a BigInt per entry; on 100,000
 * entries that and its sort were half the time of `mtls-ca crl`. But index.txt already holds what a
 * CRL entry carries, as text: the revocation time is the UTCTime (13 characters, 1950–2049) and a
 * compromise time the GeneralizedTime that the CRL writes, and the serial is hex. So an entry in the
 * form `openssl ca` writes (isUsualRevocation: reason names in their case; a valid expiry; a hex serial
 * that fits) is checked and read where it lies, and its texts are handed to the writer. Any other
 * entry goes through crlListings itself, which lists it or throws its error; as entries are taken in
 * index order, the first error is crlListings' too. test/crl.test.ts compares the two on every form,
 * odd and invalid entries included.
 */
export function revokedCertificatesDer(
  entries: readonly IndexEntry[],
  previousThisUpdate?: Date,
): Buffer | undefined {
  const notBefore = previousThisUpdate?.getTime()
  const list = new RevokedListWriter()
  for (const entry of entries) {
    if (entry.status !== 'R') continue
    const usual = usualEntry(entry, notBefore)
    if (usual === undefined) {
      for (const listing of crlListings([entry], previousThisUpdate)) list.add(derEntry(listing))
    } else if (usual !== null) {
      list.add(usual)
    }
  }
  return list.count === 0 ? undefined : list.finish()
}

/** `openssl ca`'s pseudo reasons: index.txt's names for a reason that carries an argument. */
const PSEUDO_REASONS: Readonly<Record<string, RevocationReason>> = {
  keyTime: 'keyCompromise',
  CAkeyTime: 'CACompromise',
  holdInstruction: 'certificateHold',
}

/**
 * An R entry of the usual form as der-writer.ts takes it, null when crlListings would not list it,
 * undefined when it is not of the usual form (then crlListings decides). Checks in crlListings' order.
 */
function usualEntry(entry: IndexEntry, notBefore: number | undefined): DerRevokedEntry | null | undefined {
  const { revocation } = entry
  if (!isUsualRevocation(revocation)) return undefined
  // `<time>`, `<time>,<reason>` or `<time>,<pseudo reason>,<argument>`, the time 13 characters.
  let reason: RevocationReason | undefined
  let argument: string | undefined
  if (revocation.length > 13) {
    const comma = revocation.indexOf(',', 14)
    if (comma === -1) {
      reason = reasonNameAt(revocation, 14, revocation.length)
      if (reason === 'removeFromCRL') return null
    } else {
      reason = PSEUDO_REASONS[revocation.slice(14, comma)]
      argument = revocation.slice(comma + 1)
    }
  }
  const expiry = indexTimeMs(entry.expiry)
  if (Number.isNaN(expiry)) return undefined
  if (notBefore !== undefined && expiry < notBefore) return null
  const serial = listableSerial(entry.serial)
  if (serial === undefined) return undefined
  return {
    serial,
    revocationDate: revocation.length === 13 ? revocation : revocation.slice(0, 13),
    reasonCode: reason === undefined ? undefined : REVOCATION_REASON_CODES[reason],
    invalidityDate: reason === 'certificateHold' ? undefined : argument,
    holdInstructionOid: reason === 'certificateHold' ? holdInstructionOid(argument as string) : undefined,
  }
}

/**
 * A serial a CRL can carry (1 … 2^159−1) as hex without leading zeros, or undefined for anything
 * else, which crlListings refuses.
 */
function listableSerial(hex: string): string | undefined {
  if (typeof hex !== 'string') return undefined
  let start = 0
  while (hex.charCodeAt(start) === 0x30) start++
  const digits = hex.length - start
  // 40 digits from 8 on is 2^159 or more (letters are above '8' too).
  if (digits === 0 || digits > 40 || (digits === 40 && hex.charCodeAt(start) >= 0x38)) return undefined
  if (!isHex(hex)) return undefined
  return start === 0 ? hex : hex.slice(start)
}
/**
 * A listing as der-writer.ts takes it (the straightforward way): the serial in upper-case hex, the
 * times as the ASN.1 text RFC 5280 asks for (UTCTime for 1950–2049; the invalidity date always
 * GeneralizedTime), as the schema would write them.
 */
function derEntry(listing: CrlListing): DerRevokedEntry {
  const { revocation } = listing
  return {
    serial: listing.serial.toString(16).toUpperCase(),
    revocationDate: formatIndexTime(revocation.time),
    reasonCode: revocation.reason === undefined ? undefined : REVOCATION_REASON_CODES[revocation.reason],
    invalidityDate:
      revocation.invalidityDate === undefined ? undefined : formatGeneralizedTime(revocation.invalidityDate),
    // parseRevocation only accepts instructions that resolve to an OID.
    holdInstructionOid:
      revocation.holdInstruction === undefined
        ? undefined
        : (holdInstructionOid(revocation.holdInstruction) as string),
  }
}
