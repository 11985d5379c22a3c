/**
 * The Action's inputs, as the runner passes them (INPUT_* variables to `node dist/index.js`): read once,
 * validated, and refused with a message saying what was expected.
 */
import { cleanupTempDirs, tempDir } from './support/ca-fixture.js'
import { examplePayload, runAction } from './support/action-run.js'

afterAll(cleanupTempDirs)

it.each([
  [
    { command: 'destroy' },
    "Invalid command 'destroy'. Expected one of: auto, validate, sign, revoke, crl, report, list.",
  ],
  [{ config: '../elsewhere/ca.yml' }, "Invalid config '../elsewhere/ca.yml'"],
  [{ config: '/etc/ca.yml' }, "Invalid config '/etc/ca.yml'"],
  [{ config: 'pki/settings.yml' }, "Invalid config 'pki/settings.yml'"],
  [{ 'dry-run': 'yes' }, "Invalid dry-run 'yes'. Expected true or false."],
  [{ 'azure-client-id': 'x' }, 'give both azure-client-id and azure-tenant-id'],
])('refuses invalid inputs %j', async (inputs, message) => {
  const r = await runAction({
    workspace: tempDir(),
    eventName: 'schedule',
    payload: examplePayload('workflow_dispatch'),
    sha: '0'.repeat(40),
    apiUrl: 'http://127.0.0.1:9',
    inputs,
  })
  expect(r.status).toBe(1)
  expect(r.stdout).toContain(message)
  expect(r.stdout).toContain('[usage.invalid]')
})

it('refuses an event it does not act on, naming it', async () => {
  const r = await runAction({
    workspace: tempDir(),
    eventName: 'release',
    payload: {},
    sha: '0'.repeat(40),
    apiUrl: 'http://127.0.0.1:9',
  })
  expect(r.status).toBe(1)
  expect(r.stdout).toMatch(/::error::the release event is not one mtls-ca acts on.*\[github\.event_invalid\]/)
})

it('command list prints the certificates without git or the API', async () => {
  const { initCa } = await import('./support/ca-fixture.js')
  const { join, dirname, basename } = await import('node:path')
  const ca = await initCa()
  const r = await runAction({
    workspace: dirname(ca),
    eventName: '',
    payload: {},
    sha: '',
    apiUrl: 'http://127.0.0.1:9',
    inputs: { command: 'list', config: join(basename(ca), 'ca.yml') },
  })
  expect(r.stdout).not.toContain('::error')
  expect(r.status).toBe(0)
  expect(JSON.parse(r.outputs.certificates ?? 'null')).toEqual([])
})
