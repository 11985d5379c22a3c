/**
 * Random or sequential serials: `rand_serial` or no serial file means random (as `openssl ca`
 * did with -create_serial); a serial file that exists means sequential, from the number it holds.
 */
import type { IndexEntry } from '../ca/index-entry.js'
import { parseSerialFile, serialToHex } from '../ca/serial-number.js'
import { where } from './config-location.js'
import { stateError } from './file-reads.js'
import type { Findings } from './findings.js'
import type { ParsedConfig, Role } from './types.js'

export interface SerialMode {
  serials: 'random' | 'sequential'
  /** The serial file's number, in sequential mode. */
  nextSerial: bigint | undefined
}

/** `serialText` is the serial file's content, undefined when it does not exist. */
export function serialMode(
  p: ParsedConfig,
  role: Role,
  serialFile: string | undefined,
  serialText: string | undefined,
  index: readonly IndexEntry[],
  f: Findings,
): SerialMode {
  const { ca } = p
  if (ca.rand_serial) {
    f.map(`${role}.serials`, 'random', where(p, 'rand_serial'))
    return { serials: 'random', nextSerial: undefined }
  }
  if (serialFile === undefined) {
    f.notes.push(
      `${p.source.file}: [${ca.section}] has neither serial nor rand_serial: mtls-ca uses random serials`,
    )
    return { serials: 'random', nextSerial: undefined }
  }
  if (serialText === undefined) {
    f.notes.push(
      `${serialFile} does not exist (openssl ca needed -create_serial, which starts with a random serial): ` +
        'mtls-ca uses random serials',
    )
    return { serials: 'random', nextSerial: undefined }
  }
  let nextSerial: bigint
  try {
    nextSerial = parseSerialFile(serialText)
  } catch (e) {
    throw stateError(p, serialFile, e)
  }
  const hex = serialToHex(nextSerial)
  f.map(`${role}.serials`, `sequential (next ${hex})`, `${where(p, 'serial')}, no rand_serial`)
  if (index.some((e) => BigInt(`0x${e.serial}`) === nextSerial)) {
    f.notes.push(
      `${serialFile} holds ${hex}, which index.txt already has: mtls-ca will refuse to issue until it is fixed`,
    )
  }
  return { serials: 'sequential', nextSerial }
}
