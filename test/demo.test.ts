/** `mtls-ca demo` is the README's first command: it must run the tutorial's flow and succeed. */
import { runCli, tempDir } from './support/ca-fixture.js'

it('runs the whole flow: init, requests, sign, revoke + CRL, and verification', async () => {
  const r = await runCli(['demo', '--json'], tempDir())
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  const result = JSON.parse(r.stdout)
  expect(result.ok).toBe(true)
  expect(result.verified.map((v: { name: string; ok: boolean }) => [v.name, v.ok])).toEqual([
    ['api.example.com', true],
    ['payments-client', true],
    ['www.example.com', true],
  ])
  expect(result.verified[0].by).toContain('openssl verify')
})

it('verifies with its own chain verification where openssl is not installed', async () => {
  // an empty folder as PATH: no openssl
  const r = await runCli(['demo', '--json'], tempDir(), { PATH: tempDir() })
  expect(r.status).toBe(0)
  const result = JSON.parse(r.stdout)
  expect(result.ok).toBe(true)
  expect(result.verified.every((v: { by: string }) => v.by.startsWith('mtls-ca verify'))).toBe(true)
})
