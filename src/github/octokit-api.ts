/**
 * GitHubApi over `@actions/github`'s Octokit: any token works (the workflow's GITHUB_TOKEN, a GitHub
 * App's installation token). Every failure becomes `github.api_failed` naming the call and the status.
 */
import { getOctokit } from '@actions/github'
import { CaError } from '../ca/errors.js'
import type { GitHubApi } from './github-api.js'

export interface OctokitApiOptions {
  token: string
  owner: string
  repo: string
  /** GITHUB_API_URL (https://api.github.com, or a GHES /api/v3 URL). */
  baseUrl: string
}

export function octokitApi(options: OctokitApiOptions): GitHubApi {
  const octokit = getOctokit(options.token, { baseUrl: options.baseUrl })
  const repo = { owner: options.owner, repo: options.repo }
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (cause) {
      const status = (cause as { status?: unknown }).status
      const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
      throw new CaError(
        'github.api_failed',
        `GitHub answered ${typeof status === 'number' ? status : 'with an error'} to ${what}: ${message}`,
        { cause },
      )
    }
  }
  return {
    roleOf: (user) =>
      call(`the permission of ${user}`, async () => {
        const r = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: user })
        return r.data.role_name
      }),
    listComments: (issue) =>
      call(`the comments of #${issue}`, async () => {
        const all = await octokit.paginate(octokit.rest.issues.listComments, {
          ...repo,
          issue_number: issue,
          per_page: 100,
        })
        return all.map((c) => ({ id: c.id, body: c.body ?? '', author: c.user?.login }))
      }),
    createComment: (issue, body) =>
      call(`a comment on #${issue}`, async () => {
        await octokit.rest.issues.createComment({ ...repo, issue_number: issue, body })
      }),
    updateComment: (id, body) =>
      call(`an update of comment ${id}`, async () => {
        await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body })
      }),
    removeLabel: (issue, label) =>
      call(`removing the label ${label} from #${issue}`, async () => {
        await octokit.rest.issues.removeLabel({ ...repo, issue_number: issue, name: label })
      }),
    closeIssue: (issue, reason) =>
      call(`closing #${issue}`, async () => {
        await octokit.rest.issues.update({
          ...repo,
          issue_number: issue,
          state: 'closed',
          state_reason: reason,
        })
      }),
    pullsOfCommit: (sha) =>
      call(`the pull requests of ${sha.slice(0, 12)}`, async () => {
        const r = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha })
        return r.data.map((p) => ({ number: p.number, mergedAt: p.merged_at ?? undefined, title: p.title }))
      }),
    openIssuesWithLabel: (label) =>
      call(`the open issues labelled ${label}`, async () => {
        const all = await octokit.paginate(octokit.rest.issues.listForRepo, {
          ...repo,
          labels: label,
          state: 'open',
          per_page: 100,
        })
        return all
          .filter((i) => i.pull_request === undefined)
          .map((i) => ({ number: i.number, title: i.title, body: i.body ?? '' }))
      }),
    createIssue: (title, body, labels) =>
      call('creating an issue', async () => {
        const r = await octokit.rest.issues.create({ ...repo, title, body, labels })
        return r.data.number
      }),
    updateIssue: (issue, changes) =>
      call(`updating #${issue}`, async () => {
        await octokit.rest.issues.update({ ...repo, issue_number: issue, ...changes })
      }),
  }
}
