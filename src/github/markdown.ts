/**
 * Text from attacker-controlled places (CSR subjects, file names, issue bodies) rendered as GitHub
 * Markdown or printed to the runner's log. In Markdown it is inert: HTML, emphasis, links, tables,
 * mentions and code spans are escaped and line breaks removed. In the log it is one line, so it can
 * never start a `::workflow-command::` line.
 */

// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

function codePoint(c: string): string {
  return `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`
}

/** One line for the runner's log: control characters (line breaks included) shown as \uXXXX. */
export function logSafe(text: string): string {
  return text.replace(CONTROL, codePoint)
}

/** Untrusted text as literal Markdown inline text (also inside a table cell). */
export function md(text: string): string {
  // Punctuation first, then entities: the entities' own '&', '#' and ';' must stay as they are.
  return text
    .replace(CONTROL, (c) => (c === '\n' || c === '\r' || c === '\t' ? ' ' : codePoint(c)))
    .replace(/[\\`*_{}[\]()#+\-.!|~:=]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/@/g, '&#64;')
}

/** A Markdown table; every cell is given as already-rendered Markdown. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** A fenced code block of text the Action made itself (PEM, commands); fenced longer than any backtick run in it. */
export function codeBlock(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`
}

/** GitHub refuses comments and issue bodies longer than 65,536 characters. */
export const MAX_COMMENT = 65_536

/** A body cut to what GitHub accepts, saying so and where the rest is. */
export function fitComment(body: string): string {
  if (body.length <= MAX_COMMENT) return body
  const note = '\n\n_The report is longer than a comment can be: the full report is in the job summary._\n'
  return body.slice(0, MAX_COMMENT - note.length) + note
}
