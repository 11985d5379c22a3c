/** Test support: what a call gives, as plain data, so that two implementations can be compared whole. */
import { CaError } from '../../src/ca/errors.js'

/** Its value, or the class, code and message of what it threw. */
export function outcome<T>(f: () => T): { value: T } | { threw: string } {
  try {
    return { value: f() }
  } catch (e) {
    const code = e instanceof CaError ? e.code : ''
    return { threw: `${(e as Error).constructor.name} ${code} ${(e as Error).message}` }
  }
}
