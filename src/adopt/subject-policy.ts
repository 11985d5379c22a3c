/**
 * The subject rules of a CA section: its policy section (`match` / `supplied` / `optional`),
 * `preserve` and `email_in_dn`.
 */
import { CaError } from '../ca/errors.js'
import { at, where, whereIn } from './config-location.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

export interface SubjectRules {
  policy: { field: string; rule: string }[]
  preserveDn: boolean
  emailInDn: boolean
}

export function subjectRules(p: ParsedConfig, role: Role, f: Findings): SubjectRules {
  const { ca } = p
  const fields = ca.policyFields.map((x) => x.field)
  const twice = fields.find((x, i) => fields.indexOf(x) !== i)
  if (fields.length === 0 || twice !== undefined) {
    throw new CaError(
      'adopt.unsupported',
      `${at(p, 'policy')}: policy [${ca.policy}] ${twice ? `names ${twice} twice` : 'is empty'}: ` +
        'mtls-ca needs each field once, and at least one',
      { file: p.source.file },
    )
  }
  const policy = ca.policyFields.map((x) => ({ field: x.field, rule: x.rule }))
  f.map(
    `${role}.policy`,
    ca.policyFields.map((x) => `${x.field}=${x.rule}`).join(', '),
    `${where(p, 'policy')} → [${ca.policy}]`,
  )
  f.map(`${role}.preserveDn`, String(ca.preserve), whereIn(p, 'ca', 'preserve', 'preserve (not set: no)'))
  f.map(`${role}.emailInDn`, String(ca.email_in_dn), where(p, 'email_in_dn', 'email_in_dn (not set: yes)'))
  return { policy, preserveDn: ca.preserve, emailInDn: ca.email_in_dn }
}
