/**
 * The StateStore of a plain directory: the CA's files where OpenSSL expects them, plus the store's
 * own folder (lock file and commit journal): under the repository's git dir when the CA directory is
 * in a git work tree, else `.mtls-ca/` inside it, which holds a `.gitignore` of `*` (see
 * store-location.ts for why). Writes go through the journal under the lock (see journal.ts,
 * directory-lock.ts), after write-plan.ts has checked the batch; the store's folder and each level of
 * it are checked with lstat before use.
 * Private keys never go through the journal: they are created as new files just before the commit
 * point and removed again when the batch does not commit (see FileWrite.key).
 *
 * Paths never leave the root: they are checked lexically (store-path.ts), and no folder or file on
 * the way may be a symbolic link — a pull request can add a symlink to a CA repository, and the
 * Action must not then read or write through it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Stats } from 'node:fs'
import { lstat, mkdir, readdir, stat, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { CaError, isCaError } from '../ca/errors.js'
import { fileType, kindOf, readRegularFile } from './untrusted-file.js'
import { planWrites, type PlannedWrite } from './write-plan.js'
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.js'
import { errorCode, fsyncDirectory, replaceFileAtomically, writeNewFileSynced } from './durable-fs.js'
import { Journal, type CommitStepHook } from './journal.js'
import type { FileWrite, ReadOptions, StateStore } from './state-store.js'
import { locateStoreFolder } from './store-location.js'
import { STORE_DIR, storeFolderSegments, storePathSegments } from './store-path.js'

export { STORE_DIR } from './store-path.js'

export interface DirectoryStoreOptions {
  /** Create the root folder (and its parents) when it is missing — for `init`. Otherwise locked() fails with `state.missing`. */
  create?: boolean
  /** How long locked() waits for another process holding the lock before `state.locked`. Default 30 s. */
  lockTimeoutMs?: number
  /** Tests only: awaited before each step of a commit ('stage:3', 'commit', 'apply:0', 'finish', …). */
  onCommitStep?: CommitStepHook
}

const DEFAULT_LOCK_TIMEOUT_MS = 30_000
const JOURNAL_DIR = 'journal'
/** The store whose locked() call the current async context is inside: tells nesting from concurrency. */
const insideLock = new AsyncLocalStorage<DirectoryStore>()

export function openDirectoryStore(root: string, options: DirectoryStoreOptions = {}): StateStore {
  return new DirectoryStore(resolve(root), options)
}

/** A key file commit() created, told from any later file at that name by its inode. */
interface CreatedKey {
  target: string
  dev: number
  ino: number
}

class DirectoryStore implements StateStore {
  /** Set by the first locked(): the store folder can only be found once the root exists. */
  private storeDir: string | undefined
  private journal: Journal | undefined
  private lock: DirectoryLock | undefined
  /** A commit failed under the current lock: the journal may need finishing before the next read. */
  private unsettled = false
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly root: string,
    private readonly options: DirectoryStoreOptions,
  ) {}

  async read(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    const segments = storePathSegments(path)
    await this.settle()
    if (!(await this.foldersOnTheWay(segments, path))) return undefined
    const target = join(this.root, ...segments)
    let st: Stats
    try {
      st = await lstat(target)
    } catch (e) {
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return undefined
      throw new CaError('state.corrupt', `cannot read ${path}: ${String(e)}`, { file: path, cause: e })
    }
    if (st.isSymbolicLink()) throw symlinkRefused(path, path)
    // Neither opened nor read: a FIFO would block the open, a huge file the memory.
    if (!st.isFile()) {
      throw new CaError('state.corrupt', `${path} is not a regular file (${fileType(st)})`, { file: path })
    }
    if (options.maxBytes !== undefined && st.size > options.maxBytes) {
      throw new CaError(
        'state.too_large',
        `the file is ${st.size} bytes, more than the ${options.maxBytes} allowed`,
        {
          file: path,
        },
      )
    }
    try {
      // O_NOFOLLOW (and the fstat inside) close the gap between the lstat above and the open.
      return await readRegularFile(target, { maxBytes: options.maxBytes, noFollow: true, shown: path })
    } catch (e) {
      if (isCaError(e)) throw e
      if (errorCode(e) === 'ENOENT') return undefined
      if (errorCode(e) === 'ELOOP') throw symlinkRefused(path, path)
      throw new CaError('state.corrupt', `cannot read ${path}: ${String(e)}`, { file: path, cause: e })
    }
  }

  async list(dir: string): Promise<string[]> {
    const segments = storeFolderSegments(dir)
    await this.settle()
    if (!(await this.foldersOnTheWay([...segments, ''], dir))) return []
    try {
      const names = await readdir(join(this.root, ...segments))
      return names.filter((n) => segments.length > 0 || n !== STORE_DIR).sort()
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return []
      throw new CaError('state.corrupt', `cannot list ${dir || this.root}: ${String(e)}`, {
        file: dir,
        cause: e,
      })
    }
  }

  locked<T>(fn: () => Promise<T>): Promise<T> {
    if (insideLock.getStore() === this) {
      return Promise.reject(
        new CaError(
          'state.locked',
          `locked() called inside locked() of the same store (${this.root}): it would wait for itself`,
        ),
      )
    }
    // Concurrent calls on one store object queue here instead of polling the lock file against themselves.
    const run = this.queue.then(() => this.runLocked(fn))
    this.queue = run.catch(() => undefined)
    return run
  }

  async commit(writes: FileWrite[]): Promise<void> {
    const lock = this.lock
    if (insideLock.getStore() !== this || lock === undefined) {
      throw new CaError(
        'state.write_failed',
        `commit() outside locked() of ${this.root}; nothing was written`,
      )
    }
    const checked = writes.map((w) => ({ write: w, segments: storePathSegments(w.path) }))
    await this.settle()
    const staged = await planWrites(this.root, checked).catch((e: unknown) => {
      if (isCaError(e)) throw e
      throw new CaError(
        'state.write_failed',
        `cannot inspect ${this.root}: ${String(e)}; nothing was written`,
        {
          cause: e,
        },
      )
    })
    const journal = this.journal as Journal
    const keys = staged.filter((w) => w.key)
    const files = staged.filter((w) => !w.key)
    if (staged.length === 0) return
    const created: CreatedKey[] = []
    const removeKeys = () => this.removeCreatedKeys(created)
    try {
      await journal.commit(files, {
        beforeCommitPoint: async () => {
          await lock.assertHeld()
          await this.createKeys(keys, created).catch(async (e: unknown) => {
            await removeKeys()
            throw e
          })
        },
        afterRollBack: removeKeys,
      })
    } catch (e) {
      this.unsettled = true
      throw e
    }
  }

  /**
   * Creates each key as a new file (O_EXCL: never through a link, never over a file), making its
   * folders one level at a time, each checked not to be a link; durable before the commit point.
   */
  private async createKeys(keys: PlannedWrite[], created: CreatedKey[]): Promise<void> {
    for (const key of keys) {
      const segments = storePathSegments(key.path)
      for (let k = 1; k < segments.length; k++) {
        const dir = join(this.root, ...segments.slice(0, k))
        let kind = await kindOf(dir)
        if (kind === 'absent') {
          await mkdir(dir).catch((e: unknown) => {
            if (errorCode(e) !== 'EEXIST') throw e
          })
          await fsyncDirectory(dirname(dir))
          kind = await kindOf(dir)
        }
        if (kind !== 'folder')
          throw pathRefused(key.path, `${segments.slice(0, k).join('/')} is not a folder`)
      }
      const target = join(this.root, ...segments)
      await writeNewFileSynced(target, key.data, key.mode ?? 0o400)
      const s = await lstat(target)
      created.push({ target, dev: s.dev, ino: s.ino })
      await fsyncDirectory(dirname(target))
    }
  }

  /** Undoes createKeys(): removes only the very files it made (same inode), best effort. */
  private async removeCreatedKeys(created: CreatedKey[]): Promise<void> {
    for (const { target, dev, ino } of created.splice(0)) {
      const s = await lstat(target).catch(() => undefined)
      if (s?.isFile() && s.dev === dev && s.ino === ino) await unlink(target).catch(() => undefined)
    }
  }

  private async runLocked<T>(fn: () => Promise<T>): Promise<T> {
    await this.prepareRoot()
    const storeDir = await this.prepareStoreFolder()
    const journal = this.journal as Journal
    const lock = await acquireDirectoryLock(storeDir, {
      timeoutMs: this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    })
    let result: T
    try {
      await journal.recover()
      this.lock = lock
      result = await insideLock.run(this, fn)
    } catch (e) {
      this.lock = undefined
      this.unsettled = false
      // The failure of fn (or of recovery) is the one to report; releasing is best effort after it.
      await lock.release().catch(() => undefined)
      throw e
    }
    this.lock = undefined
    this.unsettled = false
    await lock.release()
    return result
  }

  /** The root must exist (unless `create`), and the store folder is made on first use. */
  private async prepareRoot(): Promise<void> {
    try {
      if (!(await stat(this.root)).isDirectory()) {
        throw new CaError('state.corrupt', `${this.root} is not a folder`, { file: this.root })
      }
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e
      if (!this.options.create) {
        throw new CaError('state.missing', `no CA directory at ${this.root}`, { file: this.root, cause: e })
      }
      const first = await mkdir(this.root, { recursive: true })
      if (first !== undefined) await fsyncDirectory(dirname(first))
    }
  }

  /**
   * Finds the store folder (store-location.ts) and makes it, every level checked with lstat: a
   * symbolic link or a file where a folder of the store should be is refused, never followed.
   */
  private async prepareStoreFolder(): Promise<string> {
    if (this.storeDir === undefined) {
      const location = await locateStoreFolder(this.root)
      for (const dir of [...location.parents, location.dir]) await this.ensureOwnFolder(dir)
      if (location.kind === 'local') await this.ignoreForGit(location.dir)
      this.storeDir = location.dir
      this.journal = new Journal(this.root, join(location.dir, JOURNAL_DIR), this.options.onCommitStep)
      return location.dir
    }
    await this.ensureOwnFolder(this.storeDir)
    return this.storeDir
  }

  private async ensureOwnFolder(dir: string): Promise<void> {
    let kind = await kindOf(dir)
    if (kind === 'absent') {
      await mkdir(dir, { mode: 0o700 }).catch((e: unknown) => {
        if (errorCode(e) !== 'EEXIST') throw e
      })
      await fsyncDirectory(dirname(dir))
      kind = await kindOf(dir)
    }
    if (kind !== 'folder') {
      throw new CaError(
        'state.untrusted_journal',
        `refused the store folder ${dir}: it is ${kind === 'symlink' ? 'a symbolic link' : 'not a folder'}; ` +
          'mtls-ca keeps its lock and journal only in a folder of its own and never follows a link there — remove it',
        { file: dir },
      )
    }
  }

  /** `.mtls-ca/` of a CA outside git still keeps itself out of any repository made later. */
  private async ignoreForGit(storeDir: string): Promise<void> {
    const gitignore = join(storeDir, '.gitignore')
    if ((await kindOf(gitignore)) === 'absent') {
      // '*' matches the .gitignore itself too, so the whole folder stays out of git.
      await replaceFileAtomically(
        gitignore,
        Buffer.from('# lock and journal of mtls-ca, never committed\n*\n'),
      )
      await fsyncDirectory(this.root)
    }
  }

  private async settle(): Promise<void> {
    if (!this.unsettled || insideLock.getStore() !== this || this.journal === undefined) return
    await this.journal.recover()
    this.unsettled = false
  }

  /**
   * Whether every folder on the way to `segments` exists (false: the target cannot exist either);
   * a symbolic link on the way is refused. The last segment is the target and is not checked.
   */
  private async foldersOnTheWay(segments: string[], path: string): Promise<boolean> {
    for (let k = 1; k < segments.length; k++) {
      const kind = await kindOf(join(this.root, ...segments.slice(0, k)))
      if (kind === 'absent') return false
      if (kind === 'symlink') throw symlinkRefused(path, segments.slice(0, k).join('/'))
      if (kind !== 'folder') {
        throw new CaError('state.corrupt', `${segments.slice(0, k).join('/')} is not a folder`, {
          file: path,
        })
      }
    }
    return true
  }
}

function pathRefused(path: string, why: string): CaError {
  return new CaError('state.path_invalid', `refused path "${path}": ${why}; nothing was written`, {
    file: path,
  })
}

function symlinkRefused(path: string, link: string): CaError {
  return new CaError('state.path_invalid', `refused path "${path}": ${link} is a symbolic link`, {
    file: path,
  })
}
