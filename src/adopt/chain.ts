/**
 * The intermediate + root bundle and the root it ends with: a chain file beside the intermediate is
 * checked (intermediate first, then a self-signed root that signed it); without one it is written
 * when the root configuration names the root. Without a root configuration the root certificate is
 * the chain's last one, found in a `<folder>/certs/*.pem` file or written beside the chain.
 */
import { X509Certificate as NodeCertificate } from 'node:crypto'
import { dirname } from 'node:path'
import { CaError } from '../ca/errors.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import {
  isSelfSigned,
  loadCertificate,
  pemCertificates,
  verifiedBy,
  type LoadedCertificate,
} from './ca-certificate.js'
import { readFile, readText } from './file-reads.js'
import type { Findings } from './findings.js'
import type { ParsedConfig } from './types.js'

const CHAIN_NAME = 'ca-chain.cert.pem'
const MAX_CERTIFICATE_FILE_BYTES = 64 * 1024

export interface Chain {
  /** The chain file ca.yml names. */
  path: string
  /** The root certificate file ca.yml names, and the root. */
  rootPath: string
  root: LoadedCertificate
  /** Where the root came from, when no root configuration named it. */
  rootFrom: string
}

export interface ChainInput {
  store: StateStore
  /** The intermediate's configuration, for messages. */
  p: ParsedConfig
  intermediate: LoadedCertificate
  /** The intermediate's CA folder. */
  dir: string
  /** The root's certificate, when a root configuration was given. */
  root: LoadedCertificate | undefined
  /** Files to write with ca.yml: a chain or root certificate file that is not there yet. */
  writes: FileWrite[]
}

export async function adoptChain(input: ChainInput, f: Findings): Promise<Chain> {
  const { store, p, intermediate, dir, root, writes } = input
  const certDir = dirname(intermediate.path)
  const candidates = [...new Set([`${certDir}/${CHAIN_NAME}`, `${dir}/certs/${CHAIN_NAME}`])]
  let found: { path: string; text: string } | undefined
  for (const c of candidates) {
    const text = await readText(store, p, c)
    if (text !== undefined) {
      found = { path: c, text }
      break
    }
  }
  if (found === undefined) {
    if (root === undefined) {
      throw new CaError(
        'adopt.ca_invalid',
        `no chain file (${candidates.join(' or ')}) and no --root-config: the root certificate cannot be found; ` +
          `pass --root-config, or write the intermediate and the root into ${candidates[0]}`,
        { file: p.source.file },
      )
    }
    if (!verifiedBy(intermediate.node, root.node)) {
      throw new CaError('adopt.ca_invalid', `${intermediate.path} is not signed by the root ${root.path}`, {
        file: p.source.file,
      })
    }
    const path = `${dir}/certs/${CHAIN_NAME}`
    writes.push({ path, data: intermediate.pem + root.pem })
    f.map('intermediate.chain', path, 'written now: intermediate + root (there was none)')
    return { path, rootPath: root.path, root, rootFrom: '' }
  }

  const chainFile = found.path
  const where = `chain file ${chainFile}`
  const blocks = pemCertificates(found.text).map((pem) => loadCertificate(p, where, chainFile, pem))
  const [first, last] = [blocks[0], blocks.at(-1)]
  if (first === undefined || last === undefined || blocks.length !== 2) {
    throw new CaError(
      blocks.length > 2 ? 'adopt.unsupported' : 'adopt.ca_invalid',
      `${chainFile} holds ${blocks.length} certificate(s); mtls-ca expects the intermediate then the root` +
        (blocks.length > 2 ? ' (chains of more than two CAs are not supported)' : ''),
      { file: p.source.file },
    )
  }
  if (!first.node.raw.equals(intermediate.node.raw)) {
    throw new CaError(
      'adopt.ca_invalid',
      `${chainFile} does not start with the intermediate certificate ${intermediate.path} (a stale chain?)`,
      { file: p.source.file },
    )
  }
  if (!isSelfSigned(last.node) || !verifiedBy(first.node, last.node)) {
    throw new CaError(
      'adopt.ca_invalid',
      `${chainFile}: its second certificate is not a self-signed root that signed the intermediate`,
      { file: p.source.file },
    )
  }
  if (root !== undefined && !last.node.raw.equals(root.node.raw)) {
    throw new CaError(
      'adopt.ca_invalid',
      `${chainFile} ends with a root other than ${root.path} of the root configuration`,
      { file: p.source.file },
    )
  }
  f.map('intermediate.chain', chainFile, 'found beside the intermediate certificate; checked')
  if (root !== undefined) return { path: chainFile, rootPath: root.path, root, rootFrom: '' }

  // Without the root configuration, the root is the chain's last certificate: use a file that
  // already holds it, or write one.
  const existing = await findCertificateFile(store, last)
  if (existing !== undefined) {
    return {
      path: chainFile,
      rootPath: existing,
      root: last,
      rootFrom: `the last certificate of ${chainFile}, found in ${existing}`,
    }
  }
  const rootPath = `${dir}/certs/root.cert.pem`
  if ((await readFile(store, p, rootPath)) !== undefined) {
    throw new CaError(
      'adopt.unsupported',
      `${rootPath} exists but is not the root of ${chainFile}; pass --root-config`,
      {
        file: p.source.file,
      },
    )
  }
  writes.push({ path: rootPath, data: last.pem })
  return {
    path: chainFile,
    rootPath,
    root: last,
    rootFrom: `the last certificate of ${chainFile}, written to ${rootPath}`,
  }
}

/** A `<folder>/certs/*.pem` file holding exactly this certificate (the tutorial's rootCA/certs/ca.cert.pem). */
async function findCertificateFile(store: StateStore, cert: LoadedCertificate): Promise<string | undefined> {
  const folders = await store.list('').catch(() => [] as string[])
  for (const folder of folders) {
    if (folder.startsWith('.')) continue
    const names = await store.list(`${folder}/certs`).catch(() => [] as string[])
    for (const name of names.filter((n) => n.endsWith('.pem') && n !== CHAIN_NAME)) {
      const path = `${folder}/certs/${name}`
      const data = await store.read(path).catch(() => undefined)
      if (data === undefined || data.length > MAX_CERTIFICATE_FILE_BYTES) continue
      const blocks = pemCertificates(data.toString('utf8'))
      try {
        if (blocks.length === 1 && new NodeCertificate(blocks[0] as string).raw.equals(cert.node.raw))
          return path
      } catch {
        // not a certificate: not the one
      }
    }
  }
  return undefined
}

/** A root CRL revokes an intermediate by its index entry: say so when the root's index lacks it. */
export function checkRootIndex(
  root: ParsedConfig,
  rootIndex: readonly { serial: string }[],
  intermediate: LoadedCertificate,
  f: Findings,
): void {
  const serial = intermediate.node.serialNumber.toUpperCase().replace(/^0+(?=.)/, '')
  const known = rootIndex.some((e) => e.serial.replace(/^0+(?=.)/, '') === serial)
  if (!known) {
    f.notes.push(
      `${root.source.file}: the root's index.txt has no entry for the intermediate (serial ${serial}): ` +
        'a root CRL cannot revoke it by index',
    )
  }
}
