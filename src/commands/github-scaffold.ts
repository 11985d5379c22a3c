/**
 * `mtls-ca init --github`: writes the CA repository's GitHub files (src/github/scaffold.ts) into the
 * CA directory in one atomic commit, after init made the CA. Files that already exist are left as they
 * are (an existing README stays the team's own) and listed as skipped.
 */
import { githubScaffold, type ScaffoldOptions } from '../github/scaffold.js'
import type { StateStore } from '../store/state-store.js'

export interface ScaffoldResult {
  written: string[]
  skipped: string[]
}

export async function writeGitHubScaffold(
  store: StateStore,
  options: ScaffoldOptions,
): Promise<ScaffoldResult> {
  const files = githubScaffold(options)
  return store.locked(async () => {
    const written: string[] = []
    const skipped: string[] = []
    const writes = []
    for (const f of files) {
      if ((await store.read(f.path)) !== undefined) {
        skipped.push(f.path)
        continue
      }
      writes.push(f)
      written.push(f.path)
    }
    await store.commit(writes)
    return { written, skipped }
  })
}
