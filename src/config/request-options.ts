/**
 * `requests/<name>.yml`: the options a requester may set beside a CSR (profile, days). The file comes
 * from a pull request, so it is bounded in size and must be plain YAML data: no `!!binary`, `!!set`,
 * `!!timestamp` or any other tag, no aliases: only the two keys, each of its own type.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Scalar } from 'yaml'
import { CaError } from '../ca/errors.js'

/** Far more than `profile: x` and `days: n` need, little enough to parse without thinking. */
export const MAX_REQUEST_OPTIONS_BYTES = 4096

export interface RequestOptions {
  profile?: string
  days?: number
}

const FIELDS = {
  profile: 'a profile name (a string)',
  days: 'a whole number of days greater than 0',
} as const

export function parseRequestOptions(text: string, file: string): RequestOptions {
  const refuse = (message: string): never => {
    throw new CaError('config.invalid', message, { file })
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'silent' })
  const error = doc.errors[0]
  if (error !== undefined) {
    throw new CaError('config.invalid', 'not valid YAML', {
      file,
      cause: error,
    })
  }
  const root = doc.contents
  if (root === null) return {}
  if (!isMap(root) || root.tag !== undefined) {
    return refuse(`expected a mapping with the keys profile and/or days, got ${describeNode(root)}`)
  }
  // Tags and aliases are refused where they stand, so that a message names the key they are under.
  for (const pair of root.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string' || pair.key.tag !== undefined) {
      refuse(
        `keys are plain strings (expected: ${Object.keys(FIELDS).join(', ')}), got ${describeNode(pair.key)}`,
      )
    }
    const key = (pair.key as Scalar<string>).value
    if (!Object.hasOwn(FIELDS, key)) {
      refuse(`unknown key ${JSON.stringify(key)} (expected: ${Object.keys(FIELDS).join(', ')})`)
    }
    const value = pair.value
    if (isNode(value) && (value.tag !== undefined || isAlias(value) || !isScalar(value))) {
      refuse(`${key}: expected ${FIELDS[key as keyof typeof FIELDS]}, got ${describeNode(value)}`)
    }
  }
  const parsed = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>
  const out: RequestOptions = {}
  if (Object.hasOwn(parsed, 'profile')) {
    const v = parsed.profile
    if (typeof v !== 'string' || v === '') refuse(`profile: expected ${FIELDS.profile}, got ${describe(v)}`)
    else out.profile = v
  }
  if (Object.hasOwn(parsed, 'days')) {
    const v = parsed.days
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      refuse(`days: expected ${FIELDS.days}, got ${describe(v)}`)
    else out.days = v
  }
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A value as a message shows it: its YAML kind, and the value itself when it is short and plain. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing'
  if (typeof v === 'string') return v === '' ? 'an empty string' : `the string ${short(v)}`
  if (typeof v === 'number') return `the number ${String(v)}`
  if (typeof v === 'boolean') return `the boolean ${String(v)}`
  if (Array.isArray(v)) return 'a list'
  if (isPlainObject(v)) return 'a mapping'
  return `a ${typeof v}`
}

/** A YAML node as a message shows it, before it becomes a JavaScript value. */
function describeNode(node: unknown): string {
  if (!isNode(node)) return 'nothing'
  if (isAlias(node)) return 'an alias'
  if (node.tag !== undefined) return `a value tagged ${node.tag.replace(/^tag:yaml\.org,2002:/, '!!')}`
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a list'
  return describe(node.toJSON())
}

function short(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)
}
