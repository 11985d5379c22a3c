/**
 * The shapes of an adoption: what the command passes in, what it reports back, and the parsed
 * configuration every mapping module reads.
 */
import type { CaConfigInput } from '../config/ca-config.js'
import type { CaConfig as OpensslCaConfig, IncludeReader, OpenSslConfig } from '../openssl-config/index.js'

/** An OpenSSL configuration file as the user named it, and its bytes. */
export interface ConfigSource {
  /** The path as given on the command line: errors and the unmapped list cite it. */
  file: string
  text: Uint8Array
}

export interface AdoptInput {
  intermediate: ConfigSource
  root?: ConfigSource
  /** Where `openssl ca` ran: relative paths in the configurations are resolved against it. */
  cwd: string
  /**
   * The environment for `$ENV::X`: only for values adopt never copies; a value it would copy into
   * ca.yml or its report that takes anything from it is refused (`adopt.env_in_value`).
   */
  env: Readonly<Record<string, string | undefined>>
  /** Reads included files; adopt only ever passes it real paths inside the CA directory. */
  readInclude: IncludeReader
  /** For the CA self-check: an adopted CA must be valid now, as `sign` demands. */
  now: Date
}

/** A configuration item that is not (or not fully) carried over, with where it is. */
export interface AdoptItem {
  file: string
  section: string
  line: number
  name: string
  value: string
  reason: string
}

/** One ca.yml value and the configuration item it came from. */
export interface MappedValue {
  key: string
  value: string
  from: string
}

export interface AdoptedProfile {
  name: string
  /** The extension section it was made from. */
  section: string
  from: string
  extendedKeyUsage: string[]
  keyUsage: string[] | undefined
  requireSan: boolean
  default: boolean
}

export interface AdoptResult {
  dir: string
  /** Files written (ca.yml, and a chain or root certificate file when the directory had none). */
  written: string[]
  config: CaConfigInput
  mapped: MappedValue[]
  profiles: AdoptedProfile[]
  notes: string[]
  unmapped: AdoptItem[]
  ignored: AdoptItem[]
  nextSteps: string[]
}

export type Role = 'root' | 'intermediate'

/** One configuration file, parsed, with what `openssl ca` takes from it. */
export interface ParsedConfig {
  source: ConfigSource
  config: OpenSslConfig
  ca: OpensslCaConfig
}

/** CDP and AIA URLs: ca.yml has one set of them for every profile. */
export interface ExtensionUrls {
  crl: string[]
  ocsp: string[]
  caIssuers: string[]
}

export function noUrls(): ExtensionUrls {
  return { crl: [], ocsp: [], caIssuers: [] }
}
