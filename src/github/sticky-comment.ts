/**
 * One comment per purpose on an issue or pull request, updated rather than repeated: it is found by a
 * hidden marker on its first line, and only among comments made by a bot (a person who pastes the
 * marker into their own comment does not get it overwritten).
 */
import type { GitHubApi } from './github-api.js'
import { fitComment } from './markdown.js'

export function marker(kind: string): string {
  return `<!-- mtls-ca:${kind} -->`
}

export async function upsertComment(
  api: GitHubApi,
  issue: number,
  kind: string,
  body: string,
): Promise<'created' | 'updated'> {
  const tag = marker(kind)
  const full = fitComment(`${tag}\n${body}`)
  const existing = (await api.listComments(issue)).find(
    (c) => c.body.startsWith(tag) && (c.author?.endsWith('[bot]') ?? false),
  )
  if (existing) {
    await api.updateComment(existing.id, full)
    return 'updated'
  }
  await api.createComment(issue, full)
  return 'created'
}
