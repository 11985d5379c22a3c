/**
 * The triggering event, read once from GITHUB_EVENT_NAME / GITHUB_EVENT_PATH into a typed value with
 * only the fields the Action uses, each validated (a payload is data, and for issues and pull requests
 * partly written by whoever opened them).
 */
import { z } from 'zod'
import { CaError } from '../ca/errors.js'

const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a commit id')
const login = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, 'a GitHub login')
const repository = z.object({ full_name: z.string(), default_branch: z.string().min(1) })

const pullRequestPayload = z.object({
  action: z.string(),
  number: z.number().int().positive(),
  pull_request: z.object({
    base: z.object({ sha, ref: z.string() }),
    head: z.object({ sha, repo: z.object({ full_name: z.string() }).nullable() }),
  }),
  repository,
})

const pushPayload = z.object({ ref: z.string(), after: sha, repository })

const issuesPayload = z.object({
  action: z.string(),
  issue: z.object({
    number: z.number().int().positive(),
    title: z.string(),
    body: z.string().nullable(),
    pull_request: z.unknown().optional(),
  }),
  label: z.object({ name: z.string() }).optional(),
  sender: z.object({ login }),
  repository,
})

export type ActionEvent =
  | {
      name: 'pull_request'
      action: string
      number: number
      baseSha: string
      headSha: string
      /** The pull request comes from another repository: its token cannot write. */
      fromFork: boolean
      defaultBranch: string
    }
  | { name: 'push'; ref: string; after: string; defaultBranch: string }
  | {
      name: 'issues'
      action: string
      issue: { number: number; title: string; body: string; isPullRequest: boolean }
      label: string | undefined
      sender: string
      defaultBranch: string
    }
  | { name: 'schedule' | 'workflow_dispatch'; defaultBranch: string | undefined }
  | { name: 'other'; eventName: string }

function parse<T>(schema: z.ZodType<T>, payload: unknown, eventName: string): T {
  const r = schema.safeParse(payload)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new CaError(
      'github.event_invalid',
      `the ${eventName} event payload is not as expected: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}`,
    )
  }
  return r.data
}

export function readEvent(eventName: string, payload: unknown): ActionEvent {
  switch (eventName) {
    case 'pull_request': {
      const p = parse(pullRequestPayload, payload, eventName)
      return {
        name: 'pull_request',
        action: p.action,
        number: p.number,
        baseSha: p.pull_request.base.sha,
        headSha: p.pull_request.head.sha,
        fromFork: p.pull_request.head.repo?.full_name !== p.repository.full_name,
        defaultBranch: p.repository.default_branch,
      }
    }
    case 'push': {
      const p = parse(pushPayload, payload, eventName)
      return { name: 'push', ref: p.ref, after: p.after, defaultBranch: p.repository.default_branch }
    }
    case 'issues': {
      const p = parse(issuesPayload, payload, eventName)
      return {
        name: 'issues',
        action: p.action,
        issue: {
          number: p.issue.number,
          title: p.issue.title,
          body: p.issue.body ?? '',
          isPullRequest: p.issue.pull_request !== undefined,
        },
        label: p.label?.name,
        sender: p.sender.login,
        defaultBranch: p.repository.default_branch,
      }
    }
    case 'schedule':
    case 'workflow_dispatch': {
      const branch = (payload as { repository?: { default_branch?: unknown } } | null)?.repository
        ?.default_branch
      return { name: eventName, defaultBranch: typeof branch === 'string' ? branch : undefined }
    }
    default:
      return { name: 'other', eventName }
  }
}
