/**
 * `validate`: the whole policy check of named requests, without any key: each request is parsed and
 * checked as `sign` would check it (CSR, key, subject, SANs, profile, days, duplicates, unique subject,
 * already issued) and given a verdict with the certificate's contents and validity as it would be
 * issued. Nothing is signed and nothing is written; the store may be read-only (a commit's tree).
 */
import { CaError } from '../ca/errors.js'
import { checkRequests, type IssuanceRequest } from '../ca/issue.js'
import { formatOneline } from '../ca/distinguished-name.js'
import { formatKeyInfo } from '../ca/key-policy.js'
import { formatSan } from '../ca/subject-alt-name.js'
import { requestPaths } from '../config/layout.js'
import type { StateStore } from '../store/state-store.js'
import { effectiveUniqueSubject, loadCa, loadDatabase } from './ca-state.js'
import { namedRequests } from './sign.js'

export interface AcceptedRequest {
  verdict: 'accepted'
  name: string
  file: string
  subject: string
  sans: string[]
  key: string
  profile: string
  notBefore: Date
  notAfter: Date
  /** notAfter was cut to the intermediate's. */
  clamped: boolean
  notes: string[]
}

export interface RefusedRequest {
  verdict: 'refused'
  name: string
  file: string
  error: CaError
}

export type RequestVerdict = AcceptedRequest | RefusedRequest

/** The verdict on each named request (requests/<name>.csr.pem in `store`), in the order given. */
export async function validateRequests(
  store: StateStore,
  names: readonly string[],
  now: Date,
): Promise<RequestVerdict[]> {
  return store.locked(async () => {
    const ca = await loadCa(store)
    const db = await loadDatabase(store, ca.config.intermediate)
    const verdicts: Array<RequestVerdict | undefined> = names.map(() => undefined)
    const collected = await namedRequests(store, names)
    for (const { position, error } of collected.refusals) {
      const name = names[position] as string
      verdicts[position] = { verdict: 'refused', name, file: requestPaths(name).csr, error }
    }
    const requests = collected.requests.map((request, i) => ({
      at: collected.positions[i] as number,
      request,
    }))
    const outcomes = checkRequests(
      requests.map((r) => r.request),
      { config: ca.config, issuerSubject: ca.intermediate.subject },
    )
    const side = ca.config.intermediate
    const uniqueSubject = effectiveUniqueSubject(db, side.uniqueSubject)
    const subjects = new Set(
      uniqueSubject ? db.index.filter((e) => e.status === 'V').map((e) => e.subject) : [],
    )
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000)
    const issuerNotAfter = ca.intermediate.certificate.notAfter
    for (const [i, { at, request }] of requests.entries()) {
      const c = outcomes[i]
      if (c === undefined || c instanceof CaError) {
        verdicts[at] = {
          verdict: 'refused',
          name: request.name,
          file: request.file,
          error: c ?? unexpected(request),
        }
        continue
      }
      const subject = formatOneline(c.subject)
      if (uniqueSubject && subjects.has(subject)) {
        verdicts[at] = {
          verdict: 'refused',
          name: request.name,
          file: request.file,
          error: new CaError(
            'policy.subject_mismatch',
            `a valid certificate for ${subject} exists and unique_subject is on`,
            { file: request.file },
          ),
        }
        continue
      }
      subjects.add(subject)
      const wanted = new Date(notBefore.getTime() + c.days * 86_400_000)
      const clamped = wanted > issuerNotAfter
      verdicts[at] = {
        verdict: 'accepted',
        name: request.name,
        file: request.file,
        subject,
        sans: c.sans.map(formatSan),
        key: formatKeyInfo(c.key),
        profile: c.profile.name,
        notBefore,
        notAfter: clamped ? issuerNotAfter : wanted,
        clamped,
        notes: clamped
          ? [...c.notes, `validity cut to the intermediate's notAfter ${issuerNotAfter.toISOString()}`]
          : c.notes,
      }
    }
    return verdicts.map((v, i) => v ?? unexpectedVerdict(names[i] as string))
  })
}

function unexpected(request: IssuanceRequest): CaError {
  return new CaError('request.refused', 'the check gave no outcome', { file: request.file })
}

function unexpectedVerdict(name: string): RefusedRequest {
  const file = requestPaths(name).csr
  return { verdict: 'refused', name, file, error: new CaError('request.refused', 'not checked', { file }) }
}
