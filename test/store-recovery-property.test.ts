/**
 * Property: whatever a journal holds and however links are laid out in and around the CA directory,
 * recovery (the lock of the next command) never writes or deletes anything outside the CA directory,
 * never changes a key file, never deletes a file of the CA, and fails, when it fails, with a CaError.
 */
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isCaError } from '../src/ca/errors.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { cleanupTempDirs, tempDir } from './support/ca-fixture.js'
import { treeSnapshot } from './support/store-batches.js'

afterAll(cleanupTempDirs)

const KEYS = [
  'rootCA/private/ca.key.pem',
  'intermediateCA/private/intermediate.key.pem',
  'keys/issuing.key.pem',
]

/** Paths a manifest may name: ordinary ones, keys, escapes, links, folders, and random ones. */
const targetPath = fc.oneof(
  {
    arbitrary: fc.constantFrom('certs/new.cert.pem', 'intermediateCA/serial', 'new/folder/file.pem'),
    weight: 12,
  },
  fc.constantFrom(
    'certs/www.cert.pem',
    'intermediateCA/index.txt',
    'intermediateCA/newcerts/1000.pem',
    'certs/out/notes.txt',
    'link/notes.txt',
    'linkfile',
    'certs',
    ...KEYS,
    'rootCA/Private/x.pem',
    'certs/www.KEY.PEM',
    '../outside/notes.txt',
    'certs/../../outside/notes.txt',
    '/tmp/outside-absolute',
    '.mtls-ca/journal/x',
    'a\\b',
    '',
  ),
  fc
    .array(fc.constantFrom('certs', 'out', 'link', '..', '.', 'private', 'x.key.pem', 'new', ''), {
      minLength: 1,
      maxLength: 4,
    })
    .map((s) => s.join('/')),
)

const stagedKind = fc.constantFrom(
  'file',
  'file',
  'file',
  'file',
  'file',
  'symlink-to-outside',
  'missing',
  'folder',
)

const entry = fc.record({
  path: targetPath,
  data: fc.string({ maxLength: 20 }),
  staged: stagedKind,
  hashRight: fc.constantFrom(true, true, true, true, false),
})

/** Mostly false: most cases should have one problem or none, so that some replays run to the end. */
const rarely = fc.integer({ min: 0, max: 11 }).map((n) => n === 0)

const journalCase = fc.record({
  entries: fc.array(entry, { maxLength: 3 }),
  manifest: fc.constantFrom('committed', 'committed', 'committed', 'uncommitted', 'symlink', 'none'),
  folderName: fc.oneof(
    { arbitrary: fc.constant('lr8k2-0a1b2c3d'), weight: 6 },
    fc.constantFrom('x', '..hidden', 'lr8k2-0A1B2C3D'),
  ),
  folderIsLink: rarely,
  journalIsLink: rarely,
  storeIsLink: rarely,
  lockIsLink: rarely,
  foreignFile: rarely,
  certsOutIsLink: rarely,
  linkFolder: rarely,
  linkFile: rarely,
  keysFolderIsLink: rarely,
})

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

type JournalCase = typeof journalCase extends fc.Arbitrary<infer T> ? T : never

function arrange(c: JournalCase): { ca: string; outside: string } {
  const base = tempDir()
  const ca = join(base, 'ca')
  const outside = join(base, 'outside')
  mkdirSync(join(outside, 'sub'), { recursive: true })
  writeFileSync(join(outside, 'notes.txt'), 'outside\n')
  writeFileSync(join(outside, 'sub', 'deep.txt'), 'deep\n')
  for (const dir of ['certs', 'rootCA/private', 'intermediateCA/private', 'intermediateCA/newcerts'])
    mkdirSync(join(ca, dir), { recursive: true })
  writeFileSync(join(ca, 'intermediateCA/index.txt'), '')
  for (const key of KEYS.slice(0, 2)) writeFileSync(join(ca, key), `key ${key}\n`, { mode: 0o400 })
  if (c.keysFolderIsLink) symlinkSync(join(ca, 'intermediateCA/private'), join(ca, 'keys'))
  if (c.certsOutIsLink) symlinkSync(outside, join(ca, 'certs/out'))
  if (c.linkFolder) symlinkSync(outside, join(ca, 'link'))
  if (c.linkFile) symlinkSync(join(outside, 'notes.txt'), join(ca, 'linkfile'))

  // The store folder, or a link to one built outside.
  const realStore = c.storeIsLink ? join(outside, 'store') : join(ca, '.mtls-ca')
  mkdirSync(realStore, { recursive: true })
  if (c.storeIsLink) symlinkSync(realStore, join(ca, '.mtls-ca'))
  if (c.lockIsLink) symlinkSync(join(outside, 'notes.txt'), join(realStore, 'lock'))
  const realJournal = c.journalIsLink ? join(outside, 'journal') : join(realStore, 'journal')
  mkdirSync(realJournal, { recursive: true })
  if (c.journalIsLink) symlinkSync(realJournal, join(realStore, 'journal'))
  if (c.manifest === 'none' && c.entries.length === 0) return { ca, outside }

  const realFolder = c.folderIsLink ? join(outside, 'entry') : join(realJournal, c.folderName)
  mkdirSync(realFolder, { recursive: true })
  if (c.folderIsLink) symlinkSync(realFolder, join(realJournal, c.folderName))
  c.entries.forEach((e, i) => {
    const staged = join(realFolder, String(i))
    if (e.staged === 'file') writeFileSync(staged, e.data)
    if (e.staged === 'folder') mkdirSync(staged)
    if (e.staged === 'symlink-to-outside') symlinkSync(join(outside, 'notes.txt'), staged)
  })
  if (c.foreignFile) writeFileSync(join(realFolder, 'payload.sh'), 'x')
  const manifest = JSON.stringify({
    format: 'mtls-ca.journal/1',
    writes: c.entries.map((e, i) => ({
      path: e.path,
      staged: String(i),
      sha256: sha256(e.hashRight ? (e.staged === 'symlink-to-outside' ? 'outside\n' : e.data) : 'other'),
    })),
  })
  if (c.manifest === 'committed') writeFileSync(join(realFolder, 'manifest.json'), manifest)
  if (c.manifest === 'uncommitted') writeFileSync(join(realFolder, 'manifest.json.tmp'), manifest)
  if (c.manifest === 'symlink') {
    writeFileSync(join(outside, 'manifest.json'), manifest)
    symlinkSync(join(outside, 'manifest.json'), join(realFolder, 'manifest.json'))
  }
  return { ca, outside }
}

it('recovery never writes or deletes outside the CA, never changes a key, never deletes a CA file', async () => {
  const outcomes = { replayed: 0, refused: 0, unchanged: 0 }
  await fc.assert(
    fc.asyncProperty(journalCase, async (c) => {
      const { ca, outside } = arrange(c)
      const outsideBefore = treeSnapshot(outside, '')
      const caBefore = treeSnapshot(ca)
      let failure: unknown
      await openDirectoryStore(ca, { lockTimeoutMs: 200 })
        .locked(async () => undefined)
        .catch((e: unknown) => (failure = e))

      expect(treeSnapshot(outside, '')).toEqual(outsideBefore)
      const caAfter = treeSnapshot(ca)
      for (const [path, before] of Object.entries(caBefore)) {
        // no file of the CA disappears, a key or a link never changes
        expect({ path, present: path in caAfter }).toEqual({ path, present: true })
        if (KEYS.includes(path) || before.startsWith('link ') || /private/i.test(path))
          expect({ path, after: caAfter[path] }).toEqual({ path, after: before })
      }
      for (const path of Object.keys(caAfter)) {
        // nothing new under a key folder, and no new key file anywhere
        if (!(path in caBefore))
          expect({ path, key: /private|\.key\.pem$/i.test(path) }).toEqual({ path, key: false })
      }
      if (failure !== undefined) expect(isCaError(failure)).toBe(true)
      const changed = JSON.stringify(caAfter) !== JSON.stringify(caBefore)
      outcomes[failure !== undefined ? 'refused' : changed ? 'replayed' : 'unchanged']++
    }),
    {
      numRuns: Number(process.env.STORE_PROPERTY_RUNS ?? 150),
      seed: Number(process.env.STORE_PROPERTY_SEED ?? 9),
    },
  )
  // The property is not vacuous: some journals were replayed, some refused.
  expect(outcomes).toEqual({
    replayed: expect.any(Number),
    refused: expect.any(Number),
    unchanged: expect.any(Number),
  })
  expect({ outcomes, each: Math.min(outcomes.replayed, outcomes.refused) > 5 }).toEqual({
    outcomes,
    each: true,
  })
}, 120_000)
