/**
 * The NCONF parser, feature by feature and refusal by refusal. Each expected value was checked
 * against OpenSSL 3.0's behaviour (the subtle ones are re-checked against the real binary in
 * openssl-config-openssl.test.ts).
 */
import { isCaError, type CaError } from '../src/ca/errors.js'
import { dnFieldType } from '../src/openssl-config/ca-config.js'
import {
  MAX_CONF_VALUE_LENGTH,
  lookupValue,
  parseOpensslConfig,
  type IncludeTarget,
  type OpenSslConfig,
  type ParseOptions,
} from '../src/openssl-config/parse.js'

function value(config: OpenSslConfig, section: string, name: string): string | undefined {
  return config.sections.get(section)?.values.get(name)?.value
}

function refusal(text: string | Uint8Array, options?: ParseOptions): CaError {
  try {
    parseOpensslConfig(text, options)
  } catch (e) {
    if (isCaError(e)) return e
    throw e
  }
  throw new Error('expected a refusal')
}

describe('values', () => {
  it.each([
    ['plain', 'v = hello', 'hello'],
    ['spaces around = and at both ends', '   v   =   spaced value   ', 'spaced value'],
    ['no spaces', 'v=x', 'x'],
    ['empty value', 'v =', ''],
    ['trailing comment', 'v = abc # comment', 'abc'],
    ['comment right after the value', 'v = abc#comment', 'abc'],
    ['escaped #', 'v = a\\#b', 'a#b'],
    ['# inside double quotes', 'v = "abc # not a comment"', 'abc # not a comment'],
    ['# inside single quotes', "v = 'a # b'", 'a # b'],
    ['double quotes keep spaces', 'v = "  padded  "', '  padded  '],
    ['quotes in the middle of a value', 'v = "x"y"z"', 'xyz'],
    ['backtick is a quote too', 'v = `a b`c', 'a bc'],
    ['escapes inside quotes are literal', 'v = "a\\nb" \'c\\td\'', 'anb ctd'],
    ['escaped quote inside quotes', 'v = "say \\"hi\\""', 'say "hi"'],
    ['\\n \\r \\b \\t outside quotes', 'v = a\\nb\\rc\\bd\\te', 'a\nb\rc\bd\te'],
    ['other escaped characters stand for themselves', 'v = \\a\\$\\\\\\"\\q', 'a$\\"q'],
    ['escaped space in the middle', 'v = a\\ b', 'a b'],
    ['escaped trailing space is trimmed before unescaping', 'v = b\\ ', 'b'],
    ['escaped leading space', 'v = \\ x', ' x'],
    ['a trailing backslash on the last line continues into nothing', 'v = abc\\', 'abc'],
    ['\\\\ at the end is a literal backslash', 'v = a\\\\', 'a\\'],
    ['\\\\\\ at the end: no continuation, then a dangling escape', 'v = a\\\\\\', 'a\\'],
    ['continuation joins lines without a newline', 'v = line1\\\n  line2', 'line1  line2'],
    ['continuation inside quotes', 'v = "multi \\\nline"', 'multi line'],
    ['continuation after a comment continues the comment', 'v = a # c \\\nstill comment', 'a'],
    ['CRLF line endings', 'v = crlf\r\nw = 2\r\n', 'crlf'],
    ['CR in the middle is whitespace inside the value', 'v = a\rb\r\r', 'a\rb'],
    ['UTF-8 value', 'v = Zürich — 東京', 'Zürich — 東京'],
    ['$ inside quotes is literal', "v = '$notavar'", '$notavar'],
  ])('%s', (_what, text, expected) => {
    expect(value(parseOpensslConfig(text), 'default', 'v')).toBe(expected)
  })
})

describe('names and sections', () => {
  it('keeps the default section first and sections in order of first appearance', () => {
    const c = parseOpensslConfig('a = 1\n[ one ]\nb = 2\n[two]\nc = 3\n[ one ]\nd = 4\n')
    expect([...c.sections.keys()]).toEqual(['default', 'one', 'two'])
    expect(c.sections.get('one')?.entries.map((e) => [e.name, e.value, e.line])).toEqual([
      ['b', '2', 3],
      ['d', '4', 7],
    ])
  })

  it.each([
    ['[ spaced ]', 'spaced'],
    ['[spaced]', 'spaced'],
    ['[  my   sec  ] # comment', 'my   sec'],
    ['  [ ca ]   trailing words are ignored', 'ca'],
    ['[ a\\]b ]', 'a]b'],
    ['[ v3-ext.1 ]', 'v3-ext.1'],
  ])('section header %j is [%s]', (header, name) => {
    const c = parseOpensslConfig(`${header}\nx = 1\n`)
    expect(value(c, name, 'x')).toBe('1')
  })

  it('keeps numbered names distinct: 0.organizationName and 1.organizationName', () => {
    const c = parseOpensslConfig('[ dn ]\n0.organizationName = A\n1.organizationName = B\n')
    expect(c.sections.get('dn')?.entries.map((e) => [e.name, e.value])).toEqual([
      ['0.organizationName', 'A'],
      ['1.organizationName', 'B'],
    ])
  })

  it.each([
    ['0.organizationName', 'organizationName', false],
    ['1.organizationName', 'organizationName', false],
    ['commonName', 'commonName', false],
    ['x:commonName', 'commonName', false],
    ['1.+OU', 'OU', true],
    ['trailing.', 'trailing.', false],
  ])('req reads the DN name %s as %s', (name, type, multiValued) => {
    expect(dnFieldType(name)).toEqual({ type, multiValued })
  })

  it('the last of duplicate names wins and moves to the end, as in OpenSSL', () => {
    const c = parseOpensslConfig('[ s ]\na = 1\nb = 2\na = 3\nc = 4\n')
    expect(c.sections.get('s')?.entries.map((e) => `${e.name}=${e.value}`)).toEqual(['b=2', 'a=3', 'c=4'])
    expect(value(c, 's', 'a')).toBe('3')
  })

  it('section::name = value assigns into another section (creating it)', () => {
    const c = parseOpensslConfig('[ here ]\nother::x = 1\ny = 2\n')
    expect(value(c, 'other', 'x')).toBe('1')
    expect(value(c, 'here', 'y')).toBe('2')
    expect([...c.sections.keys()]).toEqual(['default', 'here', 'other'])
  })

  it('keeps backslashes in names raw (OpenSSL does not unescape names)', () => {
    expect(value(parseOpensslConfig('a\\=b = 1'), 'default', 'a\\=b')).toBe('1')
  })

  it('strips a UTF-8 byte-order mark at the start of the main text', () => {
    expect(value(parseOpensslConfig('\uFEFFv = bom'), 'default', 'v')).toBe('bom')
    expect(
      value(parseOpensslConfig(new Uint8Array([0xef, 0xbb, 0xbf, 0x76, 0x3d, 0x31])), 'default', 'v'),
    ).toBe('1')
  })

  it('lookupValue falls back to [default] the way NCONF_get_string does', () => {
    const c = parseOpensslConfig('shared = d\n[ s ]\nown = o\n')
    expect(lookupValue(c, 's', 'own')).toBe('o')
    expect(lookupValue(c, 's', 'shared')).toBe('d')
    expect(lookupValue(c, 'nosuch', 'shared')).toBe('d')
    expect(lookupValue(c, 's', 'none')).toBeUndefined()
  })
})

describe('variable expansion', () => {
  const env = { HOME: '/home/ca', EMPTY: '' }
  it.each([
    ['$var', 'x = X\nv = <$x>', '<X>'],
    ['${var}', 'x = X\nv = ${x}y', 'Xy'],
    ['$(var)', 'x = X\nv = $(x)y', 'Xy'],
    ['name ends at the first non [A-Za-z0-9_]', 'x = X\nv = $x.y $x-y $x/z', 'X.y X-y X/z'],
    ['underscores and digits belong to the name', 'x_1 = A\nv = $x_1', 'A'],
    ['$section::var', '[ s ]\nx = S\n[ t ]\nv = $s::x', 'S'],
    ['${section::var}', '[ s ]\nx = S\n[ t ]\nv = ${s::x}!', 'S!'],
    ['$(section::var)', '[ s ]\nx = S\n[ t ]\nv = $(s::x)!', 'S!'],
    ['current section first', 'x = D\n[ t ]\nx = T\nv = $x', 'T'],
    ['then [default]', 'x = D\n[ t ]\nv = $x', 'D'],
    [
      '$section::var falls back to [default] when the section lacks it',
      'x = D\n[ s ]\ny = 1\n[ t ]\nv = $s::x',
      'D',
    ],
    ['a value is expanded once, when read', 'a = 1\nb = $a\na = 2\nv = $b$a', '12'],
    ['redefining with the old value is fine', 'p = a\np = $p:b\nv = $p', 'a:b'],
    ['$ENV::X from the environment passed in', 'v = $ENV::HOME/ca', '/home/ca/ca'],
    ['${ENV::X} empty but set', 'v = [${ENV::EMPTY}]', '[]'],
    ['an [ENV] section wins over the environment', '[ ENV ]\nHOME = /cfg\n[ t ]\nv = $ENV::HOME', '/cfg'],
    ['escaped dollar', 'v = cost \\$5', 'cost $5'],
    ['expansion is not re-scanned', "x = '$y'\nv = $x", '$y'],
  ])('%s', (_what, text, expected) => {
    const c = parseOpensslConfig(text, { env })
    const last = [...c.sections.values()].at(-1)
    expect(last?.values.get('v')?.value).toBe(expected)
  })

  it('with .pragma dollarid:on, $ is part of names and only ${…}/$(…) expand', () => {
    const c = parseOpensslConfig('.pragma dollarid:on\na$b = v\nx = 1\nv = ${a$b} $x $(x) cost$5')
    expect(value(c, 'default', 'v')).toBe('v $x 1 cost$5')
  })

  it.each(['dollarid:true', '= dollarid : on', 'dollarid:ON'])('.pragma %s turns dollarid on', (p) => {
    expect(value(parseOpensslConfig(`.pragma ${p}\nv = a$b`), 'default', 'v')).toBe('a$b')
  })

  it('ignores unknown pragmas, with a note', () => {
    const c = parseOpensslConfig('.pragma future:thing\nv = 1')
    expect(value(c, 'default', 'v')).toBe('1')
    expect(c.notes.join('\n')).toMatch(/line 1: unknown \.pragma "future" ignored/)
  })

  it('notes when $section::var came from [default] and when a value came from the environment', () => {
    const c = parseOpensslConfig('x = D\n[ s ]\ny = 1\n[ t ]\nv = $s::x\nw = $ENV::HOME', { env })
    expect(c.notes.join('\n')).toMatch(
      /line 5: \$s::x has no value in \[s\], so OpenSSL takes x from \[default\]/,
    )
    expect(c.notes.join('\n')).toMatch(/line 6: \$ENV::HOME is taken from the environment;/)
    expect(c.notes.join('\n')).not.toContain(env.HOME)
  })

  it('accepts a value that expands to exactly the limit and refuses one byte more', () => {
    const c16k = 'x'.repeat(16384)
    const at = (n: number) => `c = ${c16k}\nd = ${'y'.repeat(n)}\nv = OCT:$c$c$c$d`
    // "OCT:" + 3 * 16384 + n must stay below MAX_CONF_VALUE_LENGTH (OpenSSL counts the terminating NUL)
    expect(value(parseOpensslConfig(at(16379)), 'default', 'v')).toHaveLength(MAX_CONF_VALUE_LENGTH - 1)
    expect(refusal(at(16380)).message).toMatch(
      /^line 3: expanding \$d makes the value longer than 65536 bytes/,
    )
  })

  it('counts bytes, not characters, against the limit', () => {
    const twoByte = 'é'.repeat(16384) // 32768 bytes
    expect(refusal(`c = ${twoByte}\nv = $c$c`).message).toMatch(
      /line 2: expanding \$c makes the value longer/,
    )
  })

  it('a long literal value is not limited (only expansion is)', () => {
    expect(value(parseOpensslConfig(`v = ${'z'.repeat(70000)}`), 'default', 'v')).toHaveLength(70000)
  })
})

describe('values from the environment', () => {
  const secret = { SECRET: 'hunter2-value' }

  it.each([
    ['directly', 'v = $ENV::SECRET/x', ['SECRET']],
    ['in braces', 'v = ${ENV::SECRET}', ['SECRET']],
    ['in parentheses', 'v = $(ENV::SECRET)', ['SECRET']],
    ['through a variable', 'a = $ENV::SECRET\nv = x$a', ['SECRET']],
    [
      'through a chain of variables and sections',
      'a = $ENV::SECRET\n[ s ]\nb = $a\n[ t ]\nv = $s::b',
      ['SECRET'],
    ],
    ['two variables', 'v = $ENV::SECRET$ENV::HOME', ['SECRET', 'HOME']],
    [
      'an [ENV] section defined from the environment',
      '[ ENV ]\nX = $ENV::SECRET\n[ t ]\nv = $ENV::X',
      ['SECRET'],
    ],
    ['an [ENV] section of literals', '[ ENV ]\nSECRET = literal\n[ t ]\nv = $ENV::SECRET', []],
    ['a redefinition without the environment', 'v = $ENV::SECRET\nv = plain', []],
  ])('are traced %s', (_what, text, environment) => {
    const c = parseOpensslConfig(text, { env: { ...secret, HOME: '/h' } })
    const entry = [...c.sections.values()].at(-1)?.values.get('v')
    expect(entry?.environment).toEqual(environment)
  })

  it('sealed, throw adopt.env_in_value when read, naming line and variable but not the value', () => {
    const c = parseOpensslConfig('ok = 1\nbase = $ENV::SECRET\n[ s ]\ndir = $base/ca', {
      env: secret,
      sealEnvironment: true,
      file: 'ca.cnf',
    })
    expect(value(c, 'default', 'ok')).toBe('1')
    const entry = c.sections.get('s')?.values.get('dir')
    expect(entry).toMatchObject({ name: 'dir', line: 4, environment: ['SECRET'] })
    let caught: unknown
    try {
      void entry?.value
    } catch (e) {
      caught = e
    }
    expect(isCaError(caught) && caught.code).toBe('adopt.env_in_value')
    const e = caught as CaError
    expect(e.toLine()).toMatch(
      /^ca\.cnf: line 4: \[s\] dir takes \$ENV::SECRET from the environment; .*literal value/,
    )
    expect(e.message).not.toContain(secret.SECRET)
    expect(c.notes.join('\n')).not.toContain(secret.SECRET)
  })

  it.each([
    ['an .include path', '.include $ENV::SECRET', {}],
    [
      'a relative .include under OPENSSL_CONF_INCLUDE',
      '.include leaf.cnf',
      { OPENSSL_CONF_INCLUDE: '/etc/ca' },
    ],
  ])('sealed, refuse %s while parsing', (_what, text, env) => {
    const e = refusal(text, {
      env: { ...secret, ...env },
      sealEnvironment: true,
      readInclude: () => ({ kind: 'missing' }),
    })
    expect(e.code).toBe('adopt.env_in_value')
    expect(e.message).not.toContain(secret.SECRET)
  })

  it('are not echoed in other refusals either', () => {
    for (const text of ['a = $ENV::SECRET\nv = $a"open', 'x = $ENV::SECRET\nv = $nosuch::x']) {
      const e = refusal(text, { env: secret })
      expect(e.code).toBe('adopt.config_invalid')
      expect(e.message).not.toContain(secret.SECRET)
    }
  })
})

describe('refusals', () => {
  it.each([
    [
      'undefined variable',
      'a = 1\nv = $nothere',
      /^line 2: \$nothere has no value: nothing named "nothere" is defined in \[default\]/,
    ],
    ['a variable defined only later', 'v = $later\nlater = 1', /^line 1: \$later has no value/],
    [
      'undefined in a section',
      '[ s ]\nv = ${x}',
      /^line 2: \$\{x\} has no value: .* in \[s\] or \[default\]/,
    ],
    ['self reference', 'a = $a', /^line 1: \$a refers to the variable being defined, which has no value yet/],
    [
      'self reference in a section',
      '[ s ]\na = x${a}',
      /^line 2: \$\{a\} refers to the variable being defined/,
    ],
    [
      'unknown section',
      'x = 1\nv = $nosuch::x',
      /^line 2: \$nosuch::x refers to section \[nosuch\], which is not defined above this line \(OpenSSL would silently use x = "1" from \[default\]\)/,
    ],
    [
      'unknown section in braces',
      'v = ${nosuch::x}',
      /^line 1: \$\{nosuch::x\} refers to section \[nosuch\]/,
    ],
    [
      'a section defined only later',
      'v = $later::x\n[ later ]\nx = 1',
      /^line 1: .*section \[later\], which is not defined above this line/,
    ],
    [
      'missing environment variable',
      'v = $ENV::NOT_SET_ANYWHERE',
      /^line 1: \$ENV::NOT_SET_ANYWHERE has no value: not in the environment/,
    ],
    ['unclosed brace', 'x = 1\nv = ${x', /^line 2: "\$\{x": no closing "\}"/],
    ['space inside braces', 'x = 1\nv = ${ x }', /^line 2: .*no closing "\}"/],
    ['lone dollar', 'v = costs 5$', /^line 1: "\$" not followed by a variable name/],
    [
      'unterminated double quote',
      'v = "abc',
      /^line 1: unterminated " quote .*OpenSSL would read the value as "abc"/,
    ],
    [
      'unterminated single quote swallowing a comment',
      "O = O'Reilly # c",
      /^line 1: unterminated ' quote .*as "OReilly # c"/,
    ],
    ['unterminated quote ending in a backslash', 'v = "abc\\\\\\', /^line 1: unterminated " quote/],
    ['missing =', 'name value', /^line 1: missing "=" \(at: "value"\)/],
    ['missing = after a section-qualified name', 's::name value', /^line 1: missing "="/],
    ['quote in a name', '"name" = value', /^line 1: missing "="/],
    ['missing ]', '[ ca\nx = 1', /^line 1: section header without a closing "\]": \[ ca/],
    ['= in a section header', '[ a = b ]', /^line 1: section header without a closing/],
    ['invalid pragma', '.pragma nocolon', /^line 1: invalid \.pragma "nocolon"/],
    ['invalid pragma value', '.pragma dollarid:maybe', /^line 1: invalid \.pragma dollarid value "maybe"/],
    ['NUL byte', 'a = 1\nv = a\u0000b', /^line 2: binary data \(byte 0x00\).*drop the rest of the line/],
    ['control characters', 'v = a\u0001b', /^line 1: binary data \(byte 0x01\)/],
    ['form feed', 'v = a\fb', /^line 1: binary data \(byte 0x0c\)/],
    [
      'error on a continued line names both lines',
      'x = 1\nv = $x\\\n$nothere',
      /^lines 2-3: \$nothere has no value/,
    ],
  ])('%s', (_what, text, message) => {
    const e = refusal(text)
    expect(e.code).toBe('adopt.config_invalid')
    expect(e.message).toMatch(message)
  })

  it('stops exponential doubling at the length limit, at the line that crosses it', () => {
    const lines = ['a0 = xxxxxxxxxxxxxxxx']
    for (let i = 1; i <= 40; i++) lines.push(`a${i} = $a${i - 1}$a${i - 1}`)
    // 16 * 2^12 = 65536 bytes: a12 is one byte over the limit (the NUL counts).
    const e = refusal(lines.join('\n'))
    expect(e.code).toBe('adopt.config_too_large')
    expect(e.message).toMatch(/^line 13: expanding \$a11 makes the value longer than 65536 bytes/)
  })

  it('refuses many lines that each expand to the limit before they exhaust memory', () => {
    const lines = [`big = ${'b'.repeat(60000)}`]
    for (let i = 0; i < 400; i++) lines.push(`v${i} = $big`)
    const e = refusal(lines.join('\n'))
    expect(e.code).toBe('adopt.config_too_large')
    expect(e.message).toMatch(/exceed 16777216 characters in total/)
  })

  it.each([
    ['a file larger than 1 MiB', `v = ${'x'.repeat(1024 * 1024)}`, /^line 1: larger than 1048576 bytes/],
    ['more than 100000 lines', '\n'.repeat(100_001), /more than 100000 lines together/],
    [
      'more than 100000 lines, the last without a newline',
      `${'\n'.repeat(100_000)}x = 1`,
      /more than 100000 lines/,
    ],
  ])('refuses %s with adopt.config_too_large', (_what, text, message) => {
    const e = refusal(text)
    expect(e.code).toBe('adopt.config_too_large')
    expect(e.message).toMatch(message)
  })

  it('accepts exactly 100000 lines', () => {
    expect(value(parseOpensslConfig(`${'\n'.repeat(99_999)}v = 1\n`), 'default', 'v')).toBe('1')
  })

  it('refuses bytes that are not UTF-8, naming the line', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('a = 1\nb = 2\nc = '), 0xff, 0xfe, 0x0a])
    expect(refusal(bytes).message).toBe('line 3: not UTF-8 text')
  })

  it('attributes errors to the file named by the caller', () => {
    const e = refusal('v = $nothere', { file: 'openssl.cnf' })
    expect(e.file).toBe('openssl.cnf')
    expect(e.toLine()).toMatch(/^openssl\.cnf: line 1: \$nothere has no value/)
  })
})

describe('.include', () => {
  const files: Record<string, IncludeTarget> = {
    '/etc/ca/common.cnf': { kind: 'file', text: 'base = /srv/ca\n[ common ]\nx = from-common\n' },
    '/etc/ca/conf.d': { kind: 'directory', entries: ['20-b.cnf', '10-a.conf', 'README', '.cnf', 'x.CNF'] },
    '/etc/ca/conf.d/10-a.conf': { kind: 'file', text: 'a = A\n' },
    '/etc/ca/conf.d/20-b.cnf': { kind: 'file', text: 'b = $a-B\n' },
    '/etc/ca/conf.d/x.CNF': { kind: 'file', text: 'x = X\n' },
    '/etc/ca/loop.cnf': { kind: 'file', text: '.include /etc/ca/loop.cnf\n' },
    '/etc/ca/broken.cnf': { kind: 'file', text: 'ok = 1\nbad = $nothere\n' },
    '/etc/ca/bom.cnf': { kind: 'file', text: '\uFEFFx = 1\n' },
    '/etc/ca/bytes.cnf': { kind: 'file', text: new TextEncoder().encode('bytes = yes\n') },
  }
  const readInclude = (path: string): IncludeTarget => files[path] ?? { kind: 'missing' }

  it('is refused with adopt.unsupported when the caller passes no reader', () => {
    const e = refusal('.include /etc/ca/common.cnf')
    expect(e.code).toBe('adopt.unsupported')
    expect(e.message).toMatch(/^line 1: \.include "\/etc\/ca\/common\.cnf": .*pass a reader/)
  })

  it('reads the included file in place; the section it ends in carries on', () => {
    const c = parseOpensslConfig('.include /etc/ca/common.cnf\ny = $x $base\n', { readInclude })
    expect(value(c, 'common', 'y')).toBe('from-common /srv/ca')
    expect(c.included).toEqual(['/etc/ca/common.cnf'])
    expect(c.sections.get('common')?.values.get('x')).toMatchObject({
      includedFrom: '/etc/ca/common.cnf',
      line: 3,
    })
  })

  it.each([
    ['.include = /etc/ca/common.cnf'],
    ['.include /etc/ca/common.cnf   # comment'],
    ['dir = /etc/ca\n.include $dir/common.cnf'],
    ['.include "/etc/ca/common.cnf"'],
  ])('accepts the form %j', (text) => {
    expect(value(parseOpensslConfig(text, { readInclude }), 'common', 'x')).toBe('from-common')
  })

  it('reads *.cnf and *.conf of a directory, in name order, with a note', () => {
    const c = parseOpensslConfig('.include /etc/ca/conf.d\n', { readInclude })
    expect(c.included).toEqual([
      '/etc/ca/conf.d/10-a.conf',
      '/etc/ca/conf.d/20-b.cnf',
      '/etc/ca/conf.d/x.CNF',
    ])
    expect(value(c, 'default', 'b')).toBe('A-B')
    expect(c.notes.join('\n')).toMatch(
      /read in name order .* OpenSSL uses the order the directory lists them in/,
    )
  })

  it('ignores a missing include, as OpenSSL does, with a note', () => {
    const c = parseOpensslConfig('.include /etc/ca/none.cnf\nv = 1\n', { readInclude })
    expect(value(c, 'default', 'v')).toBe('1')
    expect(c.notes.join('\n')).toMatch(
      /line 1: included "\/etc\/ca\/none\.cnf" does not exist; OpenSSL ignores/,
    )
  })

  it('prefixes relative paths with OPENSSL_CONF_INCLUDE, or else .pragma includedir', () => {
    const env = { OPENSSL_CONF_INCLUDE: '/etc/ca' }
    expect(value(parseOpensslConfig('.include common.cnf', { readInclude, env }), 'common', 'x')).toBe(
      'from-common',
    )
    const pragma = '.pragma includedir:/etc/ca/\n.include common.cnf'
    expect(value(parseOpensslConfig(pragma, { readInclude }), 'common', 'x')).toBe('from-common')
  })

  it('decodes included bytes', () => {
    expect(value(parseOpensslConfig('.include /etc/ca/bytes.cnf', { readInclude }), 'default', 'bytes')).toBe(
      'yes',
    )
  })

  it.each([
    [
      'a relative path under .pragma abspath',
      '.pragma abspath:true\n.include common.cnf',
      /^line 2: \.include "common\.cnf" is relative/,
    ],
    [
      'an include of itself',
      '.include /etc/ca/loop.cnf',
      /line 1 of included "\/etc\/ca\/loop\.cnf": \.include .* includes itself/,
    ],
    [
      'an error inside the included file, naming it',
      '.include /etc/ca/broken.cnf',
      /^line 2 of included "\/etc\/ca\/broken\.cnf": \$nothere has no value/,
    ],
    [
      'a byte-order mark in an included file',
      '.include /etc/ca/bom.cnf',
      /^line 1 of included "\/etc\/ca\/bom\.cnf": starts with a byte-order mark/,
    ],
    ['.include glued to its path', '.include/etc/ca/common.cnf', /^line 1: \.include without a path/],
  ])('refuses %s', (_what, text, message) => {
    const e = refusal(text, { readInclude })
    expect(e.code).toBe('adopt.config_invalid')
    expect(e.message).toMatch(message)
  })
})

describe('.include bounds and refusals passed on from the reader', () => {
  const big = `# ${'x'.repeat(1000)}\n`.repeat(1000) // just under 1 MiB
  const files: Record<string, IncludeTarget> = {
    '/ca/fifo.cnf': { kind: 'refused', code: 'adopt.include_not_regular', reason: '/ca/fifo.cnf is a FIFO' },
    '/ca/d': { kind: 'directory', entries: ['a.cnf', 'b.cnf', 'sub.cnf'] },
    '/ca/d/a.cnf': { kind: 'file', text: 'a = 1\n' },
    '/ca/d/b.cnf': { kind: 'refused', code: 'adopt.include_outside', reason: 'outside' },
    '/ca/d/sub.cnf': { kind: 'directory', entries: [] },
    '/ca/e': { kind: 'directory', entries: ['sub.cnf'] },
    '/ca/e/sub.cnf': { kind: 'directory', entries: [] },
    '/ca/big.cnf': { kind: 'file', text: big },
  }
  const readInclude = (path: string): IncludeTarget => files[path] ?? { kind: 'missing' }

  it.each([
    [
      'a refused file',
      '.include /ca/fifo.cnf',
      'adopt.include_not_regular',
      /^line 1: \.include "\/ca\/fifo\.cnf": \/ca\/fifo\.cnf is a FIFO$/,
    ],
    [
      'a refused file in a directory',
      '.include /ca/d',
      'adopt.include_outside',
      /^line 1: \.include "\/ca\/d\/b\.cnf": outside$/,
    ],
    [
      'a directory inside an included directory',
      '.include /ca/e',
      'adopt.include_not_regular',
      /"\/ca\/e\/sub\.cnf" in an included directory is a directory/,
    ],
    [
      'files together over the total',
      '.include /ca/big.cnf\n'.repeat(5),
      'adopt.config_too_large',
      /exceed 4194304 bytes together/,
    ],
  ])('%s', (_what, text, code, message) => {
    const e = refusal(text, { readInclude })
    expect(e.code).toBe(code)
    expect(e.message).toMatch(message)
  })
})
