/**
 * pull_request, as the runner runs the Action: every request the pull request adds is checked by the
 * base branch's ca.yml without any key (the checkout has none), reported in one sticky comment, the job
 * summary and annotations; any refusal fails the check. Real payloads, a real bare remote, the real
 * Octokit client against the local GitHub double.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify as stringifyYaml, parse as parseYaml } from 'yaml'
import { cleanupTempDirs } from './support/ca-fixture.js'
import { startGitHubDouble, type GitHubDouble } from './doubles/github-double.js'
import { pullRequestPayload, runAction, OWNER, REPO } from './support/action-run.js'
import { caRemote, csrFor, pullRequestCheckout, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

let ca: CaRemote
let github: GitHubDouble
beforeAll(async () => {
  ca = await caRemote()
})
beforeEach(async () => {
  github = await startGitHubDouble({ owner: OWNER, repo: REPO })
})
afterEach(async () => github.close())

function runPr(
  pr: { dir: string; base: string; sha: string; head: string },
  number = 7,
  extra: { fork?: boolean; action?: string } = {},
) {
  return runAction({
    workspace: pr.dir,
    eventName: 'pull_request',
    payload: pullRequestPayload({ number, base: pr.base, head: pr.head, ...extra }),
    sha: pr.sha,
    ref: `refs/pull/${number}/merge`,
    apiUrl: github.url,
  })
}

it('good and bad CSRs: one comment, a summary table, annotations on the bad file, a failed check', async () => {
  const pr = pullRequestCheckout(ca, {
    'requests/good.csr.pem': csrFor('good'),
    'requests/good.yml': 'days: 90\n',
    'requests/outside.csr.pem': csrFor('outside', ['DNS:outside.example.org']),
  })
  const r = await runPr(pr)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(
    /^::error title=policy\.san_not_allowed,file=requests\/outside\.csr\.pem::.*outside\.example\.org/m,
  )
  expect(r.stdout).not.toMatch(/file=requests\/good/)
  expect(r.summary).toContain(
    '| file | subject | SANs | key | profile | validity as it will be issued | verdict |',
  )
  // Markdown-escaped text renders as the plain text
  expect(r.summary).toContain(
    '| requests/good\\.csr\\.pem | /CN\\=good\\.example\\.com | DNS\\:good\\.example\\.com | EC P\\-256 | server |',
  )
  const comments = github.comments.get(7) ?? []
  expect(comments).toHaveLength(1)
  expect(comments[0]?.body).toContain('<!-- mtls-ca:pull-request -->')
  expect(comments[0]?.body).toContain('policy.san_not_allowed')
  // validity as it will be issued: 90 days from today
  const until = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10)
  expect(comments[0]?.body).toContain(`→ ${until}`)
  // the token went to the API, and nothing but the comment was written
  expect(github.calls.every((c) => c.authorization === 'token ghs_test-token')).toBe(true)
  expect(github.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
    `POST /repos/${OWNER}/${REPO}/issues/7/comments`,
  ])
})

it('a later push to the pull request updates the same comment', async () => {
  const pr = pullRequestCheckout(ca, { 'requests/again.csr.pem': csrFor('again') })
  expect((await runPr(pr, 8)).status).toBe(0)
  expect((await runPr(pr, 8, { action: 'synchronize' })).status).toBe(0)
  expect(github.comments.get(8)).toHaveLength(1)
  expect(github.writes().map((c) => c.method)).toEqual(['POST', 'PATCH'])
  expect(github.comments.get(8)?.[0]?.body).toContain('✅ mtls-ca: the requests pass the policy')
})

it('a pull request that widens ca.yml to let its own CSR pass is judged by the base policy', async () => {
  const config = parseYaml(readFileSync(join(ca.seed, 'ca.yml'), 'utf8')) as {
    issuance: { sans: { dns: string[] } }
  }
  config.issuance.sans.dns.push('.evil.example.net')
  const pr = pullRequestCheckout(
    ca,
    {
      'ca.yml': stringifyYaml(config),
      'requests/evil.csr.pem': csrFor('evil', ['DNS:www.evil.example.net']),
    },
    { merge: true },
  )
  const r = await runPr(pr, 9)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error title=policy\.san_not_allowed,file=requests\/evil\.csr\.pem::/)
  expect(r.stdout).toMatch(/::warning title=policy change,file=ca\.yml::/)
  expect(r.summary).toContain('Policy change — needs an owner’s review')
})

it.each([
  [
    'index.txt',
    { 'intermediateCA/index.txt': 'V\t491231235959Z\t\t01\tunknown\t/CN=forged\n' },
    'intermediateCA/index.txt',
  ],
  ['serial', { 'intermediateCA/serial': 'DEAD00\n' }, 'intermediateCA/serial'],
  ['a certificate', { 'certs/forged.cert.pem': 'x\n' }, 'certs/forged.cert.pem'],
  ['newcerts/', { 'intermediateCA/newcerts/01.pem': 'x\n' }, 'intermediateCA/newcerts/01.pem'],
  [
    'the CRL',
    { 'intermediateCA/crl/intermediate.crl.pem': 'x\n' },
    'intermediateCA/crl/intermediate.crl.pem',
  ],
  ['a stray file in requests/', { 'requests/run.sh': 'echo\n' }, 'requests/run.sh'],
  ['the store’s own folder', { '.mtls-ca/journal/commit.json': '{}\n' }, '.mtls-ca/journal/commit.json'],
  [
    'a key file',
    { 'intermediateCA/private/intermediate.key.pem': 'x\n' },
    'intermediateCA/private/intermediate.key.pem',
  ],
])('a pull request that changes %s fails', async (_what, files, file) => {
  const pr = pullRequestCheckout(ca, { ...files, 'requests/fine.csr.pem': csrFor('fine') })
  const r = await runPr(pr, 10)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(
    new RegExp(`::error title=github\\.pr_refused,file=${file.replace(/[./]/g, '\\$&')}::`),
  )
  expect(github.comments.get(10)?.[0]?.body).toContain('Refused changes')
})

it('an oversized request file is refused before it is read', async () => {
  const pr = pullRequestCheckout(ca, { 'requests/huge.csr.pem': Buffer.alloc(5 * 1024 * 1024, 0x41) })
  const r = await runPr(pr, 16)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(
    /::error title=csr\.too_large,file=requests\/huge\.csr\.pem::the file is 5242880 bytes/,
  )
})

it('a symlink is refused, and never read', async () => {
  const { symlinkSync } = await import('node:fs')
  const pr = pullRequestCheckout(ca, { 'README.md': 'a pull request\n' })
  symlinkSync('../intermediateCA/private/intermediate.key.pem', join(pr.dir, 'requests/key.csr.pem'))
  const { git } = await import('./support/git-ca.js')
  git(pr.dir, 'add', '-A')
  git(pr.dir, 'commit', '--quiet', '-m', 'symlink')
  const sha = git(pr.dir, 'rev-parse', 'HEAD').trim()
  const r = await runPr({ ...pr, sha, head: sha }, 11)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error title=github\.pr_refused,file=requests\/key\.csr\.pem::a symbolic link/)
})

it('a pull request from a fork: no comment possible (403), the summary carries the report, the verdict stands', async () => {
  await github.close()
  github = await startGitHubDouble({ owner: OWNER, repo: REPO, readOnly: true })
  const pr = pullRequestCheckout(ca, { 'requests/forked.csr.pem': csrFor('forked') })
  const r = await runPr(pr, 12, { fork: true })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(r.stdout).toMatch(/::notice::The token may not comment on #12 \(a pull request from a fork\)/)
  expect(r.summary).toContain('✅ accepted')
  expect(github.comments.get(12)).toBeUndefined()

  const bad = pullRequestCheckout(ca, { 'requests/bad.csr.pem': 'not a CSR\n' })
  const r2 = await runPr(bad, 13, { fork: true })
  expect(r2.status).toBe(1)
  expect(r2.stdout).toMatch(/::error title=csr\.not_pem,file=requests\/bad\.csr\.pem::no PEM block/)
})

it.each([
  ['a command substitution', (m: string) => `requests/$(touch ${m}).csr.pem`],
  ['back-ticks', (m: string) => `requests/\`touch ${m}\`.csr.pem`],
  [
    'a newline and a workflow command',
    () => 'requests/x\n::set-output name=commit::pwned\n::error::forged.csr.pem',
  ],
  ['HTML and a mention', () => 'requests/<img src=x onerror=alert(1)>@admins.csr.pem'],
])(
  'a CSR file name with %s is refused as data: nothing executed, no workflow command, escaped',
  async (_what, name) => {
    const { existsSync } = await import('node:fs')
    // A file name cannot hold '/', so the would-be command touches a relative name: look in both
    // places a shell could have run (the workspace and this process's folder).
    const m = `pwned-${process.pid}-${Date.now()}`
    const pr = pullRequestCheckout(ca, { [name(m)]: csrFor('hostile') })
    const r = await runPr(pr, 14)
    expect(r.status).toBe(1)
    expect(existsSync(join(pr.dir, m))).toBe(false)
    expect(existsSync(m)).toBe(false)
    expect(r.stdout).not.toMatch(/^::set-output|^::error::forged/m)
    expect(r.outputs.commit).toBeUndefined()
    expect(r.stdout).toMatch(
      /::error title=request\.bad_name,file=requests\/[^\n]*::[^\n]*cannot name a certificate/,
    )
    const comment = github.comments.get(14)?.[0]?.body ?? ''
    expect(comment).toContain('cannot name a certificate')
    expect(comment).not.toMatch(/<img|@admins|\n::/)
  },
)

it('a merge commit of its own whose first parent widens ca.yml is still judged by the event’s base', async () => {
  const { git } = await import('./support/git-ca.js')
  const { writeFileSync } = await import('node:fs')
  const pr = pullRequestCheckout(ca, { 'requests/sly.csr.pem': csrFor('sly', ['DNS:www.sly.example.net']) })
  const config = parseYaml(readFileSync(join(pr.dir, 'ca.yml'), 'utf8')) as {
    issuance: { sans: { dns: string[] } }
  }
  config.issuance.sans.dns.push('.sly.example.net')
  git(pr.dir, 'checkout', '--quiet', '-b', 'widen', pr.base)
  writeFileSync(join(pr.dir, 'ca.yml'), stringifyYaml(config))
  git(pr.dir, 'commit', '--quiet', '-am', 'Widen the policy')
  git(pr.dir, 'merge', '--quiet', '--no-ff', '--no-edit', 'request')
  const sha = git(pr.dir, 'rev-parse', 'HEAD').trim()
  const r = await runPr({ ...pr, sha, head: sha }, 15)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error title=policy\.san_not_allowed,file=requests\/sly\.csr\.pem::/)
  expect(r.summary).toContain(`base commit \`${pr.base.slice(0, 12)}\``)
})
