/**
 * The database `openssl ca` left: index.txt, which stays as it is, and index.txt.attr, whose
 * `unique_subject`, when it says yes or no, wins over the configuration (as in `openssl ca`).
 */
import { parseIndexAttr } from '../ca/index-attr.js'
import type { IndexEntry } from '../ca/index-entry.js'
import { parseIndex } from '../ca/index-txt.js'
import { CaError } from '../ca/errors.js'
import { at, where } from './config-location.js'
import { stateError } from './file-reads.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

/** The entries of index.txt (`text` undefined: the file does not exist). */
export function indexEntries(
  p: ParsedConfig,
  database: string,
  text: string | undefined,
  f: Findings,
): IndexEntry[] {
  if (text === undefined) {
    throw new CaError('adopt.ca_invalid', `${at(p, 'database')}: ${database} does not exist`, {
      file: p.source.file,
    })
  }
  let index: IndexEntry[]
  try {
    index = parseIndex(text)
  } catch (e) {
    throw stateError(p, database, e)
  }
  const revoked = index.filter((e) => e.status === 'R').length
  f.notes.push(
    `${database}: ${index.length} certificate(s) issued by openssl ca (${revoked} revoked) stay where they are`,
  )
  return index
}

/** `unique_subject` in force (`attrText` undefined: there is no index.txt.attr). */
export function uniqueSubject(
  p: ParsedConfig,
  role: Role,
  attrPath: string,
  attrText: string | undefined,
  f: Findings,
): boolean {
  let unique = p.ca.unique_subject
  let from = where(p, 'unique_subject', `unique_subject (not set: openssl ca's default is yes)`)
  if (attrText !== undefined) {
    let attr
    try {
      attr = parseIndexAttr(attrText)
    } catch (e) {
      throw stateError(p, attrPath, e)
    }
    if (attr.uniqueSubject !== undefined) {
      if (attr.uniqueSubject !== unique) {
        f.notes.push(
          `${attrPath} says unique_subject = ${attr.uniqueSubject ? 'yes' : 'no'}, which overrides the configuration, as in openssl ca`,
        )
      }
      unique = attr.uniqueSubject
      from = attrPath
    }
  }
  f.map(`${role}.uniqueSubject`, String(unique), from)
  return unique
}
