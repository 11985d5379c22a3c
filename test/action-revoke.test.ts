/**
 * issues: labeled, as the runner runs the Action: a `write` user's revoke label revokes, publishes the
 * CRL, commits, pushes, comments and closes the issue; a `triage` or `read` user's label, an issue
 * form that does not name a certificate and a reason, and hostile bodies are refused with a comment
 * and the label removed, the branch unchanged, nothing executed.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupTempDirs, opensslMerged, runCli, tempDir } from './support/ca-fixture.js'
import { startGitHubDouble, type GitHubDouble } from './doubles/github-double.js'
import { issueLabeledPayload, runAction, OWNER, REPO } from './support/action-run.js'
import { caRemote, csrFor, git, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

let ca: CaRemote
let github: GitHubDouble
let serials: Record<string, string>
beforeAll(async () => {
  ca = await caRemote()
  // Three certificates issued and pushed, as the merge run would have done.
  const dir = ca.clone()
  for (const n of ['alpha', 'beta', 'gamma']) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(dir, `requests/${n}.csr.pem`), csrFor(n))
  }
  const signed = await runCli(['sign', '--dir', dir, '--json'], dir)
  if (signed.status !== 0) throw new Error(signed.stderr)
  git(dir, 'add', '-A')
  git(dir, 'commit', '--quiet', '-m', 'Issue alpha, beta, gamma')
  git(dir, 'push', '--quiet', 'origin', 'HEAD:main')
  const listed = await runCli(['list', '--dir', dir, '--json'], dir)
  serials = {}
  const { certificates } = JSON.parse(listed.stdout) as {
    certificates: Array<{ name: string; serial: string }>
  }
  for (const c of certificates) serials[c.name] = c.serial
})
beforeEach(async () => {
  github = await startGitHubDouble({
    owner: OWNER,
    repo: REPO,
    roles: { writer: 'write', maintainer: 'maintain', triager: 'triage', reader: 'read', listed: 'read' },
  })
})
afterEach(async () => github.close())

function form(certificate: string, reason: string): string {
  return `### Certificate (serial, name or certs/<name>.cert.pem)\n\n${certificate}\n\n### Reason\n\n${reason}\n\n### Details\n\n_No response_\n`
}

async function runLabel(
  number: number,
  body: string,
  sender: string,
  extra: { label?: string; env?: Record<string, string> } = {},
) {
  github.issues.set(number, {
    number,
    title: 'Revoke',
    body,
    labels: [extra.label ?? 'revoke'],
    state: 'open',
    state_reason: null,
  })
  const head = ca.head()
  const r = await runAction({
    workspace: ca.clone(),
    eventName: 'issues',
    payload: issueLabeledPayload({ number, body, sender, ...(extra.label ? { label: extra.label } : {}) }),
    sha: head,
    apiUrl: github.url,
    ...(extra.env ? { env: extra.env } : {}),
  })
  return { ...r, headBefore: head }
}

it('a write user revokes by name: R line, new CRL, commit pushed, comment, issue closed', async () => {
  const r = await runLabel(40, form('certs/alpha.cert.pem', 'keyCompromise'), 'writer')
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(JSON.parse(r.outputs.revoked ?? '[]')[0].serial).toBe(serials.alpha)
  const crlNumber = r.outputs['crl-number'] as string
  expect(crlNumber).toMatch(/^[0-9A-F]+$/)
  expect(git(ca.remote, 'rev-parse', `${r.outputs.commit}^`).trim()).toBe(r.headBefore)
  expect(git(ca.remote, 'log', '-1', '--format=%s', 'main').trim()).toBe(
    `Revoke ${serials.alpha} (keyCompromise)`,
  )
  const check = ca.clone()
  const line = readFileSync(join(check, 'intermediateCA/index.txt'), 'utf8')
    .split('\n')
    .find((l) => l.includes(serials.alpha as string))
  expect(line).toMatch(/^R\t\S+\t\d{12}Z,keyCompromise\t/)
  const crl = opensslMerged([
    'crl',
    '-in',
    join(check, 'intermediateCA/crl/intermediate.crl.pem'),
    '-CAfile',
    join(check, 'intermediateCA/certs/ca-chain.cert.pem'),
    '-noout',
    '-text',
  ])
  expect(crl.out).toContain('verify OK')
  expect(crl.out).toContain(`Serial Number: ${serials.alpha}`)
  expect(crl.out).toContain('Key Compromise')
  const comment = github.comments.get(40)?.[0]?.body ?? ''
  expect(comment).toContain(serials.alpha)
  expect(comment).toContain('keyCompromise')
  expect(comment).toContain(crlNumber)
  expect(github.issues.get(40)?.state).toBe('closed')
  expect(github.calls.some((c) => c.path.endsWith('/collaborators/writer/permission'))).toBe(true)
})

it('a maintain user revokes by serial', async () => {
  const r = await runLabel(41, form(serials.beta as string, 'superseded'), 'maintainer')
  expect(r.status).toBe(0)
  expect(JSON.parse(r.outputs.revoked ?? '[]')[0].serial).toBe(serials.beta)
})

it.each([
  ['triager', 'triage'],
  ['reader', 'read'],
  ['stranger', 'none'],
])(
  'a label applied by %s (%s role) is refused: comment, label removed, branch unchanged',
  async (user, role) => {
    const r = await runLabel(42, form('gamma', 'keyCompromise'), user)
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('[github.not_permitted]')
    expect(ca.head()).toBe(r.headBefore)
    expect(github.comments.get(42)?.[0]?.body).toContain(`has the ${role} role`)
    expect(github.issues.get(42)?.labels).toEqual([])
    expect(github.issues.get(42)?.state).toBe('open')
  },
)

it('a login in ca.yml github.revokers may revoke without the write role', async () => {
  const dir = ca.clone()
  const { editCaYml } = await import('./support/ca-fixture.js')
  editCaYml(dir, (c) => {
    c.github = { revokers: ['listed'] }
  })
  git(dir, 'commit', '--quiet', '-am', 'Allow listed to revoke')
  git(dir, 'push', '--quiet', 'origin', 'HEAD:main')
  const r = await runLabel(43, form('gamma', 'cessationOfOperation'), 'listed')
  expect(r.stdout).not.toContain('::error')
  expect(r.status).toBe(0)
})

it('another label does nothing', async () => {
  const r = await runLabel(44, form('gamma', 'keyCompromise'), 'writer', { label: 'bug' })
  expect(r.status).toBe(0)
  expect(github.writes()).toEqual([])
})

const marker = () => join(tempDir(), 'pwned')

it.each([
  ['an empty form', () => '', 'the "Certificate" field'],
  ['no reason', () => form('gamma', '_No response_'), 'the "Reason" field'],
  ['an unknown reason', () => form('gamma', 'because'), 'the reason is not one of'],
  ['a command substitution', (m: string) => form(`$(touch ${m})`, 'keyCompromise'), 'neither a serial'],
  ['back-ticks', (m: string) => form(`\`touch ${m}\``, 'keyCompromise'), 'neither a serial'],
  ['a path outside certs/', () => form('../../etc/passwd', 'keyCompromise'), 'neither a serial'],
  [
    'a workflow command after a newline',
    () => form('gamma\n::set-output name=commit::pwned\n::error::forged', 'keyCompromise'),
    'neither a serial',
  ],
  [
    'HTML and a mention',
    () => form('<img src=x onerror=alert(1)> @admins', 'keyCompromise'),
    'neither a serial',
  ],
  ['an unknown certificate name', () => form('nosuch', 'keyCompromise'), 'no certificate named "nosuch"'],
  ['an unknown serial', () => form('ABCDEF0123', 'keyCompromise'), 'ABCDEF0123'],
])('a body with %s is refused cleanly, nothing executed', async (_what, body, why) => {
  const m = marker()
  const text = body(m)
  const r = await runLabel(45, text, 'writer')
  expect(r.status).toBe(1)
  expect(existsSync(m)).toBe(false)
  expect(ca.head()).toBe(r.headBefore)
  // No line of the log is a workflow command made of the body; the outputs are the Action's own.
  expect(r.stdout).not.toMatch(/^::set-output|^::error::forged/m)
  expect(r.outputs.commit).toBeUndefined()
  const comment = github.comments.get(45)?.[0]?.body ?? ''
  expect(comment).toContain(why.replace(/"/g, '&quot;').replace(/[.(){}[\]#+\-!|~:=_`*\\]/g, '\\$&'))
  expect(comment).not.toMatch(/<img|@admins/)
  expect(github.issues.get(45)?.labels).toEqual([])
})
