/**
 * Reading a CRL (DER or PEM `X509 CRL`) however many entries it lists: everything but the
 * revokedCertificates list is parsed by @peculiar/x509's schema at once; the list is checked
 * structurally up front and each entry parsed by the library only when read (LazyCrl).
 */
import { parseLimitsFor } from './asn1-limits.js'
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { AsnArray, AsnConvert, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema'
import { CertificateList, RevokedCertificate } from '@peculiar/asn1-x509'
import { arrayBuffer, readTlv, wrap, type Tlv } from './der-bytes.js'

/**
 * Parses a CRL in DER, however many entries it lists. Everything but the revokedCertificates list
 * is parsed by @peculiar/x509's schema at once; the list is checked entry by entry here (each a
 * SEQUENCE { INTEGER, UTCTime | GeneralizedTime, [extensions] } in RFC 5280's DER form), and each
 * entry is parsed by the library when first read (see LazyCrl): a 100,000-entry CRL whose thisUpdate
 * is all that is wanted (`mtls-ca crl` reads the previous CRL's) costs milliseconds, not seconds.
 * A CRL that is not well formed is refused here, as before.
 */
export function parseCrlDer(der: Uint8Array | ArrayBuffer): x509.X509Crl {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der)
  // Not DER (the library also reads PEM, hex or base64 given as bytes): the library's way.
  if (bytes[0] !== 0x30) return new x509.X509Crl(der, parseLimitsFor(der.byteLength))
  return new LazyCrl(bytes)
}

/** Parses a CRL in PEM (label `X509 CRL`, as OpenSSL writes it), however many entries it lists. */
export function parseCrlPem(pem: string): x509.X509Crl {
  const begin = '-----BEGIN X509 CRL-----'
  const start = pem.indexOf(begin)
  const end = start < 0 ? -1 : pem.indexOf('-----END X509 CRL-----', start + begin.length)
  if (end < 0) throw new Error('no PEM X509 CRL block')
  // Node's base64 decoder skips the line breaks (and any other whitespace).
  return parseCrlDer(Buffer.from(pem.slice(start + begin.length, end), 'base64'))
}
/**
 * An X509Crl that does not parse its revokedCertificates through asn1js unless asked to. The CRL
 * without its list (version, algorithm, issuer, times, extensions) is parsed by the schema as usual
 * (with tbsCertListRaw the real TBS, for `verify`); the list is checked structurally up front
 * (checkedEntryOffsets; buildCrl's own only split into entries), `asn.tbsCertList.revokedCertificates`
 * parses it on first read, and `entries`
 * is an array of the right length whose elements @peculiar/x509 parses from their own DER when first
 * read (callers that only count them, like `mtls-ca crl`, parse nothing). rawData is the DER given.
 */
export class LazyCrl extends x509.X509Crl {
  readonly #der: ArrayBuffer
  readonly #offsets: Uint32Array
  #entries: x509.X509CrlEntry[] | undefined

  /** `check`: check every entry's structure (false only for a CRL that buildCrl just wrote). */
  constructor(der: Uint8Array, check = true) {
    const outer = readTlv(der, 0)
    const tbs = readTlv(der, outer.contentStart, outer.end)
    if (outer.tag !== 0x30 || tbs.tag !== 0x30) throw new Error('a CRL is a SEQUENCE holding a SEQUENCE')
    const list = revokedListTlv(der)
    const head =
      list === undefined
        ? der
        : wrap(0x30, [
            wrap(0x30, [der.subarray(tbs.contentStart, list.start), der.subarray(list.end, tbs.end)]),
            der.subarray(tbs.end, outer.end),
          ])
    const asn = AsnConvert.parse(head, CertificateList, parseLimitsFor(head.byteLength))
    const offsets =
      list === undefined
        ? new Uint32Array(0)
        : check
          ? checkedEntryOffsets(der, list)
          : entryOffsets(der, list)
    // Copied when first read (the TBS and the list are most of a large CRL).
    let tbsRaw: ArrayBuffer | undefined
    Object.defineProperty(asn, 'tbsCertListRaw', {
      configurable: true,
      enumerable: true,
      get: () => (tbsRaw ??= arrayBuffer(der.slice(tbs.start, tbs.end))),
    })
    if (list !== undefined) {
      let parsed: RevokedCertificate[] | undefined
      const parse = () => {
        const listDer = der.slice(list.start, list.end)
        return Array.from(AsnConvert.parse(listDer, RevokedList, parseLimitsFor(listDer.byteLength)))
      }
      Object.defineProperty(asn.tbsCertList, 'revokedCertificates', {
        configurable: true,
        enumerable: true,
        get: () => (parsed ??= parse()),
      })
    }
    super(asn)
    this.#der = arrayBuffer(der)
    this.#offsets = offsets
  }

  override get rawData(): ArrayBuffer {
    return this.#der
  }

  override get entries(): x509.X509CrlEntry[] {
    this.#entries ??= lazyEntries(new Uint8Array(this.#der), this.#offsets)
    return this.#entries
  }
}

/** SEQUENCE OF RevokedCertificate, to parse a CRL's list on its own. */
@AsnType({ type: AsnTypeTypes.Sequence, itemType: RevokedCertificate })
class RevokedList extends AsnArray<RevokedCertificate> {
  constructor(items?: RevokedCertificate[]) {
    super(items)
    Object.setPrototypeOf(this, RevokedList.prototype)
  }
}

/**
 * [start, end) of each entry of a revokedCertificates list, after checking that each is
 * SEQUENCE { serial INTEGER, revocationDate UTCTime (YYMMDDHHMMSSZ) | GeneralizedTime
 * (YYYYMMDDHHMMSSZ), crlEntryExtensions SEQUENCE OF SEQUENCE { OID, BOOLEAN OPTIONAL, OCTET STRING }
 * OPTIONAL } with nothing else, so that the library's later parse of an entry does not fail.
 */
function checkedEntryOffsets(der: Uint8Array, list: Tlv): Uint32Array {
  const bad = (at: number, why: string) => new Error(`CRL entry at offset ${at}: ${why}`)
  const starts: number[] = []
  const ends: number[] = []
  for (let at = list.contentStart; at < list.end;) {
    const entry = readTlv(der, at, list.end)
    if (entry.tag !== 0x30) throw bad(at, 'not a SEQUENCE')
    const serial = readTlv(der, entry.contentStart, entry.end)
    if (serial.tag !== 0x02 || serial.end === serial.contentStart) throw bad(at, 'no serial INTEGER')
    const time = readTlv(der, serial.end, entry.end)
    if (!timeIsDer(der, time)) throw bad(at, 'the revocation date is not a UTCTime or GeneralizedTime')
    if (time.end < entry.end) {
      const extensions = readTlv(der, time.end, entry.end)
      if (extensions.tag !== 0x30 || extensions.end !== entry.end) throw bad(at, 'not crlEntryExtensions')
      for (let e = extensions.contentStart; e < extensions.end;) {
        const extension = readTlv(der, e, extensions.end)
        if (extension.tag !== 0x30) throw bad(at, 'an extension is not a SEQUENCE')
        const oid = readTlv(der, extension.contentStart, extension.end)
        if (oid.tag !== 0x06 || oid.end === oid.contentStart) throw bad(at, 'an extension has no OID')
        let value = readTlv(der, oid.end, extension.end)
        if (value.tag === 0x01) {
          if (value.end - value.contentStart !== 1) throw bad(at, 'an extension’s critical is not a BOOLEAN')
          value = readTlv(der, value.end, extension.end)
        }
        if (value.tag !== 0x04 || value.end !== extension.end)
          throw bad(at, 'an extension has no OCTET STRING')
        e = extension.end
      }
    }
    starts.push(entry.start)
    ends.push(entry.end)
    at = entry.end
  }
  const offsets = new Uint32Array(2 * starts.length)
  for (let i = 0; i < starts.length; i++) {
    offsets[2 * i] = starts[i] as number
    offsets[2 * i + 1] = ends[i] as number
  }
  return offsets
}

/** [start, end) of each entry of a revokedCertificates list, unchecked. */
function entryOffsets(der: Uint8Array, list: Tlv): Uint32Array {
  const offsets: number[] = []
  for (let at = list.contentStart; at < list.end;) {
    const end = readTlv(der, at, list.end).end
    offsets.push(at, end)
    at = end
  }
  return Uint32Array.from(offsets)
}

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §5.1.2.4), digits checked. */
function timeIsDer(der: Uint8Array, time: Tlv): boolean {
  const length = time.end - time.contentStart
  if (!((time.tag === 0x17 && length === 13) || (time.tag === 0x18 && length === 15))) return false
  for (let i = time.contentStart; i < time.end - 1; i++) {
    const c = der[i] as number
    if (c < 0x30 || c > 0x39) return false
  }
  return der[time.end - 1] === 0x5a // 'Z'
}

/**
 * The entries at `offsets` of the CRL `der` as an array of X509CrlEntry made on first read (a Proxy over an array of that length: indexing, iteration, `in`, map/find/flatMap… all see
 * every element).
 */
function lazyEntries(der: Uint8Array, offsets: Uint32Array): x509.X509CrlEntry[] {
  const count = offsets.length / 2
  const target = new Array<x509.X509CrlEntry | undefined>(count).fill(undefined)
  const entryAt = (i: number): x509.X509CrlEntry => {
    let entry = target[i]
    if (entry === undefined) {
      entry = new x509.X509CrlEntry(der.slice(offsets[2 * i], offsets[2 * i + 1]))
      target[i] = entry
    }
    return entry
  }
  const index = (prop: string | symbol): number | undefined => {
    if (typeof prop !== 'string' || !/^(?:0|[1-9]\d*)$/.test(prop)) return undefined
    const i = Number(prop)
    return i < count ? i : undefined
  }
  return new Proxy(target, {
    get(t, prop, receiver) {
      const i = index(prop)
      return i === undefined ? Reflect.get(t, prop, receiver) : entryAt(i)
    },
    getOwnPropertyDescriptor(t, prop) {
      const i = index(prop)
      if (i !== undefined) entryAt(i)
      return Reflect.getOwnPropertyDescriptor(t, prop)
    },
  }) as x509.X509CrlEntry[]
}

/**
 * The revokedCertificates TLV of a CRL, if present: in TBSCertList { version INTEGER, signature
 * SEQUENCE, issuer SEQUENCE, thisUpdate, nextUpdate, revokedCertificates SEQUENCE, [0] … }, the third
 * SEQUENCE (the times are UTCTime or GeneralizedTime).
 */
function revokedListTlv(der: Uint8Array): Tlv | undefined {
  const outer = readTlv(der, 0)
  const tbs = readTlv(der, outer.contentStart, outer.end)
  let sequences = 0
  for (let at = tbs.contentStart; at < tbs.end;) {
    const child = readTlv(der, at, tbs.end)
    if (child.tag === 0x30 && ++sequences === 3) return child
    at = child.end
  }
  return undefined
}
