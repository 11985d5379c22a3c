/**
 * The issuance pipeline (the shape step-ca uses): parse the CSR → verify its self-signature → check the
 * key, the subject and the SANs against policy → build the certificate from the profile → lint → sign
 * once → record. A batch is all or nothing: every request is checked before anything is signed, and
 * every refusal is reported, not just the first.
 */
import type * as x509 from '@peculiar/x509'
import { CaError } from './errors.js'
import { parseCsr } from './csr.js'
import { formatOneline, type DistinguishedName } from './distinguished-name.js'
import { checkSubjectIdentities } from './identity-policy.js'
import { applySubjectPolicy } from './subject-policy.js'
import { checkSans, normaliseSans } from './san-policy.js'
import { sansFromGeneralNames, sansToGeneralNames, type SanEntry } from './subject-alt-name.js'
import { checkKey, keyUsageFlagsFor, type KeyInfo } from './key-policy.js'
import { resolveProfile, type LeafProfile } from './profiles.js'
import {
  akiExtension,
  authorityInfoAccess,
  basicConstraints,
  crlDistributionPoints,
  extendedKeyUsage,
  keyUsage,
  skiExtension,
  subjectAltName,
  subjectKeyIdentifier,
} from './extensions.js'
import { signCertificate, type CertificateTemplate } from './certificate.js'
import { lintLeaf } from './lint.js'
import type { IndexEntry } from './index-entry.js'
import { formatIndexTime } from './index-time.js'
import { randomSerial, serialToHex } from './serial-number.js'
import type { IssuanceConfig } from './issuance-config.js'
import type { Signer } from './signer.js'

export const MAX_DAYS = 3650

export interface IssuanceRequest {
  /** `<name>` of requests/<name>.csr.pem: names certs/<name>.cert.pem. */
  name: string
  /** Where the CSR came from, for messages. */
  file: string
  csr: Uint8Array | string
  profile?: string
  days?: number
}

export interface Issuer {
  certificate: x509.X509Certificate
  subject: DistinguishedName
  /** SKI of the issuer, hex: becomes the AKI of what it signs. */
  keyId: string
  signer: Signer
}

export interface IssuanceContext {
  config: IssuanceConfig
  issuer: Issuer
  /**
   * Runs the checks of a batch's requests, possibly on other threads (see threads/check-pool.ts).
   * Absent: they run here, one after the other.
   */
  checker?: RequestChecker
  /** index.txt of the issuing CA as it is now. */
  index: readonly IndexEntry[]
  /** Next value of the `serial` file, for CAs in sequential mode. */
  nextSerial: bigint | undefined
  /**
   * Refuse a second valid certificate for a subject. Absent: ca.yml's intermediate.uniqueSubject;
   * the caller passes index.txt.attr's value when that file has one, as openssl ca lets it win.
   */
  uniqueSubject?: boolean
  now: Date
  random: (n: number) => Uint8Array
}

export interface IssuedCertificate {
  name: string
  file: string
  serial: bigint
  serialHex: string
  certificate: x509.X509Certificate
  subject: DistinguishedName
  sans: SanEntry[]
  key: KeyInfo
  profile: string
  notBefore: Date
  notAfter: Date
  /** notAfter was cut to the issuer's notAfter. */
  clamped: boolean
  /** Things the requester should know (ignored CSR extensions, clamping). */
  notes: string[]
  indexEntry: IndexEntry
}

export interface BatchResult {
  issued: IssuedCertificate[]
  /** The whole new index (old entries + new lines, in issue order). */
  index: IndexEntry[]
  /** The next serial for sequential CAs (unchanged for random serials). */
  nextSerial: bigint | undefined
}

/**
 * A request that passed every check, with what issuance needs from it. Plain data (no class instances,
 * no key objects), so a worker thread can hand it back whole.
 */
export interface Checked {
  request: IssuanceRequest
  /** DER SubjectPublicKeyInfo of the CSR. */
  spki: Uint8Array
  key: KeyInfo
  profile: LeafProfile
  subject: DistinguishedName
  sans: SanEntry[]
  days: number
  notes: string[]
}

/** What the checks of one request need: the CA's configuration and the issuer's name. */
export interface CheckPolicy {
  config: IssuanceConfig
  issuerSubject: DistinguishedName
}

/** One request's result: checked, or refused with its reason (already naming the file). */
export type CheckOutcome = Checked | CaError

/** Checks many requests, in order; resolves with one outcome per request and never rejects for a refusal. */
export type RequestChecker = (
  requests: readonly IssuanceRequest[],
  policy: CheckPolicy,
) => Promise<CheckOutcome[]>

/** The checker that runs on this thread. */
export function checkRequests(requests: readonly IssuanceRequest[], policy: CheckPolicy): CheckOutcome[] {
  return requests.map((request) => {
    try {
      return checkRequest(request, policy)
    } catch (e) {
      if (e instanceof CaError) return e
      throw e
    }
  })
}

/** Checks one request against policy; throws a CaError naming the file. */
export function checkRequest(request: IssuanceRequest, policy: CheckPolicy): Checked {
  try {
    const { config } = policy
    const csr = parseCsr(request.csr)
    const key = csr.key
    checkKey(key, config.issuance.keys)
    const profile = resolveProfile(request.profile ?? config.issuance.profile, config)
    const days = request.days ?? profile.days ?? config.issuance.days
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
      throw new CaError(
        'policy.days_invalid',
        `days must be a whole number from 1 to ${MAX_DAYS}, not ${days}`,
      )
    }
    const side = config.intermediate
    const subject = applySubjectPolicy(csr.subject, policy.issuerSubject, side.policy, {
      preserve: side.preserveDn,
      emailInDn: side.emailInDn,
    })
    const subjectNames = checkSubjectIdentities(subject, {
      sans: config.issuance.sans,
      profileSans: profile.sans,
      profileName: profile.name,
      server: profile.server,
      copyCommonName: profile.copyCommonName,
    })
    let sans = csr.requestedSan ? sansFromGeneralNames(csr.requestedSan) : []
    if (profile.copyCommonName) sans = [...subjectNames, ...sans]
    sans = normaliseSans(sans)
    checkSans(sans, config.issuance.sans, profile.sans)
    if (profile.requireSan && sans.length === 0) {
      throw new CaError(
        'policy.san_required',
        `a ${profile.name} certificate needs a SAN: put a DNS name in the CN or ask for subjectAltName`,
      )
    }
    const notes = csr.ignoredRequests.map(
      (e) => `the CSR asked for ${e}: ignored, the ${profile.name} profile decides`,
    )
    return { request, spki: csr.spki, key, profile, subject, sans, days, notes }
  } catch (e) {
    throw e instanceof CaError ? e.withFile(request.file) : e
  }
}

/**
 * Checks every request, then signs them all. Throws without signing anything when any request is
 * refused; the error's details list every refusal.
 */
export async function issueBatch(
  requests: readonly IssuanceRequest[],
  ctx: IssuanceContext,
): Promise<BatchResult> {
  if (requests.length === 0) throw new CaError('request.none', 'there is nothing to sign')
  const refusals: CaError[] = []
  const checked: Checked[] = []
  const names = new Set<string>()
  const uniqueSubject = ctx.uniqueSubject ?? ctx.config.intermediate.uniqueSubject
  const subjects = new Set(
    uniqueSubject ? ctx.index.filter((e) => e.status === 'V').map((e) => e.subject) : [],
  )
  const policy: CheckPolicy = { config: ctx.config, issuerSubject: ctx.issuer.subject }
  const outcomes = ctx.checker ? await ctx.checker(requests, policy) : checkRequests(requests, policy)
  for (const [i, request] of requests.entries()) {
    try {
      if (names.has(request.name)) {
        throw new CaError('request.duplicate_name', `two requests are named "${request.name}"`, {
          file: request.file,
        })
      }
      names.add(request.name)
      const c = outcomes[i]
      if (c === undefined) throw new Error(`the checker returned no outcome for ${request.file}`)
      if (c instanceof CaError) throw c
      if (uniqueSubject) {
        const oneline = formatOneline(c.subject)
        if (subjects.has(oneline)) {
          throw new CaError(
            'policy.subject_mismatch',
            `a valid certificate for ${oneline} exists and unique_subject is on (index.txt.attr or ca.yml ` +
              'intermediate.uniqueSubject says yes): revoke that certificate first',
            {
              file: request.file,
            },
          )
        }
        subjects.add(oneline)
      }
      checked.push(c)
    } catch (e) {
      if (!(e instanceof CaError)) throw e
      refusals.push(e)
    }
  }
  if (refusals.length === 1) throw refusals[0] as CaError
  if (refusals.length > 1) {
    throw new CaError(
      'request.refused',
      `${refusals.length} of ${requests.length} requests were refused; nothing was issued`,
      {
        details: refusals,
      },
    )
  }

  const serials = allocateSerials(checked.length, ctx)
  const issuerNotAfter = ctx.issuer.certificate.notAfter
  const notBefore = new Date(Math.floor(ctx.now.getTime() / 1000) * 1000)
  const shared = batchExtensions(ctx)
  const templates = checked.map((c, i) => {
    const wanted = new Date(notBefore.getTime() + c.days * 86_400_000)
    const clamped = wanted > issuerNotAfter
    const notAfter = clamped ? issuerNotAfter : wanted
    const template = leafTemplate(c, serials[i] as bigint, notBefore, notAfter, ctx, shared)
    lintLeaf(template, { issuerNotAfter, requireSan: c.profile.requireSan })
    const notes = clamped
      ? [...c.notes, `validity cut to the intermediate's notAfter ${issuerNotAfter.toISOString()}`]
      : c.notes
    return { c, template, clamped, notes }
  })

  const certificates = await Promise.all(templates.map((t) => signCertificate(t.template, ctx.issuer.signer)))

  const issued = templates.map((t, i): IssuedCertificate => {
    const serial = t.template.serial
    const serialHex = serialToHex(serial)
    return {
      name: t.c.request.name,
      file: t.c.request.file,
      serial,
      serialHex,
      certificate: certificates[i] as x509.X509Certificate,
      subject: t.template.subject,
      sans: t.c.sans,
      key: t.c.key,
      profile: t.c.profile.name,
      notBefore: t.template.notBefore,
      notAfter: t.template.notAfter,
      clamped: t.clamped,
      notes: t.notes,
      indexEntry: {
        status: 'V',
        expiry: formatIndexTime(t.template.notAfter),
        revocation: '',
        serial: serialHex,
        file: 'unknown',
        subject: formatOneline(t.template.subject),
      },
    }
  })
  const nextSerial =
    ctx.config.intermediate.serials === 'sequential' && ctx.nextSerial !== undefined
      ? ctx.nextSerial + BigInt(issued.length)
      : ctx.nextSerial
  return { issued, index: [...ctx.index, ...issued.map((i) => i.indexEntry)], nextSerial }
}

function allocateSerials(count: number, ctx: IssuanceContext): bigint[] {
  const used = new Set(ctx.index.map((e) => BigInt(`0x${e.serial}`)))
  const out: bigint[] = []
  if (ctx.config.intermediate.serials === 'sequential') {
    if (ctx.nextSerial === undefined) {
      throw new CaError('state.missing', 'this CA uses sequential serials but has no serial file')
    }
    for (let i = 0; i < count; i++) {
      const s = ctx.nextSerial + BigInt(i)
      if (used.has(s)) throw new CaError('state.conflict', `serial ${serialToHex(s)} is already in index.txt`)
      out.push(s)
    }
    return out
  }
  while (out.length < count) {
    const s = randomSerial(ctx.random)
    if (used.has(s)) continue // 2^-159: never in practice, but never reuse a serial
    used.add(s)
    out.push(s)
  }
  return out
}

/**
 * The extensions every certificate of a batch shares (issue #5: built once per batch, not once per
 * certificate). Extension objects are immutable, so the same ones go into every template.
 */
interface BatchExtensions {
  basic: x509.Extension
  aki: x509.Extension
  cdp: x509.Extension | undefined
  aia: x509.Extension | undefined
  eku: Map<string, x509.Extension>
  keyUsage: Map<string, x509.Extension>
}

function batchExtensions(ctx: IssuanceContext): BatchExtensions {
  const { issuance } = ctx.config
  return {
    basic: basicConstraints(false),
    aki: akiExtension(ctx.issuer.keyId),
    cdp: crlDistributionPoints(issuance.crlUrls),
    aia: authorityInfoAccess(issuance.ocspUrls, issuance.caIssuersUrls),
    eku: new Map(),
    keyUsage: new Map(),
  }
}

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key)
  if (v === undefined) {
    v = make()
    map.set(key, v)
  }
  return v
}

function leafTemplate(
  c: Checked,
  serial: bigint,
  notBefore: Date,
  notAfter: Date,
  ctx: IssuanceContext,
  shared: BatchExtensions = batchExtensions(ctx),
): CertificateTemplate {
  const usages = c.profile.keyUsage ?? keyUsageFlagsFor(c.key)
  const ekus = c.profile.extendedKeyUsage
  const extensions = [
    shared.basic,
    cached(shared.keyUsage, typeof usages === 'number' ? `#${usages}` : usages.join(','), () =>
      keyUsage(usages),
    ),
    cached(shared.eku, ekus.join(','), () => extendedKeyUsage(ekus)),
    skiExtension(subjectKeyIdentifier(c.spki)),
    shared.aki,
  ]
  if (c.sans.length) extensions.push(subjectAltName(sansToGeneralNames(c.sans)))
  if (shared.cdp) extensions.push(shared.cdp)
  if (shared.aia) extensions.push(shared.aia)
  return {
    serial,
    subject: c.subject,
    issuer: ctx.issuer.subject,
    notBefore,
    notAfter,
    spki: c.spki,
    extensions,
  }
}
