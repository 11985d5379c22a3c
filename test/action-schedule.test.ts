/**
 * schedule and workflow_dispatch, as the runner runs the Action: the CRL is renewed only when its
 * nextUpdate is within ca.yml's github.crlRenewalDays (or when `command: crl` forces it), committing
 * only then; certificates near expiry are reported in the summary and in one tracking issue that is
 * updated, not duplicated.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupTempDirs, editCaYml, opensslMerged, runCli } from './support/ca-fixture.js'
import { startGitHubDouble, type GitHubDouble } from './doubles/github-double.js'
import { examplePayload, runAction, OWNER, REPO } from './support/action-run.js'
import { caRemote, csrFor, git, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

let ca: CaRemote
let github: GitHubDouble
beforeAll(async () => {
  ca = await caRemote()
  github = await startGitHubDouble({ owner: OWNER, repo: REPO })
})
afterAll(async () => github.close())

function runSchedule(inputs: Record<string, string> = {}) {
  return runAction({
    workspace: ca.clone(),
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *', repository: examplePayload('push').repository },
    sha: ca.head(),
    apiUrl: github.url,
    inputs,
  })
}

function pushConfig(edit: Parameters<typeof editCaYml>[1], message: string): void {
  const dir = ca.clone()
  editCaYml(dir, edit)
  git(dir, 'commit', '--quiet', '-am', message)
  git(dir, 'push', '--quiet', 'origin', 'HEAD:main')
}

it('renews the CRL only when it is due, and commits only then', async () => {
  // A new CA has no CRL yet: the first run publishes one.
  const first = await runSchedule()
  expect(first.status).toBe(0)
  expect(first.stdout).toContain('intermediate.crl.pem does not exist')
  expect(first.outputs.commit).toBe(ca.head())
  const start = ca.head()
  const fresh = await runSchedule()
  expect(fresh.status).toBe(0)
  expect(fresh.stdout).toContain('The CRL is not due for renewal.')
  expect(fresh.outputs.commit).toBe('')
  expect(ca.head()).toBe(start)

  // The first CRL lasts 30 days; with a 45-day margin it is due. The next one lasts 60 days.
  pushConfig((c) => {
    c.github = { crlRenewalDays: 45 }
    ;(c.intermediate.crl as { days: number }).days = 60
  }, 'Renew the CRL 45 days ahead')
  const before = ca.head()
  const due = await runSchedule()
  expect(due.status).toBe(0)
  expect(due.outputs['crl-number']).toMatch(/^[0-9A-F]+$/)
  expect(due.outputs.commit).toBe(ca.head())
  expect(git(ca.remote, 'rev-parse', `${ca.head()}^`).trim()).toBe(before)
  expect(git(ca.remote, 'show', '--name-only', '--format=', 'main').trim().split('\n').sort()).toEqual([
    'intermediateCA/crl/intermediate.crl.der',
    'intermediateCA/crl/intermediate.crl.pem',
    'intermediateCA/crlnumber',
  ])
  const check = ca.clone()
  const crl = opensslMerged([
    'crl',
    '-in',
    join(check, 'intermediateCA/crl/intermediate.crl.pem'),
    '-CAfile',
    join(check, 'intermediateCA/certs/ca-chain.cert.pem'),
    '-noout',
    '-nextupdate',
  ])
  expect(crl.out).toContain('verify OK')

  const after = ca.head()
  const again = await runSchedule()
  expect(again.status).toBe(0)
  expect(again.stdout).toContain('The CRL is not due for renewal.')
  expect(ca.head()).toBe(after)

  const forced = await runSchedule({ command: 'crl' })
  expect(forced.status).toBe(0)
  expect(forced.outputs.commit).toBe(ca.head())
  expect(ca.head()).not.toBe(after)
})

it('reports certificates near expiry in the summary and in one tracking issue, updated not duplicated', async () => {
  const dir = ca.clone()
  writeFileSync(join(dir, 'requests/short.csr.pem'), csrFor('short'))
  writeFileSync(join(dir, 'requests/short.yml'), 'days: 10\n')
  writeFileSync(join(dir, 'requests/long.csr.pem'), csrFor('long'))
  const signed = await runCli(['sign', '--dir', dir], dir)
  expect(signed.stderr).toBe('')
  git(dir, 'add', '-A')
  git(dir, 'commit', '--quiet', '-m', 'Issue short and long')
  git(dir, 'push', '--quiet', 'origin', 'HEAD:main')

  const first = await runSchedule({ command: 'report' })
  expect(first.status).toBe(0)
  expect(first.summary).toContain('1 valid certificate(s) expire within 30 days')
  expect(first.summary).toContain('short')
  expect(first.summary).not.toContain('| long')
  const issues = [...github.issues.values()]
  expect(issues).toHaveLength(1)
  expect(issues[0]?.labels).toEqual(['mtls-ca-expiry'])
  expect(issues[0]?.body).toContain('short')

  const second = await runSchedule({ command: 'report' })
  expect(second.status).toBe(0)
  expect(github.issues.size).toBe(1)
  expect(github.writes().filter((c) => c.method === 'POST' && c.path.endsWith('/issues'))).toHaveLength(1)
  expect(github.writes().filter((c) => c.method === 'PATCH')).toHaveLength(1)

  // Once nothing is about to expire (short is revoked), the tracking issue says so and is closed.
  const work = ca.clone()
  const revoked = await runCli(
    ['revoke', 'certs/short.cert.pem', '--reason', 'superseded', '--dir', work],
    work,
  )
  expect(revoked.stderr).toBe('')
  git(work, 'add', '-A')
  git(work, 'commit', '--quiet', '-m', 'Revoke short')
  git(work, 'push', '--quiet', 'origin', 'HEAD:main')
  const third = await runSchedule({ command: 'report' })
  expect(third.status).toBe(0)
  expect(github.issues.size).toBe(1)
  const issue = [...github.issues.values()][0]
  expect(issue?.body).toContain('No valid certificate expires within 30 days')
  expect(issue?.state).toBe('closed')
})
