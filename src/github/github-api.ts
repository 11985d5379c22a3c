/**
 * The GitHubApi port: the few REST calls the Action makes, as plain methods on one repository. The
 * Octokit adapter (octokit-api.ts) implements it; a refusal from GitHub is a `github.api_failed`
 * CaError carrying the HTTP status, so callers can tell "this token may not comment" (403) apart.
 */
import { CaError } from '../ca/errors.js'

export interface IssueComment {
  id: number
  body: string
  /** Login of the author. */
  author: string | undefined
}

export interface PullRequestRef {
  number: number
  mergedAt: string | undefined
  title: string
}

export interface IssueRef {
  number: number
  title: string
  body: string
}

export interface GitHubApi {
  /** `role_name` of a user on the repository: admin, maintain, write, triage, read, none or a custom role. */
  roleOf(user: string): Promise<string>
  listComments(issue: number): Promise<IssueComment[]>
  createComment(issue: number, body: string): Promise<void>
  updateComment(id: number, body: string): Promise<void>
  removeLabel(issue: number, label: string): Promise<void>
  closeIssue(issue: number, reason: 'completed' | 'not_planned'): Promise<void>
  /** The pull requests a commit belongs to (for a merge commit: the merged pull request). */
  pullsOfCommit(sha: string): Promise<PullRequestRef[]>
  /** Open issues carrying a label. */
  openIssuesWithLabel(label: string): Promise<IssueRef[]>
  createIssue(title: string, body: string, labels: string[]): Promise<number>
  updateIssue(issue: number, changes: { body?: string; title?: string }): Promise<void>
}

/** The HTTP status of a `github.api_failed` error, if it is one. */
export function apiStatus(e: unknown): number | undefined {
  if (!(e instanceof CaError) || e.code !== 'github.api_failed') return undefined
  const m = /^GitHub answered (\d{3})/.exec(e.message)
  return m ? Number(m[1]) : undefined
}
