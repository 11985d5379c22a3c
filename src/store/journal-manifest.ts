/**
 * The journal's manifest and names: the format a commit folder's `manifest.json` has, the names commit()
 * gives its folders and staged files, and the strict reading recovery applies to a manifest (only
 * store paths that are not keys, each once, each with its own staged file and SHA-256). What does not
 * fit is `state.untrusted_journal` or `state.corrupt`, never replayed.
 */
import { join } from 'node:path'
import { CaError, isCaError } from '../ca/errors.js'
import { isKeyPath, storePathSegments } from './store-path.js'
import { readOwnFile } from './untrusted-file.js'

export interface ManifestEntry {
  path: string
  staged: string
  sha256: string
  mode?: number
}

export const FORMAT = 'mtls-ca.journal/1'
export const MANIFEST = 'manifest.json'
export const MANIFEST_TEMP = `${MANIFEST}.tmp`
/** The names commit() gives its folders (time in base 36, 8 random hex digits) and staged files. */
export const FOLDER_NAME = /^[0-9a-z]{1,16}-[0-9a-f]{8}$/
export const STAGED_NAME = /^(0|[1-9][0-9]{0,8})$/
const MANIFEST_LIMIT = 64 * 1024 * 1024

/** The writes a commit folder's manifest names, read as strictly as the header says. */
export async function readManifest(folder: string): Promise<ManifestEntry[]> {
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
  const data = await readOwnFile(file, MANIFEST_LIMIT)
  if (data === undefined || data === 'not-a-file') throw untrusted(file, 'it is not a regular file')
  let value: unknown
  try {
    value = JSON.parse(data.toString('utf8'))
  } catch (e) {
    return corrupt(e instanceof Error ? e.message : String(e))
  }
  const m = value as { format?: unknown; writes?: unknown }
  if (typeof m !== 'object' || m === null || m.format !== FORMAT) return corrupt(`not ${FORMAT}`)
  if (!Array.isArray(m.writes)) return corrupt('no list of writes')
  const paths = new Set<string>()
  const staged = new Set<string>()
  return m.writes.map((w: Partial<ManifestEntry>, i): ManifestEntry => {
    if (typeof w !== 'object' || w === null) return corrupt(`write ${i} is not an object`)
    if (typeof w.path !== 'string') return corrupt(`write ${i} has no path`)
    let segments: string[]
    try {
      segments = storePathSegments(w.path) // a manifest must not be able to name a file outside the root
    } catch (e) {
      throw untrusted(file, `write ${i}: ${isCaError(e) ? e.message : String(e)}`)
    }
    if (isKeyPath(segments))
      throw untrusted(file, `write ${i} names the key ${w.path}, which the store never journals`)
    const key = segments.join('/')
    if (paths.has(key)) throw untrusted(file, `write ${i} names ${w.path} a second time`)
    paths.add(key)
    if (typeof w.staged !== 'string' || !STAGED_NAME.test(w.staged) || staged.has(w.staged))
      return corrupt(`write ${i} has no staged file of its own`)
    staged.add(w.staged)
    if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256))
      return corrupt(`write ${i} has no SHA-256`)
    return { path: w.path, staged: w.staged, sha256: w.sha256 }
  })
}

/** Something in the store's own folder that the store did not write: never replayed, never removed. */
export function untrusted(file: string, why: string): CaError {
  return new CaError(
    'state.untrusted_journal',
    `refused the store's journal entry ${file}: ${why}; mtls-ca replays only what its own commits wrote and left it untouched — ` +
      'remove it by hand once you know where it came from',
    { file },
  )
}
