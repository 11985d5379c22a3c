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
 * Hand-written because no library does this for a directory of many files.
 */
import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, rename, rm, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CaError, isCaError } from '../ca/errors.js'
import { errorCode, fsyncDirectory, writeNewFileSynced } from './durable-fs.js'
import { forEachConcurrently } from './concurrency.js'
import { storePathSegments } from './store-path.js'

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

interface ManifestEntry {
  path: string
  staged: string
  sha256: string
  mode?: number
}

const FORMAT = 'mtls-ca.journal/1'
const MANIFEST = 'manifest.json'
/**
 * How many files a commit writes, renames or checks at once. node:fs runs them on libuv's thread pool
 * (4 threads unless UV_THREADPOOL_SIZE says otherwise), so more only queue there; 16 keeps that pool
 * full without holding many file handles open.
 */
const CONCURRENCY = 16

export class Journal {
  /**
   * @param root the CA directory targets are relative to
   * @param dir the journal folder (inside the store folder, on the same file system as `root`)
   */
  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly onStep?: CommitStepHook,
  ) {}

  /**
   * Stages and applies `writes`. `beforeCommitPoint` runs after staging and may veto the commit by
   * throwing (the caller re-checks that it still holds the lock). Fails with `state.write_failed`;
   * when it fails after the commit point and cannot finish, the journal is left for recover().
   */
  async commit(writes: StagedWrite[], beforeCommitPoint: () => Promise<void>): Promise<void> {
    const folder = join(this.dir, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`)
    const entries: ManifestEntry[] = writes.map((w, i) => ({
      path: w.path,
      staged: String(i),
      sha256: sha256(w.data),
      ...(w.mode === undefined ? {} : { mode: w.mode }),
    }))
    try {
      await this.step('begin')
      await mkdir(this.dir, { recursive: true })
      await mkdir(folder)
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
      await writeNewFileSynced(join(folder, `${MANIFEST}.tmp`), Buffer.from(manifest))
      // The names of the staged files (and of the manifest) durable too, before the rename commits them.
      await fsyncDirectory(folder)
      await beforeCommitPoint()
    } catch (e) {
      // Nothing outside the journal was touched yet; a folder that cannot be removed now is an
      // uncommitted one, which the next recovery discards.
      await rm(folder, { recursive: true, force: true }).catch(() => undefined)
      throw writeFailed(
        e,
        `could not stage the commit of ${writes.length} file(s) in ${this.root}; nothing changed`,
      )
    }
    await this.step('commit')
    try {
      await rename(join(folder, `${MANIFEST}.tmp`), join(folder, MANIFEST))
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
      throw writeFailed(e, `could not commit ${writes.length} file(s) in ${this.root}; nothing changed`)
    }
  }

  /** Brings the directory to a committed state: see the module comment. Only under the lock. */
  async recover(): Promise<RecoveryOutcome> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return 'clean'
      throw writeFailed(e, `cannot read the journal ${this.dir}`)
    }
    const committed: string[] = []
    let discarded = false
    try {
      for (const name of names.sort()) {
        const folder = join(this.dir, name)
        if (await exists(join(folder, MANIFEST))) {
          committed.push(folder)
        } else {
          await rm(folder, { recursive: true, force: true })
          discarded = true
        }
      }
    } catch (e) {
      throw writeFailed(e, `cannot discard an interrupted commit in ${this.dir}`)
    }
    if (committed.length > 1) {
      // Only one process commits at a time: two committed journals mean the lock was broken.
      throw new CaError(
        'state.corrupt',
        `${this.dir} holds ${committed.length} committed journals (${committed.join(', ')}); the lock was bypassed ` +
          `and the state needs a person to decide`,
        { file: this.dir },
      )
    }
    const folder = committed[0]
    if (folder === undefined) return discarded ? 'discarded' : 'clean'
    const entries = await this.readManifest(folder)
    await this.verify(folder, entries)
    try {
      await this.apply(folder, entries)
    } catch (e) {
      throw writeFailed(e, `cannot complete the interrupted commit recorded in ${folder}`)
    }
    return 'completed'
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
    // Each target's folder once, not once per file (plan() refused a file or symlink on the way).
    for (const dir of parents) await mkdir(dir, { recursive: true })
    await forEachConcurrently(entries, CONCURRENCY, async (entry, i) => {
      await this.step(`apply:${i}`)
      const staged = join(folder, entry.staged)
      try {
        await rename(staged, targets[i] as string)
      } catch (e) {
        // Moved by an earlier run of this same commit (its folder exists: it was made above).
        if (errorCode(e) === 'ENOENT' && !(await exists(staged))) return
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
    await rm(folder, { recursive: true, force: true })
    await this.step('done')
  }

  private async readManifest(folder: string): Promise<ManifestEntry[]> {
    const file = join(folder, MANIFEST)
    const corrupt = (why: string): never => {
      throw new CaError(
        'state.corrupt',
        `the journal ${file} is damaged (${why}); the state needs a person to decide`,
        {
          file,
        },
      )
    }
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8'))
    } catch (e) {
      return corrupt(e instanceof Error ? e.message : String(e))
    }
    const m = value as { format?: unknown; writes?: unknown }
    if (typeof m !== 'object' || m === null || m.format !== FORMAT) return corrupt(`not ${FORMAT}`)
    if (!Array.isArray(m.writes)) return corrupt('no list of writes')
    return m.writes.map((w: Partial<ManifestEntry>, i): ManifestEntry => {
      if (typeof w !== 'object' || w === null) return corrupt(`write ${i} is not an object`)
      if (typeof w.path !== 'string') return corrupt(`write ${i} has no path`)
      try {
        storePathSegments(w.path) // a manifest must not be able to name a file outside the root
      } catch (e) {
        return corrupt(isCaError(e) ? e.message : String(e))
      }
      if (typeof w.staged !== 'string' || !/^\d+$/.test(w.staged))
        return corrupt(`write ${i} has no staged file`)
      if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256))
        return corrupt(`write ${i} has no SHA-256`)
      return { path: w.path, staged: w.staged, sha256: w.sha256 }
    })
  }

  /** Every entry's bytes are either still staged or already at the target, and are what was committed. */
  private async verify(folder: string, entries: ManifestEntry[]): Promise<void> {
    await forEachConcurrently(entries, CONCURRENCY, async (entry) => {
      const staged = join(folder, entry.staged)
      const target = join(this.root, ...storePathSegments(entry.path))
      const [file, data] = (await exists(staged))
        ? [staged, await readFile(staged)]
        : [target, await readFile(target).catch(() => undefined)]
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

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return false
    throw e
  }
}

function writeFailed(e: unknown, message: string): CaError {
  if (isCaError(e)) return e
  const detail = e instanceof Error ? `: ${e.message}` : ''
  return new CaError('state.write_failed', message + detail, { cause: e })
}
