/**
 * Test support: turns a TypeScript entry (a CLI, a worker script) into one ESM file that `node` can
 * run as a real child process, the way dist/ is built (build.mjs), so tests exercise processes —
 * locks, signals, exit codes — rather than calls. Bundles are named by their content hash in one
 * folder under the system temp dir: concurrent jest workers share them, and nothing piles up.
 */
import { createHash } from 'node:crypto'
import { mkdir, rename, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { build } from 'esbuild'

const BUNDLE_DIR = join(tmpdir(), 'mtls-ca-test-bundles')
const built = new Map<string, Promise<string>>()

/** The path of an ES module bundling `entryTs` and everything it imports; built once per test file. */
export function bundleForTest(entryTs: string): Promise<string> {
  const entry = resolve(entryTs)
  let bundle = built.get(entry)
  if (bundle === undefined) {
    bundle = buildBundle(entry)
    built.set(entry, bundle)
  }
  return bundle
}

async function buildBundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    write: false,
    sourcemap: 'inline', // stack traces from a child point at the TypeScript
    logLevel: 'silent',
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error(`esbuild produced nothing for ${entry}`)
  const hash = createHash('sha256').update(output.contents).digest('hex').slice(0, 16)
  const file = join(BUNDLE_DIR, `${basename(entry).replace(/\.ts$/, '')}-${hash}.mjs`)
  if (!(await stat(file).catch(() => undefined))) {
    await mkdir(BUNDLE_DIR, { recursive: true })
    // Another worker may be writing the same bundle: publish it whole, by rename.
    const temp = `${file}.${process.pid}.tmp`
    await writeFile(temp, output.contents)
    await rename(temp, file)
  }
  return file
}
