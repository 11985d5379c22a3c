/**
 * Scenario `index`: OpenSSL's database at scale. A 1,000,000-line index.txt (85 % V, 10 % R with a
 * reason, 5 % E; random 159-bit serials) is loaded (read + `parseIndex`), searched (`findBySerial` for
 * existing serials, as many as fit a time budget) and appended to (`serializeIndex` of the entries and
 * one more line) in a child process per run, so that its peak memory (`maxRSS`) is the loader's alone.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findBySerial } from '../src/ca/index-lookup.js'
import { formatIndexTime } from '../src/ca/index-time.js'
import { parseIndex, serializeIndex } from '../src/ca/index-txt.js'
import { median, nowS, round, runOk, tempDir } from './support.js'

export interface IndexResult {
  load_s: number
  peak_mb: number
  lines: number
  read_s: number
  parse_s: number
  lookup_ms: number
  lookups: number
  append_s: number
  peak_mb_after_append: number
  file_mb: number
  runs: ChildResult[]
}

interface ChildResult {
  read_s: number
  parse_s: number
  load_s: number
  load_peak_mb: number
  lookups: number
  lookup_ms: number
  append_s: number
  peak_mb: number
}

/** `lines` index lines written straight to a file (the generator must not be the slow part). */
export function writeBigIndex(file: string, lines: number): number {
  const now = Date.now()
  const reasons = ['keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged', 'unspecified']
  const random = randomBytes(lines * 20)
  const chunks: string[] = []
  let batch: string[] = []
  const future = formatIndexTime(new Date(now + 200 * 86_400_000))
  const past = formatIndexTime(new Date(now - 30 * 86_400_000))
  const revokedAt = formatIndexTime(new Date(now - 60 * 86_400_000))
  for (let i = 0; i < lines; i++) {
    const bytes = random.subarray(i * 20, i * 20 + 20)
    bytes[0] = (bytes[0] as number) & 0x7f
    let hex = bytes.toString('hex').toUpperCase()
    while (hex.startsWith('00') && hex.length > 2) hex = hex.slice(2)
    const kind = i % 20
    const subject = `/C=US/O=Example Corp/OU=Platform/CN=host-${i}.example.com`
    if (kind < 2) {
      batch.push(`R\t${future}\t${revokedAt},${reasons[i % reasons.length]}\t${hex}\tunknown\t${subject}\n`)
    } else if (kind === 2) {
      batch.push(`E\t${past}\t\t${hex}\tunknown\t${subject}\n`)
    } else {
      batch.push(`V\t${future}\t\t${hex}\tunknown\t${subject}\n`)
    }
    if (batch.length === 10_000) {
      chunks.push(batch.join(''))
      batch = []
    }
  }
  chunks.push(batch.join(''))
  const text = chunks.join('')
  writeFileSync(file, text)
  return Buffer.byteLength(text)
}

/** Runs in the child: load, look up, append; prints one JSON line. */
export function indexChild(file: string, lookupBudgetS: number, maxLookups: number): void {
  const t0 = nowS()
  const text = readFileSync(file, 'utf8')
  const t1 = nowS()
  const entries = parseIndex(text)
  const t2 = nowS()
  const loadPeak = process.resourceUsage().maxRSS / 1024

  let lookups = 0
  const l0 = nowS()
  while (lookups < maxLookups && nowS() - l0 < lookupBudgetS) {
    const wanted = entries[Math.floor(Math.random() * entries.length)]
    if (wanted === undefined || findBySerial(entries, wanted.serial.toLowerCase()) !== wanted) {
      throw new Error(`findBySerial missed ${wanted?.serial}`)
    }
    lookups++
  }
  const lookupS = nowS() - l0

  const a0 = nowS()
  const appended = serializeIndex([
    ...entries,
    {
      status: 'V',
      expiry: formatIndexTime(new Date(Date.now() + 375 * 86_400_000)),
      revocation: '',
      serial: '7FEDCBA9876543210FEDCBA9876543210FEDCBA9',
      file: 'unknown',
      subject: '/CN=appended.example.com',
    },
  ])
  const appendS = nowS() - a0
  // Byte for byte: the file as it was, plus the one new line.
  if (!appended.startsWith(text) || appended.indexOf('\n', text.length) !== appended.length - 1) {
    throw new Error('serializeIndex did not give the file back')
  }
  const result: ChildResult = {
    read_s: t1 - t0,
    parse_s: t2 - t1,
    load_s: t2 - t0,
    load_peak_mb: loadPeak,
    lookups,
    lookup_ms: (lookupS * 1000) / Math.max(1, lookups),
    append_s: appendS,
    peak_mb: process.resourceUsage().maxRSS / 1024,
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

export function indexScenario(
  bundle: string,
  lines: number,
  runs: number,
  lookupBudgetS: number,
  log: (s: string) => void,
): IndexResult {
  const file = join(tempDir('index'), 'index.txt')
  const bytes = writeBigIndex(file, lines)
  const results: ChildResult[] = []
  for (let r = 0; r < runs; r++) {
    const out = runOk(process.execPath, [bundle, '--child-index', file, String(lookupBudgetS), '5000'])
    const child = JSON.parse(out.stdout.trim().split('\n').at(-1) as string) as ChildResult
    results.push(child)
    log(
      `  index run ${r + 1}: load ${child.load_s.toFixed(2)} s (read ${child.read_s.toFixed(2)} + parse ${child.parse_s.toFixed(2)}), ` +
        `peak ${child.load_peak_mb.toFixed(0)} MB; ${child.lookups} lookups at ${child.lookup_ms.toFixed(1)} ms; ` +
        `append ${child.append_s.toFixed(2)} s; peak ${child.peak_mb.toFixed(0)} MB`,
    )
  }
  const m = (f: (c: ChildResult) => number) => round(median(results.map(f)))
  return {
    load_s: m((c) => c.load_s),
    peak_mb: m((c) => c.load_peak_mb),
    lines,
    read_s: m((c) => c.read_s),
    parse_s: m((c) => c.parse_s),
    lookup_ms: m((c) => c.lookup_ms),
    lookups: results.reduce((s, c) => s + c.lookups, 0),
    append_s: m((c) => c.append_s),
    peak_mb_after_append: m((c) => c.peak_mb),
    file_mb: round(bytes / 1e6),
    runs: results.map(
      (c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round(v)])) as unknown as ChildResult,
    ),
  }
}
