/**
 * DER at the byte level, for the CRL's fast paths: length fields, reading one TLV without parsing its
 * content, wrapping parts in a constructed TLV, splicing an element into a SEQUENCE, a BIT STRING.
 * One-octet tags and definite lengths only, which is all a certificate or CRL uses.
 */

export const TAG_SEQUENCE = 0x30
/** Octets of a DER length field for `n`. */
export function lengthOctets(n: number): number {
  if (n < 0x80) return 1
  if (n < 0x100) return 2
  if (n < 0x10000) return 3
  if (n < 0x1000000) return 4
  return 5
}

/** Writes a DER length at `at`; returns the offset after it. */
export function writeLength(out: Uint8Array, at: number, n: number): number {
  const octets = lengthOctets(n)
  if (octets === 1) {
    out[at] = n
    return at + 1
  }
  out[at++] = 0x80 | (octets - 1)
  for (let shift = (octets - 2) * 8; shift >= 0; shift -= 8) out[at++] = Math.floor(n / 2 ** shift) & 0xff
  return at
}

/** Total size of a TLV whose content is `n` octets (one-octet tag). */
export function tlv(n: number): number {
  return 1 + lengthOctets(n) + n
}

/** A TLV read at `at`: where its content starts and ends. */
export interface Tlv {
  tag: number
  start: number
  contentStart: number
  end: number
}

/** Reads one DER TLV (one-octet tag, definite length) at `at`, bounded by `limit`. */
export function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw new Error('DER: truncated')
  const tag = der[at] as number
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-octet tags are not read here')
  let p = at + 1
  const first = der[p++] as number
  let length = first
  if (first >= 0x80) {
    const octets = first & 0x7f
    if (octets === 0 || octets > 4) throw new Error('DER: unsupported length')
    length = 0
    for (let i = 0; i < octets; i++) {
      if (p >= limit) throw new Error('DER: truncated')
      length = length * 256 + (der[p++] as number)
    }
  }
  const end = p + length
  if (end > limit) throw new Error('DER: truncated')
  return { tag, start: at, contentStart: p, end }
}

/** A constructed TLV with `tag` around `parts`, as one Buffer. */
export function wrap(tag: number, parts: readonly Uint8Array[]): Buffer {
  let content = 0
  for (const p of parts) content += p.length
  const out = Buffer.allocUnsafe(tlv(content))
  out[0] = tag
  let at = writeLength(out, 1, content)
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * Inserts `element` into the SEQUENCE `sequence` just before its first child whose tag is
 * `beforeTag` (at the end when there is none), and rewrites the SEQUENCE's length.
 */
export function insertIntoSequence(sequence: Uint8Array, element: Uint8Array, beforeTag: number): Buffer {
  const outer = readTlv(sequence, 0)
  if (outer.tag !== TAG_SEQUENCE || outer.end !== sequence.length) throw new Error('DER: not one SEQUENCE')
  let at = outer.contentStart
  while (at < outer.end) {
    const child = readTlv(sequence, at, outer.end)
    if (child.tag === beforeTag) break
    at = child.end
  }
  return wrap(TAG_SEQUENCE, [
    sequence.subarray(outer.contentStart, at),
    element,
    sequence.subarray(at, outer.end),
  ])
}

/** `BIT STRING` with no unused bits around `bytes`. */
export function bitString(bytes: Uint8Array): Buffer {
  return wrap(0x03, [Uint8Array.of(0), bytes])
}

/** The bytes as an ArrayBuffer: their own when they span all of it (as a fresh large Buffer does). */
export function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return bytes.buffer as ArrayBuffer
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}
