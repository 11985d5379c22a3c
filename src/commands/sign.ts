/**
 * `mtls-ca sign`: collects the requests (every pending requests/<name>.csr.pem, or the CSR files given),
 * issues them as one batch with the intermediate, and commits certificates, newcerts/ and the database
 * in one atomic write under the directory lock.
 */
import { stat, readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { CaError } from '../ca/errors.js'
import { MAX_CSR_BYTES } from '../ca/csr.js'
import { issueBatch, type IssuanceRequest, type IssuedCertificate } from '../ca/issue.js'
import { formatIndexAttr, serializeIndex } from '../ca/index-txt.js'
import { formatSerialFile } from '../ca/serial-number.js'
import {
  CERTS_DIR,
  REQUESTS_DIR,
  certificatePaths,
  databaseFiles,
  newCertPath,
  requestPaths,
} from '../config/layout.js'
import { forEachConcurrently } from '../store/concurrency.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import { loadCa, loadDatabase, openIssuer, readText } from './ca-state.js'
import type { Runtime } from './runtime.js'

export interface SignOptions {
  /** CSR files (paths as given on the command line, resolved against cwd); empty: every pending request. */
  csrFiles: string[]
  cwd: string
  profile?: string
  days?: number
}

export interface SignResult {
  issued: IssuedCertificate[]
  files: string[]
}

const requestOptionsSchema = z.strictObject({
  profile: z.string().optional(),
  days: z.number().int().positive().optional(),
})

/** `<name>` of a CSR file: the file name without .csr.pem (or .csr, .pem). */
export function requestName(file: string): string {
  const base = basename(file)
  const name = base.replace(/\.csr\.pem$|\.csr$|\.pem$/, '')
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new CaError(
      'usage.invalid',
      `"${name}" cannot name a certificate: use letters, digits, '.', '_' and '-'`,
      {
        file,
      },
    )
  }
  return name
}

async function readLimited(path: string, shown: string): Promise<Buffer> {
  let size: number
  try {
    const s = await stat(path)
    if (!s.isFile()) throw new CaError('csr.unreadable', 'not a regular file', { file: shown })
    size = s.size
  } catch (cause) {
    if (cause instanceof CaError) throw cause
    throw new CaError('csr.unreadable', 'cannot read the file', { file: shown, cause })
  }
  if (size > MAX_CSR_BYTES) {
    throw new CaError('csr.too_large', `the file is ${size} bytes; a CSR is at most ${MAX_CSR_BYTES}`, {
      file: shown,
    })
  }
  return readFile(path)
}

/** How many request files are read at once. */
const READ_CONCURRENCY = 16

/**
 * Every requests/<name>.csr.pem without a certs/<name>.cert.pem, with its options. The folders are
 * listed once and the files read several at once: a batch of 1,000 read one call after another spent
 * half a second waiting for the file system. The first problem in name order is the one reported.
 */
async function pendingRequests(store: StateStore): Promise<IssuanceRequest[]> {
  const listing = await store.list(REQUESTS_DIR)
  const issued = new Set(await store.list(CERTS_DIR))
  const present = new Set(listing)
  const names = listing
    .filter((f) => f.endsWith('.csr.pem'))
    .map(requestName)
    .filter((name) => !issued.has(basename(certificatePaths(name).cert)))
  const found: Array<IssuanceRequest | undefined> = new Array(names.length)
  const problems: unknown[] = new Array(names.length)
  await forEachConcurrently(names, READ_CONCURRENCY, async (name, i) => {
    try {
      found[i] = await pendingRequest(store, name, present)
    } catch (e) {
      problems[i] = e
    }
  })
  const problem = problems.find((e) => e !== undefined)
  if (problem !== undefined) throw problem
  return found.filter((r): r is IssuanceRequest => r !== undefined)
}

/** One pending request read from the store (undefined when its CSR is absent), with its options file. */
export async function pendingRequest(
  store: StateStore,
  name: string,
  present: ReadonlySet<string>,
): Promise<IssuanceRequest | undefined> {
  const paths = requestPaths(name)
  const csr = await store.read(paths.csr)
  if (csr === undefined) return undefined
  if (csr.length > MAX_CSR_BYTES) {
    throw new CaError('csr.too_large', `the file is ${csr.length} bytes; a CSR is at most ${MAX_CSR_BYTES}`, {
      file: paths.csr,
    })
  }
  const request: IssuanceRequest = { name, file: paths.csr, csr }
  const optionsText = present.has(basename(paths.options)) ? await readText(store, paths.options) : undefined
  if (optionsText !== undefined) {
    let parsed: unknown
    try {
      parsed = parseYaml(optionsText)
    } catch (cause) {
      throw new CaError('config.invalid', 'not valid YAML', { file: paths.options, cause })
    }
    const result = requestOptionsSchema.safeParse(parsed ?? {})
    if (!result.success) {
      const issue = result.error.issues[0]
      throw new CaError('config.invalid', `${issue?.path.join('.') || 'options'}: ${issue?.message}`, {
        file: paths.options,
      })
    }
    if (result.data.profile !== undefined) request.profile = result.data.profile
    if (result.data.days !== undefined) request.days = result.data.days
  }
  return request
}

async function explicitRequests(store: StateStore, options: SignOptions): Promise<IssuanceRequest[]> {
  const out: IssuanceRequest[] = []
  for (const file of options.csrFiles) {
    const name = requestName(file)
    const csr = await readLimited(resolve(options.cwd, file), file)
    if ((await store.read(certificatePaths(name).cert)) !== undefined) {
      throw new CaError(
        'request.already_issued',
        `${certificatePaths(name).cert} already exists: a request named "${name}" was signed before`,
        { file },
      )
    }
    out.push({ name, file, csr })
  }
  return out
}

export async function signRequests(
  store: StateStore,
  options: SignOptions,
  runtime: Runtime,
): Promise<SignResult> {
  return store.locked(async () => {
    const ca = await loadCa(store)
    const side = ca.config.intermediate
    const requests = options.csrFiles.length
      ? await explicitRequests(store, options)
      : await pendingRequests(store)
    if (requests.length === 0) return { issued: [], files: [] }
    for (const r of requests) {
      if (options.profile !== undefined) r.profile = options.profile
      if (options.days !== undefined) r.days = options.days
    }
    const db = await loadDatabase(store, side)
    const issuer = await openIssuer(ca, 'intermediate', runtime)
    const batch = await issueBatch(requests, {
      config: ca.config,
      issuer,
      index: db.index,
      nextSerial: db.nextSerial,
      now: runtime.now(),
      random: runtime.random,
      ...(runtime.checker ? { checker: runtime.checker } : {}),
    })
    const files = databaseFiles(side)
    const writes: FileWrite[] = []
    for (const cert of batch.issued) {
      const pem = cert.certificate.toString('pem') + '\n'
      const paths = certificatePaths(cert.name)
      writes.push(
        { path: newCertPath(files, cert.serialHex), data: pem },
        { path: paths.cert, data: pem },
        { path: paths.fullchain, data: pem + ca.intermediate.pem },
      )
    }
    writes.push({ path: files.index, data: serializeIndex(batch.index) })
    if (!db.hasAttr)
      writes.push({ path: files.attr, data: formatIndexAttr({ uniqueSubject: side.uniqueSubject }) })
    if (side.serials === 'sequential' && batch.nextSerial !== undefined) {
      writes.push({ path: files.serial, data: formatSerialFile(batch.nextSerial) })
    }
    await store.commit(writes)
    return { issued: batch.issued, files: writes.map((w) => w.path) }
  })
}
