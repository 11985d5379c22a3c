/**
 * Test support for the state store: CA-shaped batches of writes (an index, a serial, a 0400 file,
 * hundreds of newcerts/) that differ by generation, and snapshots of a whole directory tree (content, mode,
 * folders) to compare "before" and "after" exactly. Shared by store.test.ts and the worker process.
 */
import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { FileWrite } from '../../src/store/state-store.js'

export const BATCH_CERTS = 200

/** The files one issuance run of generation `g` writes; every generation writes the same names. */
export function caBatch(generation: number, certs = BATCH_CERTS): FileWrite[] {
  const writes: FileWrite[] = []
  const lines: string[] = []
  for (let i = 0; i < certs; i++) {
    const serial = (0x1000 + i).toString(16).toUpperCase()
    lines.push(`V\t301231235959Z\t\t${serial}\tunknown\t/CN=host-${i}.gen-${generation}.example.com`)
    writes.push({
      path: `intermediateCA/newcerts/${serial}.pem`,
      data: `-----BEGIN CERTIFICATE-----\n${`gen ${generation} cert ${i} `.repeat(40)}\n-----END CERTIFICATE-----\n`,
      mode: 0o444,
    })
  }
  writes.push({ path: 'intermediateCA/index.txt', data: lines.join('\n') + '\n' })
  writes.push({ path: 'intermediateCA/serial', data: (0x1000 + certs + generation).toString(16) + '\n' })
  // A replaced file with a narrow mode (a key itself is never replaced and never journaled).
  writes.push({
    path: 'intermediateCA/certs/intermediate.cert.pem',
    data: `certificate of gen ${generation}\n`,
    mode: 0o400,
  })
  return writes
}

/** Every folder and file under `root` except the store's own folder: `path → 'dir' | 'link target' | 'mode sha256'`. */
export function treeSnapshot(root: string, exclude = '.mtls-ca'): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (prefix === '' && name === exclude) continue
      const path = join(dir, name)
      const rel = prefix + name
      const s = lstatSync(path)
      if (s.isSymbolicLink()) {
        out[rel] = `link ${readlinkSync(path)}`
      } else if (s.isDirectory()) {
        out[rel] = 'dir'
        walk(path, rel + '/')
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex')
        out[rel] = `${(s.mode & 0o7777).toString(8)} ${hash}`
      }
    }
  }
  walk(root, '')
  return out
}

/** The first few paths where two snapshots differ, for a readable failure. */
export function snapshotDifferences(a: Record<string, string>, b: Record<string, string>, max = 5): string[] {
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  return paths
    .filter((p) => a[p] !== b[p])
    .slice(0, max)
    .map((p) => `${p}: ${a[p] ?? 'absent'} vs ${b[p] ?? 'absent'}`)
}
