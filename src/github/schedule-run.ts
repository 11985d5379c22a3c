/**
 * `schedule` and `workflow_dispatch`: renew the CRL when its nextUpdate is within ca.yml's
 * github.crlRenewalDays (or always, when forced), committing only when something changed; and report
 * the certificates that expire within github.expiryWarningDays in the job summary and in one tracking
 * issue, updated rather than repeated (closed when nothing is about to expire).
 */
import { parseCrlPem } from '../ca/crl-reading.js'
import { loadCa, readText } from '../commands/ca-state.js'
import { listCertificates, type ListedCertificate } from '../commands/list.js'
import { generateCrl, type CrlResult } from '../commands/revocation.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { commitAndPush, recordingStore } from '../store/git-transaction.js'
import type { StateStore } from '../store/state-store.js'
import { fitComment, md, table } from './markdown.js'
import { transactionOptions, type RunContext } from './run-context.js'
import { marker } from './sticky-comment.js'

export const EXPIRY_LABEL = 'mtls-ca-expiry'
const EXPIRY_MARKER = marker('expiry-report')

export interface CrlRunResult {
  crl: CrlResult | undefined
  commit: string | undefined
  /** Why the CRL was or was not renewed. */
  reason: string
}

/** When the CRL now published must be renewed, or undefined when it need not be yet. */
async function renewalDue(store: StateStore, now: Date): Promise<string | undefined> {
  const ca = await loadCa(store)
  const crl = ca.config.intermediate.crl
  const pem = await readText(store, crl.file)
  if (pem === undefined) return `${crl.file} does not exist`
  let nextUpdate: Date | undefined
  try {
    nextUpdate = parseCrlPem(pem).nextUpdate
  } catch {
    return `${crl.file} cannot be read`
  }
  if (nextUpdate === undefined) return `${crl.file} has no nextUpdate`
  const margin = ca.config.github.crlRenewalDays * 86_400_000
  if (nextUpdate.getTime() - now.getTime() <= margin) {
    return `its nextUpdate ${nextUpdate.toISOString()} is within ${ca.config.github.crlRenewalDays} days`
  }
  return undefined
}

export async function runCrlRenewal(ctx: RunContext, force: boolean): Promise<CrlRunResult> {
  const tx = await commitAndPush<{ crl: CrlResult | undefined; reason: string }>(
    transactionOptions(ctx),
    async () => {
      const { store, written } = recordingStore(openDirectoryStore(ctx.caDir), ctx.caPrefix)
      // Decided on each attempt: after a lost race, the run that won may have renewed it already.
      const due = force
        ? 'a renewal was asked for'
        : await store.locked(() => renewalDue(store, ctx.runtime.now()))
      if (due === undefined) return { result: { crl: undefined, reason: 'not due' }, message: '', paths: [] }
      const crl = await generateCrl(store, { side: 'intermediate' }, ctx.runtime)
      return {
        result: { crl, reason: due },
        message: `Renew the CRL: number ${crl.crlNumber}, next update ${crl.nextUpdate.toISOString()}\n\n${due}.`,
        paths: written(),
      }
    },
  )
  const { crl, reason } = tx.result
  ctx.reporter.info(
    crl ? `Renewed the CRL (${reason}): number ${crl.crlNumber}` : 'The CRL is not due for renewal.',
  )
  await ctx.reporter.summary(
    crl
      ? `### mtls-ca: CRL renewed\n\nNumber \`${crl.crlNumber}\`, ${crl.revoked} revoked, next update ${crl.nextUpdate.toISOString()} (${md(reason)}).\n`
      : '### mtls-ca: the CRL is not due for renewal\n',
  )
  return { crl, commit: tx.commit, reason }
}

export interface ExpiryReport {
  expiring: ListedCertificate[]
  days: number
  issue: number | undefined
}

export async function runExpiryReport(ctx: RunContext): Promise<ExpiryReport> {
  const store = openDirectoryStore(ctx.caDir)
  const now = ctx.runtime.now()
  const days = (await loadCa(store)).config.github.expiryWarningDays
  const limit = now.getTime() + days * 86_400_000
  const expiring = (await listCertificates(store, now))
    .filter((c) => c.status === 'valid' && new Date(c.notAfter).getTime() <= limit)
    .sort((a, b) => a.notAfter.localeCompare(b.notAfter))
  const body = expiring.length
    ? `${expiring.length} valid certificate(s) expire within ${days} days:\n\n` +
      table(
        ['name', 'serial', 'subject', 'not after'],
        expiring.map((c) => [md(c.name ?? '—'), `\`${c.serial}\``, md(c.subject), c.notAfter]),
      ) +
      '\n\nRenew each with a pull request adding a new `requests/<name>.csr.pem`.\n'
    : `No valid certificate expires within ${days} days.\n`
  await ctx.reporter.summary(`### mtls-ca: certificates expiring soon\n\n${body}`)
  ctx.reporter.info(`${expiring.length} certificate(s) expire within ${days} days`)
  if (ctx.dryRun) return { expiring, days, issue: undefined }
  const existing = (await ctx.api.openIssuesWithLabel(EXPIRY_LABEL)).find((i) =>
    i.body.startsWith(EXPIRY_MARKER),
  )
  const full = fitComment(`${EXPIRY_MARKER}\n${body}\n_Updated ${now.toISOString()} by the scheduled run._\n`)
  if (existing) {
    await ctx.api.updateIssue(existing.number, { body: full })
    if (expiring.length === 0) await ctx.api.closeIssue(existing.number, 'completed')
    return { expiring, days, issue: existing.number }
  }
  if (expiring.length === 0) return { expiring, days, issue: undefined }
  const issue = await ctx.api.createIssue('Certificates expiring soon', full, [EXPIRY_LABEL])
  return { expiring, days, issue }
}
