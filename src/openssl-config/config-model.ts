/**
 * What parsing an OpenSSL configuration yields (sections of entries, each remembering its line, its
 * file and the environment variables it took something from), what the caller passes in (the
 * environment, an include reader), and the bounds a hostile configuration runs into.
 */

/** OpenSSL's MAX_CONF_VALUE_LENGTH: no value may grow past this many bytes through expansion. */
export const MAX_CONF_VALUE_LENGTH = 65536
/** A configuration file larger than this is not a configuration file. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024
/** The main file and its included files together. */
export const MAX_CONFIG_TOTAL_BYTES = 4 * 1024 * 1024
/** Physical lines of the main file and its included files together (the tutorial's has about 130). */
export const MAX_CONFIG_LINES = 100_000
/** Files read through `.include`, all together. */
export const MAX_INCLUDED_FILES = 64
/** All values of one configuration together (guards against many lines each expanding to 64 KiB). */
export const MAX_TOTAL_VALUE_LENGTH = 16 * 1024 * 1024

export interface ConfigEntry {
  readonly section: string
  readonly name: string
  /** After quotes, escapes and `$var` expansion, as OpenSSL stores it. */
  readonly value: string
  /** The included file the entry came from; undefined for the main text. */
  readonly includedFrom: string | undefined
  /** 1-based physical line where the (possibly continued) line starts. */
  readonly line: number
  /**
   * The environment variables (names only) the value takes something from, through `$ENV::X` or a
   * variable defined from one. With `sealEnvironment`, reading `value` of such an entry throws.
   */
  readonly environment: readonly string[]
}

export interface ConfigSection {
  readonly name: string
  /** OpenSSL's order: a name defined twice sits where its last definition is (the last wins). */
  readonly entries: readonly ConfigEntry[]
  readonly values: ReadonlyMap<string, ConfigEntry>
}

export interface OpenSslConfig {
  /** The name given by the caller for the main text, if any (errors cite it). */
  readonly file: string | undefined
  /** In order of first appearance; `default` is always first and always present. */
  readonly sections: ReadonlyMap<string, ConfigSection>
  /** Included files that were read, in reading order. */
  readonly included: readonly string[]
  /** Things a person adopting this configuration should know (fallbacks, ignored includes, …). */
  readonly notes: readonly string[]
}

/** What the caller found at an included path. */
export type IncludeTarget =
  | { readonly kind: 'file'; readonly text: string | Uint8Array }
  | { readonly kind: 'directory'; readonly entries: readonly string[] }
  | { readonly kind: 'missing' }
  /** The caller would not read it: `reason` says what the path is and what was expected. */
  | {
      readonly kind: 'refused'
      readonly code:
        | 'adopt.config_invalid'
        | 'adopt.config_too_large'
        | 'adopt.include_not_regular'
        | 'adopt.include_outside'
      readonly reason: string
    }

/**
 * Reads an included path exactly as given (after OPENSSL_CONF_INCLUDE / `includedir` are
 * applied). OpenSSL resolves a relative path against the directory `openssl` was run from, not the
 * directory of the including file; the caller decides what that directory is.
 */
export type IncludeReader = (path: string) => IncludeTarget

export interface ParseOptions {
  /** Name of the main text, for errors (CaError.file). */
  file?: string
  /** The environment OpenSSL would have seen: `$ENV::X` and OPENSSL_CONF_INCLUDE. */
  env?: Readonly<Record<string, string | undefined>>
  /** Without it `.include` is refused with `adopt.unsupported`. */
  readInclude?: IncludeReader
  /**
   * For callers that copy values where others read them (ca.yml is committed): reading `value` of
   * an entry that took anything from the environment throws `adopt.env_in_value`, naming the line
   * and the variable but never its value, and an `.include` path or an OPENSSL_CONF_INCLUDE prefix
   * from the environment is refused while parsing.
   */
  sealEnvironment?: boolean
}
