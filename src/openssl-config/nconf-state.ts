/**
 * What the parser knows while it reads: the sections so far (a `$var` expands against what is
 * defined above it), notes, the include stack, the pragmas in force and the running totals that
 * bound a hostile configuration; and how it words an error, naming the line and the file.
 */
import { CaError, type ErrorCode } from '../ca/errors.js'
import type { ConfigEntry, ParseOptions } from './config-model.js'

export interface FileContext {
  /** undefined for the main text */
  readonly path: string | undefined
  readonly inDirectory: boolean
}

export interface Place {
  readonly file: FileContext
  readonly first: number
  readonly last: number
}

/** A value after expansion, and the environment variables it took something from. */
export interface Expanded {
  readonly value: string
  readonly environment: readonly string[]
}

/** An entry as the parser keeps it: the value stays readable here even when the entry is sealed. */
export interface Stored extends Expanded {
  readonly entry: ConfigEntry
}

export class MutableSection {
  readonly values = new Map<string, Stored>()
  constructor(readonly name: string) {}
}

export class ParseState {
  readonly sections = new Map<string, MutableSection>()
  readonly notes: string[] = []
  readonly included: string[] = []
  readonly includeStack: string[] = []
  readonly env: Readonly<Record<string, string | undefined>>
  current = 'default'
  dollarid = false
  abspath = false
  includedir: string | undefined
  totalLength = 0
  totalBytes = 0
  totalLines = 0

  constructor(readonly options: ParseOptions) {
    this.env = options.env ?? {}
    this.sections.set('default', new MutableSection('default'))
  }

  sectionOf(name: string): MutableSection {
    let s = this.sections.get(name)
    if (!s) {
      s = new MutableSection(name)
      this.sections.set(name, s)
    }
    return s
  }

  where(place: Place): string {
    const lines = place.first === place.last ? `line ${place.first}` : `lines ${place.first}-${place.last}`
    return place.file.path === undefined ? lines : `${lines} of included ${JSON.stringify(place.file.path)}`
  }

  fileOption(): { file?: string } {
    return this.options.file === undefined ? {} : { file: this.options.file }
  }

  error(place: Place, what: string, code: ErrorCode = 'adopt.config_invalid'): CaError {
    return new CaError(code, `${this.where(place)}: ${what}`, this.fileOption())
  }

  environmentRefusal(place: Place, what: string, environment: readonly string[]): CaError {
    const refs = environment.map((n) => `$ENV::${n}`).join(', ')
    return new CaError(
      'adopt.env_in_value',
      `${this.where(place)}: ${what} takes ${refs} from the environment; adopt copies configuration values ` +
        `into ca.yml (which is committed) and its report, so it does not take them from the environment: ` +
        `replace ${refs} with the literal value`,
      this.fileOption(),
    )
  }
}
