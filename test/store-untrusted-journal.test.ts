/**
 * The store trusts nothing it finds in its own folder or on the way to a target, run through the CLI
 * as a process (`mtls-ca list`, which recovers before it reads). Two kinds of CA directory:
 *
 * - outside any git work tree, the journal is `.mtls-ca/journal/` and every planted or linked part
 *   of it is refused with a code (state.untrusted_journal, or state.path_invalid for the lock and
 *   for targets through a link), leaving everything byte-identical;
 * - inside a git work tree (a clone, as the Action checks one out), the journal lives in the git dir,
 *   so a `.mtls-ca/` that a commit planted (force-added files, symlinks) is harmlessly ignored: it is
 *   never read, replayed or deleted, and the command succeeds.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleForTest } from './support/bundle.js'
import { cleanupTempDirs, tempDir } from './support/ca-fixture.js'
import { treeSnapshot } from './support/store-batches.js'

afterAll(cleanupTempDirs)

const FOLDER = 'lr8k2-0a1b2c3d' // a name of the kind commit() gives its folders
const KEY = 'intermediateCA/private/intermediate.key.pem'

let cli: string
let pristine: string

beforeAll(async () => {
  cli = await bundleForTest('src/cli.ts')
  pristine = join(tempDir(), 'ca')
  const r = run(['init', '--dir', pristine, '--allow-dns', '.example.com'])
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`)
}, 60_000)

function run(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

/**
 * A manifest in `folder` (created) with staged files 0, 1, … and their correct SHA-256, as a commit
 * of the store would write it: only the place and the paths give it away.
 */
function plantCommit(folder: string, writes: { path: string; data: string }[]): void {
  mkdirSync(folder, { recursive: true })
  writes.forEach((w, i) => writeFileSync(join(folder, String(i)), w.data))
  const manifest = {
    format: 'mtls-ca.journal/1',
    writes: writes.map((w, i) => ({ path: w.path, staged: String(i), sha256: sha256(w.data) })),
  }
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest))
}

/** A fresh copy of the CA beside a victim folder outside it (folders and files someone cares about). */
function arrange(): { base: string; ca: string; victim: string; journal: string } {
  const base = tempDir()
  const ca = join(base, 'ca')
  cpSync(pristine, ca, { recursive: true })
  const victim = join(base, 'victim')
  mkdirSync(join(victim, 'projects', 'thesis'), { recursive: true })
  mkdirSync(join(victim, 'photos'))
  writeFileSync(join(victim, 'projects', 'thesis', 'chapter1.txt'), 'years of work\n')
  writeFileSync(join(victim, 'notes.txt'), 'notes\n')
  return { base, ca, victim, journal: join(ca, '.mtls-ca', 'journal') }
}

type Arranged = ReturnType<typeof arrange>

/** What an attacker would like the replay to write: a key, and a file outside the CA. */
const evilKey = '-----BEGIN PRIVATE KEY-----\nnot the CA key\n-----END PRIVATE KEY-----\n'

const refusals: [string, string, (a: Arranged) => void][] = [
  [
    "the issue's reproduction: .mtls-ca/journal a symlink to a folder outside",
    'state.untrusted_journal',
    ({ journal, victim }) => {
      rmSync(journal, { recursive: true, force: true })
      symlinkSync(victim, journal)
    },
  ],
  [
    '.mtls-ca itself a symlink to a folder holding a journal',
    'state.untrusted_journal',
    ({ ca, victim }) => {
      plantCommit(join(victim, 'journal', FOLDER), [{ path: 'intermediateCA/index.txt', data: '' }])
      rmSync(join(ca, '.mtls-ca'), { recursive: true, force: true })
      symlinkSync(victim, join(ca, '.mtls-ca'))
    },
  ],
  [
    'the journal a regular file',
    'state.untrusted_journal',
    ({ journal }) => {
      rmSync(journal, { recursive: true, force: true })
      writeFileSync(journal, 'x')
    },
  ],
  [
    'a commit folder a symlink to a folder outside',
    'state.untrusted_journal',
    ({ journal, victim }) => {
      plantCommit(join(victim, 'entry'), [{ path: 'intermediateCA/index.txt', data: '' }])
      symlinkSync(join(victim, 'entry'), join(journal, FOLDER))
    },
  ],
  [
    'an uncommitted folder that is a symlink (discarding it would delete the victim)',
    'state.untrusted_journal',
    ({ journal, victim }) => symlinkSync(join(victim, 'projects'), join(journal, FOLDER)),
  ],
  [
    'the manifest a symlink',
    'state.untrusted_journal',
    ({ journal, victim }) => {
      plantCommit(join(victim, 'entry'), [{ path: 'certs/x.cert.pem', data: 'x' }])
      mkdirSync(join(journal, FOLDER))
      writeFileSync(join(journal, FOLDER, '0'), 'x')
      symlinkSync(join(victim, 'entry', 'manifest.json'), join(journal, FOLDER, 'manifest.json'))
    },
  ],
  [
    'a staged file a symlink to a file outside',
    'state.untrusted_journal',
    ({ journal, victim }) => {
      const secret = join(victim, 'notes.txt')
      plantCommit(join(journal, FOLDER), [{ path: 'certs/leak.cert.pem', data: 'notes\n' }])
      rmSync(join(journal, FOLDER, '0'))
      symlinkSync(secret, join(journal, FOLDER, '0'))
    },
  ],
  [
    'a folder where a staged file should be',
    'state.untrusted_journal',
    ({ journal }) => {
      plantCommit(join(journal, FOLDER), [{ path: 'certs/x.cert.pem', data: 'x' }])
      rmSync(join(journal, FOLDER, '0'))
      mkdirSync(join(journal, FOLDER, '0'))
    },
  ],
  [
    "a commit folder named as the store never names one (the issue's journal/x)",
    'state.untrusted_journal',
    ({ journal }) => plantCommit(join(journal, 'x'), [{ path: 'certs/x.cert.pem', data: 'x' }]),
  ],
  [
    'an uncommitted folder holding a file the store never writes',
    'state.untrusted_journal',
    ({ journal }) => {
      mkdirSync(join(journal, FOLDER))
      writeFileSync(join(journal, FOLDER, 'run-me.sh'), 'rm -rf ~\n')
    },
  ],
  [
    'a planted manifest with correct hashes replacing the intermediate key',
    'state.untrusted_journal',
    ({ journal }) => plantCommit(join(journal, FOLDER), [{ path: KEY, data: evilKey }]),
  ],
  [
    'a planted manifest naming a *.KEY.PEM outside private/',
    'state.untrusted_journal',
    ({ journal }) => plantCommit(join(journal, FOLDER), [{ path: 'certs/www.KEY.PEM', data: evilKey }]),
  ],
  [
    'a planted manifest with a `..` path',
    'state.untrusted_journal',
    ({ journal }) =>
      plantCommit(join(journal, FOLDER), [{ path: 'certs/../../victim/notes.txt', data: 'gone\n' }]),
  ],
  [
    'a planted manifest with an absolute path',
    'state.untrusted_journal',
    ({ journal, victim }) =>
      plantCommit(join(journal, FOLDER), [{ path: join(victim, 'notes.txt'), data: 'gone\n' }]),
  ],
  [
    'a planted manifest with correct hashes writing through a symlinked certs/out',
    'state.path_invalid',
    ({ ca, journal, victim }) => {
      symlinkSync(victim, join(ca, 'certs', 'out'))
      plantCommit(join(journal, FOLDER), [
        { path: 'certs/a.cert.pem', data: 'a' },
        { path: 'certs/out/notes.txt', data: 'overwritten\n' },
      ])
    },
  ],
  [
    'a planted manifest whose target is a symlink to a file outside',
    'state.path_invalid',
    ({ ca, journal, victim }) => {
      symlinkSync(join(victim, 'notes.txt'), join(ca, 'certs', 'www.cert.pem'))
      plantCommit(join(journal, FOLDER), [{ path: 'certs/www.cert.pem', data: 'overwritten\n' }])
    },
  ],
  [
    'a planted manifest whose target is a folder',
    'state.path_invalid',
    ({ journal }) => plantCommit(join(journal, FOLDER), [{ path: 'intermediateCA/newcerts', data: 'x' }]),
  ],
  [
    'the lock file a symlink',
    'state.path_invalid',
    ({ ca, victim }) => symlinkSync(join(victim, 'notes.txt'), join(ca, '.mtls-ca', 'lock')),
  ],
]

describe('a CA directory outside git: what is planted in .mtls-ca is refused', () => {
  it.each(refusals)(
    '%s → %s, and every file in and outside the CA is byte-identical',
    (_name, code, plant) => {
      const a = arrange()
      plant(a)
      const before = treeSnapshot(a.base, '')
      const r = run(['list', '--dir', a.ca])
      expect({ status: r.status, stderr: r.stderr }).toEqual({
        status: 1,
        stderr: expect.stringContaining(`[${code}]`),
      })
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(treeSnapshot(a.base, '')).toEqual(before)
    },
  )

  it('still completes a commit of its own that was interrupted (the journal written by the store)', () => {
    const a = arrange()
    // What a killed commit leaves: the manifest renamed into place, one file moved, one still staged.
    plantCommit(join(a.journal, FOLDER), [
      { path: 'certs/a.cert.pem', data: 'a' },
      { path: 'certs/b.cert.pem', data: 'b' },
    ])
    const before = treeSnapshot(a.ca, '.mtls-ca')
    const r = run(['list', '--dir', a.ca])
    expect(r.status).toBe(0)
    expect(treeSnapshot(a.ca, '.mtls-ca')).toEqual({
      ...before,
      'certs/a.cert.pem': expect.stringMatching(/^644 /),
      'certs/b.cert.pem': expect.stringMatching(/^644 /),
    })
    expect(treeSnapshot(join(a.ca, '.mtls-ca'), '')).toEqual({
      '.gitignore': expect.any(String),
      journal: 'dir',
    })
  })
})

describe('a CA directory in a git work tree: a .mtls-ca a commit planted is never replayed', () => {
  const git = (cwd: string, ...args: string[]) =>
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd,
      encoding: 'utf8',
    })

  /** A repository whose CA directory `ca` got `plant` committed (force-added), and a fresh clone of it. */
  function cloneWith(plant: (a: Arranged) => void): { clone: string; victim: string; base: string } {
    const a = arrange()
    const repo = a.base
    rmSync(join(a.ca, '.mtls-ca'), { recursive: true, force: true })
    expect(git(repo, 'init', '--quiet').status).toBe(0)
    mkdirSync(join(a.ca, '.mtls-ca'))
    plant(a)
    expect(git(repo, 'add', '-f', 'ca').status).toBe(0)
    expect(git(repo, 'commit', '--quiet', '-m', 'a pull request').status).toBe(0)
    const base = tempDir()
    expect(git(base, 'clone', '--quiet', repo, 'clone').status).toBe(0)
    return { clone: join(base, 'clone'), victim: a.victim, base: repo }
  }

  it.each<[string, (a: Arranged) => void]>([
    [
      'force-added manifest with correct hashes: the key, an index, and a file through symlinked certs/out',
      ({ ca, journal, victim }) => {
        symlinkSync(victim, join(ca, 'certs', 'out'))
        plantCommit(join(journal, FOLDER), [
          { path: 'intermediateCA/index.txt', data: '' },
          { path: KEY, data: evilKey },
          { path: 'certs/out/notes.txt', data: 'overwritten\n' },
        ])
      },
    ],
    [
      'a committed .mtls-ca/journal symlink to a folder outside',
      ({ journal, victim }) => symlinkSync(victim, journal),
    ],
    [
      'a committed .mtls-ca symlink to a folder outside',
      ({ ca, victim }) => {
        rmSync(join(ca, '.mtls-ca'), { recursive: true })
        symlinkSync(victim, join(ca, '.mtls-ca'))
      },
    ],
    [
      'a committed lock file symlink',
      ({ ca, victim }) => symlinkSync(join(victim, 'notes.txt'), join(ca, '.mtls-ca', 'lock')),
    ],
  ])(
    '%s: ignored (list succeeds), the working tree and every file outside it byte-identical',
    (_name, plant) => {
      const { clone, victim, base } = cloneWith(plant)
      const tree = treeSnapshot(clone, '.git')
      const outside = treeSnapshot(victim, '')
      const repo = treeSnapshot(base, '')
      const r = run(['list', '--dir', join(clone, 'ca')])
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
      expect(r.stdout).toContain('No certificates issued yet')
      expect(treeSnapshot(clone, '.git')).toEqual(tree)
      expect(treeSnapshot(victim, '')).toEqual(outside)
      expect(treeSnapshot(base, '')).toEqual(repo)
    },
  )

  it('refuses a .git that is a symbolic link instead of placing its journal through it', () => {
    const base = tempDir()
    const ca = join(base, 'work', 'ca')
    mkdirSync(join(base, 'elsewhere'))
    cpSync(pristine, ca, { recursive: true })
    rmSync(join(ca, '.mtls-ca'), { recursive: true })
    symlinkSync(join(base, 'elsewhere'), join(base, 'work', '.git'))
    const before = treeSnapshot(base, '')
    const r = run(['list', '--dir', ca])
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 1,
      stderr: expect.stringContaining('[state.untrusted_journal]'),
    })
    expect(treeSnapshot(base, '')).toEqual(before)
  })
})
