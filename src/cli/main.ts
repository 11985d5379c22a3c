/** The mtls-ca command line. */
export interface CliIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  env: Record<string, string | undefined>
  cwd: string
}

export async function main(_argv: string[], io: CliIo): Promise<number> {
  io.stderr('mtls-ca: not implemented yet\n')
  return 2
}
