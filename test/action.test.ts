/**
 * The Action run as the runner runs it: `node dist/index.js` (here: the same entry bundled fresh from
 * src/) with INPUT_* variables, GITHUB_WORKSPACE and a GITHUB_OUTPUT file.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleForTest } from './support/bundle.js'
import { cleanupTempDirs, initCa, makeCsr, snapshot, tempDir, verifyLeaf } from './support/ca-fixture.js'

afterAll(cleanupTempDirs)

function runAction(entry: string, workspace: string, inputs: Record<string, string>) {
  const output = join(tempDir(), 'github-output')
  writeFileSync(output, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: output,
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  const r = spawnSync(process.execPath, [entry], { env, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, output: readFileSync(output, 'utf8') }
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
  const r = runAction(entry, ca, { command: 'sign', directory: '.' })
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
  const r = runAction(entry, ca, { command: 'sign' })
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error::requests\/bad\.csr\.pem: .*\[csr\.not_pem\]/)
  expect(snapshot(ca)).toEqual(before)
})

it.each([
  [{ command: 'destroy' }, "Invalid command 'destroy'. Expected one of: sign, list."],
  [{ command: 'list', directory: '../elsewhere' }, "Invalid directory '../elsewhere'"],
])('refuses invalid inputs %j', async (inputs, message) => {
  const entry = await bundleForTest('src/index.ts')
  const r = runAction(entry, tempDir(), inputs)
  expect(r.status).toBe(1)
  expect(r.stdout).toContain(message)
})
