/**
 * `issues: labeled` with the revoke label: the issue form names a certificate (serial, name or
 * certs/<name>.cert.pem) and a reason; the labeller must hold the write, maintain or admin role (the
 * triage role can label too, so a label alone proves nothing) or be in ca.yml's github.revokers.
 * Then revoke, publish the CRL, commit, push, comment and close. On any refusal: comment why, remove
 * the label, change nothing.
 */
import { CaError } from '../ca/errors.js'
import type { RevocationReason } from '../ca/index-revocation.js'
import { loadCa } from '../commands/ca-state.js'
import { REVOCATION_REASONS, revokeCertificate, type RevokeResult } from '../commands/revocation.js'
import { certificatePaths } from '../config/layout.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { commitAndPush, recordingStore } from '../store/git-transaction.js'
import type { StateStore } from '../store/state-store.js'
import { apiStatus } from './github-api.js'
import { logSafe, md } from './markdown.js'
import { transactionOptions, type RunContext } from './run-context.js'

/** Roles that may revoke by label (role_name of the collaborator permission API). */
export const REVOKING_ROLES: readonly string[] = ['write', 'maintain', 'admin']

export type RevocationTarget = { serial: string } | { name: string }

export interface RevocationRequest {
  target: RevocationTarget
  reason: RevocationReason
}

const MAX_BODY = 16 * 1024
/** As sign.ts's requestName allows for requests/<name>.csr.pem. */
const CERTIFICATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/**
 * The issue form's answers: `### <label>` headings, each followed by its value. The certificate field
 * is the one whose label starts with "Certificate" or "Serial", the reason the one starting "Reason".
 */
export function parseRevocationIssue(body: string): RevocationRequest {
  const refuse = (why: string): never => {
    throw new CaError(
      'github.issue_invalid',
      `the issue does not ask for a revocation the Action can act on: ${why}`,
    )
  }
  if (body.length > MAX_BODY) refuse(`the body is longer than ${MAX_BODY} characters`)
  const fields = new Map<string, string>()
  const sections = body
    .replace(/\r\n?/g, '\n')
    .split(/^### +/m)
    .slice(1)
  for (const section of sections) {
    const newline = section.indexOf('\n')
    const label = (newline < 0 ? section : section.slice(0, newline)).trim().toLowerCase()
    const value = newline < 0 ? '' : section.slice(newline + 1).trim()
    const key =
      label.startsWith('certificate') || label.startsWith('serial')
        ? 'certificate'
        : label.startsWith('reason')
          ? 'reason'
          : undefined
    if (key === undefined) continue
    if (fields.has(key)) refuse(`the form has two ${key} fields`)
    fields.set(key, value)
  }
  const certificate = fields.get('certificate')
  const reason = fields.get('reason')
  if (certificate === undefined || certificate === '' || certificate === '_No response_') {
    refuse(
      'the "Certificate" field (a serial in hex, a certificate name or certs/<name>.cert.pem) is empty or missing',
    )
  }
  if (reason === undefined || reason === '' || reason === '_No response_')
    refuse('the "Reason" field is empty or missing')
  const c = certificate as string
  const r = reason as string
  if (!(REVOCATION_REASONS as readonly string[]).includes(r)) {
    refuse(`the reason is not one of ${REVOCATION_REASONS.join(', ')}`)
  }
  let target: RevocationTarget
  // A value of hex digits is a serial; certs/<name>.cert.pem or a bare name is a certificate name.
  // Nothing else: no other path, no spaces, nothing a shell or a file system would read more into.
  if (/^(0x)?[0-9A-Fa-f]{1,40}$/.test(c)) {
    target = { serial: c.replace(/^0x/, '').toUpperCase() }
  } else {
    const name = /^certs\/([^/]+)\.cert\.pem$/.exec(c)?.[1] ?? c
    if (!CERTIFICATE_NAME.test(name)) {
      refuse(
        'the certificate is neither a serial in hex nor a certificate name (letters, digits, ".", "_", "-") or certs/<name>.cert.pem',
      )
    }
    target = { name }
  }
  return { target, reason: r as RevocationReason }
}

export interface RevokeIssueInput {
  issue: { number: number; title: string; body: string; isPullRequest: boolean }
  label: string | undefined
  sender: string
}

export interface RevokeRunResult {
  revoked: RevokeResult | undefined
  commit: string | undefined
}

async function targetOf(store: StateStore, t: RevocationTarget) {
  if ('serial' in t) return { serial: t.serial }
  const file = certificatePaths(t.name).cert
  const pem = await store.read(file)
  if (pem === undefined) {
    throw new CaError(
      'revoke.unknown_serial',
      `there is no certificate named "${t.name}" (${file} does not exist)`,
    )
  }
  return { pem: pem.toString('utf8'), file }
}

export async function runRevokeIssue(ctx: RunContext, input: RevokeIssueInput): Promise<RevokeRunResult> {
  if (input.label !== ctx.revokeLabel || input.issue.isPullRequest) {
    ctx.reporter.info(logSafe(`Nothing to do: the label is not "${ctx.revokeLabel}" on an issue.`))
    return { revoked: undefined, commit: undefined }
  }
  const number = input.issue.number
  try {
    const config = (await loadCa(openDirectoryStore(ctx.caDir))).config
    const role = await roleOf(ctx, input.sender)
    const allowed = REVOKING_ROLES.includes(role) || config.github.revokers.includes(input.sender)
    if (!allowed) {
      throw new CaError(
        'github.not_permitted',
        `@${input.sender} has the ${role} role: revoking needs write, maintain or admin, or a place in ca.yml github.revokers`,
      )
    }
    const request = parseRevocationIssue(input.issue.body)
    const tx = await commitAndPush(transactionOptions(ctx), async () => {
      const { store, written } = recordingStore(openDirectoryStore(ctx.caDir), ctx.caPrefix)
      const result = await revokeCertificate(
        store,
        { side: 'intermediate', target: await targetOf(store, request.target), reason: request.reason },
        ctx.runtime,
      )
      const message = `Revoke ${result.serial} (${request.reason})\n\n${result.subject}\nRequested in #${number} by ${input.sender}; CRL ${result.crl?.crlNumber ?? 'unchanged'}.`
      return { result, message, paths: written() }
    })
    const r = tx.result
    ctx.reporter.info(
      logSafe(`Revoked ${r.serial} (${request.reason}): ${r.subject}; CRL number ${r.crl?.crlNumber ?? '-'}`),
    )
    if (!ctx.dryRun) {
      const body =
        r.outcome === 'unchanged'
          ? `Certificate \`${r.serial}\` (${md(r.subject)}) was already revoked for ${request.reason}: nothing changed.`
          : `Revoked certificate \`${r.serial}\` (${md(r.subject)}), reason **${request.reason}**. ` +
            `The new CRL has number \`${r.crl?.crlNumber ?? '-'}\` (next update ${r.crl?.nextUpdate.toISOString() ?? '-'})` +
            `${tx.commit ? `, commit ${tx.commit.slice(0, 12)}` : ''}.`
      await ctx.api.createComment(number, body)
      await ctx.api.closeIssue(number, 'completed')
    }
    return { revoked: r, commit: tx.commit }
  } catch (e) {
    if (!(e instanceof CaError) || e.code.startsWith('git.') || e.code.startsWith('vault.')) throw e
    if (!ctx.dryRun) await refuseIssue(ctx, number, e)
    throw e
  }
}

async function roleOf(ctx: RunContext, user: string): Promise<string> {
  try {
    return await ctx.api.roleOf(user)
  } catch (e) {
    if (apiStatus(e) === 404) return 'none' // not a collaborator
    throw e
  }
}

async function refuseIssue(ctx: RunContext, number: number, e: CaError): Promise<void> {
  await ctx.api.createComment(
    number,
    `mtls-ca did not revoke anything: ${md(e.message)} \`${e.code}\`\n\nThe label \`${md(ctx.revokeLabel)}\` was removed; fix the issue and apply it again.`,
  )
  await ctx.api.removeLabel(number, ctx.revokeLabel).catch((err: unknown) => {
    if (apiStatus(err) !== 404) throw err
  })
}
