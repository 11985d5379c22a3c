/**
 * CPU profiles of a stretch of the bench, taken with the inspector (V8's sampling profiler) around the
 * one call being studied, and a summary of where the time went: self time by area (the X.509 library,
 * asn1js, node:crypto, our engine, the state store, GC), the functions with the most self time, and
 * the inclusive time of the issuance pipeline's steps. Samples are mapped back to source files through
 * the bundle's source map, so the summary names `src/ca/csr.ts`, not a line of the bundle.
 */
import { Session } from 'node:inspector'
import { readFileSync, writeFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Runs `fn` under the sampling profiler (100 µs interval) and returns its result and the profile. */
export async function profiled<T>(fn: () => Promise<T>): Promise<{ value: T; profile: CpuProfile }> {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    )
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 100 })
  await post('Profiler.start')
  let value: T | undefined
  let failure: { error: unknown } | undefined
  try {
    value = await fn()
  } catch (error) {
    failure = { error }
  }
  const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile }
  session.disconnect()
  if (failure) throw failure.error
  return { value: value as T, profile }
}

export interface ProfileSummary {
  /** Wall time profiled; idle is the main thread waiting (file system, network, workers). */
  wall_ms: number
  idle_ms: number
  /** CPU time of the main thread: wall minus idle. */
  total_ms: number
  areas: Array<{ area: string; ms: number; share: number }>
  top_self: Array<{ function: string; source: string; ms: number; share: number }>
  steps: Array<{ step: string; ms: number; share: number }>
}

/** A step of a path: functions (by source file and name) whose inclusive time is the step's. */
export interface Step {
  step: string
  file: string
  names: string[]
}

/** The issuance pipeline's steps; each sample counts once per step. */
export const ISSUE_STEPS: Step[] = [
  { step: 'sign command (whole batch)', file: 'src/commands/sign.ts', names: ['signRequests'] },
  { step: 'read requests/ (pendingRequests)', file: 'src/commands/sign.ts', names: ['pendingRequests'] },
  {
    step: 'load CA + index (loadCa, loadDatabase)',
    file: 'src/commands/ca-state.ts',
    names: ['loadCa', 'loadDatabase'],
  },
  { step: 'check requests (checkRequest)', file: 'src/ca/issue.ts', names: ['checkRequest'] },
  { step: '  CSR parse + verify (parseCsr)', file: 'src/ca/csr.ts', names: ['parseCsr'] },
  { step: '    CSR self-signature verify', file: 'src/ca/csr-signature.ts', names: ['verifySelfSignature'] },
  { step: '  key description (describeKey)', file: 'src/ca/key-policy.ts', names: ['describeKey'] },
  { step: '  subject policy', file: 'src/ca/subject-policy.ts', names: ['applySubjectPolicy'] },
  { step: '  SAN policy', file: 'src/ca/san-policy.ts', names: ['checkSans', 'normaliseSans'] },
  { step: 'serial allocation', file: 'src/ca/issue.ts', names: ['allocateSerials'] },
  { step: 'template + extensions (leafTemplate)', file: 'src/ca/issue.ts', names: ['leafTemplate'] },
  { step: '  SKI (subjectKeyIdentifier)', file: 'src/ca/extensions.ts', names: ['subjectKeyIdentifier'] },
  { step: 'lint (lintLeaf)', file: 'src/ca/lint.ts', names: ['lintLeaf'] },
  { step: 'sign certificate (signCertificate)', file: 'src/ca/certificate.ts', names: ['signCertificate'] },
  { step: '  x509 generator (X509CertificateGenerator.create)', file: '@peculiar/x509', names: ['create'] },
  { step: '  names → x509.Name (toAsnName + serialize)', file: 'src/ca/certificate.ts', names: ['x509Name'] },
  { step: '  signature (file signer → node:crypto sign)', file: 'src/keys/file-signer.ts', names: ['sign'] },
  { step: '  check signature (verifiesWith)', file: 'src/ca/certificate.ts', names: ['verifiesWith'] },
  {
    step: 'PEM encoding (X509Certificate.toString)',
    file: '@peculiar/x509',
    names: ['toString', 'toTextObject'],
  },
  { step: 'index.txt (serializeIndex)', file: 'src/ca/index-txt.ts', names: ['serializeIndex'] },
  { step: 'state writes (store.commit)', file: 'src/store/', names: ['commit'] },
]

export const VAULT_STEPS: Step[] = [
  { step: 'check requests (checkRequest)', file: 'src/ca/issue.ts', names: ['checkRequest'] },
  { step: 'template + extensions (leafTemplate)', file: 'src/ca/issue.ts', names: ['leafTemplate'] },
  { step: 'sign certificate (signCertificate)', file: 'src/ca/certificate.ts', names: ['signCertificate'] },
  { step: '  x509 generator (X509CertificateGenerator.create)', file: '@peculiar/x509', names: ['create'] },
  {
    step: '  Key Vault signer (hash, limiter, SDK call, verify)',
    file: 'src/keys/azure-key-vault-signer.ts',
    names: ['sign'],
  },
  { step: '  retry wrapper (callVault)', file: 'src/keys/retry.ts', names: ['callVault'] },
  { step: '  check signature (verifiesWith)', file: 'src/ca/certificate.ts', names: ['verifiesWith'] },
]

export const CRL_STEPS: Step[] = [
  {
    step: 'load CA + index (loadCa, loadDatabase)',
    file: 'src/commands/ca-state.ts',
    names: ['loadCa', 'loadDatabase'],
  },
  { step: '  parseIndex', file: 'src/ca/index-txt.ts', names: ['parseIndex'] },
  {
    step: 'read the previous CRL (previousCrlThisUpdate)',
    file: 'src/commands/revocation.ts',
    names: ['previousCrlThisUpdate'],
  },
  { step: 'build + sign (buildCrl)', file: 'src/ca/crl.ts', names: ['buildCrl'] },
  {
    step: '  revoked list from the index text (revokedCertificatesDer)',
    file: 'src/ca/crl-entries.ts',
    names: ['revokedCertificatesDer'],
  },
  { step: '  DER writer (add, finish)', file: 'src/ca/der-writer.ts', names: ['add', 'finish'] },
  { step: '  DER encoding (AsnConvert.serialize)', file: '@peculiar/asn1-schema', names: ['serialize'] },
  { step: '  check signature (signatureVerifies)', file: 'src/ca/crl.ts', names: ['signatureVerifies'] },
  { step: 'PEM (crlPem)', file: 'src/ca/crl.ts', names: ['crlPem'] },
  { step: 'state writes (store.commit)', file: 'src/store/', names: ['commit'] },
]

export const INDEX_STEPS: Step[] = [
  { step: 'parseIndex', file: 'src/ca/index-txt.ts', names: ['parseIndex'] },
  { step: '  parseLine', file: 'src/ca/index-txt.ts', names: ['parseLine'] },
  { step: '    splitFields', file: 'src/ca/index-txt.ts', names: ['splitFields'] },
  { step: '    entryProblem (field checks)', file: 'src/ca/index-txt.ts', names: ['entryProblem'] },
  { step: '  serialFromHex (BigInt per line)', file: 'src/ca/serial-number.ts', names: ['serialFromHex'] },
  { step: 'serializeIndex', file: 'src/ca/index-txt.ts', names: ['serializeIndex'] },
]

function area(source: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)' || fn === '(program)' || fn === '(root)') return `${fn.slice(1, -1)} (native/idle)`
  if (source.startsWith('node:internal/crypto') || source === 'node:crypto') {
    return 'node:crypto (sign, verify, hash, key import)'
  }
  if (source.startsWith('node:internal/fs') || source === 'node:fs') return 'node:fs'
  if (
    /^node:(internal\/)?(tls|_tls|https|http|_http|net|stream|internal\/streams|internal\/http)/.test(source)
  ) {
    return 'node:tls/http/net/streams'
  }
  if (source.startsWith('node:')) return 'node (other internals)'
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)
  if (m) {
    const pkg = m[1] as string
    if (pkg === 'asn1js') return 'asn1js (BER/DER codec)'
    if (pkg === '@peculiar/asn1-schema') return '@peculiar/asn1-schema (schema ↔ asn1js)'
    if (pkg === '@peculiar/x509') return '@peculiar/x509'
    if (pkg === 'pvtsutils' || pkg === 'pvutils') return 'pvtsutils/pvutils (buffer and string helpers)'
    if (pkg === 'tsyringe' || pkg === 'reflect-metadata') return 'tsyringe/reflect-metadata'
    if (pkg.startsWith('@peculiar/asn1-')) return '@peculiar/asn1-* schemas'
    if (pkg.startsWith('@azure/') || pkg.startsWith('@typespec/')) return 'Azure SDK (@azure/*, @typespec/*)'
    return pkg
  }
  const s = /(src\/[^:]+)/.exec(source)
  if (s) return (s[1] as string).startsWith('src/store/') ? 'src/store (state writes)' : (s[1] as string)
  if (/bench\//.test(source)) return 'bench harness'
  return source || '(unknown)'
}

/** Summarises a profile; `bundle` is the file whose `.map` maps the bundled code back to sources. */
export function summarize(
  profile: CpuProfile,
  bundle: string | undefined,
  steps: Step[] = ISSUE_STEPS,
): ProfileSummary {
  let map: SourceMap | undefined
  if (bundle) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')))
    } catch {
      map = undefined
    }
  }
  const bundleUrl = bundle ? new URL(`file://${bundle}`).href : undefined
  const source = (cf: CallFrame): string => {
    if (cf.url === bundleUrl && map) {
      const entry = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string }
      const original = entry.originalSource ?? ''
      return original.replace(/^.*?\/(node_modules\/|src\/|bench\/|test\/)/, '$1')
    }
    if (cf.url.startsWith('file://')) return fileURLToPath(cf.url)
    return cf.url
  }

  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  // Native code (a C++ binding: KeyObject init, a crypto job's run) has no script: it is charged to the
  // source of the JavaScript that called it.
  const info = new Map<number, { fn: string; src: string }>()
  const infoOf = (id: number): { fn: string; src: string } => {
    const known = info.get(id)
    if (known) return known
    const cf = (byId.get(id) as ProfileNode).callFrame
    const fn = cf.functionName || '(anonymous)'
    const up = parent.get(id)
    const entry =
      cf.url === '' && !fn.startsWith('(') && up !== undefined
        ? { fn: `${fn} [native]`, src: infoOf(up).src }
        : { fn, src: source(cf) }
    info.set(id, entry)
    return entry
  }
  for (const n of profile.nodes) infoOf(n.id)

  const areaMs = new Map<string, number>()
  const selfMs = new Map<string, { fn: string; src: string; ms: number }>()
  const stepMs = new Map<string, number>()
  let total = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000
    const self = info.get(id) as { fn: string; src: string }
    if (self.fn === '(idle)') {
      idle += ms
      return
    }
    total += ms
    const a = area(self.src, self.fn)
    areaMs.set(a, (areaMs.get(a) ?? 0) + ms)
    const key = `${self.fn} ${self.src}`
    const entry = selfMs.get(key) ?? { fn: self.fn, src: self.src, ms: 0 }
    entry.ms += ms
    selfMs.set(key, entry)
    const seen = new Set<string>()
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const f = info.get(node) as { fn: string; src: string }
      for (const s of steps) {
        if (!seen.has(s.step) && s.names.includes(f.fn) && f.src.includes(s.file)) {
          seen.add(s.step)
          stepMs.set(s.step, (stepMs.get(s.step) ?? 0) + ms)
        }
      }
    }
  })
  const share = (ms: number) => Math.round((ms / total) * 1000) / 10
  const r1 = (ms: number) => Math.round(ms * 10) / 10
  return {
    wall_ms: r1((profile.endTime - profile.startTime) / 1000),
    idle_ms: r1(idle),
    total_ms: r1(total),
    areas: [...areaMs]
      .sort((a, b) => b[1] - a[1])
      .map(([a, ms]) => ({ area: a, ms: r1(ms), share: share(ms) })),
    top_self: [...selfMs.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 25)
      .map((e) => ({ function: e.fn, source: e.src, ms: r1(e.ms), share: share(e.ms) })),
    steps: steps
      .filter((s) => stepMs.has(s.step))
      .map((s) => ({
        step: s.step,
        ms: r1(stepMs.get(s.step) as number),
        share: share(stepMs.get(s.step) as number),
      })),
  }
}

export function printSummary(title: string, s: ProfileSummary, perItem: number, unit = 'cert'): void {
  const line = (label: string, ms: number, pct: number) =>
    `  ${label.padEnd(58)} ${ms.toFixed(0).padStart(7)} ms ${(ms / perItem).toFixed(3).padStart(8)} ms/${unit.padEnd(5)} ${pct
      .toFixed(1)
      .padStart(5)} %`
  console.log(
    `\n${title}\n  ${s.wall_ms.toFixed(0)} ms profiled: ${s.total_ms.toFixed(0)} ms on the main thread's CPU, ` +
      `${s.idle_ms.toFixed(0)} ms idle (waiting: file system, network, workers); shares below are of the CPU time`,
  )
  console.log('\n Self time by area')
  for (const a of s.areas.slice(0, 14)) console.log(line(a.area, a.ms, a.share))
  console.log('\n Inclusive time of the pipeline steps')
  for (const st of s.steps) console.log(line(st.step, st.ms, st.share))
  console.log('\n Functions with the most self time')
  for (const f of s.top_self.slice(0, 15))
    console.log(line(`${f.function} (${f.source})`.slice(0, 58), f.ms, f.share))
}

export function saveProfile(profile: CpuProfile, file: string): void {
  writeFileSync(file, JSON.stringify(profile))
}
