/**
 * Finding an index.txt entry by serial: one scan for a single lookup, a hash table for many. A serial
 * matches in any case and with or without leading zeros, as OpenSSL compares serials as numbers.
 */
import { serialFromHex } from './serial-number.js'
import type { IndexEntry } from './index-entry.js'
import { isHex } from './index-scan.js'

/**
 * The entry for a serial, given as a bigint or hex in either case with or without leading zeros.
 * This scans the entries, comparing text (no BigInt per entry). For many lookups in the same
 * entries, build an `indexBySerial` once: its lookups take constant time.
 */
export function findBySerial(
  entries: readonly IndexEntry[],
  serial: string | bigint,
): IndexEntry | undefined {
  if (typeof serial === 'string' && !HEX.test(serial)) return undefined
  // undefined when nothing can match (a negative bigint); every entry is still read, as before.
  const wanted = wantedKey(serial)
  for (const entry of entries) {
    if (serialMatches(entry.serial, wanted)) return entry
  }
  return undefined
}

/** Lookups by serial in constant time, answered as findBySerial answers them. */
export interface SerialIndex {
  /** The first entry with this serial (a bigint, or hex in either case with or without leading zeros). */
  find(serial: string | bigint): IndexEntry | undefined
}

/**
 * An index of entries by serial, built in one pass, for callers that look up many serials in the
 * same entries (the load of a 1,000,000-line index is about a second; this pass a few hundred ms,
 * then each lookup a few microseconds). It answers for the array as it was when built (it keeps a
 * copy) and expects the entries' serials not to change. Like findBySerial, it throws a RangeError
 * when an entry's serial is not hexadecimal.
 */
export function indexBySerial(entries: readonly IndexEntry[]): SerialIndex {
  const list = [...entries]
  const table = new SerialTable((position) => (list[position] as IndexEntry).serial, list.length)
  list.forEach((entry, position) => {
    const { serial } = entry
    if (typeof serial !== 'string' || !isHex(serial)) serialFromHex(serial) // throws, with its message
    const hash = hashSerial(serial, 0, serial.length)
    if (table.find(serial, hash) === -1) table.add(hash, position)
  })
  return {
    find(serial) {
      if (typeof serial === 'string' && !HEX.test(serial)) return undefined
      const key = wantedKey(serial)
      if (key === undefined) return undefined
      const position = table.find(key, hashSerial(key, 0, key.length))
      return position === -1 ? undefined : list[position]
    },
  }
}

const HEX = /^[0-9A-Fa-f]+$/

/** The key a lookup compares with: upper-case hex without leading zeros ('' for zero). */
function wantedKey(serial: string | bigint): string | undefined {
  if (typeof serial === 'string') {
    let zeros = 0
    while (serial.charCodeAt(zeros) === 0x30) zeros++
    return serial.slice(zeros).toUpperCase()
  }
  if (typeof serial !== 'bigint' || serial < 0n) return undefined
  return serial === 0n ? '' : serial.toString(16).toUpperCase()
}

/** serialFromHex(hex) === BigInt(`0x${wanted}`), throwing where serialFromHex throws. */
function serialMatches(hex: string, wanted: string | undefined): boolean {
  if (typeof hex !== 'string' || !isHex(hex)) {
    const value = serialFromHex(hex) // throws, with its message, unless hex is a number made of digits
    return wanted !== undefined && value === BigInt(`0x0${wanted}`)
  }
  if (wanted === undefined) return false
  // Most serials differ in their last digit: compare it first (| 0x20 is the lower case of a letter).
  const last = wanted.length === 0 ? 0x30 : wanted.charCodeAt(wanted.length - 1)
  return (hex.charCodeAt(hex.length - 1) | 0x20) === (last | 0x20) && sameSerial(hex, wanted)
}

/** Whether two hex strings are the same number (either case, leading zeros or not). */
function sameSerial(a: string, b: string): boolean {
  if (a === b) return true
  let i = 0
  let j = 0
  while (a.charCodeAt(i) === 0x30) i++
  while (b.charCodeAt(j) === 0x30) j++
  if (a.length - i !== b.length - j) return false
  for (; i < a.length; i++, j++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(j)
    // Only hex digits get here, so clearing bit 0x20 of a letter is its upper case.
    if (x !== y && (x < 0x41 || y < 0x41 || (x & ~0x20) !== (y & ~0x20))) return false
  }
  return true
}

/**
 * FNV-1a of the upper-case digits of s[start, end) after its leading zeros, the last 16 of them at
 * most (64 bits of a random serial, and where sequential ones differ): equal serials, equal hashes.
 */
export function hashSerial(s: string, start: number, end: number): number {
  let i = start
  while (i < end && s.charCodeAt(i) === 0x30) i++
  i = Math.max(i, end - 16)
  let h = 0x811c9dc5
  for (; i < end; i++) {
    let c = s.charCodeAt(i)
    if (c >= 0x61) c -= 0x20
    h = Math.imul(h ^ c, 0x01000193)
  }
  return h | 0
}

/**
 * Positions of entries by serial: open addressing over two typed arrays, a few bytes per entry
 * (a Map keyed by a million strings costs far more time and memory). Serials are compared as
 * numbers, through `serialAt`.
 */
export class SerialTable {
  private positions: Int32Array // position + 1; 0 is a free slot
  private hashes: Int32Array
  private size = 0

  /** `expected`: about how many serials it will hold (it grows past that, at a cost). */
  constructor(
    private readonly serialAt: (position: number) => string,
    expected = 0,
  ) {
    const slots = 2 ** Math.max(10, Math.ceil(Math.log2(2 * expected + 1)))
    this.positions = new Int32Array(slots)
    this.hashes = new Int32Array(slots)
  }

  /** The position of an entry with this serial (valid hex), or -1. */
  find(serial: string, hash: number): number {
    const mask = this.positions.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = this.positions[slot] as number
      if (stored === 0) return -1
      if (this.hashes[slot] === hash && sameSerial(this.serialAt(stored - 1), serial)) return stored - 1
    }
  }

  /** Records a position for a serial that find did not find. */
  add(hash: number, position: number): void {
    if ((this.size + 1) * 2 > this.positions.length) this.grow()
    this.put(hash, position + 1)
    this.size++
  }

  private put(hash: number, stored: number): void {
    const mask = this.positions.length - 1
    let slot = hash & mask
    while (this.positions[slot] !== 0) slot = (slot + 1) & mask
    this.positions[slot] = stored
    this.hashes[slot] = hash
  }

  private grow(): void {
    const { positions, hashes } = this
    this.positions = new Int32Array(positions.length * 2)
    this.hashes = new Int32Array(positions.length * 2)
    for (let slot = 0; slot < positions.length; slot++) {
      const stored = positions[slot] as number
      if (stored !== 0) this.put(hashes[slot] as number, stored)
    }
  }
}
