/**
 * The Action: inputs are read once (index.ts → readInputs), then the same commands as the CLI run.
 * One catch at the edge: a CaError fails the step with its code and message, nothing is swallowed.
 */
import * as core from '@actions/core'
import { isCaError } from '../ca/errors.js'
import { signRequests } from '../commands/sign.js'
import { listCertificates } from '../commands/list.js'
import { systemRuntime, type Runtime } from '../commands/runtime.js'
import { openDirectoryStore } from '../store/directory-store.js'
import { keyVaultRuntime } from '../keys/key-vault-runtime.js'
import { configuredChecker } from '../threads/check-pool.js'
import { OUTPUT, readInputs, type ActionInputs } from './inputs.js'

export async function runWith(inputs: ActionInputs, runtime: Runtime = systemRuntime): Promise<void> {
  const store = openDirectoryStore(inputs.directory)
  if (inputs.command === 'sign') {
    const result = await signRequests(store, { csrFiles: [], cwd: inputs.directory }, runtime)
    const issued = result.issued.map((c) => ({
      name: c.name,
      serial: c.serialHex,
      subject: c.indexEntry.subject,
      notAfter: c.notAfter.toISOString(),
      certificate: `certs/${c.name}.cert.pem`,
      fullchain: `certs/${c.name}.fullchain.pem`,
      notes: c.notes,
    }))
    for (const c of issued) core.info(`Issued ${c.name}: serial ${c.serial}, until ${c.notAfter}`)
    if (issued.length === 0) core.info('Nothing to sign: every request has a certificate.')
    core.setOutput(OUTPUT.issued, JSON.stringify(issued))
  } else {
    const certificates = await listCertificates(store, runtime.now())
    for (const c of certificates) core.info(`${c.status}\t${c.serial}\t${c.notAfter}\t${c.subject}`)
    core.setOutput(OUTPUT.certificates, JSON.stringify(certificates))
  }
}

/** Key Vault keys through GitHub OIDC when an Azure identity is given, else the SDK's default chain. */
function actionRuntime(inputs: ActionInputs, checkWorker: URL | undefined): Runtime {
  const checker = configuredChecker(process.env, checkWorker)
  const { openKeyVault, keyVault } = keyVaultRuntime(process.env, {
    getIdToken: (audience) => core.getIDToken(audience),
    ...(inputs.azure ?? {}),
  })
  return { ...systemRuntime, openKeyVault, keyVault, ...(checker ? { checker } : {}) }
}

/** The Action's run; `checkWorker` is dist/check-worker.js, for MTLS_CA_CHECK_THREADS (threads/check-pool.ts). */
export async function run(checkWorker?: URL): Promise<void> {
  try {
    const inputs = readInputs((name) => core.getInput(name), process.env.GITHUB_WORKSPACE ?? process.cwd())
    await runWith(inputs, actionRuntime(inputs, checkWorker))
  } catch (e) {
    if (isCaError(e)) core.setFailed(`${e.toLine()}${e.details.map((d) => `\n  ${d.toLine()}`).join('')}`)
    else core.setFailed(e instanceof Error ? (e.stack ?? e.message) : String(e))
  }
}
