/**
 * `mtls-ca sign`: collects the requests (every pending requests/<name>.csr.pem, or the CSR files given),
 * issues them as one batch with the intermediate, and commits certificates, newcerts/ and the database
 * in one atomic write under the directory lock.
 */
import type { Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { CaError } from '../ca/errors.js'
import { MAX_CSR_BYTES } from '../ca/csr.js'
import { checkRequests, issueBatch, type IssuanceRequest, type IssuedCertificate } from '../ca/issue.js'
import { formatIndexAttr } from '../ca/index-attr.js'
import { serializeIndex } from '../ca/index-txt.js'
import { formatSerialFile } from '../ca/serial-number.js'
import {
  CERTS_DIR,
  CSR_SUFFIX,
  REQUESTS_DIR,
  certificatePaths,
  databaseFiles,
  newCertPath,
  requestNameProblem,
  requestPaths,
} from '../config/layout.js'
import { MAX_REQUEST_OPTIONS_BYTES, parseRequestOptions } from '../config/request-options.js'
import { fileType, readRegularFile } from '../store/untrusted-file.js'
import { forEachConcurrently } from '../store/concurrency.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import { effectiveUniqueSubject, loadCa, loadDatabase, openIssuer, type LoadedCa } from './ca-state.js'
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

/** `<name>` of a CSR file: the file name without .csr.pem (or .csr, .pem). */
export function requestName(file: string): string {
  return basename(file).replace(/\.csr\.pem$|\.csr$|\.pem$/, '')
}

/**
 * What the requests of one batch may hold in memory together: with each CSR at most 64 KiB (and
 * its options 4 KiB) this is over a thousand of the largest, tens of thousands of usual ones.
 */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024

/** How many request files are read at once. */
const READ_CONCURRENCY = 16

/**
 * The requests of a batch as they were read: those that can go on to the checks, and those refused
 * already (a bad name, a file that is not a regular file or too large, bad options), each at its
 * place in the batch's order so that refusals are listed in that order.
 */
export interface Collected {
  requests: IssuanceRequest[]
  /** Position of each request in the batch. */
  positions: number[]
  refusals: Array<{ position: number; error: CaError }>
}

/** Bytes held by the batch so far; refuses the batch past MAX_BATCH_BYTES. */
class BatchBudget {
  private used = 0
  take(bytes: number): void {
    this.used += bytes
    if (this.used > MAX_BATCH_BYTES) {
      throw new CaError(
        'request.batch_too_large',
        `the requests of this batch are more than ${MAX_BATCH_BYTES} bytes together; sign fewer at once (name them on the command line)`,
        { file: REQUESTS_DIR },
      )
    }
  }
}

function badName(file: string, name: string): CaError | undefined {
  const problem = requestNameProblem(name)
  return problem === undefined ? undefined : new CaError('request.bad_name', problem, { file })
}

/**
 * Every requests/<name>.csr.pem without a certs/<name>.cert.pem, with its options. The folders are
 * listed once and the files read several at once: a batch of 1,000 read one call after another spent
 * half a second waiting for the file system. Each file is checked (type, size) before it is opened.
 */
async function pendingRequests(store: StateStore): Promise<Collected> {
  const listing = await store.list(REQUESTS_DIR)
  const issued = new Set(await store.list(CERTS_DIR))
  const present = new Set(listing)
  const out: Collected = { requests: [], positions: [], refusals: [] }
  const toRead: Array<{ name: string; position: number }> = []
  for (const [position, entry] of listing.filter((f) => f.endsWith(CSR_SUFFIX)).entries()) {
    const name = entry.slice(0, -CSR_SUFFIX.length)
    const refusal = badName(`${REQUESTS_DIR}/${entry}`, name)
    if (refusal) out.refusals.push({ position, error: refusal })
    else if (!issued.has(basename(certificatePaths(name).cert))) toRead.push({ name, position })
  }
  const found: Array<IssuanceRequest | CaError | undefined> = new Array(toRead.length)
  const budget = new BatchBudget()
  await forEachConcurrently(toRead, READ_CONCURRENCY, async ({ name }, i) => {
    try {
      found[i] = await pendingRequest(store, name, present, budget)
    } catch (e) {
      if (!(e instanceof CaError) || e.code === 'request.batch_too_large') throw e
      found[i] = e
    }
  })
  const issuedFolded = new Map([...issued].map((f) => [f.toLowerCase(), f]))
  for (const [i, r] of found.entries()) {
    const position = (toRead[i] as { position: number }).position
    if (r === undefined) continue
    if (r instanceof CaError) {
      out.refusals.push({ position, error: r })
      continue
    }
    const clash = issuedFolded.get(basename(certificatePaths(r.name).cert).toLowerCase())
    if (clash !== undefined) {
      out.refusals.push({ position, error: caseClash(r.file, `${CERTS_DIR}/${clash}`) })
      continue
    }
    out.requests.push(r)
    out.positions.push(position)
  }
  return withoutCaseClashes(out)
}

/**
 * The requests named (requests/<name>.csr.pem, in the order given) as `sign` would read them, each
 * problem a refusal of that request: a bad name, a certificate that exists already (also when it
 * differs only in case), a missing CSR, a file that is not regular or too large, bad options.
 * `validate` uses it so that a pull request is judged exactly as the merge will sign it.
 */
export async function namedRequests(store: StateStore, names: readonly string[]): Promise<Collected> {
  const present = new Set(await store.list(REQUESTS_DIR))
  const issuedFolded = new Map((await store.list(CERTS_DIR)).map((f) => [f.toLowerCase(), f]))
  const out: Collected = { requests: [], positions: [], refusals: [] }
  const budget = new BatchBudget()
  for (const [position, name] of names.entries()) {
    const file = requestPaths(name).csr
    try {
      const refusal = badName(file, name)
      if (refusal) throw refusal
      const cert = basename(certificatePaths(name).cert)
      const issued = issuedFolded.get(cert.toLowerCase())
      if (issued === cert) {
        throw new CaError(
          'request.already_issued',
          `${CERTS_DIR}/${cert} already exists: a request named "${name}" was signed before; choose another name`,
          { file },
        )
      }
      if (issued !== undefined) throw caseClash(file, `${CERTS_DIR}/${issued}`)
      const request = await pendingRequest(store, name, present, budget)
      if (request === undefined) {
        throw new CaError(
          'request.none',
          `${file} is missing: a request needs its CSR, not only ${name}.yml`,
          {
            file,
          },
        )
      }
      out.requests.push(request)
      out.positions.push(position)
    } catch (e) {
      if (!(e instanceof CaError) || e.code === 'request.batch_too_large') throw e
      out.refusals.push({ position, error: e.file === undefined ? e.withFile(file) : e })
    }
  }
  return withoutCaseClashes(out)
}

function caseClash(file: string, other: string): CaError {
  return new CaError(
    'request.duplicate_name',
    `its name differs from ${other} only in case: the two would be one file on a case-insensitive checkout (macOS, Windows)`,
    { file },
  )
}

/** The later of two requests with one name, or names that differ only in case, becomes a refusal. */
function withoutCaseClashes(collected: Collected): Collected {
  const seen = new Map<string, IssuanceRequest>()
  const out: Collected = { requests: [], positions: [], refusals: [...collected.refusals] }
  for (const [i, r] of collected.requests.entries()) {
    const position = collected.positions[i] as number
    const first = seen.get(r.name.toLowerCase())
    if (first !== undefined) {
      const error =
        first.name === r.name
          ? new CaError('request.duplicate_name', `two requests are named "${r.name}"`, { file: r.file })
          : caseClash(r.file, first.file)
      out.refusals.push({ position, error })
      continue
    }
    seen.set(r.name.toLowerCase(), r)
    out.requests.push(r)
    out.positions.push(position)
  }
  return out
}

/** One pending request read from the store (undefined when its CSR is absent), with its options file. */
export async function pendingRequest(
  store: StateStore,
  name: string,
  present: ReadonlySet<string>,
  budget: BatchBudget,
): Promise<IssuanceRequest | undefined> {
  const paths = requestPaths(name)
  const csr = await readRequestFile(store, paths.csr, MAX_CSR_BYTES, 'csr')
  if (csr === undefined) return undefined
  budget.take(csr.length)
  const request: IssuanceRequest = { name, file: paths.csr, csr }
  if (!present.has(basename(paths.options))) return request
  const options = await readRequestFile(store, paths.options, MAX_REQUEST_OPTIONS_BYTES, 'options')
  if (options === undefined) return request
  budget.take(options.length)
  const parsed = parseRequestOptions(options.toString('utf8'), paths.options)
  if (parsed.profile !== undefined) request.profile = parsed.profile
  if (parsed.days !== undefined) request.days = parsed.days
  return request
}

/**
 * A request's file through the store, its problems as refusals of that request: a file that is not
 * a regular file (a folder, a FIFO — never opened), a symbolic link, or one over its bound (never read).
 */
async function readRequestFile(
  store: StateStore,
  path: string,
  maxBytes: number,
  what: 'csr' | 'options',
): Promise<Buffer | undefined> {
  try {
    return await store.read(path, { maxBytes })
  } catch (e) {
    if (!(e instanceof CaError)) throw e
    if (e.code === 'state.too_large') {
      const code = what === 'csr' ? 'csr.too_large' : 'config.too_large'
      const kind = what === 'csr' ? 'a CSR' : "a request's options file"
      throw new CaError(code, `${e.message} for ${kind}`, { file: path })
    }
    if (e.code === 'state.corrupt' || e.code === 'state.path_invalid') {
      const code = what === 'csr' ? 'csr.unreadable' : 'config.invalid'
      const expected = what === 'csr' ? 'a PEM CSR' : 'a YAML file'
      // The store's message starts with the path, which the refusal names already.
      const why =
        e.code === 'state.path_invalid'
          ? 'it is a symbolic link'
          : e.message.startsWith(`${path} `)
            ? `it${e.message.slice(path.length)}`
            : e.message
      throw new CaError(code, `${why}; expected ${expected}`, {
        file: path,
        cause: e,
      })
    }
    throw e
  }
}

async function explicitRequests(store: StateStore, options: SignOptions): Promise<Collected> {
  const out: Collected = { requests: [], positions: [], refusals: [] }
  const budget = new BatchBudget()
  for (const [position, file] of options.csrFiles.entries()) {
    try {
      const name = requestName(file)
      const refusal = badName(file, name)
      if (refusal) throw refusal
      const csr = await readCsrFile(resolve(options.cwd, file), file)
      budget.take(csr.length)
      if ((await store.read(certificatePaths(name).cert)) !== undefined) {
        throw new CaError(
          'request.already_issued',
          `${certificatePaths(name).cert} already exists: a request named "${name}" was signed before`,
          { file },
        )
      }
      out.requests.push({ name, file, csr })
      out.positions.push(position)
    } catch (e) {
      if (!(e instanceof CaError) || e.code === 'request.batch_too_large') throw e
      out.refusals.push({ position, error: e })
    }
  }
  return withoutCaseClashes(out)
}

/** A CSR named on the command line: the path may be anywhere, but it is still opened only if regular. */
async function readCsrFile(path: string, shown: string): Promise<Buffer> {
  let st: Stats
  try {
    st = await stat(path)
  } catch (cause) {
    throw new CaError('csr.unreadable', 'cannot read the file', { file: shown, cause })
  }
  if (!st.isFile()) {
    throw new CaError('csr.unreadable', `it is not a regular file (${fileType(st)}); expected a PEM CSR`, {
      file: shown,
    })
  }
  if (st.size > MAX_CSR_BYTES) throw csrTooLarge(shown, st.size)
  try {
    return await readRegularFile(path, { maxBytes: MAX_CSR_BYTES, shown })
  } catch (e) {
    if (e instanceof CaError && e.code === 'state.too_large') throw csrTooLarge(shown, MAX_CSR_BYTES + 1)
    if (e instanceof CaError) throw new CaError('csr.unreadable', e.message, { file: shown })
    throw new CaError('csr.unreadable', 'cannot read the file', { file: shown, cause: e })
  }
}

function csrTooLarge(file: string, size: number): CaError {
  const over = size > MAX_CSR_BYTES + 1 ? `${size} bytes` : `over ${MAX_CSR_BYTES} bytes`
  return new CaError('csr.too_large', `the file is ${over}; a CSR is at most ${MAX_CSR_BYTES}`, { file })
}

/**
 * The refusals of a batch that has some already: the other requests are checked too (on this
 * thread, no key opened) so that every refusal is listed at once, in the batch's order.
 */
function refuseBatch(collected: Collected, ca: LoadedCa): never {
  const outcomes = checkRequests(collected.requests, {
    config: ca.config,
    issuerSubject: ca.intermediate.subject,
  })
  const all = [...collected.refusals]
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome instanceof CaError) all.push({ position: collected.positions[i] as number, error: outcome })
  }
  all.sort((a, b) => a.position - b.position)
  const total = collected.requests.length + collected.refusals.length
  if (all.length === 1) throw (all[0] as { error: CaError }).error
  throw new CaError(
    'request.refused',
    `${all.length} of ${total} requests were refused; nothing was issued`,
    {
      details: all.map((r) => r.error),
    },
  )
}

export async function signRequests(
  store: StateStore,
  options: SignOptions,
  runtime: Runtime,
): Promise<SignResult> {
  return store.locked(async () => {
    const ca = await loadCa(store)
    const side = ca.config.intermediate
    const collected = options.csrFiles.length
      ? await explicitRequests(store, options)
      : await pendingRequests(store)
    const { requests } = collected
    for (const r of requests) {
      if (options.profile !== undefined) r.profile = options.profile
      if (options.days !== undefined) r.days = options.days
    }
    if (collected.refusals.length) refuseBatch(collected, ca)
    if (requests.length === 0) return { issued: [], files: [] }
    const db = await loadDatabase(store, side)
    const issuer = await openIssuer(ca, 'intermediate', runtime)
    const uniqueSubject = effectiveUniqueSubject(db, side.uniqueSubject)
    const batch = await issueBatch(requests, {
      config: ca.config,
      issuer,
      index: db.index,
      nextSerial: db.nextSerial,
      uniqueSubject,
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
    // openssl ca's save_index writes the attr file beside every index it writes, with the value in force
    writes.push({ path: files.attr, data: formatIndexAttr({ uniqueSubject }) })
    if (side.serials === 'sequential' && batch.nextSerial !== undefined) {
      writes.push({ path: files.serial, data: formatSerialFile(batch.nextSerial) })
    }
    await store.commit(writes)
    return { issued: batch.issued, files: writes.map((w) => w.path) }
  })
}
