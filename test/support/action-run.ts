/**
 * Test support: the Action run as the runner runs it — `node <bundle of src/index.ts>` as a child
 * process with GITHUB_EVENT_NAME / _PATH, GITHUB_REPOSITORY, GITHUB_WORKSPACE, GITHUB_API_URL,
 * GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, INPUT_* and a HOME without any git identity — and real webhook
 * payloads from @octokit/webhooks-examples adapted to the scenario.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { bundleForTest } from './bundle.js'
import { tempDir } from './ca-fixture.js'

export const OWNER = 'contoso'
export const REPO = 'pki'

export interface ActionRun {
  status: number | null
  stdout: string
  stderr: string
  summary: string
  outputs: Record<string, string>
}

export interface ActionRunOptions {
  workspace: string
  eventName: string
  payload: unknown
  sha: string
  ref?: string
  apiUrl: string
  inputs?: Record<string, string>
  env?: Record<string, string>
}

/** GITHUB_OUTPUT's heredoc blocks (name<<DELIMITER\nvalue\nDELIMITER) as a record. */
function parseOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of file.matchAll(/^([^\n<]+)<<(.+)\n([\s\S]*?)\n\2$/gm)) out[m[1] as string] = m[3] as string
  return out
}

export async function runAction(o: ActionRunOptions): Promise<ActionRun> {
  const entry = await bundleForTest('src/index.ts')
  const dir = tempDir('mtls-ca-runner-')
  const eventPath = join(dir, 'event.json')
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary.md')
  writeFileSync(eventPath, JSON.stringify(o.payload))
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: tempDir('mtls-ca-home-'), // no .gitconfig: the Action must not need one
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: o.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_API_URL: o.apiUrl,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_SHA: o.sha,
    GITHUB_REF: o.ref ?? 'refs/heads/main',
    'INPUT_GITHUB-TOKEN': 'ghs_test-token',
    ...o.env,
  }
  for (const [k, v] of Object.entries(o.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
  // Asynchronous: the doubles in this process must keep answering while the Action runs.
  const child = spawn(process.execPath, [entry], { env, cwd: o.workspace })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    status,
    stdout,
    stderr,
    summary: readFileSync(summaryFile, 'utf8'),
    outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
  }
}

type Definition = { name: string; examples: Array<Record<string, unknown>> }
const definitions = createRequire(import.meta.url)(
  '@octokit/webhooks-examples/api.github.com/index.json',
) as Definition[]

// Payloads are JSON to adapt field by field; their full types add nothing to a test.
/* eslint-disable @typescript-eslint/no-explicit-any */
/** A deep copy of a real payload of `event` (with `action`, when given). */
export function examplePayload(event: string, action?: string): Record<string, any> {
  const def = definitions.find((d) => d.name === event)
  const example = def?.examples.find((e) => action === undefined || e.action === action)
  if (!example) throw new Error(`no ${event}${action ? `.${action}` : ''} example payload`)
  const copy = structuredClone(example) as Record<string, any>
  copy.repository = { ...copy.repository, full_name: `${OWNER}/${REPO}`, name: REPO, default_branch: 'main' }
  return copy
}

export function pullRequestPayload(o: {
  number: number
  base: string
  head: string
  action?: string
  fork?: boolean
}) {
  const p = examplePayload('pull_request', o.action ?? 'opened')
  p.number = o.number
  p.pull_request.number = o.number
  p.pull_request.base = { ...p.pull_request.base, sha: o.base, ref: 'main' }
  p.pull_request.head = {
    ...p.pull_request.head,
    sha: o.head,
    repo: { ...p.pull_request.head.repo, full_name: o.fork ? `forker/${REPO}` : `${OWNER}/${REPO}` },
  }
  return p
}

export function pushPayload(o: { before: string; after: string; ref?: string }) {
  const p = examplePayload('push')
  return { ...p, ref: o.ref ?? 'refs/heads/main', before: o.before, after: o.after }
}

export function issueLabeledPayload(o: {
  number: number
  body: string
  sender: string
  label?: string
  title?: string
}) {
  const p = examplePayload('issues', 'labeled')
  p.issue = { ...p.issue, number: o.number, body: o.body, title: o.title ?? 'Revoke a certificate' }
  delete p.issue.pull_request
  p.label = { ...p.label, name: o.label ?? 'revoke' }
  p.sender = { ...p.sender, login: o.sender }
  return p
}
/* eslint-enable @typescript-eslint/no-explicit-any */
