#!/usr/bin/env node
import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);

// src/cli/main.ts
async function main(_argv, io) {
  io.stderr("mtls-ca: not implemented yet\n");
  return 2;
}

// src/cli.ts
process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd()
});
