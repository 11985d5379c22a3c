/**
 * The Action run as the runner runs it: `node dist/index.js` (here: the same entry bundled fresh from
 * src/) with INPUT_* variables, GITHUB_WORKSPACE and a GITHUB_OUTPUT file.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleForTest } from './support/bundle.js'
import {
  cleanupTempDirs,
  initCa,
  makeCsr,
  runCli,
  snapshot,
  tempDir,
  verifyLeaf,
} from './support/ca-fixture.js'
import { startTwoVaults, writeCsrs, type TwoVaults } from './support/key-vault-ca.js'

afterAll(cleanupTempDirs)

function runAction(
  entry: string,
  workspace: string,
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
) {
  const output = join(tempDir(), 'github-output')
  writeFileSync(output, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: output,
    ...extraEnv,
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
  // Asynchronous: a vault double in this process must keep answering while the Action runs.
  const child = spawn(process.execPath, [entry], { env })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  return new Promise<{ status: number | null; stdout: string; output: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, output: readFileSync(output, 'utf8') })),
  )
}

function outputValue(file: string, name: string): string | undefined {
  // GITHUB_OUTPUT uses heredoc blocks: name<<DELIMITER\nvalue\nDELIMITER
  const m = file.match(new RegExp(`^${name}<<(.+)\\n([\\s\\S]*?)\\n\\1$`, 'm'))
  return m?.[2]
}

it('signs the pending requests of the CA directory and sets the issued output', async () => {
  const entry = await bundleForTest('src/index.ts')
  const ca = await initCa()
  const work = tempDir()
  copyFileSync(makeCsr(work, 'svc', { subject: '/CN=svc.example.com' }), join(ca, 'requests/svc.csr.pem'))
  const r = await runAction(entry, ca, { command: 'sign', directory: '.' })
  expect(r.stdout).toContain('Issued svc')
  expect(r.status).toBe(0)
  const issued = JSON.parse(outputValue(r.output, 'issued') ?? '[]')
  expect(issued).toHaveLength(1)
  expect(issued[0].certificate).toBe('certs/svc.cert.pem')
  expect(verifyLeaf(ca, join(ca, 'certs/svc.cert.pem'), 'sslserver').stdout).toMatch(/: OK\n$/)
})

it('fails the step with the error code when a request is refused, writing nothing', async () => {
  const entry = await bundleForTest('src/index.ts')
  const ca = await initCa()
  writeFileSync(join(ca, 'requests/bad.csr.pem'), 'not a csr\n')
  const before = snapshot(ca)
  const r = await runAction(entry, ca, { command: 'sign' })
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error::requests\/bad\.csr\.pem: .*\[csr\.not_pem\]/)
  expect(snapshot(ca)).toEqual(before)
})

it.each([
  [{ command: 'destroy' }, "Invalid command 'destroy'. Expected one of: sign, list."],
  [{ command: 'list', directory: '../elsewhere' }, "Invalid directory '../elsewhere'"],
])('refuses invalid inputs %j', async (inputs, message) => {
  const entry = await bundleForTest('src/index.ts')
  const r = await runAction(entry, tempDir(), inputs)
  expect(r.status).toBe(1)
  expect(r.stdout).toContain(message)
})

describe('with the intermediate key in Key Vault', () => {
  let vaults: TwoVaults
  beforeAll(async () => {
    vaults = await startTwoVaults()
  })
  afterAll(async () => vaults.close())

  it('signs through the vault: one key fetch, one sign call per certificate, nothing from the root vault', async () => {
    const entry = await bundleForTest('src/index.ts')
    const ca = tempDir()
    const init = await runCli(
      [
        'init',
        '--dir',
        ca,
        '--root-key',
        `${vaults.root.url}/keys/action-root`,
        '--intermediate-key',
        `${vaults.issuing.url}/keys/action-issuing`,
        '--create',
        '--key-type',
        'ec-p256',
      ],
      ca,
      { ...process.env, ...vaults.env },
    )
    expect(init.stderr).toBe('')
    await writeCsrs(ca, 'svc', 3)
    const rootRequests = vaults.root.counters.requests
    const keyGets = vaults.issuing.counters.keyGets
    const signs = vaults.issuing.counters.signCalls
    const r = await runAction(entry, ca, { command: 'sign' }, vaults.env)
    expect(r.stdout).toContain('Issued svc-0')
    expect(r.status).toBe(0)
    expect(JSON.parse(outputValue(r.output, 'issued') ?? '[]')).toHaveLength(3)
    expect(vaults.issuing.counters.keyGets - keyGets).toBe(1)
    expect(vaults.issuing.counters.signCalls - signs).toBe(3)
    expect(vaults.root.counters.requests).toBe(rootRequests)
    for (let i = 0; i < 3; i++) {
      expect(verifyLeaf(ca, join(ca, `certs/svc-${i}.cert.pem`), 'sslserver').stdout).toMatch(/: OK\n$/)
    }
  })

  it('refuses half an Azure identity', async () => {
    const entry = await bundleForTest('src/index.ts')
    const r = await runAction(entry, tempDir(), { command: 'list', 'azure-client-id': 'x' })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('give both azure-client-id and azure-tenant-id')
  })
})
