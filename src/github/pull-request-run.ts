/**
 * The pull_request run: validate (pull-request.ts), then report the same verdicts three ways — one
 * sticky PR comment, the job summary and file annotations — and fail the check on any refusal. A
 * token that may not comment (a pull request from a fork) is not a failure: the summary and the
 * annotations still carry the report, and the verdict is the same.
 */
import { CaError } from '../ca/errors.js'
import type { RequestVerdict } from '../commands/validate.js'
import { apiStatus } from './github-api.js'
import { md, table } from './markdown.js'
import { validatePullRequest, type PullRequestReport } from './pull-request.js'
import { repoPath, type RunContext } from './run-context.js'
import { upsertComment } from './sticky-comment.js'
import { logSafe } from './markdown.js'

export const PR_COMMENT = 'pull-request'

function day(d: Date): string {
  return d.toISOString().slice(0, 10)
}

function row(ctx: RunContext, r: RequestVerdict): string[] {
  const file = md(repoPath(ctx, r.file))
  if (r.verdict === 'refused')
    return [file, '', '', '', '', '', `❌ ${md(r.error.message)} \`${r.error.code}\``]
  const validity = `${day(r.notBefore)} → ${day(r.notAfter)}${r.clamped ? ' (cut to the intermediate)' : ''}`
  const notes = r.notes.length ? `<br>${r.notes.map(md).join('<br>')}` : ''
  return [
    file,
    md(r.subject),
    r.sans.map(md).join('<br>') || '—',
    md(r.key),
    md(r.profile),
    validity,
    `✅ accepted${notes}`,
  ]
}

export function renderPullRequestReport(ctx: RunContext, report: PullRequestReport): string {
  const parts: string[] = []
  parts.push(
    report.ok
      ? '### ✅ mtls-ca: the requests pass the policy'
      : '### ❌ mtls-ca: this pull request cannot be merged as it is',
  )
  parts.push(`Judged by \`ca.yml\` of the base commit \`${report.base.slice(0, 12)}\`, without any CA key.`)
  if (report.requests.length) {
    parts.push(
      table(
        ['file', 'subject', 'SANs', 'key', 'profile', 'validity as it will be issued', 'verdict'],
        report.requests.map((r) => row(ctx, r)),
      ),
    )
  } else {
    parts.push('No certificate request (`requests/<name>.csr.pem`) is added or changed.')
  }
  if (report.refusals.length) {
    parts.push('**Refused changes**')
    parts.push(report.refusals.map((e) => `- ${md(e.file ?? '')}: ${md(e.message)} \`${e.code}\``).join('\n'))
  }
  if (report.policyChanges.length) {
    parts.push(
      '**Policy change — needs an owner’s review** (this run judged the requests by the base branch’s policy)',
    )
    parts.push(report.policyChanges.map((f) => `- ${md(f)}`).join('\n'))
  }
  return parts.join('\n\n') + '\n'
}

export interface PullRequestRunInput {
  number: number
  baseSha: string
  headSha: string
  fromFork: boolean
}

export async function runPullRequest(ctx: RunContext, pr: PullRequestRunInput): Promise<PullRequestReport> {
  const report = await validatePullRequest({
    git: ctx.git,
    baseSha: pr.baseSha,
    headSha: pr.headSha,
    caPrefix: ctx.caPrefix,
    now: ctx.runtime.now(),
  })
  for (const r of report.requests) {
    if (r.verdict === 'accepted') {
      ctx.reporter.info(
        logSafe(`accepted ${repoPath(ctx, r.file)}: ${r.subject}, until ${r.notAfter.toISOString()}`),
      )
    } else {
      ctx.reporter.annotate({
        level: 'error',
        message: `${r.error.message} [${r.error.code}]`,
        file: repoPath(ctx, r.file),
        title: r.error.code,
      })
    }
  }
  for (const e of report.refusals) {
    ctx.reporter.annotate({
      level: 'error',
      message: `${e.message} [${e.code}]`,
      file: e.file,
      title: e.code,
    })
  }
  for (const f of report.policyChanges) {
    ctx.reporter.annotate({
      level: 'warning',
      message:
        'a change to the policy or the workflows: it needs an owner’s review; this run judged by the base branch',
      file: f,
      title: 'policy change',
    })
  }
  const body = renderPullRequestReport(ctx, report)
  await ctx.reporter.summary(body)
  if (!ctx.dryRun) {
    try {
      await upsertComment(ctx.api, pr.number, PR_COMMENT, body)
    } catch (e) {
      // A fork's token is read-only: the summary and annotations carry the report instead.
      if (apiStatus(e) !== 403) throw e
      ctx.reporter.annotate({
        level: 'notice',
        message: `The token may not comment on #${pr.number}${pr.fromFork ? ' (a pull request from a fork)' : ''}: the report is in the job summary.`,
      })
    }
  }
  if (!report.ok) {
    const count = report.requests.filter((r) => r.verdict === 'refused').length + report.refusals.length
    throw new CaError(
      'request.refused',
      `${count} problem(s) in pull request #${pr.number}: see the report`,
      {
        details: [
          ...report.requests.flatMap((r) => (r.verdict === 'refused' ? [r.error] : [])),
          ...report.refusals,
        ],
      },
    )
  }
  return report
}
