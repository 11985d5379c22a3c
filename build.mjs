// Bundles the Action (dist/index.js) and the CLI (dist/cli.js) into single files with no
// runtime dependencies, so the Action runs from the repository and the CLI starts quickly.
import { chmodSync } from 'node:fs'
import { build } from 'esbuild'

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
}

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' })
// The worker thread that checks large batches; both bundles load it from beside themselves.
await build({ ...common, entryPoints: ['src/check-worker.ts'], outfile: 'dist/check-worker.js' })
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
})

// The CLI is the package's bin: keep it executable in a fresh build, as git records it.
chmodSync('dist/cli.js', 0o755)
