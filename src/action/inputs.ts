/** The Action's inputs and outputs: names in one place, read once into a typed, validated object. */
import { CaError } from '../ca/errors.js'

export const INPUT = {
  command: 'command',
  directory: 'directory',
  azureClientId: 'azure-client-id',
  azureTenantId: 'azure-tenant-id',
} as const
export const OUTPUT = { issued: 'issued', certificates: 'certificates' } as const

export const ACTION_COMMANDS = ['sign', 'list'] as const
export type ActionCommand = (typeof ACTION_COMMANDS)[number]

export interface ActionInputs {
  command: ActionCommand
  /** Absolute path of the CA directory. */
  directory: string
  /** Entra application federated with this repository: Key Vault through GitHub OIDC, no secret. */
  azure: { clientId: string; tenantId: string } | undefined
}

export function readInputs(getInput: (name: string) => string, workspace: string): ActionInputs {
  const command = getInput(INPUT.command) || 'sign'
  if (!(ACTION_COMMANDS as readonly string[]).includes(command)) {
    throw new CaError(
      'usage.invalid',
      `Invalid command '${command}'. Expected one of: ${ACTION_COMMANDS.join(', ')}.`,
    )
  }
  const directory = getInput(INPUT.directory) || '.'
  if (directory.split(/[\\/]/).includes('..')) {
    throw new CaError(
      'usage.invalid',
      `Invalid directory '${directory}'. Expected a folder inside the workspace.`,
    )
  }
  const clientId = getInput(INPUT.azureClientId)
  const tenantId = getInput(INPUT.azureTenantId)
  if (Boolean(clientId) !== Boolean(tenantId)) {
    throw new CaError(
      'usage.invalid',
      `Invalid Azure identity: give both ${INPUT.azureClientId} and ${INPUT.azureTenantId}, or neither.`,
    )
  }
  return {
    command: command as ActionCommand,
    directory: `${workspace}/${directory}`.replace(/\/\.?$/, ''),
    azure: clientId && tenantId ? { clientId, tenantId } : undefined,
  }
}
