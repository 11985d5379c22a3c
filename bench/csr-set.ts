/**
 * The requests every issuance scenario signs: P-256 CSRs, each with its own key, CN a host name and
 * that name asked for as a DNS SAN (so `openssl ca` with copy_extensions gets the SAN our server
 * profile writes). Made in-process with @peculiar/x509 over node's WebCrypto: generating them with
 * `openssl req` would cost more than the scenarios they feed.
 */
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

export interface CsrSet {
  /** `host-00001.bench.example`, … */
  names: string[]
  pems: string[]
}

export function csrName(i: number): string {
  return `host-${String(i + 1).padStart(5, '0')}.bench.example`
}

export async function makeCsrs(count: number): Promise<CsrSet> {
  const crypto = webcrypto as unknown as webcrypto.Crypto
  const names: string[] = []
  const pems: string[] = []
  for (let i = 0; i < count; i++) {
    const name = csrName(i)
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      {
        name: `CN=${name}, O=Bench Corp`,
        keys,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
      },
      crypto,
    )
    names.push(name)
    pems.push(csr.toString('pem') + '\n')
  }
  return { names, pems }
}

/** Writes the first `count` CSRs as `<dir>/<name>.csr.pem` (what `mtls-ca sign` picks up from requests/). */
export function writeCsrs(set: CsrSet, dir: string, count = set.pems.length): string[] {
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  for (let i = 0; i < count; i++) {
    const file = join(dir, `${set.names[i]}.csr.pem`)
    writeFileSync(file, set.pems[i] as string)
    files.push(file)
  }
  return files
}
