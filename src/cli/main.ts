/**
 * The mtls-ca command line: parses argv into typed options (node:util parseArgs), runs one command,
 * and maps the outcome to an exit code — 0 success, 1 refused or failed (one line naming the file and
 * the reason, with the error code), 2 usage error. `--json` prints machine-readable output instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'
import { CaError } from '../ca/errors.js'
import { COMMANDS } from './commands.js'
import type { Command, CommandContext } from './options.js'

export interface CliIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: Record<string, string | undefined>
  cwd: string
  /** dist/check-worker.js, for MTLS_CA_CHECK_THREADS (see threads/check-pool.ts); the entry passes it. */
  checkWorker?: URL
}

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'mtls-ca — a private CA for mutual TLS, with OpenSSL-compatible state',
    '',
    'Usage: mtls-ca <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run mtls-ca <command> --help for the options of a command.',
    '',
  ].join('\n')
}

function commandHelp(c: Command): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', ...c.help, ''].join('\n')
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage())
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    io.stdout('mtls-ca 0.1.0\n')
    return 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    io.stderr(`mtls-ca: unknown command "${name}"\n\n${usage()}`)
    return 2
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...COMMON, ...command.options } as ParseArgsConfig['options'],
      allowPositionals: true,
      strict: true,
    })
  } catch (e) {
    io.stderr(`mtls-ca ${command.name}: ${(e as Error).message}\n\n${commandHelp(command)}`)
    return 2
  }
  const values = parsed.values as Record<string, unknown>
  if (values.help) {
    io.stdout(commandHelp(command))
    return 0
  }
  const json = values.json === true
  const ctx: CommandContext = {
    values,
    positionals: parsed.positionals,
    cwd: io.cwd,
    dir: resolve(io.cwd, typeof values.dir === 'string' ? values.dir : '.'),
    env: io.env,
    ...(io.checkWorker === undefined ? {} : { checkWorker: io.checkWorker }),
    out: (line) => {
      if (!json) io.stdout(line + '\n')
    },
  }
  try {
    const result = await command.run(ctx)
    if (json) io.stdout(JSON.stringify(result.json, null, 2) + '\n')
    return result.exitCode ?? 0
  } catch (e) {
    if (!(e instanceof CaError)) throw e
    const usageError = e.code === 'usage.invalid'
    if (json) {
      io.stdout(JSON.stringify({ error: errorJson(e) }, null, 2) + '\n')
    } else {
      io.stderr(`mtls-ca ${command.name}: ${printable(e.toLine())}\n`)
      for (const d of e.details) io.stderr(`  ${printable(d.toLine())}\n`)
      if (usageError) io.stderr(`\n${commandHelp(command)}`)
    }
    return usageError ? 2 : 1
  }
}

/**
 * A message line as a terminal shows it: control characters escaped, so that a file name carrying a
 * newline or an escape sequence stays on its line and cannot forge another.
 */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function errorJson(e: CaError): Record<string, unknown> {
  return {
    code: e.code,
    message: e.message,
    ...(e.file ? { file: e.file } : {}),
    ...(e.details.length ? { details: e.details.map(errorJson) } : {}),
  }
}
