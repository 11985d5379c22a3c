/**
 * Scenario `crl`: a CRL for an intermediate whose index.txt holds N revoked certificates (R lines with
 * random 159-bit serials, random reasons and revocation times), made by our `generateCrl` (the whole
 * `mtls-ca crl`: load ca.yml and the index, read the previous CRL, build, sign, commit PEM + DER) and
 * by `openssl ca -gencrl` on a copy of the same directory. Runs alternate; medians are reported.
 */
import { randomBytes } from 'node:crypto'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatIndexTime } from '../src/ca/index-time.js'
import { serializeIndex } from '../src/ca/index-txt.js'
import { type IndexEntry } from '../src/ca/index-entry.js'
import { randomSerial, serialToHex } from '../src/ca/serial-number.js'
import { generateCrl } from '../src/commands/revocation.js'
import { systemRuntime } from '../src/commands/runtime.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { copyCa, median, nowS, opensslCaConfig, round, run, runOk, settleDisk } from './support.js'

const REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation']

export interface CrlMeasure {
  /** Median seconds of ours; null when ours failed (see ours_error). */
  ours_s: number | null
  openssl_s: number
  entries: number
  /** ours_s / openssl_s: below 1 is faster than openssl. */
  ours_over_openssl: number | null
  ours_runs_s: number[]
  openssl_runs_s: number[]
  /** Why ours failed, and how long it ran before it did (a lower bound of its time). */
  ours_error?: string
  ours_s_until_error?: number
  crl_bytes?: number
}

export interface CrlResult extends CrlMeasure {
  /** The same comparison at a size ours handles, when it fails at the full size. */
  smaller?: CrlMeasure
}

/** N revoked entries as `openssl ca -revoke` writes them. */
export function revokedIndex(entries: number): string {
  const now = Date.now()
  const lines: IndexEntry[] = []
  const random = (n: number) => new Uint8Array(randomBytes(n))
  for (let i = 0; i < entries; i++) {
    const revokedAt = new Date(now - Math.floor(Math.random() * 300 * 86_400_000))
    const reason = REASONS[i % REASONS.length] as string
    lines.push({
      status: 'R',
      expiry: formatIndexTime(new Date(now + (60 + (i % 300)) * 86_400_000)),
      revocation: `${formatIndexTime(revokedAt)},${reason}`,
      serial: serialToHex(randomSerial(random)),
      file: 'unknown',
      subject: `/O=Bench Corp/CN=revoked-${i}.bench.example`,
    })
  }
  return serializeIndex(lines)
}

async function measure(
  template: string,
  entries: number,
  runs: number,
  log: (s: string) => void,
): Promise<CrlMeasure> {
  const index = revokedIndex(entries)
  const ours = copyCa(template, 'crl-ours')
  writeFileSync(join(ours, 'intermediateCA/index.txt'), index)
  const osl = copyCa(template, 'crl-openssl')
  writeFileSync(join(osl, 'intermediateCA/index.txt'), index)
  const config = opensslCaConfig(osl)

  const oursRuns: number[] = []
  const opensslRuns: number[] = []
  let failure: { error: string; seconds: number } | undefined
  for (let r = 0; r < runs; r++) {
    let oursText = 'failed'
    if (!failure) {
      settleDisk()
      const t0 = nowS()
      try {
        const result = await generateCrl(openDirectoryStore(ours), { side: 'intermediate' }, systemRuntime)
        if (result.revoked !== entries)
          throw new Error(`our CRL lists ${result.revoked} of ${entries} entries`)
        oursRuns.push(nowS() - t0)
        oursText = `${(nowS() - t0).toFixed(2)} s`
      } catch (e) {
        failure = { error: (e as Error).message, seconds: nowS() - t0 }
        oursText = `FAILED after ${failure.seconds.toFixed(2)} s: ${failure.error}`
      }
    }
    settleDisk()
    const o = runOk('openssl', ['ca', '-gencrl', '-config', config, '-out', join(osl, 'openssl.crl.pem')])
    opensslRuns.push(o.seconds)
    log(
      `  crl ${entries} entries, run ${r + 1}: ours ${oursText}; openssl ca -gencrl ${o.seconds.toFixed(2)} s`,
    )
  }
  const opensslS = median(opensslRuns)
  if (failure) {
    return {
      ours_s: null,
      openssl_s: round(opensslS),
      entries,
      ours_over_openssl: null,
      ours_runs_s: [],
      openssl_runs_s: opensslRuns.map((x) => round(x)),
      ours_error: failure.error,
      ours_s_until_error: round(failure.seconds),
    }
  }
  // Ours must be a CRL OpenSSL accepts, signed by the intermediate.
  const check = run('openssl', [
    'crl',
    '-in',
    join(ours, 'intermediateCA/crl/intermediate.crl.pem'),
    '-noout',
    '-CAfile',
    join(ours, 'intermediateCA/certs/intermediate.cert.pem'),
  ])
  if (!/verify OK/.test(check.stdout + check.stderr))
    throw new Error(`openssl crl: ${check.stdout}${check.stderr}`)
  const oursS = median(oursRuns)
  return {
    ours_s: round(oursS),
    openssl_s: round(opensslS),
    entries,
    ours_over_openssl: round(oursS / opensslS),
    ours_runs_s: oursRuns.map((x) => round(x)),
    openssl_runs_s: opensslRuns.map((x) => round(x)),
    crl_bytes: statSync(join(ours, 'intermediateCA/crl/intermediate.crl.der')).size,
  }
}

/** The full-size comparison; when ours fails there, the same comparison at `fallbackEntries` too. */
export async function crlScenario(
  template: string,
  entries: number,
  runs: number,
  log: (s: string) => void,
  fallbackEntries = 1000,
): Promise<CrlResult> {
  const full: CrlResult = await measure(template, entries, runs, log)
  if (full.ours_s === null && fallbackEntries < entries) {
    full.smaller = await measure(template, fallbackEntries, runs, log)
  }
  return full
}
