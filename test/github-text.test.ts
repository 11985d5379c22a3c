/**
 * Untrusted text in the Action's output: the revoke issue form's parser accepts exactly a serial, a
 * certificate name or certs/<name>.cert.pem and one of OpenSSL's reasons; Markdown and log rendering
 * make hostile text inert.
 */
import { CaError } from '../src/ca/errors.js'
import { codeBlock, fitComment, logSafe, md, MAX_COMMENT } from '../src/github/markdown.js'
import { parseRevocationIssue } from '../src/github/revoke-run.js'

const form = (certificate: string, reason: string) =>
  `### Certificate (serial, name or certs/<name>.cert.pem)\n\n${certificate}\n\n### Reason\n\n${reason}\n`

describe('parseRevocationIssue', () => {
  it.each([
    [form('1A2B3C', 'keyCompromise'), { serial: '1A2B3C' }, 'keyCompromise'],
    [form('0x1a2b3c', 'superseded'), { serial: '1A2B3C' }, 'superseded'],
    [form('web.example.com', 'cessationOfOperation'), { name: 'web.example.com' }, 'cessationOfOperation'],
    [form('certs/api.cert.pem', 'affiliationChanged'), { name: 'api' }, 'affiliationChanged'],
    [form('api', 'certificateHold').replace(/\n/g, '\r\n'), { name: 'api' }, 'certificateHold'],
    ['### Serial\n\nABC\n\n### Reason for revocation\n\nunspecified\n', { serial: 'ABC' }, 'unspecified'],
  ])('accepts %j', (body, target, reason) => {
    expect(parseRevocationIssue(body)).toEqual({ target, reason })
  })

  it.each([
    ['', 'the "Certificate" field'],
    [form('_No response_', 'keyCompromise'), 'the "Certificate" field'],
    [form('api', ''), 'the "Reason" field'],
    [form('api', 'KeyCompromise'), 'the reason is not one of'],
    [form('api', 'removeFromCRL'), 'the reason is not one of'],
    [form('api', 'keyCompromise\n\n### Certificate\n\nother'), 'two certificate fields'],
    [form('../ca.key', 'keyCompromise'), 'neither a serial'],
    [form('certs/../../x.cert.pem', 'keyCompromise'), 'neither a serial'],
    [form('/etc/passwd', 'keyCompromise'), 'neither a serial'],
    [form('a b', 'keyCompromise'), 'neither a serial'],
    [form('$(id)', 'keyCompromise'), 'neither a serial'],
    [form('`id`', 'keyCompromise'), 'neither a serial'],
    [form('x\n::error::forged', 'keyCompromise'), 'neither a serial'],
    [form('-rf', 'keyCompromise'), 'neither a serial'],
    [form('a'.repeat(129), 'keyCompromise'), 'neither a serial'],
    ['x'.repeat(20_000), 'longer than'],
  ])('refuses case %# (%s)', (body, why) => {
    let error: unknown
    try {
      parseRevocationIssue(body)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(CaError)
    expect((error as CaError).code).toBe('github.issue_invalid')
    expect((error as CaError).message).toContain(why)
  })
})

describe('md', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', '&lt;img src\\=x onerror\\=alert\\(1\\)&gt;'],
    ['@admins please', '&#64;admins please'],
    ['[click](https://evil.example)', '\\[click\\]\\(https\\://evil\\.example\\)'],
    ['a | b', 'a \\| b'],
    ['**bold** _it_ `code`', '\\*\\*bold\\*\\* \\_it\\_ \\`code\\`'],
    ['line\n# heading\r\n- item', 'line \\# heading  \\- item'],
    ['&amp;', '&amp;amp;'],
    // \\ renders as one backslash: the text reads \u0000\u001b[31m
    ['\u0000\u001b[31m', '\\\\u0000\\\\u001b\\[31m'],
    ['&#64;', '&amp;\\#64;'],
  ])('%j renders as literal text', (input, output) => {
    expect(md(input)).toBe(output)
  })
})

describe('logSafe', () => {
  it.each([
    ['x\n::set-output name=a::b', 'x\\u000a::set-output name=a::b'],
    ['x\r::error::y', 'x\\u000d::error::y'],
    ['x\u2028::warning::y', 'x\\u2028::warning::y'],
  ])('%j stays on one line', (input, output) => {
    expect(logSafe(input)).toBe(output)
    expect(logSafe(input)).not.toMatch(/[\n\r\u2028]/)
  })
})

it('codeBlock fences longer than any run of back-ticks inside', () => {
  expect(codeBlock('a ``` b')).toBe('````\na ``` b\n````')
})

it('fitComment cuts a body GitHub would refuse, and says where the rest is', () => {
  expect(fitComment('short')).toBe('short')
  const long = fitComment('x'.repeat(MAX_COMMENT + 10))
  expect(long.length).toBeLessThanOrEqual(MAX_COMMENT)
  expect(long).toContain('the full report is in the job summary')
})
