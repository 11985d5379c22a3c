/**
 * What every CLI command shares: the context it runs in, its result, and the parsing of option values
 * into typed ones (at the edge, with usage errors that say what was expected).
 */
import { CaError } from '../ca/errors.js'
import { systemRuntime, type Runtime } from '../commands/runtime.js'
import { keyVaultRuntime } from '../keys/key-vault-runtime.js'
import { configuredChecker } from '../threads/check-pool.js'

export interface CommandContext {
  values: Record<string, unknown>
  positionals: string[]
  cwd: string
  /** --dir resolved against cwd (cwd when absent). */
  dir: string
  env: Record<string, string | undefined>
  /** The check worker script beside the bundle, when there is one. */
  checkWorker?: URL
  /** Prints a line of human output (suppressed with --json). */
  out: (line: string) => void
}

export interface CommandResult {
  json: unknown
  exitCode?: number
}

export interface Command {
  name: string
  summary: string
  usage: string
  help: string[]
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>
  run(ctx: CommandContext): Promise<CommandResult>
}

export const DIR = { dir: { type: 'string' } } as const
export const DIR_HELP = '  --dir D          the CA directory (default: the current directory)'
export const JSON_HELP = '  --json           machine-readable output on stdout'

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name]
  return typeof v === 'string' ? v : undefined
}

export function listOption(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name]
  return Array.isArray(v) ? (v as string[]) : []
}

export function daysOption(ctx: CommandContext): number | undefined {
  const v = stringOption(ctx, 'days')
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new CaError('usage.invalid', `--days takes a positive whole number, not "${v}"`)
  return Number(v)
}

export function noPositionals(ctx: CommandContext): void {
  if (ctx.positionals.length)
    throw new CaError('usage.invalid', `unexpected argument "${ctx.positionals[0]}"`)
}

/**
 * The runtime of one CLI command: the system clock and CSPRNG, and Key Vault from the environment
 * (DefaultAzureCredential; MTLS_CA_AZURE_CREDENTIAL and MTLS_CA_AZURE_CA_FILE for emulators). The CLI
 * has no GitHub id token, so no OIDC here. Nothing reaches Azure unless ca.yml names a Key Vault key.
 */
export function cliRuntime(ctx: CommandContext): Runtime {
  const { openKeyVault, keyVault } = keyVaultRuntime(ctx.env)
  const checker = configuredChecker(ctx.env, ctx.checkWorker)
  return { ...systemRuntime, openKeyVault, keyVault, ...(checker ? { checker } : {}) }
}

/** `--intermediate SERIAL`: a previous intermediate (ca.yml intermediate.previous) instead of the current one. */
export function previousIntermediateOption(ctx: CommandContext): string | undefined {
  const v = stringOption(ctx, 'intermediate')
  if (v === undefined) return undefined
  if (!/^[0-9A-Fa-f]{1,40}$/.test(v))
    throw new CaError(
      'usage.invalid',
      `--intermediate takes the serial (hex) of a previous intermediate, not "${v}"`,
    )
  if (ctx.values.root === true)
    throw new CaError('usage.invalid', '--intermediate and --root exclude each other')
  return v
}
