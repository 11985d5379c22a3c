/**
 * What `mtls-ca init --github` writes into a CA repository: the four workflows (validate, issue,
 * revoke, maintain), the revoke issue form, a CODEOWNERS hint and a README — following GitHub's
 * hardening guidance: `permissions: {}` at the top and the minimum per job; `pull_request`, never
 * `pull_request_target` or `workflow_run`, for untrusted CSRs; `id-token: write` only in jobs bound
 * to the protected environment; every action pinned by full commit SHA; one concurrency group, never
 * cancelled, for every job that writes state; no `${{ }}` of event data inside `run:` (there is no
 * `run:` at all: the Action does the work).
 */
import { CaError } from '../ca/errors.js'
import { REVOCATION_REASONS } from '../commands/revocation.js'

/** actions/checkout v4.2.2. */
export const CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2'

export interface ScaffoldOptions {
  /** The mtls-ca Action pinned by full commit SHA: OWNER/REPO@<40 hex>. */
  actionRef: string
  /** The protected environment whose federated credential reaches Key Vault. */
  environment?: string
  /** The default branch the CA's state lives on. */
  branch?: string
  revokeLabel?: string
}

export interface ScaffoldFile {
  path: string
  data: string
}

const ACTION_REF = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}(\/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}$/

export function checkActionRef(ref: string): string {
  if (!ACTION_REF.test(ref)) {
    throw new CaError(
      'usage.invalid',
      `--action-ref must name the mtls-ca Action pinned by full commit SHA, OWNER/REPO@<40 hex digits>, not "${ref}"`,
    )
  }
  return ref
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function githubScaffold(options: ScaffoldOptions): ScaffoldFile[] {
  const action = checkActionRef(options.actionRef)
  const environment = options.environment ?? 'ca'
  const branch = options.branch ?? 'main'
  const label = options.revokeLabel ?? 'revoke'
  for (const [what, v] of [
    ['environment', environment],
    ['branch', branch],
    ['revoke label', label],
  ] as const) {
    if (!NAME.test(v))
      throw new CaError('usage.invalid', `the ${what} "${v}" must be letters, digits, '.', '_' or '-'`)
  }
  const checkout = `      - uses: ${CHECKOUT}
        with:
          persist-credentials: false`
  // Identifiers, not credentials (the credential is GitHub's OIDC token); kept as secrets of the
  // environment so that only its jobs see them.
  const azure = `          azure-client-id: \${{ secrets.AZURE_CLIENT_ID }}
          azure-tenant-id: \${{ secrets.AZURE_TENANT_ID }}`
  // One group for every job that writes the CA's state: runs wait for each other instead of racing
  // (the push is still a compare-and-swap, since a pending run can be dropped by a newer one).
  const stateConcurrency = `    concurrency:
      group: mtls-ca-state
      cancel-in-progress: false`

  const validate = `# Checks every certificate request a pull request adds, by the base branch's ca.yml, without any
# key or secret: pull_request (never pull_request_target), read-only contents.
name: Validate certificate requests
on:
  pull_request:
    types: [opened, synchronize, reopened]
permissions: {}
jobs:
  validate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write
    steps:
${checkout}
      - uses: ${action}
        with:
          command: validate
`
  const issue = `# Signs the requests merged into ${branch} with the intermediate key in Key Vault and commits the
# certificates back. The push uses the token given to the Action (a GitHub App's token if branch
# protection must be bypassed), never the checkout's credentials.
name: Issue certificates
on:
  push:
    branches: [${branch}]
    paths: ['requests/**']
permissions: {}
jobs:
  issue:
    runs-on: ubuntu-latest
    environment: ${environment}
${stateConcurrency}
    permissions:
      contents: write
      pull-requests: write
      id-token: write
    steps:
${checkout}
      - uses: ${action}
        with:
          command: sign
${azure}
`
  const revoke = `# Revokes the certificate a revoke issue names when someone with the write, maintain or admin role
# (or in ca.yml github.revokers) applies the "${label}" label; the Action checks the labeller's role.
name: Revoke a certificate
on:
  issues:
    types: [labeled]
permissions: {}
jobs:
  revoke:
    if: github.event.label.name == '${label}'
    runs-on: ubuntu-latest
    environment: ${environment}
${stateConcurrency}
    permissions:
      contents: write
      issues: write
      id-token: write
    steps:
${checkout}
      - uses: ${action}
        with:
          command: revoke
          revoke-label: ${label}
${azure}
`
  const maintain = `# Renews the CRL before its nextUpdate comes close and reports certificates near expiry.
name: Maintain the CA
on:
  schedule:
    - cron: '17 3 * * *'
  workflow_dispatch:
    inputs:
      renew-crl:
        description: Renew the CRL now, even if it is not due
        type: boolean
        default: false
permissions: {}
jobs:
  maintain:
    runs-on: ubuntu-latest
    environment: ${environment}
${stateConcurrency}
    permissions:
      contents: write
      issues: write
      id-token: write
    steps:
${checkout}
      - uses: ${action}
        with:
          command: \${{ inputs.renew-crl && 'crl' || 'auto' }}
${azure}
`
  const form = `name: Revoke a certificate
description: Ask for a certificate to be revoked. An owner acts on it by applying the "${label}" label.
title: 'Revoke: '
body:
  - type: markdown
    attributes:
      value: >-
        Name the certificate by its serial (hex), its name, or its file certs/<name>.cert.pem. Nothing
        happens until someone with the write, maintain or admin role applies the "${label}" label.
  - type: input
    id: certificate
    attributes:
      label: Certificate (serial, name or certs/<name>.cert.pem)
    validations:
      required: true
  - type: dropdown
    id: reason
    attributes:
      label: Reason
      options:
${REVOCATION_REASONS.map((r) => `        - ${r}`).join('\n')}
    validations:
      required: true
  - type: textarea
    id: details
    attributes:
      label: Details
`
  const codeowners = `# Changes to the policy and to the workflows change what this CA signs: have an owner review them.
# Replace the team, uncomment, and turn on "Require review from Code Owners" for ${branch}.
# /ca.yml      @YOUR-ORG/pki-owners
# /.github/    @YOUR-ORG/pki-owners
`
  const readme = `# Certificate authority

This repository is a private CA run by [mtls-ca](https://github.com/${action.split('@')[0]}).

- **Request a certificate**: open a pull request adding \`requests/<name>.csr.pem\` (and optionally
  \`requests/<name>.yml\` with \`profile:\` and \`days:\`). The check reports what will be issued.
  Once merged, the certificate appears as \`certs/<name>.cert.pem\` and \`certs/<name>.fullchain.pem\`.
- **Revoke a certificate**: open a "Revoke a certificate" issue; an owner applies the \`${label}\` label.
- **The CRL** is \`intermediateCA/crl/intermediate.crl.pem\`, renewed on a schedule.
- **The chain** for servers and gateways is \`intermediateCA/certs/ca-chain.cert.pem\`.

Only the workflows write \`index.txt\`, \`serial\`, \`crlnumber\`, \`newcerts/\` and \`certs/\`: a pull request
that changes them fails.
`
  return [
    { path: '.github/workflows/ca-validate.yml', data: validate },
    { path: '.github/workflows/ca-issue.yml', data: issue },
    { path: '.github/workflows/ca-revoke.yml', data: revoke },
    { path: '.github/workflows/ca-maintain.yml', data: maintain },
    { path: '.github/ISSUE_TEMPLATE/revoke.yml', data: form },
    { path: '.github/CODEOWNERS', data: codeowners },
    { path: 'README.md', data: readme },
  ]
}
