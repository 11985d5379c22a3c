/**
 * A CA in a folder of its repository (`config: pki/ca.yml`): pull requests are judged by pki/ca.yml
 * of the base, state under pki/ is refused, and a merge commits exactly pki/'s files, with
 * annotations and comments naming the paths as the repository does.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupTempDirs } from './support/ca-fixture.js'
import { startGitHubDouble, type GitHubDouble } from './doubles/github-double.js'
import { pullRequestPayload, pushPayload, runAction, OWNER, REPO } from './support/action-run.js'
import { caRemote, csrFor, git, pullRequestCheckout, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

let ca: CaRemote
let github: GitHubDouble
beforeAll(async () => {
  ca = await caRemote(undefined, undefined, 'pki')
  github = await startGitHubDouble({ owner: OWNER, repo: REPO })
})
afterAll(async () => github.close())

it('validates pki/requests/ by pki/ca.yml and refuses a change to pki/intermediateCA/', async () => {
  const pr = pullRequestCheckout(ca, {
    'pki/requests/sub.csr.pem': csrFor('sub'),
    'pki/requests/far.csr.pem': csrFor('far', ['DNS:far.example.org']),
    'pki/intermediateCA/index.txt': 'x\n',
    'requests/outside.csr.pem': 'not a request of this CA\n',
  })
  const r = await runAction({
    workspace: pr.dir,
    eventName: 'pull_request',
    payload: pullRequestPayload({ number: 70, base: pr.base, head: pr.head }),
    sha: pr.sha,
    apiUrl: github.url,
    inputs: { config: 'pki/ca.yml' },
  })
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error title=policy\.san_not_allowed,file=pki\/requests\/far\.csr\.pem::/)
  expect(r.stdout).toMatch(/::error title=github\.pr_refused,file=pki\/intermediateCA\/index\.txt::/)
  expect(r.stdout).not.toMatch(/file=requests\/outside/)
  expect(r.summary).toContain('| pki/requests/sub\\.csr\\.pem |')
})

it('a merge signs pki/requests/ and commits pki/ files only', async () => {
  const before = ca.head()
  const merged = ca.merge({ 'pki/requests/sub.csr.pem': csrFor('sub') })
  const r = await runAction({
    workspace: ca.clone(),
    eventName: 'push',
    payload: pushPayload({ before, after: merged }),
    sha: merged,
    apiUrl: github.url,
    inputs: { config: 'pki/ca.yml' },
  })
  expect(r.stderr).toBe('')
  expect(r.stdout).not.toContain('::error')
  expect(r.status).toBe(0)
  const files = git(ca.remote, 'show', '--name-only', '--format=', 'main').trim().split('\n')
  expect(files.every((f) => f.startsWith('pki/'))).toBe(true)
  expect(files).toEqual(expect.arrayContaining(['pki/certs/sub.cert.pem', 'pki/intermediateCA/index.txt']))
  expect(JSON.parse(r.outputs.issued ?? '[]')[0].certificate).toBe('pki/certs/sub.cert.pem')
  expect(existsSync(join(ca.clone(), 'pki/certs/sub.fullchain.pem'))).toBe(true)
})
