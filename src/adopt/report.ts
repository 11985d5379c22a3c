/**
 * What an adoption tells the user: the report (mapped values, profiles, notes, what was not mapped
 * or ignored, next steps) and the comment appended to ca.yml.
 */
import { serialToHex } from '../ca/serial-number.js'
import type { AdoptItem, AdoptResult } from './types.js'

/** Human output of an adoption, one line per element. */
export function formatAdoptReport(r: AdoptResult): string[] {
  const out = [`Adopted ${r.dir}: wrote ${r.written.join(', ')}`, '', 'Mapped:']
  const width = Math.min(32, Math.max(...r.mapped.map((m) => m.key.length)))
  for (const m of r.mapped) out.push(`  ${m.key.padEnd(width)}  ${m.value}  ← ${m.from}`)
  if (r.profiles.length) {
    out.push('', 'Profiles:')
    for (const p of r.profiles) {
      out.push(
        `  ${p.name}${p.default ? ' (default)' : ''}: ${p.extendedKeyUsage.join(',')}; keyUsage ` +
          `${p.keyUsage?.join(',') ?? 'by key type'}${p.requireSan ? '; SAN required' : ''}  ← ${p.from}`,
      )
    }
  }
  out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`))
  out.push('', r.unmapped.length ? `Not mapped (${r.unmapped.length}):` : 'Not mapped: nothing')
  for (const u of r.unmapped) out.push(`  ${formatItem(u)}`)
  if (r.ignored.length) {
    out.push('', `Ignored (${r.ignored.length}):`)
    for (const u of r.ignored) out.push(`  ${formatItem(u)}`)
  }
  out.push('', 'Next steps:', ...r.nextSteps.map((s, i) => `  ${i + 1}. ${s}`))
  return out
}

/** Appended to ca.yml: where it came from and what it does not say. */
export function adoptionComment(files: readonly string[], unmapped: readonly AdoptItem[]): string {
  const lines = [``, `# Adopted by "mtls-ca adopt" from ${files.join(' and ')}.`]
  if (unmapped.length) {
    lines.push('# Not carried over (certificates from mtls-ca will not reflect these):')
    for (const u of unmapped) lines.push(`#   ${clean(formatItem(u))}`)
  }
  return lines.join('\n') + '\n'
}

export interface NextStepsInput {
  /** The `key:` values of ca.yml (`file:<path>`). */
  keys: readonly string[]
  /** The intermediate's next serial, in sequential mode. */
  nextSerial: bigint | undefined
  unmapped: number
}

export function nextSteps(input: NextStepsInput): string[] {
  const steps = [
    'Review ca.yml, and set issuance.sans (e.g. dns: [".example.com"] and unrestricted: []) so that only your names can be certified.',
    `Keep the CA keys out of git (${input.keys.map((k) => k.slice('file:'.length)).join(', ')}): add their folders to ` +
      '.gitignore; later, move the intermediate key to Key Vault (intermediate.key: https://<vault>/keys/<name>/<version>).',
    input.nextSerial !== undefined
      ? `mtls-ca sign issues the next certificate with serial ${serialToHex(input.nextSerial)}; openssl ca keeps working on the same files.`
      : 'mtls-ca sign issues with random serials; openssl ca keeps working on the same files.',
    'mtls-ca list shows the certificates openssl ca issued and the ones mtls-ca will issue.',
  ]
  if (input.unmapped) {
    steps.push(
      `Look at each of the ${input.unmapped} item(s) not mapped: certificates from mtls-ca will not have them.`,
    )
  }
  return steps
}

function formatItem(u: AdoptItem): string {
  return `${u.file}:${u.line} [${u.section}] ${u.name} = ${u.value}: ${u.reason}`
}

function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, ' ')
}
