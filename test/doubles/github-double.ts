/**
 * A local double of the GitHub REST routes the Action uses, over plain HTTP, for the real Octokit
 * client (GITHUB_API_URL points at it). It answers as the documented contract does (status codes,
 * shapes, `Resource not accessible by integration` for a token that may not write), keeps issues,
 * comments and labels in memory, and records every call for the tests to assert on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  authorization: string | undefined
}

export interface DoubleComment {
  id: number
  body: string
  user: { login: string; type: string }
}

export interface DoubleIssue {
  number: number
  title: string
  body: string
  labels: string[]
  state: 'open' | 'closed'
  state_reason: string | null
  pull_request?: object
}

export interface GitHubDoubleOptions {
  owner: string
  repo: string
  /** role_name by login; anyone else is `none` (404 for a non-collaborator, as GitHub answers). */
  roles?: Record<string, string>
  /** The token may read but not write (a pull request from a fork): writes answer 403. */
  readOnly?: boolean
  /** Login the double records as the author of comments made with the token. */
  botLogin?: string
}

export interface GitHubDouble {
  url: string
  calls: RecordedCall[]
  issues: Map<number, DoubleIssue>
  comments: Map<number, DoubleComment[]>
  /** Pull requests a commit belongs to, by sha. */
  pullsOfCommit: Map<string, Array<{ number: number; title: string; merged_at: string | null }>>
  options: GitHubDoubleOptions
  /** Calls that change something (not GET). */
  writes(): RecordedCall[]
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(body === undefined ? '' : JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? undefined : JSON.parse(text)
}

export async function startGitHubDouble(options: GitHubDoubleOptions): Promise<GitHubDouble> {
  const calls: RecordedCall[] = []
  const issues = new Map<number, DoubleIssue>()
  const comments = new Map<number, DoubleComment[]>()
  const pullsOfCommit = new Map<string, Array<{ number: number; title: string; merged_at: string | null }>>()
  let nextCommentId = 1000
  const bot = { login: options.botLogin ?? 'github-actions[bot]', type: 'Bot' }
  const prefix = `/repos/${options.owner}/${options.repo}`

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://double')
    const body = await readBody(req)
    const method = req.method ?? 'GET'
    calls.push({
      method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: req.headers.authorization,
    })
    if (!req.headers.authorization) return send(res, 401, { message: 'Requires authentication' })
    if (!url.pathname.startsWith(`${prefix}/`)) return send(res, 404, { message: 'Not Found' })
    const path = url.pathname.slice(prefix.length)
    if (method !== 'GET' && options.readOnly) {
      return send(res, 403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
      })
    }
    const b = (body ?? {}) as Record<string, unknown>
    let m: RegExpExecArray | null
    if ((m = /^\/collaborators\/([^/]+)\/permission$/.exec(path)) && method === 'GET') {
      const login = decodeURIComponent(m[1] as string)
      const role = Object.hasOwn(options.roles ?? {}, login) ? options.roles?.[login] : undefined
      if (role === undefined) return send(res, 404, { message: `${login} is not a user` })
      const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role
      return send(res, 200, { permission, role_name: role, user: { login } })
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const n = Number(m[1])
      const list = comments.get(n) ?? []
      if (method === 'GET') return send(res, 200, list)
      if (method === 'POST') {
        const c = { id: nextCommentId++, body: String(b.body), user: bot }
        comments.set(n, [...list, c])
        return send(res, 201, c)
      }
    }
    if ((m = /^\/issues\/comments\/(\d+)$/.exec(path)) && method === 'PATCH') {
      const id = Number(m[1])
      for (const list of comments.values()) {
        const c = list.find((x) => x.id === id)
        if (c) {
          c.body = String(b.body)
          return send(res, 200, c)
        }
      }
      return send(res, 404, { message: 'Not Found' })
    }
    if ((m = /^\/issues\/(\d+)\/labels\/([^/]+)$/.exec(path)) && method === 'DELETE') {
      const issue = issues.get(Number(m[1]))
      const name = decodeURIComponent(m[2] as string)
      if (!issue || !issue.labels.includes(name)) return send(res, 404, { message: 'Label does not exist' })
      issue.labels = issue.labels.filter((l) => l !== name)
      return send(
        res,
        200,
        issue.labels.map((l) => ({ name: l })),
      )
    }
    if ((m = /^\/issues\/(\d+)$/.exec(path)) && method === 'PATCH') {
      const issue = issues.get(Number(m[1]))
      if (!issue) return send(res, 404, { message: 'Not Found' })
      if (typeof b.state === 'string') issue.state = b.state as 'open' | 'closed'
      if (typeof b.state_reason === 'string') issue.state_reason = b.state_reason
      if (typeof b.body === 'string') issue.body = b.body
      if (typeof b.title === 'string') issue.title = b.title
      return send(res, 200, issueJson(issue))
    }
    if (path === '/issues' && method === 'GET') {
      const label = url.searchParams.get('labels')
      const state = url.searchParams.get('state') ?? 'open'
      const list = [...issues.values()].filter(
        (i) => (state === 'all' || i.state === state) && (!label || i.labels.includes(label)),
      )
      return send(res, 200, list.map(issueJson))
    }
    if (path === '/issues' && method === 'POST') {
      const number = Math.max(100, ...issues.keys()) + 1
      const issue: DoubleIssue = {
        number,
        title: String(b.title),
        body: String(b.body ?? ''),
        labels: Array.isArray(b.labels) ? b.labels.map(String) : [],
        state: 'open',
        state_reason: null,
      }
      issues.set(number, issue)
      return send(res, 201, issueJson(issue))
    }
    if ((m = /^\/commits\/([0-9a-f]{40})\/pulls$/.exec(path)) && method === 'GET') {
      return send(
        res,
        200,
        (pullsOfCommit.get(m[1] as string) ?? []).map((p) => ({ ...p, state: 'closed' })),
      )
    }
    return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { message: String(e) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    issues,
    comments,
    pullsOfCommit,
    options,
    writes: () => calls.filter((c) => c.method !== 'GET'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function issueJson(i: DoubleIssue) {
  return { ...i, labels: i.labels.map((name) => ({ name })), user: { login: 'someone' } }
}
