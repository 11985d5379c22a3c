/**
 * How long certificates and CRLs are valid: `default_days` for leaves, `default_crl_days` or
 * `default_crl_hours` for CRLs, with the defaults the tutorial's commands gave and mtls-ca's bounds.
 */
import { where } from './config-location.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

const MAX_DAYS = 3650
const MAX_CRL_DAYS = 3650

export function issuanceDays(p: ParsedConfig, f: Findings): number {
  const { ca } = p
  if (ca.default_days === undefined) {
    f.map('issuance.days', '375', `${p.source.file} default_days (not set: the tutorial's -days 375)`)
    return 375
  }
  let days = ca.default_days
  if (days > MAX_DAYS) {
    f.notes.push(
      `${p.source.file}: default_days ${days} is more than mtls-ca issues (${MAX_DAYS}): cut to ${MAX_DAYS}`,
    )
    days = MAX_DAYS
  }
  f.map('issuance.days', String(days), where(p, 'default_days'))
  return days
}

export function crlDays(p: ParsedConfig, role: Role, f: Findings): number {
  const { ca } = p
  let days: number
  let from: string
  if (ca.default_crl_days !== undefined) {
    days = ca.default_crl_days
    from = where(p, 'default_crl_days')
  } else if (ca.default_crl_hours !== undefined) {
    days = Math.max(1, Math.ceil(ca.default_crl_hours / 24))
    from = where(p, 'default_crl_hours')
    if (ca.default_crl_hours % 24 !== 0) {
      f.item(
        p,
        f.unmapped,
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
    f.notes.push(`${p.source.file}: CRL validity of ${days} days cut to ${MAX_CRL_DAYS}`)
    days = MAX_CRL_DAYS
  }
  f.map(`${role}.crl.days`, String(days), from)
  return days
}
