/**
 * The git working copy the Action commits to, against a real bare remote: one commit per operation,
 * pushed only as a fast-forward of the head it ran on; a lost race is redone from the new head, never
 * merged; a refused push or a failed operation leaves the branch and the working copy as they were.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CaError } from '../src/ca/errors.js'
import { signRequests } from '../src/commands/sign.js'
import { systemRuntime } from '../src/commands/runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { openGit, DEFAULT_IDENTITY } from '../src/store/git-command.js'
import { commitAndPush, recordingStore, type TransactionResult } from '../src/store/git-transaction.js'
import { openGitTreeStore } from '../src/store/git-tree-store.js'
import { cleanupTempDirs, opensslMerged, snapshot } from './support/ca-fixture.js'
import { caRemote, csrFor, git, type CaRemote } from './support/git-ca.js'

afterAll(cleanupTempDirs)

/** The Action's sign operation on a working copy: every pending request, one commit. */
function signIn(dir: string, startHead: string, hook?: (attempt: number) => Promise<void>) {
  const g = openGit({ dir })
  return commitAndPush({ git: g, branch: 'main', startHead }, async (attempt) => {
    await hook?.(attempt)
    const { store, written } = recordingStore(openDirectoryStore(dir), '')
    const r = await signRequests(store, { csrFiles: [], cwd: dir }, systemRuntime)
    const serials = r.issued.map((c) => `${c.name} ${c.serialHex}`)
    return { result: serials, message: `Issue ${serials.join(', ')}`, paths: written() }
  })
}

function indexLines(dir: string): string[] {
  return readFileSync(join(dir, 'intermediateCA/index.txt'), 'utf8').split('\n').filter(Boolean)
}

describe('commitAndPush', () => {
  let ca: CaRemote
  beforeAll(async () => {
    ca = await caRemote()
  })

  it('commits exactly the files written, as github-actions[bot], as a fast-forward of the start', async () => {
    const start = ca.merge({ 'requests/one.csr.pem': csrFor('one') })
    const dir = ca.clone()
    writeFileSync(join(dir, 'stray.txt'), 'not the run’s\n')
    const r = await signIn(dir, start)
    expect(r.commit).toBe(ca.head())
    expect(git(ca.remote, 'rev-parse', `${r.commit}^`).trim()).toBe(start)
    expect(git(ca.remote, 'log', '-1', '--format=%an <%ae>|%cn', 'main').trim()).toBe(
      `${DEFAULT_IDENTITY.name} <${DEFAULT_IDENTITY.email}>|${DEFAULT_IDENTITY.name}`,
    )
    const files = git(ca.remote, 'show', '--name-only', '--format=', 'main').trim().split('\n').sort()
    expect(files).toEqual(
      [
        'certs/one.cert.pem',
        'certs/one.fullchain.pem',
        'intermediateCA/index.txt',
        `intermediateCA/newcerts/${r.result[0]?.split(' ')[1]}.pem`,
      ].sort(),
    )
    expect(git(ca.remote, 'log', '-1', '--format=%s', 'main')).toContain('Issue one ')
  })

  it('makes no commit when the operation changes nothing', async () => {
    const start = ca.head()
    const r = await signIn(ca.clone(), start)
    expect(r.commit).toBeUndefined()
    expect(ca.head()).toBe(start)
  })
})

describe('openGit', () => {
  it('gives git the token as an HTTP header of the server only, never in .git/config or argv', async () => {
    const ca = await caRemote()
    const dir = ca.clone()
    const g = openGit({ dir, token: 'ghs_secret', serverUrl: 'https://github.example' })
    const header = await g.ok(['config', '--get', 'http.https://github.example/.extraheader'])
    expect(header.trim()).toBe(
      `AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_secret').toString('base64')}`,
    )
    const start = await g.ok(['rev-parse', 'HEAD'])
    const r = await commitAndPush({ git: g, branch: 'main', startHead: start.trim() }, async () => {
      writeFileSync(join(dir, 'note.txt'), 'pushed with the token\n')
      return { result: undefined, message: 'note', paths: ['note.txt'] }
    })
    expect(r.commit).toBe(ca.head())
    expect(readFileSync(join(dir, '.git/config'), 'utf8')).not.toContain('ghs_secret')
    expect(readFileSync(join(dir, '.git/config'), 'utf8')).not.toContain('extraheader')
  })

  it('uses no git configuration of the runner: a global config is ignored', async () => {
    const ca = await caRemote()
    const dir = ca.clone()
    const home = join(dir, '..', 'home')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(home)
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Runner Person\n[commit]\n\tgpgsign = true\n')
    const saved = process.env.HOME
    process.env.HOME = home
    try {
      const g = openGit({ dir })
      expect((await g.run(['config', '--get', 'user.name'])).stdout).toBe('')
      expect((await g.ok(['config', '--get', 'commit.gpgsign'])).trim()).toBe('false')
    } finally {
      process.env.HOME = saved
    }
  })
})

describe('a dry run', () => {
  it('leaves the files in the working copy, uncommitted, and pushes nothing', async () => {
    const ca = await caRemote()
    const start = ca.merge({ 'requests/dry.csr.pem': csrFor('dry') })
    const dir = ca.clone()
    const g = openGit({ dir })
    const r = await commitAndPush({ git: g, branch: 'main', startHead: start, noPush: true }, async () => {
      const { store, written } = recordingStore(openDirectoryStore(dir), '')
      await signRequests(store, { csrFiles: [], cwd: dir }, systemRuntime)
      return { result: undefined, message: 'dry', paths: written() }
    })
    expect(r.commit).toBeUndefined()
    expect(ca.head()).toBe(start)
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(start)
    expect(git(dir, 'status', '--porcelain')).toContain('certs/')
  })
})

describe('two runs racing on one remote', () => {
  it('redoes the run that lost from the new head: each request issued once, serials unique, openssl ca -gencrl works', async () => {
    const ca = await caRemote()
    const first = ca.merge({ 'requests/a.csr.pem': csrFor('a') }, 'Merge #1')
    const second = ca.merge({ 'requests/b.csr.pem': csrFor('b') }, 'Merge #2')
    const runA = ca.clone()
    const runB = ca.clone()
    git(runA, 'checkout', '--quiet', '--detach', first)
    let winner: TransactionResult<string[]> | undefined
    // B (started from merge #2) signs both requests; before it pushes, A (started from merge #1, so
    // already behind) runs to the end: its first push loses to merge #2 and it redoes from there.
    const b = await signIn(runB, second, async (attempt) => {
      if (attempt === 1) winner = await signIn(runA, first)
    })
    expect(winner?.attempts).toBe(2)
    expect(winner?.head).toBe(second)
    expect(winner?.result).toEqual([
      expect.stringMatching(/^a [0-9A-F]+$/),
      expect.stringMatching(/^b [0-9A-F]+$/),
    ])
    // B's push then loses to A's; its signed certificates are discarded, and from A's commit there is
    // nothing left to sign.
    expect(b.attempts).toBe(2)
    expect(b.head).toBe(winner?.commit)
    expect(b.result).toEqual([])
    expect(b.commit).toBeUndefined()
    expect(ca.head()).toBe(winner?.commit)
    const check = ca.clone()
    const lines = indexLines(check)
    expect(lines).toHaveLength(2)
    const serials = lines.map((l) => l.split('\t')[3])
    expect(new Set(serials).size).toBe(2)
    expect(lines.map((l) => l.split('\t')[5])).toEqual(['/CN=a.example.com', '/CN=b.example.com'])
    expect(indexLines(runB)).toEqual(lines)
    // Linear history, no merge commits: one commit on top of merge #2.
    expect(git(check, 'rev-list', '--merges', 'HEAD').trim()).toBe('')
    expect(git(check, 'rev-list', '--count', `${second}..HEAD`).trim()).toBe('1')
    // openssl ca reads the database the two runs wrote.
    const cnf = join(check, 'gencrl.cnf')
    writeFileSync(
      cnf,
      [
        '[ ca ]',
        'default_ca = CA_default',
        '[ CA_default ]',
        `dir = ${join(check, 'intermediateCA')}`,
        'database = $dir/index.txt',
        'crlnumber = $dir/crlnumber',
        'certificate = $dir/certs/intermediate.cert.pem',
        'private_key = $dir/private/intermediate.key.pem',
        'default_md = sha256',
        'default_crl_days = 30',
        '',
      ].join('\n'),
    )
    const gencrl = opensslMerged(['ca', '-config', cnf, '-gencrl', '-out', join(check, 'openssl.crl.pem')])
    expect(gencrl.out).not.toMatch(/error/i)
    expect(gencrl.status).toBe(0)
  })

  it('two runs at the same time: both requests issued once, whichever wins', async () => {
    const ca = await caRemote()
    const head = ca.merge({ 'requests/c.csr.pem': csrFor('c'), 'requests/d.csr.pem': csrFor('d') })
    const [r1, r2] = await Promise.all([signIn(ca.clone(), head), signIn(ca.clone(), head)])
    const pushed = [r1, r2].filter((r) => r.commit !== undefined)
    expect(pushed).toHaveLength(1)
    const lines = indexLines(ca.clone())
    expect(lines).toHaveLength(2)
    expect(new Set(lines.map((l) => l.split('\t')[3])).size).toBe(2)
  })
})

describe('refusals leave the branch and the working copy as they were', () => {
  it('a push refused by branch protection says which bypass is needed', async () => {
    const ca = await caRemote()
    const start = ca.merge({ 'requests/p.csr.pem': csrFor('p') })
    const hook = join(ca.remote, 'hooks/pre-receive')
    writeFileSync(
      hook,
      '#!/bin/sh\necho "error: GH006: Protected branch update failed for refs/heads/main." >&2\nexit 1\n',
    )
    chmodSync(hook, 0o755)
    const dir = ca.clone()
    const before = snapshot(dir)
    const err = await signIn(dir, start).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CaError)
    expect((err as CaError).code).toBe('git.push_protected')
    expect((err as CaError).message).toMatch(/GH006.*bypass/)
    expect(ca.head()).toBe(start)
    const after = snapshot(dir)
    for (const k of Object.keys(after))
      if (k.startsWith('.git/') || k.startsWith('.mtls-ca/')) delete after[k]
    for (const k of Object.keys(before))
      if (k.startsWith('.git/') || k.startsWith('.mtls-ca/')) delete before[k]
    expect(after).toEqual(before)
  })

  it('gives up with git.conflict when the branch keeps moving', async () => {
    const ca = await caRemote()
    const start = ca.merge({ 'requests/q.csr.pem': csrFor('q') })
    const dir = ca.clone()
    const g = openGit({ dir })
    let n = 0
    const err = await commitAndPush({ git: g, branch: 'main', startHead: start, attempts: 2 }, async () => {
      ca.merge({ [`notes/${n++}.txt`]: 'someone else\n' })
      writeFileSync(join(dir, 'work.txt'), `attempt ${n}\n`)
      return { result: undefined, message: 'work', paths: ['work.txt'] }
    }).catch((e: unknown) => e)
    expect((err as CaError).code).toBe('git.conflict')
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(start)
    expect(git(dir, 'status', '--porcelain').trim()).toBe('')
  })

  it('a failing operation pushes nothing and puts the working copy back', async () => {
    const ca = await caRemote()
    const start = ca.merge({ 'requests/bad.csr.pem': 'not a csr\n', 'requests/ok.csr.pem': csrFor('ok') })
    const dir = ca.clone()
    const err = await signIn(dir, start).catch((e: unknown) => e)
    expect((err as CaError).code).toBe('csr.not_pem')
    expect(ca.head()).toBe(start)
    expect(git(dir, 'status', '--porcelain').trim()).toBe('')
  })
})

describe('openGitTreeStore', () => {
  it('reads a commit’s files from git, refuses symlinks and overlays files', async () => {
    const ca = await caRemote()
    const dir = ca.clone()
    git(dir, 'checkout', '--quiet', '-b', 'pr')
    const { symlinkSync } = await import('node:fs')
    symlinkSync('../intermediateCA/private/intermediate.key.pem', join(dir, 'requests/key.csr.pem'))
    git(dir, 'add', '-A')
    git(dir, 'commit', '--quiet', '-m', 'symlink')
    const commit = git(dir, 'rev-parse', 'HEAD').trim()
    const store = openGitTreeStore(
      openGit({ dir }),
      commit,
      '',
      new Map([['requests/x.yml', Buffer.from('days: 1\n')]]),
    )
    expect((await store.read('ca.yml'))?.toString()).toBe(readFileSync(join(dir, 'ca.yml'), 'utf8'))
    expect(await store.read('intermediateCA/private/intermediate.key.pem')).toBeUndefined()
    await expect(store.read('requests/key.csr.pem')).rejects.toMatchObject({ code: 'state.path_invalid' })
    expect(await store.list('requests')).toEqual(expect.arrayContaining(['key.csr.pem', 'x.yml']))
    expect((await store.read('requests/x.yml'))?.toString()).toBe('days: 1\n')
    await expect(store.commit([])).rejects.toMatchObject({ code: 'state.write_failed' })
  })
})
