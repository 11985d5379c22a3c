/**
 * Reading the configurations named on the command line, as `openssl ca` reads them, with includes
 * confined to the CA directory and no value taken from the environment.
 */
import {
  confineIncludes,
  includeReader as configIncludeReader,
  parseOpensslConfig,
  readCaConfig,
  readConfigFile,
  type IncludeReader,
} from '../openssl-config/index.js'
import type { Findings } from './findings.js'
import type { PathBase } from './ca-paths.js'
import type { AdoptInput, ConfigSource, ParsedConfig } from './types.js'

/** Reads a configuration file named on the command line (relative to cwd), refusing what is not one. */
export function readConfigSource(path: string, cwd: string): ConfigSource {
  return { file: path, text: readConfigFile(path, cwd) }
}

/** `.include` as OpenSSL resolves it: a relative path is relative to the current directory. */
export function includeReader(cwd: string): IncludeReader {
  return configIncludeReader(cwd)
}

export function parseConfig(
  source: ConfigSource,
  input: Pick<AdoptInput, 'env' | 'readInclude'>,
  base: PathBase,
  f: Findings,
): ParsedConfig {
  const config = parseOpensslConfig(source.text, {
    file: source.file,
    env: input.env,
    // Whatever reader the caller passes, it never sees a path outside the CA directory.
    readInclude: confineIncludes(input.readInclude, base.cwd, base.root),
    // Values end up in ca.yml (committed) and the report: none may come from the environment.
    sealEnvironment: true,
  })
  const ca = readCaConfig(config)
  for (const n of ca.notes) f.notes.push(`${source.file}: ${n}`)
  return { source, config, ca }
}
