/**
 * `push` to the default branch: sign every pending request, commit certificates and state as one
 * commit naming the requests, serials and the merged pull request, push it as a fast-forward (redone
 * on a lost race, git-transaction.ts), then comment on the merged pull request with each certificate,
 * the chain and how to verify it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signRequests } from '../commands/sign.js'
import { loadCa } from '../commands/ca-state.js'
import { certificatePaths } from '../config/layout.js'
import { formatSan } from '../ca/subject-alt-name.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { commitAndPush, recordingStore } from '../store/git-transaction.js'
import { CaError } from '../ca/errors.js'
import type { PullRequestRef } from './github-api.js'
import { codeBlock, fitComment, logSafe, md, table } from './markdown.js'
import { repoPath, transactionOptions, type RunContext } from './run-context.js'

export interface IssuedSummary {
  name: string
  serial: string
  subject: string
  sans: string[]
  notAfter: string
  certificate: string
  fullchain: string
  notes: string[]
}

export interface MergeRunResult {
  issued: IssuedSummary[]
  commit: string | undefined
  pull: number | undefined
}

async function mergedPull(ctx: RunContext): Promise<PullRequestRef | undefined> {
  try {
    const pulls = await ctx.api.pullsOfCommit(ctx.startHead)
    return pulls.find((p) => p.mergedAt !== undefined) ?? pulls[0]
  } catch (e) {
    // Naming the pull request is a courtesy: the certificates are issued without it.
    if (!(e instanceof CaError) || e.code !== 'github.api_failed') throw e
    ctx.reporter.annotate({ level: 'warning', message: `cannot find the merged pull request: ${e.message}` })
    return undefined
  }
}

export async function runMerge(ctx: RunContext): Promise<MergeRunResult> {
  const pull = await mergedPull(ctx)
  const tx = await commitAndPush(transactionOptions(ctx), async () => {
    const { store, written } = recordingStore(openDirectoryStore(ctx.caDir), ctx.caPrefix)
    const r = await signRequests(store, { csrFiles: [], cwd: ctx.caDir }, ctx.runtime)
    const issued = r.issued.map((c) => ({
      name: c.name,
      serial: c.serialHex,
      subject: c.indexEntry.subject,
      sans: c.sans.map(formatSan),
      notAfter: c.notAfter.toISOString(),
      certificate: repoPath(ctx, certificatePaths(c.name).cert),
      fullchain: repoPath(ctx, certificatePaths(c.name).fullchain),
      notes: c.notes,
    }))
    const subject = `Issue ${issued.length === 1 ? 'a certificate' : `${issued.length} certificates`}: ${issued
      .map((c) => c.name)
      .join(', ')}`
    const lines = issued.map((c) => `- ${c.name}: serial ${c.serial}, until ${c.notAfter}`)
    const message = [subject, '', ...lines, ...(pull ? ['', `Requested in #${pull.number}.`] : [])].join('\n')
    return { result: issued, message, paths: written() }
  })
  const issued = tx.result
  for (const c of issued)
    ctx.reporter.info(logSafe(`Issued ${c.name}: serial ${c.serial}, until ${c.notAfter}`))
  if (issued.length === 0) ctx.reporter.info('Nothing to sign: every request has a certificate.')
  if (tx.commit) ctx.reporter.info(`Pushed ${tx.commit} to ${ctx.branch}`)
  if (issued.length) {
    await ctx.reporter.summary(
      `### mtls-ca: issued ${issued.length} certificate(s)\n\n` +
        table(
          ['name', 'serial', 'subject', 'SANs', 'not after'],
          issued.map((c) => [
            md(c.name),
            `\`${c.serial}\``,
            md(c.subject),
            c.sans.map(md).join('<br>'),
            c.notAfter,
          ]),
        ) +
        '\n',
    )
  }
  if (pull && issued.length && tx.commit && !ctx.dryRun) {
    const body = await issuedComment(ctx, issued, tx.commit)
    try {
      await ctx.api.createComment(pull.number, fitComment(body))
    } catch (e) {
      if (!(e instanceof CaError) || e.code !== 'github.api_failed') throw e
      // The certificates are published; a comment that cannot be made must not hide that.
      ctx.reporter.annotate({
        level: 'warning',
        message: `cannot comment on #${pull.number}: ${(e as Error).message}`,
      })
    }
  }
  return { issued, commit: tx.commit, pull: pull?.number }
}

async function issuedComment(ctx: RunContext, issued: IssuedSummary[], commit: string): Promise<string> {
  const ca = await loadCa(openDirectoryStore(ctx.caDir))
  const root = repoPath(ctx, ca.config.root.certificate)
  const intermediate = repoPath(ctx, ca.config.intermediate.certificate)
  const chain = repoPath(ctx, ca.config.intermediate.chain)
  const parts = [`### mtls-ca issued ${issued.length} certificate(s) in ${commit.slice(0, 12)}`]
  for (const c of issued) {
    const pem = await readFile(join(ctx.git.dir, c.certificate), 'utf8')
    parts.push(
      [
        `#### ${md(c.name)}`,
        `- serial \`${c.serial}\`, subject ${md(c.subject)}, until ${c.notAfter}`,
        c.sans.length ? `- SANs: ${c.sans.map(md).join(', ')}` : '',
        ...c.notes.map((n) => `- note: ${md(n)}`),
        `- files: \`${c.certificate}\` (certificate), \`${c.fullchain}\` (certificate + intermediate), chain \`${chain}\``,
        '',
        '<details><summary>certificate</summary>',
        '',
        codeBlock(pem),
        '',
        '</details>',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    )
  }
  parts.push(
    'Verify a certificate against the root with the intermediate as untrusted:\n\n' +
      codeBlock(
        `git pull\nopenssl verify -x509_strict -CAfile ${root} -untrusted ${intermediate} ${issued[0]?.certificate ?? ''}`,
        'sh',
      ),
  )
  return parts.join('\n\n') + '\n'
}
