/**
 * The journal that makes a batch of file writes all-or-nothing across crashes. A commit stages every
 * new file in a fresh folder under `.mtls-ca/journal/` (each written and fsynced, several at once),
 * fsyncs that folder, then renames a manifest into it: that rename is the commit point. It then renames
 * each staged file onto its target (several at once), fsyncs every folder involved, and removes the
 * manifest and the folder. Files are staged and moved concurrently because a large batch (3,001 files
 * for 1,000 certificates) otherwise waits for 3,001 fsyncs one after the other; the order of the
 * phases, which is what makes a batch durable and all-or-nothing, is the same as one at a time.
 *
 * Recovery (run under the lock before anything reads the state) discards folders without a manifest —
 * the old state is intact — and rolls a folder with one forward: every staged file still present is
 * moved, one already moved is skipped, so an interrupted recovery can simply run again. Contents are
 * checked against the manifest's SHA-256 first, so a damaged journal is reported, not installed.
 * What recovery trusts. The journal lives where only this machine's store writes (store-location.ts),
 * and recovery still assumes nothing about what it finds there: the journal folder, each commit
 * folder and each file in it are checked with lstat (never a symbolic link, folders are folders,
 * files are regular files), commit folders must carry the names commit() gives them and hold only
 * the names it writes, and a manifest may only name store paths that are not keys (store-path.ts).
 * Anything else is `state.untrusted_journal` and is left exactly as it is: recovery deletes only
 * files it has just verified to be its own, one by one, and folders by rmdir, never recursively.
 * Every target is checked from the CA root down before anything moves (no link on the way, no
 * folder where a file goes), so a replay cannot write outside the CA directory or onto a key.
 * The manifest's format and its strict reading are journal-manifest.ts.
 * Hand-written because no library does this for a directory of many files.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rmdir, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CaError, isCaError } from '../ca/errors.js'
import { errorCode, fsyncDirectory, writeNewFileSynced } from './durable-fs.js'
import { forEachConcurrently } from './concurrency.js'
import { kindOf, readOwnFile } from './untrusted-file.js'
import { isKeyPath, storePathSegments } from './store-path.js'
import {
  FOLDER_NAME,
  FORMAT,
  MANIFEST,
  MANIFEST_TEMP,
  readManifest,
  STAGED_NAME,
  untrusted,
  type ManifestEntry,
} from './journal-manifest.js'

/** A write whose path has been checked: the journal trusts it. */
export interface StagedWrite {
  path: string
  data: Buffer
  mode?: number
}

/**
 * Called before each step of a commit, and awaited: lets tests stop or slow a commit at a chosen point.
 * Steps come in order ('begin', 'stage:0'…, 'manifest', 'commit', 'apply:0'…, 'apply:sync', 'finish',
 * 'clean', 'done'), but up to CONCURRENCY 'stage:i' (or 'apply:i') files are in flight at once: when
 * 'stage:9' is called, files 0–8 may still be being written.
 */
export type CommitStepHook = (step: string) => void | Promise<void>

export type RecoveryOutcome = 'clean' | 'discarded' | 'completed'

export interface CommitHooks {
  /** Runs after staging, before the commit point; may veto the commit by throwing. */
  beforeCommitPoint: () => Promise<void>
  /** Runs when the commit ends with nothing changed after beforeCommitPoint succeeded. */
  afterRollBack?: () => Promise<void>
}

/**
 * How many files a commit writes, renames or checks at once. node:fs runs them on libuv's thread pool
 * (4 threads unless UV_THREADPOOL_SIZE says otherwise), so more only queue there; 16 keeps that pool
 * full without holding many file handles open.
 */
const CONCURRENCY = 16

export class Journal {
  /**
   * @param root the CA directory targets are relative to
   * @param dir the journal folder (on the same file system as `root`; its parent checked by the caller)
   */
  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly onStep?: CommitStepHook,
  ) {}

  /**
   * Stages and applies `writes` (paths checked by the caller, none of them a key). Fails with
   * `state.write_failed`; when it fails after the commit point and cannot finish, the journal is left
   * for recover().
   */
  async commit(writes: StagedWrite[], hooks: CommitHooks): Promise<void> {
    const name = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
    const folder = join(this.dir, name)
    const entries: ManifestEntry[] = writes.map((w, i) => ({
      path: w.path,
      staged: String(i),
      sha256: sha256(w.data),
      ...(w.mode === undefined ? {} : { mode: w.mode }),
    }))
    let made = false
    try {
      await this.step('begin')
      for (const w of writes) {
        if (isKeyPath(storePathSegments(w.path))) throw untrusted(this.dir, `${w.path} is a key`)
      }
      await this.ensureJournalFolder()
      await mkdir(folder, { mode: 0o700 })
      made = true
      // The folder's own name must be durable before the manifest in it can count as committed.
      await fsyncDirectory(this.dir)
      await fsyncDirectory(dirname(this.dir))
      // Every staged file is written and fsynced, several at once: the thread pool and the file
      // system overlap their fsyncs, where one at a time each waited for the last.
      await forEachConcurrently(writes, CONCURRENCY, async (w, i) => {
        await this.step(`stage:${i}`)
        await writeNewFileSynced(join(folder, String(i)), w.data, w.mode)
      })
      await this.step('manifest')
      const manifest = JSON.stringify({ format: FORMAT, writes: entries }, null, 1) + '\n'
      await writeNewFileSynced(join(folder, MANIFEST_TEMP), Buffer.from(manifest))
      // The names of the staged files (and of the manifest) durable too, before the rename commits them.
      await fsyncDirectory(folder)
      await hooks.beforeCommitPoint()
    } catch (e) {
      // Nothing outside the journal was touched yet; a folder that cannot be removed now is an
      // uncommitted one, which the next recovery discards.
      if (made) await this.removeOwnFolder(folder).catch(() => undefined)
      throw writeFailed(
        e,
        `could not stage the commit of ${writes.length} file(s) in ${this.root}; nothing changed`,
      )
    }
    try {
      await this.step('commit')
      await rename(join(folder, MANIFEST_TEMP), join(folder, MANIFEST))
      await fsyncDirectory(folder)
      await this.apply(folder, entries)
    } catch (e) {
      // Whether the commit point was passed is told by the manifest's presence, and recovery
      // finishes either way: forward when it was, back when it was not.
      let outcome: RecoveryOutcome
      try {
        outcome = await this.recover()
      } catch (again) {
        throw writeFailed(
          e,
          `could not finish a commit in ${this.root}; the next run that locks it will complete or discard it ` +
            `(${again instanceof Error ? again.message : String(again)})`,
        )
      }
      if (outcome === 'completed') return
      if (hooks.afterRollBack) await hooks.afterRollBack()
      throw writeFailed(e, `could not commit ${writes.length} file(s) in ${this.root}; nothing changed`)
    }
  }

  /** Brings the directory to a committed state: see the module comment. Only under the lock. */
  async recover(): Promise<RecoveryOutcome> {
    const kind = await kindOf(this.dir)
    if (kind === 'absent') return 'clean'
    if (kind !== 'folder') throw untrusted(this.dir, `it is ${describeKind(kind)}, not a folder`)
    let names: string[]
    try {
      names = (await readdir(this.dir)).sort()
    } catch (e) {
      throw writeFailed(e, `cannot read the journal ${this.dir}`)
    }
    // Every folder is checked before any is touched: one foreign name and nothing is removed.
    const folders: { folder: string; committed: boolean }[] = []
    for (const name of names) {
      const folder = join(this.dir, name)
      if (!FOLDER_NAME.test(name)) throw untrusted(folder, 'it is not a name the store gives its commits')
      const k = await kindOf(folder)
      if (k !== 'folder') throw untrusted(folder, `it is ${describeKind(k)}, not a folder`)
      const files = await this.ownFiles(folder)
      folders.push({ folder, committed: files.includes(MANIFEST) })
    }
    const committed = folders.filter((f) => f.committed).map((f) => f.folder)
    if (committed.length > 1) {
      // Only one process commits at a time: two committed journals mean the lock was broken.
      throw new CaError(
        'state.corrupt',
        `${this.dir} holds ${committed.length} committed journals (${committed.join(', ')}); the lock was bypassed ` +
          `and the state needs a person to decide`,
        { file: this.dir },
      )
    }
    let discarded = false
    try {
      for (const f of folders) {
        if (f.committed) continue
        await this.removeOwnFolder(f.folder)
        discarded = true
      }
    } catch (e) {
      throw writeFailed(e, `cannot discard an interrupted commit in ${this.dir}`)
    }
    const folder = committed[0]
    if (folder === undefined) return discarded ? 'discarded' : 'clean'
    const entries = await readManifest(folder)
    await this.checkTargets(entries)
    await this.verify(folder, entries)
    try {
      await this.apply(folder, entries)
    } catch (e) {
      throw writeFailed(e, `cannot complete the interrupted commit recorded in ${folder}`)
    }
    return 'completed'
  }

  /** The journal folder exists as a real folder (made here when absent). */
  private async ensureJournalFolder(): Promise<void> {
    try {
      await mkdir(this.dir, { mode: 0o700 })
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e
    }
    const kind = await kindOf(this.dir)
    if (kind !== 'folder') throw untrusted(this.dir, `it is ${describeKind(kind)}, not a folder`)
  }

  /** The names in a commit folder, each checked to be one commit() writes and a regular file. */
  private async ownFiles(folder: string): Promise<string[]> {
    const names = await readdir(folder)
    for (const name of names) {
      if (name !== MANIFEST && name !== MANIFEST_TEMP && !STAGED_NAME.test(name)) {
        throw untrusted(join(folder, name), 'it is not a name the store writes in a commit')
      }
      const k = await kindOf(join(folder, name))
      if (k !== 'file') throw untrusted(join(folder, name), `it is ${describeKind(k)}, not a regular file`)
    }
    return names
  }

  /** Removes a commit folder whose every file is one of ours: file by file, then the empty folder. */
  private async removeOwnFolder(folder: string): Promise<void> {
    const names = await this.ownFiles(folder)
    for (const name of names) await unlink(join(folder, name))
    await rmdir(folder)
  }

  private async apply(folder: string, entries: ManifestEntry[]): Promise<void> {
    const folders = new Set<string>()
    const parents = new Set<string>()
    const targets = entries.map((entry) => {
      const segments = storePathSegments(entry.path)
      for (let k = 0; k < segments.length; k++) folders.add(join(this.root, ...segments.slice(0, k)))
      const target = join(this.root, ...segments)
      parents.add(dirname(target))
      return target
    })
    // Each target's folder once, not once per file (plan() or checkTargets() refused a file or a
    // symlink on the way, so the recursive mkdir follows nothing).
    for (const dir of parents) await mkdir(dir, { recursive: true })
    await forEachConcurrently(entries, CONCURRENCY, async (entry, i) => {
      await this.step(`apply:${i}`)
      const staged = join(folder, entry.staged)
      try {
        await rename(staged, targets[i] as string)
      } catch (e) {
        // Moved by an earlier run of this same commit (its folder exists: it was made above).
        if (errorCode(e) === 'ENOENT' && (await kindOf(staged)) === 'absent') return
        throw e
      }
    })
    await this.step('apply:sync')
    // Every name created or replaced, including new folders, must be durable before the manifest goes.
    await forEachConcurrently([...folders], CONCURRENCY, (dir) => fsyncDirectory(dir))
    await this.step('finish')
    await unlink(join(folder, MANIFEST))
    await fsyncDirectory(folder)
    await this.step('clean')
    await this.removeOwnFolder(folder)
    await this.step('done')
  }

  /**
   * Before a replay moves anything: every folder from the CA root down to each target is a real
   * folder or absent (never a symbolic link or a file), and each target a regular file or absent.
   */
  private async checkTargets(entries: ManifestEntry[]): Promise<void> {
    for (const entry of entries) {
      const segments = storePathSegments(entry.path)
      for (let k = 1; k <= segments.length; k++) {
        const at = segments.slice(0, k).join('/')
        const kind = await kindOf(join(this.root, ...segments.slice(0, k)))
        if (kind === 'absent') break
        const last = k === segments.length
        if (kind === (last ? 'file' : 'folder')) continue
        throw new CaError(
          'state.path_invalid',
          `refused to complete the journal's write of "${entry.path}": ${at} is ${describeKind(kind)}; ` +
            `expected ${last ? 'a regular file' : 'a folder'} or nothing. Nothing was changed`,
          { file: entry.path },
        )
      }
    }
  }

  /** Every entry's bytes are either still staged or already at the target, and are what was committed. */
  private async verify(folder: string, entries: ManifestEntry[]): Promise<void> {
    await forEachConcurrently(entries, CONCURRENCY, async (entry) => {
      const staged = join(folder, entry.staged)
      const target = join(this.root, ...storePathSegments(entry.path))
      let file = staged
      let data = await readOwnFile(staged)
      if (data === undefined) {
        file = target
        data = await readOwnFile(target)
      }
      if (data === 'not-a-file') throw untrusted(file, 'it is not a regular file')
      if (data === undefined || sha256(data) !== entry.sha256) {
        throw new CaError(
          'state.corrupt',
          `cannot complete the interrupted commit in ${folder}: ${file} is ${data === undefined ? 'missing' : 'not what was committed'}; ` +
            'the state needs a person to decide',
          { file },
        )
      }
    })
  }

  private async step(name: string): Promise<void> {
    if (this.onStep) await this.onStep(name)
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function describeKind(kind: string): string {
  return kind === 'symlink'
    ? 'a symbolic link'
    : kind === 'folder'
      ? 'a folder'
      : kind === 'file'
        ? 'a file'
        : kind === 'absent'
          ? 'missing'
          : 'not a file or folder'
}

function writeFailed(e: unknown, message: string): CaError {
  if (isCaError(e)) return e
  const detail = e instanceof Error ? `: ${e.message}` : ''
  return new CaError('state.write_failed', message + detail, { cause: e })
}
