/**
 * Scenario `vault`: a batch through the Key Vault signer — the unmodified Azure SDK over HTTPS to the
 * Key Vault double (test/doubles/), which runs in a child process so that its TLS and signing do not
 * share our event loop and core, as a real vault would not. The double answers after a fixed latency
 * and enforces a per-10-s sign limit (Key Vault's RSA-2048 HSM limit: 2,000 per 10 s). The engine's
 * `issueBatch` signs with an intermediate whose key is the vault's key (certified by the file-backed
 * root of a CA made by `initCa`); the achieved rate is reported as a fraction of the limit.
 *
 * A batch must run well past one 10-s window to say anything about the limit: the first window's
 * signatures go through at the pipeline's own speed. So two rates: over the whole batch (the first
 * window's burst included), and sustained — the signatures after the first window's worth
 * (`limitPer10s`) over the time from when that one completed to the last, which is exactly the limit
 * for a client that wastes nothing when the batch spans a whole number of windows after the first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createIntermediateCertificate } from '../src/ca/ca-certificates.js'
import { parseSlashDn } from '../src/ca/distinguished-name.js'
import { subjectKeyIdentifier } from '../src/ca/extensions.js'
import { issueBatch, type IssuanceRequest } from '../src/ca/issue.js'
import { randomSerial } from '../src/ca/serial-number.js'
import { loadCa } from '../src/commands/ca-state.js'
import { systemRuntime } from '../src/commands/runtime.js'
import { fixedTokenCredential } from '../src/keys/azure-credential.js'
import { openKeyVaultSigner } from '../src/keys/azure-key-vault-signer.js'
import { fileSigner } from '../src/keys/file-signer.js'
import { openDirectoryStore } from '../src/store/directory-store.js'
import { KeyVaultDouble, type DoubleCounters } from '../test/doubles/key-vault-double.js'
import type { CsrSet } from './csr-set.js'
import { assertVerifies, copyCa, nowS, round } from './support.js'

export interface VaultResult {
  /** Over the whole batch, the first window's burst included. */
  achieved_per_s: number
  limit_per_s: number
  fraction_of_limit: number
  /** After the first window's worth of signatures; undefined when the batch is not longer than that. */
  sustained_per_s: number | undefined
  sustained_fraction_of_limit: number | undefined
  certificates: number
  seconds: number
  /** From the start of the batch to the first signature back: the engine's work before it signs. */
  first_signature_s: number
  latency_ms: number
  limit_per_10s: number
  concurrency: number
  sign_calls: number
  throttled: number
  max_signs_in_flight: number
}

/** Runs in the child: the double, with its knobs; one JSON line out, then `counters` on request. */
export async function vaultChild(latencyMs: number, limitPer10s: number): Promise<void> {
  const vault = await KeyVaultDouble.start()
  const kid = await vault.addKey('bench-intermediate', { kty: 'RSA-HSM', size: 2048 })
  vault.latencyMs = latencyMs
  vault.signLimitPer10s = limitPer10s
  process.stdout.write(JSON.stringify({ url: vault.url, kid, caPem: vault.caPem }) + '\n')
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'counters') process.stdout.write(JSON.stringify(vault.counters) + '\n')
  }
  await vault.close()
}

function lines(child: ChildProcess): () => Promise<string> {
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  rl.on('line', (line) => {
    const w = waiting.shift()
    if (w) w(line)
    else queue.push(line)
  })
  return () => {
    const line = queue.shift()
    if (line !== undefined) return Promise.resolve(line)
    return new Promise((resolve, reject) => {
      waiting.push(resolve)
      child.once('exit', (code) => reject(new Error(`the vault double exited (${code})`)))
    })
  }
}

export async function vaultScenario(
  bundle: string,
  template: string,
  csrs: CsrSet,
  count: number,
  log: (s: string) => void,
  knobs = { latencyMs: 20, limitPer10s: 2000, concurrency: 8 },
  /** Wraps the timed batch (the profiler wraps it here). */
  around: <T>(batch: () => Promise<T>) => Promise<T> = (batch) => batch(),
): Promise<VaultResult> {
  const child = spawn(
    process.execPath,
    [bundle, '--child-vault', String(knobs.latencyMs), String(knobs.limitPer10s)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const next = lines(child)
  try {
    const info = JSON.parse(await next()) as { url: string; kid: string; caPem: string }
    const signer = await openKeyVaultSigner(info.kid, {
      credential: fixedTokenCredential(),
      clientOptions: { tlsOptions: { ca: info.caPem }, disableChallengeResourceVerification: true },
      concurrency: knobs.concurrency,
    })

    // An intermediate whose key is in the vault, certified by the file-backed root of the template CA.
    const dir = copyCa(template, 'vault')
    const ca = await loadCa(openDirectoryStore(dir))
    const rootSigner = fileSigner(
      readFileSync(join(dir, 'rootCA/private/ca.key.pem')),
      'file:rootCA/private/ca.key.pem',
    )
    const subject = parseSlashDn('/C=US/O=Example Corp/CN=Key Vault Intermediate CA')
    const intermediate = await createIntermediateCertificate({
      subject,
      spki: signer.spki,
      root: {
        certificate: ca.root.certificate,
        subject: ca.root.subject,
        keyId: ca.root.keyId,
        signer: rootSigner,
      },
      serial: randomSerial(systemRuntime.random),
      now: new Date(),
    })

    // When each signature came back, for the sustained rate.
    const signedAt: number[] = []
    const timedSigner = {
      ...signer,
      sign: async (data: Uint8Array) => {
        const signature = await signer.sign(data)
        signedAt.push(nowS())
        return signature
      },
    }

    const requests: IssuanceRequest[] = Array.from({ length: count }, (_, i) => ({
      name: `vault-${i}`,
      file: `requests/vault-${i}.csr.pem`,
      csr: csrs.pems[i % csrs.pems.length] as string,
    }))
    const t0 = nowS()
    const batch = await around(() =>
      issueBatch(requests, {
        config: ca.config,
        issuer: {
          certificate: intermediate,
          subject,
          keyId: subjectKeyIdentifier(signer.spki),
          signer: timedSigner,
        },
        index: [],
        nextSerial: undefined,
        now: new Date(),
        random: systemRuntime.random,
      }),
    )
    const seconds = nowS() - t0
    if (batch.issued.length !== count) throw new Error(`issued ${batch.issued.length} of ${count}`)

    // The certificates are real: the last one verifies up to the root.
    writeFileSync(
      join(dir, 'intermediateCA/certs/intermediate.cert.pem'),
      intermediate.toString('pem') + '\n',
    )
    writeFileSync(
      join(dir, 'vault-leaf.pem'),
      (batch.issued.at(-1)?.certificate.toString('pem') ?? '') + '\n',
    )
    assertVerifies(dir, join(dir, 'vault-leaf.pem'))

    child.stdin.write('counters\n')
    const counters = JSON.parse(await next()) as DoubleCounters
    const achieved = count / seconds
    const limit = knobs.limitPer10s / 10
    const sustained = sustainedRate(signedAt, knobs.limitPer10s)
    const firstSignature = (signedAt[0] ?? t0 + seconds) - t0
    log(
      `  vault: ${count} certificates in ${seconds.toFixed(2)} s = ${achieved.toFixed(0)}/s, ` +
        `${((achieved / limit) * 100).toFixed(0)} % of the limit (${limit}/s)` +
        (sustained === undefined
          ? ''
          : `; sustained after the first ${knobs.limitPer10s}: ${sustained.toFixed(0)}/s, ` +
            `${((sustained / limit) * 100).toFixed(0)} %`) +
        `\n  first signature after ${firstSignature.toFixed(2)} s; ${counters.signCalls} sign calls, ${counters.throttled} throttled (429), ` +
        `≤ ${counters.maxSignsInFlight} in flight`,
    )
    return {
      achieved_per_s: round(achieved),
      limit_per_s: limit,
      fraction_of_limit: round(achieved / limit),
      sustained_per_s: sustained === undefined ? undefined : round(sustained),
      sustained_fraction_of_limit: sustained === undefined ? undefined : round(sustained / limit),
      certificates: count,
      seconds: round(seconds),
      first_signature_s: round(firstSignature),
      latency_ms: knobs.latencyMs,
      limit_per_10s: knobs.limitPer10s,
      concurrency: knobs.concurrency,
      sign_calls: counters.signCalls,
      throttled: counters.throttled,
      max_signs_in_flight: counters.maxSignsInFlight,
    }
  } finally {
    child.stdin.end()
    await new Promise((resolve) =>
      child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
    )
  }
}

/**
 * Signatures after the first window's worth over the time they took, from when the `perWindow`-th came
 * back to when the last did; undefined when there are no more than `perWindow`.
 */
export function sustainedRate(signedAt: readonly number[], perWindow: number): number | undefined {
  const sorted = [...signedAt].sort((a, b) => a - b)
  const from = sorted[perWindow - 1]
  const to = sorted.at(-1)
  if (sorted.length <= perWindow || from === undefined || to === undefined || to <= from) return undefined
  return (sorted.length - perWindow) / (to - from)
}
