/**
 * The revocation column of index.txt: `<time>[,<reason>[,<argument>]]` as openssl ca's
 * make_revocation_str writes it, the reason names and codes, hold instructions, and the fast check of
 * the forms openssl ca writes.
 */
import { CaError } from './errors.js'
import { indexIn } from './index-scan.js'
import { formatGeneralizedTime, formatIndexTime, isTimeAt, timeOrUndefined } from './index-time.js'

/**
 * The revocation column is in a form make_revocation_str writes, as it writes it (reason names in
 * their own case): parseRevocation accepts it. What a CRL's fast path reads without parseRevocation.
 */
export function isUsualRevocation(raw: string): boolean {
  return typeof raw === 'string' && isRevocationAt(raw, 0, raw.length)
}

/** s[start, end) has a form make_revocation_str writes, as it writes it; parseRevocation accepts those. */
export function isRevocationAt(s: string, start: number, end: number): boolean {
  if (end - start < 13 || !isTimeAt(s, start, 13)) return false
  if (end - start === 13) return true
  if (s.charCodeAt(start + 13) !== 0x2c /* , */) return false
  const at = start + 14
  const comma = indexIn(s, 0x2c, at, end)
  if (comma === -1) return reasonNameAt(s, at, end) !== undefined
  if (indexIn(s, 0x2c, comma + 1, end) !== -1) return false
  const pseudo = comma - at
  if ((pseudo === 7 && s.startsWith('keyTime', at)) || (pseudo === 9 && s.startsWith('CAkeyTime', at))) {
    // The compromise time is always GeneralizedTime.
    return end - comma - 1 === 15 && isTimeAt(s, comma + 1, 15)
  }
  return (
    pseudo === 15 &&
    s.startsWith('holdInstruction', at) &&
    holdInstructionOid(s.slice(comma + 1, end)) !== undefined
  )
}

/** The reason names `openssl ca -crl_reason` accepts, as it writes them (apps/ca.c crl_reasons). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'CACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'

/** RFC 5280 §5.3.1 CRLReason codes (7 is unused; OpenSSL has no names for 9 and 10). */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  CACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
}

const REASONS = Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]

/** The reason name that s[start, end) is, in its own case (as make_revocation_str writes it), or undefined. */
export function reasonNameAt(s: string, start: number, end: number): RevocationReason | undefined {
  for (const name of REASONS) if (name.length === end - start && s.startsWith(name, start)) return name
  return undefined
}

/**
 * The names OpenSSL resolves for `-crl_hold` (OBJ_txt2obj), by OID (RFC 5280 §5.3.2). A dotted OID
 * is accepted too.
 */
export const HOLD_INSTRUCTIONS: Readonly<Record<string, string>> = {
  holdInstructionNone: '1.2.840.10040.2.1',
  'Hold Instruction None': '1.2.840.10040.2.1',
  holdInstructionCallIssuer: '1.2.840.10040.2.2',
  'Hold Instruction Call Issuer': '1.2.840.10040.2.2',
  holdInstructionReject: '1.2.840.10040.2.3',
  'Hold Instruction Reject': '1.2.840.10040.2.3',
}

/** The OID of a hold instruction as written in index.txt, or undefined when OpenSSL could not resolve it. */
export function holdInstructionOid(text: string): string | undefined {
  if (/^[0-2](?:\.(?:0|[1-9]\d*))+$/.test(text)) return text
  return HOLD_INSTRUCTIONS[text]
}

export interface Revocation {
  /** When the certificate was revoked (the CRL entry's revocationDate). */
  time: Date
  /** Absent when revoked without a reason: the CRL entry then has no reasonCode. */
  reason?: RevocationReason
  /** When the key is known or suspected to have been compromised; keyCompromise and CACompromise only. */
  invalidityDate?: Date
  /** As written in index.txt (`holdInstructionReject`, a dotted OID…); certificateHold only. */
  holdInstruction?: string
}

/**
 * The revocation column as make_revocation_str writes it: `<time>`, `<time>,<reason>`, or one of the
 * pseudo reasons that carry an argument: `holdInstruction,<oid>` (certificateHold),
 * `keyTime,<GeneralizedTime>` (keyCompromise) and `CAkeyTime,<GeneralizedTime>` (CACompromise).
 */
export function formatRevocation(r: Revocation): string {
  const time = formatIndexTime(r.time)
  // unpack_revinfo reads the time with ASN1_UTCTIME_set_string: a 2050 revocation would lock OpenSSL out.
  if (time.length !== 13) throw new RangeError(`OpenSSL cannot read a revocation time of ${time}`)
  if (r.invalidityDate !== undefined) {
    if (r.reason !== 'keyCompromise' && r.reason !== 'CACompromise') {
      throw new RangeError(`index.txt records an invalidity date only with keyCompromise or CACompromise`)
    }
    const pseudo = r.reason === 'keyCompromise' ? 'keyTime' : 'CAkeyTime'
    return `${time},${pseudo},${formatGeneralizedTime(r.invalidityDate)}`
  }
  if (r.holdInstruction !== undefined) {
    if (r.reason !== 'certificateHold') {
      throw new RangeError('a hold instruction goes with certificateHold only')
    }
    if (holdInstructionOid(r.holdInstruction) === undefined) {
      throw new RangeError(`'${r.holdInstruction}' is not a hold instruction OpenSSL knows`)
    }
    return `${time},holdInstruction,${r.holdInstruction}`
  }
  return r.reason === undefined ? time : `${time},${r.reason}`
}

/** Reads the revocation column, refusing what `openssl ca` would refuse to make a CRL from. */
export function parseRevocation(raw: string): Revocation {
  const [timeText = '', reasonText, argument, ...extra] = raw.split(',')
  const bad = (why: string) => new CaError('state.corrupt', `revocation '${raw}': ${why}`)
  const time = timeText.length === 13 ? timeOrUndefined(timeText) : undefined
  if (time === undefined) throw bad(`the time '${timeText}' is not YYMMDDHHMMSSZ`)
  if (reasonText === undefined) return { time }
  if (extra.length > 0) throw bad('more than three comma-separated parts')

  // OpenSSL compares reason names ignoring case.
  const lower = reasonText.toLowerCase()
  const reason = REASONS.find((name) => name.toLowerCase() === lower)
  if (reason !== undefined) {
    if (argument !== undefined) throw bad(`reason ${reason} takes no argument`)
    return { time, reason }
  }
  if (lower === 'holdinstruction') {
    if (argument === undefined || holdInstructionOid(argument) === undefined) {
      throw bad('holdInstruction needs a hold instruction OID')
    }
    return { time, reason: 'certificateHold', holdInstruction: argument }
  }
  if (lower === 'keytime' || lower === 'cakeytime') {
    const invalidityDate = argument?.length === 15 ? timeOrUndefined(argument) : undefined
    if (invalidityDate === undefined) throw bad(`${reasonText} needs a compromise time YYYYMMDDHHMMSSZ`)
    return { time, reason: lower === 'keytime' ? 'keyCompromise' : 'CACompromise', invalidityDate }
  }
  throw bad(`unknown reason '${reasonText}'`)
}
