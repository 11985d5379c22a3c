/**
 * Certificate serial numbers: drawing a random one the way `openssl ca -rand_serial` does, their DER
 * form (RFC 5280 §4.1.2.2: positive, at most 20 octets), their hex form in index.txt and newcerts/,
 * and the `serial` / `crlnumber` files that hold the next value for CAs that count.
 */

import { CaError } from './errors.js'

/** RFC 5280 §4.1.2.2 and §5.2.3 (serials and CRL numbers alike). */
export const MAX_SERIAL_OCTETS = 20

/** What `openssl ca -rand_serial` draws (apps.h SERIAL_RAND_BITS): the most that fits 20 positive octets. */
export const RANDOM_SERIAL_BITS = 159

/** The largest serial whose DER content fits 20 octets: bit 159 set would need a 0x00 sign octet. */
export const MAX_SERIAL = (1n << BigInt(MAX_SERIAL_OCTETS * 8 - 1)) - 1n

/** A CSPRNG: returns exactly `n` bytes. Injected so that the core reads no randomness by itself. */
export type RandomBytes = (n: number) => Uint8Array

/**
 * A random serial of up to 159 bits. Zero, which BN_rand can also return (with probability 2^-159),
 * becomes 1, so the result is a valid serial whatever the source returns; a source that keeps
 * returning the same bytes is caught where serials are recorded, which never reuses one.
 */
export function randomSerial(random: RandomBytes): bigint {
  const bytes = random(MAX_SERIAL_OCTETS)
  if (bytes.length !== MAX_SERIAL_OCTETS) {
    throw new RangeError(`random(${MAX_SERIAL_OCTETS}) returned ${bytes.length} bytes`)
  }
  let value = BigInt(bytes[0]! & 0x7f)
  for (const byte of bytes.subarray(1)) value = (value << 8n) | BigInt(byte)
  return value === 0n ? 1n : value
}

/**
 * BN_bn2hex's form, used for index.txt's serial column, newcerts/<SERIAL>.pem and the serial file:
 * upper case, whole octets (1 → `01`, 0x80 → `80`, no sign octet), and `00` for zero as `openssl ca`
 * special-cases it.
 */
export function serialToHex(serial: bigint): string {
  if (serial < 0n) throw new RangeError(`serial ${serial} is negative`)
  const hex = serial.toString(16).toUpperCase()
  return hex.length % 2 === 0 ? hex : `0${hex}`
}

/** Reads hex as OpenSSL does for index.txt serials (either case, leading zeros allowed). */
export function serialFromHex(hex: string): bigint {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) throw new RangeError(`'${hex}' is not a hexadecimal serial`)
  return BigInt(`0x${hex}`)
}

/** The content octets of the DER INTEGER for a serial (what goes after tag 02 and the length). */
export function serialToDer(serial: bigint): Uint8Array {
  if (serial <= 0n || serial > MAX_SERIAL) {
    throw new RangeError(`serial ${serial} is not positive or does not fit ${MAX_SERIAL_OCTETS} octets`)
  }
  // A leading 0x00 keeps the sign bit clear when the top octet is ≥ 0x80.
  let hex = serialToHex(serial)
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`
  return Uint8Array.from(hex.match(/../g)!, (octet) => parseInt(octet, 16))
}

/** Why DER INTEGER content octets are not an acceptable serial, or undefined when they are. */
export function serialDerProblem(content: Uint8Array): string | undefined {
  const [first, second] = content
  if (first === undefined) return 'an INTEGER has at least one content octet'
  if (content.length > MAX_SERIAL_OCTETS) return `${content.length} octets, more than ${MAX_SERIAL_OCTETS}`
  if (first >= 0x80) return 'negative'
  if (second !== undefined && first === 0 && second < 0x80) return 'not minimal: a redundant leading 00'
  if (content.length === 1 && first === 0) return 'zero'
  return undefined
}

/** Positive, DER-minimal and at most 20 octets (RFC 5280 §4.1.2.2). */
export function isValidSerial(content: Uint8Array): boolean {
  return serialDerProblem(content) === undefined
}

/**
 * Reads a `serial` or `crlnumber` file: the next value in hex, an even number of digits and a
 * newline. OpenSSL's a2i_ASN1_INTEGER refuses an odd number of digits (`echo 1 > serial` does not
 * work), so this does too; it tolerates a missing newline and CRLF, as OpenSSL does.
 */
export function parseSerialFile(text: string): bigint {
  const match = /^([0-9A-Fa-f]+)\r?\n?$/.exec(text)
  const hex = match?.[1]
  if (hex === undefined || hex.length % 2 !== 0) {
    const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
    throw new CaError(
      'state.corrupt',
      `expected the next number in hex with an even number of digits and a newline (e.g. 1000), found ${shown}`,
    )
  }
  return BigInt(`0x${hex}`)
}

/** What `openssl ca` writes back (save_serial: i2a_ASN1_INTEGER then a newline): `1001\n`. */
export function formatSerialFile(next: bigint): string {
  if (next < 0n || next > MAX_SERIAL) {
    throw new RangeError(
      `${next} cannot be stored: it must be 0…2^159-1 (at most ${MAX_SERIAL_OCTETS} octets)`,
    )
  }
  return `${serialToHex(next)}\n`
}

/**
 * Counting serials, for CAs adopted with a serial file: the file's value is the serial to use and
 * the file then holds the one after. OpenSSL would issue serial 0 from a file holding `00`; that is
 * not a valid serial, so it is refused here.
 */
export function sequentialSerial(next: bigint): { serial: bigint; next: bigint } {
  if (next <= 0n || next > MAX_SERIAL) {
    throw new CaError(
      'state.corrupt',
      `the serial file holds ${next < 0n ? next : serialToHex(next)}, which is not a usable serial ` +
        `(positive, at most ${MAX_SERIAL_OCTETS} octets)`,
    )
  }
  return { serial: next, next: next + 1n }
}
