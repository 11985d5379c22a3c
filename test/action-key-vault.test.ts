/**
 * A CA whose intermediate key is in Key Vault (the vault double), as the runner runs the Action. push
 * to the default branch: the merged requests are signed through the vault, committed as one commit by
 * github-actions[bot] naming requests, serials and the merged pull request, pushed to a real bare
 * remote, and the pull request gets a comment with the certificate; two runs racing on the remote issue
 * each request once; a push refused by branch protection says what is needed. pull_request never
 * touches the vault; a revocation signs its CRL there.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupTempDirs, openssl, opensslMerged } from './support/ca-fixture.js'
import { startGitHubDouble, type GitHubDouble } from './doubles/github-double.js'
import { startTwoVaults, type TwoVaults } from './support/key-vault-ca.js'
import { chmodSync, rmSync } from 'node:fs'
import {
  issueLabeledPayload,
  pullRequestPayload,
  pushPayload,
  runAction,
  OWNER,
  REPO,
} from './support/action-run.js'
import { caRemote, csrFor, git, pullRequestCheckout, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

let vaults: TwoVaults
let ca: CaRemote
let github: GitHubDouble
beforeAll(async () => {
  vaults = await startTwoVaults()
  ca = await caRemote(
    [
      '--allow-dns',
      '.example.com',
      '--intermediate-key',
      `${vaults.issuing.url}/keys/action-issuing`,
      '--create',
      '--key-type',
      'ec-p256',
    ],
    { ...process.env, ...vaults.env },
  )
})
afterAll(async () => vaults.close())
beforeEach(async () => {
  github = await startGitHubDouble({ owner: OWNER, repo: REPO })
})
afterEach(async () => github.close())

function runPush(workspace: string, before: string, after: string, extra: { ref?: string } = {}) {
  return runAction({
    workspace,
    eventName: 'push',
    payload: pushPayload({ before, after, ...extra }),
    sha: after,
    ref: extra.ref ?? 'refs/heads/main',
    apiUrl: github.url,
    env: vaults.env,
  })
}

function indexLines(dir: string): string[] {
  return readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').split('\n').filter(Boolean)
}

it('signs the merged request through the vault, commits, pushes and comments on the pull request', async () => {
  const before = ca.head()
  const merged = ca.merge({ 'requests/web.csr.pem': csrFor('web') }, 'Merge pull request #21')
  github.pullsOfCommit.set(merged, [{ number: 21, title: 'web', merged_at: new Date().toISOString() }])
  const signs = vaults.issuing.counters.signCalls
  const rootRequests = vaults.root.counters.requests
  const r = await runPush(ca.clone(), before, merged)
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  const issued = JSON.parse(r.outputs.issued ?? '[]') as Array<{ name: string; serial: string }>
  expect(issued.map((c) => c.name)).toEqual(['web'])
  const serial = issued[0]?.serial as string
  // One signature from the issuing vault, none from the root's.
  expect(vaults.issuing.counters.signCalls - signs).toBe(1)
  expect(vaults.root.counters.requests).toBe(rootRequests)
  // One commit on top of the merge, by the Action's own identity, naming request, serial and PR.
  const head = ca.head()
  expect(r.outputs.commit).toBe(head)
  expect(git(ca.remote, 'rev-parse', `${head}^`).trim()).toBe(merged)
  expect(git(ca.remote, 'log', '-1', '--format=%an <%ae>', head).trim()).toBe(
    'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
  )
  const message = git(ca.remote, 'log', '-1', '--format=%B', head)
  expect(message).toContain('Issue a certificate: web')
  expect(message).toContain(`web: serial ${serial}`)
  expect(message).toContain('Requested in #21.')
  // The pull request's comment carries the certificate and how to verify it.
  const comment = github.comments.get(21)?.[0]?.body ?? ''
  const check = ca.clone()
  const pem = readFileSync(join(check, 'certs/web.cert.pem'), 'utf8')
  expect(comment).toContain(pem.trim())
  expect(comment).toContain('openssl verify -x509_strict -CAfile rootCA/certs/ca.cert.pem')
  const verify = openssl([
    'verify',
    '-x509_strict',
    '-check_ss_sig',
    '-CAfile',
    join(check, 'rootCA/certs/ca.cert.pem'),
    '-untrusted',
    join(check, 'intermediateCA/certs/intermediate.cert.pem'),
    join(check, 'certs/web.cert.pem'),
  ])
  expect(verify.stdout).toMatch(/: OK\n$/)
  expect(r.summary).toContain('mtls-ca: issued 1 certificate(s)')
})

it('a push with nothing pending makes no commit and no comment', async () => {
  const head = ca.head()
  const r = await runPush(ca.clone(), head, head)
  expect(r.status).toBe(0)
  expect(r.stdout).toContain('Nothing to sign')
  expect(ca.head()).toBe(head)
  expect(github.writes()).toEqual([])
})

it('refuses to sign for a push to another branch', async () => {
  const head = ca.head()
  const r = await runPush(ca.clone(), head, head, { ref: 'refs/heads/feature' })
  expect(r.status).toBe(1)
  expect(r.stdout).toContain(
    'is not to the default branch main: only merged requests are signed [github.event_invalid]',
  )
})

it('two runs racing on one remote: each request issued exactly once, serials unique, openssl ca -gencrl works', async () => {
  const before = ca.head()
  const first = ca.merge({ 'requests/race-a.csr.pem': csrFor('race-a') }, 'Merge pull request #31')
  const second = ca.merge({ 'requests/race-b.csr.pem': csrFor('race-b') }, 'Merge pull request #32')
  const a = ca.clone()
  const b = ca.clone()
  git(a, 'checkout', '--quiet', '--detach', first)
  const [ra, rb] = await Promise.all([runPush(a, before, first), runPush(b, first, second)])
  expect([ra.status, rb.status]).toEqual([0, 0])
  const check = ca.clone()
  const lines = indexLines(check).filter((l) => l.includes('race-'))
  expect(lines.map((l) => l.split('\t')[5]).sort()).toEqual([
    '/CN=race-a.example.com',
    '/CN=race-b.example.com',
  ])
  const all = indexLines(check).map((l) => l.split('\t')[3])
  expect(new Set(all).size).toBe(all.length)
  const issued = [ra, rb].flatMap((r) => JSON.parse(r.outputs.issued ?? '[]') as Array<{ name: string }>)
  expect(issued.map((c) => c.name).sort()).toEqual(['race-a', 'race-b'])
  expect(git(check, 'rev-list', '--merges', `${second}..HEAD`).trim()).toBe('')
  // openssl ca reads the database both runs wrote (the CRL is signed with a throwaway key: openssl
  // cannot use the vault's, and only the database is under test here).
  const key = join(check, 'throwaway.key.pem')
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
  const cert = join(check, 'throwaway.cert.pem')
  openssl(['req', '-x509', '-new', '-key', key, '-subj', '/CN=throwaway', '-days', '1', '-out', cert])
  const cnf = join(check, 'gencrl.cnf')
  writeFileSync(
    cnf,
    [
      '[ ca ]',
      'default_ca = d',
      '[ d ]',
      `database = ${join(check, 'intermediateCA/index.txt')}`,
      `crlnumber = ${join(check, 'intermediateCA/crlnumber')}`,
      `certificate = ${cert}`,
      `private_key = ${key}`,
      'default_md = sha256',
      'default_crl_days = 1',
      '',
    ].join('\n'),
  )
  const gencrl = opensslMerged(['ca', '-config', cnf, '-gencrl', '-out', join(check, 'c.crl.pem')])
  expect(gencrl.status).toBe(0)
})

it('pull_request: the whole check without a single call to either vault', async () => {
  const pr = pullRequestCheckout(ca, {
    'requests/checked.csr.pem': csrFor('checked'),
    'requests/refused.csr.pem': csrFor('refused', ['DNS:refused.example.org']),
  })
  const before = { root: vaults.root.counters.requests, issuing: vaults.issuing.counters.requests }
  const r = await runAction({
    workspace: pr.dir,
    eventName: 'pull_request',
    payload: pullRequestPayload({ number: 50, base: pr.base, head: pr.head }),
    sha: pr.sha,
    ref: 'refs/pull/50/merge',
    apiUrl: github.url,
    env: vaults.env,
  })
  expect(r.status).toBe(1)
  expect(r.summary).toContain('✅ accepted')
  expect(r.stdout).toContain('policy.san_not_allowed')
  expect({ root: vaults.root.counters.requests, issuing: vaults.issuing.counters.requests }).toEqual(before)
})

it('issues: a revocation signs its CRL through the vault', async () => {
  const dir = ca.clone()
  const listed = JSON.parse(
    (
      await (
        await import('./support/ca-fixture.js')
      ).runCli(['list', '--dir', dir, '--json'], dir, { ...process.env, ...vaults.env })
    ).stdout,
  ) as { certificates: Array<{ name: string; serial: string }> }
  const web = listed.certificates.find((c) => c.name === 'web')
  expect(web).toBeDefined()
  github.options.roles = { owner: 'admin' }
  const body = '### Certificate (serial, name or certs/<name>.cert.pem)\n\nweb\n\n### Reason\n\nsuperseded\n'
  github.issues.set(60, {
    number: 60,
    title: 'Revoke web',
    body,
    labels: ['revoke'],
    state: 'open',
    state_reason: null,
  })
  const signs = vaults.issuing.counters.signCalls
  const r = await runAction({
    workspace: dir,
    eventName: 'issues',
    payload: issueLabeledPayload({ number: 60, body, sender: 'owner' }),
    sha: ca.head(),
    apiUrl: github.url,
    env: vaults.env,
  })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(vaults.issuing.counters.signCalls - signs).toBe(1)
  const check = ca.clone()
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
  expect(crl.out).toContain(`Serial Number: ${web?.serial}`)
  expect(github.issues.get(60)?.state).toBe('closed')
})

it('a push refused by branch protection fails with git.push_protected and leaves the branch as it was', async () => {
  const before = ca.head()
  const merged = ca.merge({ 'requests/blocked.csr.pem': csrFor('blocked') })
  const hook = join(ca.remote, 'hooks/pre-receive')
  writeFileSync(
    hook,
    '#!/bin/sh\necho "error: GH013: Repository rule violations found for refs/heads/main." >&2\nexit 1\n',
  )
  chmodSync(hook, 0o755)
  try {
    const r = await runPush(ca.clone(), before, merged)
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/GH013.*bypass.*\[git\.push_protected\]/)
    expect(ca.head()).toBe(merged)
    expect(github.writes()).toEqual([])
  } finally {
    rmSync(hook)
  }
})

it('refuses to work on a commit that tracks the store’s own folder (a forced-in journal)', async () => {
  const before = ca.head()
  const merged = ca.merge({
    'requests/forced.csr.pem': csrFor('forced'),
    '.mtls-ca/journal/commit.json': '{"writes":[{"path":"ca.yml","data":"widened"}]}\n',
  })
  const r = await runPush(ca.clone(), before, merged)
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/tracks \.mtls-ca\/journal\/commit\.json.*\[state\.corrupt\]/)
  expect(ca.head()).toBe(merged)
  // Put the branch back for the next tests: remove the forced-in folder.
  const fix = ca.clone()
  git(fix, 'rm', '-r', '--quiet', '.mtls-ca')
  git(fix, 'rm', '--quiet', 'requests/forced.csr.pem')
  git(fix, 'commit', '--quiet', '-m', 'Remove the forced-in journal')
  git(fix, 'push', '--quiet', 'origin', 'HEAD:main')
})
