/**
 * The Action's inputs and outputs: names in one place, read once — with the runner's GITHUB_*
 * variables and the event payload — into a typed, validated object. Nothing after this reads the
 * environment.
 */
import { readFileSync } from 'node:fs'
import { posix, resolve } from 'node:path'
import { CaError } from '../ca/errors.js'
import { readEvent, type ActionEvent } from '../github/event.js'
import { DEFAULT_IDENTITY, type GitIdentity } from '../store/git-command.js'

export const INPUT = {
  command: 'command',
  config: 'config',
  githubToken: 'github-token',
  azureClientId: 'azure-client-id',
  azureTenantId: 'azure-tenant-id',
  revokeLabel: 'revoke-label',
  dryRun: 'dry-run',
  gitUserName: 'git-user-name',
  gitUserEmail: 'git-user-email',
} as const
export const OUTPUT = {
  issued: 'issued',
  revoked: 'revoked',
  crlNumber: 'crl-number',
  certificates: 'certificates',
  commit: 'commit',
} as const

export const ACTION_COMMANDS = ['auto', 'validate', 'sign', 'revoke', 'crl', 'report', 'list'] as const
export type ActionCommand = (typeof ACTION_COMMANDS)[number]

export interface ActionInputs {
  command: ActionCommand
  /** GITHUB_WORKSPACE: the CA repository's working copy. */
  workspace: string
  /** ca.yml relative to the workspace, '/'-separated. */
  config: string
  /** The CA folder (ca.yml's folder) relative to the workspace, '' for the top. */
  caPrefix: string
  caDir: string
  token: string
  /** Entra application federated with this repository: Key Vault through GitHub OIDC, no secret. */
  azure: { clientId: string; tenantId: string } | undefined
  revokeLabel: string
  dryRun: boolean
  identity: GitIdentity
  github: {
    owner: string
    repo: string
    apiUrl: string
    serverUrl: string
    /** GITHUB_SHA: the commit the run is for. */
    sha: string
    /** GITHUB_REF. */
    ref: string
    event: ActionEvent
  }
}

function usage(message: string): CaError {
  return new CaError('usage.invalid', message)
}

export function readInputs(
  getInput: (name: string) => string,
  env: Readonly<Record<string, string | undefined>>,
): ActionInputs {
  const command = getInput(INPUT.command) || 'auto'
  if (!(ACTION_COMMANDS as readonly string[]).includes(command)) {
    throw usage(`Invalid command '${command}'. Expected one of: ${ACTION_COMMANDS.join(', ')}.`)
  }
  const workspace = resolve(env.GITHUB_WORKSPACE ?? process.cwd())
  const config = posix.normalize(getInput(INPUT.config) || 'ca.yml')
  if (config.startsWith('/') || config.split('/').includes('..') || !/(^|\/)ca\.yml$/.test(config)) {
    throw usage(
      `Invalid config '${config}'. Expected the path of a ca.yml inside the workspace, e.g. ca.yml or pki/ca.yml.`,
    )
  }
  const caPrefix = posix.dirname(config) === '.' ? '' : posix.dirname(config)
  const clientId = getInput(INPUT.azureClientId)
  const tenantId = getInput(INPUT.azureTenantId)
  if (Boolean(clientId) !== Boolean(tenantId)) {
    throw usage(
      `Invalid Azure identity: give both ${INPUT.azureClientId} and ${INPUT.azureTenantId}, or neither.`,
    )
  }
  const dryRun = getInput(INPUT.dryRun) || 'false'
  if (!/^(true|false)$/i.test(dryRun)) throw usage(`Invalid dry-run '${dryRun}'. Expected true or false.`)
  const revokeLabel = getInput(INPUT.revokeLabel) || 'revoke'
  const repository = env.GITHUB_REPOSITORY ?? ''
  const [owner, repo, ...rest] = repository.split('/')
  if (!owner || !repo || rest.length) {
    throw usage(`Invalid repository '${repository}'. Expected format {owner}/{repo} in GITHUB_REPOSITORY.`)
  }
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  let payload: unknown = {}
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'))
    } catch (cause) {
      throw new CaError('github.event_invalid', `cannot read the event payload ${env.GITHUB_EVENT_PATH}`, {
        cause,
      })
    }
  }
  return {
    command: command as ActionCommand,
    workspace,
    config,
    caPrefix,
    caDir: caPrefix ? resolve(workspace, caPrefix) : workspace,
    token: getInput(INPUT.githubToken),
    azure: clientId && tenantId ? { clientId, tenantId } : undefined,
    revokeLabel,
    dryRun: dryRun.toLowerCase() === 'true',
    identity: {
      name: getInput(INPUT.gitUserName) || DEFAULT_IDENTITY.name,
      email: getInput(INPUT.gitUserEmail) || DEFAULT_IDENTITY.email,
    },
    github: {
      owner,
      repo,
      apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
      serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
      sha: env.GITHUB_SHA ?? '',
      ref: env.GITHUB_REF ?? '',
      event: readEvent(eventName, payload),
    },
  }
}
