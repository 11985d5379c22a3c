/**
 * The exclusive lock of a CA directory: a file `lock` in the store's folder that names its holder
 * (pid, host, boot, time). It is created atomically *with* its content, as a hard link to a complete
 * temp file (link() fails when the name exists), so a holder killed at any moment never leaves an
 * empty lock nobody can judge. Waiters poll until a deadline, then fail with `state.locked` naming the
 * holder. A lock whose holder is gone (a dead pid on this host, or a previous boot) is taken over;
 * takers of one stale lock exclude each other with a marker named after that lock's token, created
 * the same way, so two of them can never both win.
 *
 * The lock file is never followed: a symbolic link (or anything but a regular file) where the lock
 * or a holder record should be is refused with `state.path_invalid`, and link()/rename() act on the
 * name itself, not on what a link points at.
 *
 * Hand-written because Node has no flock(), and lock libraries (proper-lockfile) judge staleness by
 * the lock's age, which a long signing run would have to keep refreshing: a pid check cannot expire.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { link, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CaError } from '../ca/errors.js'
import { errorCode } from './durable-fs.js'
import { readOwnFile } from './untrusted-file.js'

export interface LockHolder {
  pid: number
  host: string
  /** Linux's boot id when there is one: a pid from an earlier boot says nothing about a process now. */
  boot?: string
  /** Unique per acquisition: tells this holder from a later one that got the same pid. */
  token: string
  acquiredAt: string
}

export interface DirectoryLock {
  readonly holder: LockHolder
  /** Fails with `state.locked` when the lock file no longer names this holder (removed or replaced by hand). */
  assertHeld(): Promise<void>
  release(): Promise<void>
}

export interface LockOptions {
  /** How long to wait for another holder before failing with `state.locked`. */
  timeoutMs: number
}

const LOCK_FILE = 'lock'
const TEMP_PATTERN = /^lock-\d+-[0-9a-f]+\.tmp$/
const MARKER_PREFIX = 'lock.break-'
const FIRST_DELAY_MS = 5
const MAX_DELAY_MS = 200
/** A holder record is a few hundred bytes; a bigger "lock" is not one of ours. */
const MAX_LOCK_FILE = 4096

/** Tokens this process holds or is acquiring: a lock with our own pid but another token is stale. */
const ownTokens = new Set<string>()

let bootIdCache: string | null | undefined
function bootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null
    } catch {
      bootIdCache = null // not Linux: pid liveness alone has to do
    }
  }
  return bootIdCache ?? undefined
}

/**
 * Takes the lock of the store folder `dir` (which must exist), waiting up to `timeoutMs` for a live
 * holder and taking over a dead one's.
 */
export async function acquireDirectoryLock(dir: string, options: LockOptions): Promise<DirectoryLock> {
  const lockPath = join(dir, LOCK_FILE)
  const boot = bootId()
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    ...(boot === undefined ? {} : { boot }),
    token: randomBytes(8).toString('hex'),
    acquiredAt: new Date().toISOString(),
  }
  const temp = join(dir, `lock-${mine.pid}-${mine.token}.tmp`)
  const deadline = Date.now() + options.timeoutMs
  ownTokens.add(mine.token)
  let acquired = false
  try {
    await writeFile(temp, JSON.stringify(mine) + '\n', { flag: 'wx' })
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, lockPath)
        acquired = true
        break
      } catch (e) {
        if (errorCode(e) !== 'EEXIST') throw e
      }
      const holder = await readHolder(lockPath)
      if (holder === undefined) continue // released between our link and our read
      if (holderIsGone(holder) && (await takeOver(dir, holder, temp))) {
        acquired = true
        break
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new CaError(
          'state.locked',
          `${dir} is locked by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}; gave up after ` +
            `${options.timeoutMs} ms. Another mtls-ca run is using this CA; if none is, remove ${lockPath}`,
          { file: lockPath },
        )
      }
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 1.5 ** attempt) * (0.5 + Math.random())
      await sleep(Math.min(delay, left))
    }
  } finally {
    if (!acquired) ownTokens.delete(mine.token)
    await rm(temp, { force: true })
  }
  await removeLeftovers(dir)
  return {
    holder: mine,
    async assertHeld() {
      const current = await readHolder(lockPath)
      if (current?.token !== mine.token) {
        const now = current ? `now names pid ${current.pid} on ${current.host}` : 'was removed'
        throw new CaError('state.locked', `lost the lock of ${dir}: ${lockPath} ${now}`, { file: lockPath })
      }
    },
    async release() {
      try {
        const current = await readHolder(lockPath)
        if (current?.token === mine.token) await unlink(lockPath)
      } finally {
        ownTokens.delete(mine.token)
      }
    },
  }
}

/**
 * Replaces the stale lock of `holder` by ours (`temp`), unless another taker does. Only the process
 * that created the marker for this token may replace the lock, and it checks the lock still names
 * the stale holder first; a live holder is never displaced because only the dead one's token is
 * marked. A marker left by a taker that died in between blocks the lock: that needs a person.
 */
async function takeOver(dir: string, holder: LockHolder, temp: string): Promise<boolean> {
  const lockPath = join(dir, LOCK_FILE)
  const marker = join(dir, MARKER_PREFIX + holder.token)
  try {
    await link(temp, marker)
  } catch (e) {
    if (errorCode(e) !== 'EEXIST') throw e
    const taker = await readHolder(marker)
    if (taker !== undefined && holderIsGone(taker)) {
      throw new CaError(
        'state.locked',
        `${dir} is locked by pid ${holder.pid}, which is gone, and pid ${taker.pid} died taking the lock over; ` +
          `if no mtls-ca run is using this CA, remove ${lockPath} and ${marker}`,
        { file: lockPath },
      )
    }
    return false
  }
  try {
    const current = await readHolder(lockPath)
    if (current?.token !== holder.token) return false
    await rename(temp, lockPath)
    return true
  } finally {
    await rm(marker, { force: true })
  }
}

/** Temp files and markers of processes that died while taking the lock; we hold it, so none is in use. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!TEMP_PATTERN.test(name) && !name.startsWith(MARKER_PREFIX)) continue
    const path = join(dir, name)
    let owner: LockHolder | undefined
    try {
      owner = await readHolder(path)
    } catch {
      continue // not ours to judge
    }
    if (owner !== undefined && holderIsGone(owner)) await rm(path, { force: true })
  }
}

function holderIsGone(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false // another host sharing the folder: we cannot tell
  const boot = bootId()
  if (boot !== undefined && holder.boot !== undefined && holder.boot !== boot) return true
  if (holder.pid === process.pid) return !ownTokens.has(holder.token)
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (e) {
    return errorCode(e) === 'ESRCH' // EPERM: alive, another user's
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  let data: Buffer | undefined | 'not-a-file'
  try {
    // Never through a symbolic link: the store folder may sit in a working tree a pull request wrote.
    data = await readOwnFile(path, MAX_LOCK_FILE)
  } catch (e) {
    throw new CaError('state.locked', `cannot read the lock file ${path}: ${String(e)}`, {
      file: path,
      cause: e,
    })
  }
  if (data === undefined) return undefined
  if (data === 'not-a-file') {
    throw new CaError(
      'state.path_invalid',
      `the lock file ${path} is a symbolic link or not a regular file; mtls-ca never follows it — remove it`,
      { file: path },
    )
  }
  const text = data.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  const h = value as Partial<LockHolder> | undefined
  if (
    typeof h !== 'object' ||
    h === null ||
    !Number.isSafeInteger(h.pid) ||
    (h.pid as number) <= 0 ||
    typeof h.host !== 'string' ||
    typeof h.token !== 'string' ||
    typeof h.acquiredAt !== 'string' ||
    (h.boot !== undefined && typeof h.boot !== 'string')
  ) {
    throw new CaError(
      'state.corrupt',
      `the lock file ${path} is not one mtls-ca wrote; if no mtls-ca run is using this CA, remove it`,
      { file: path },
    )
  }
  return h as LockHolder
}
