/**
 * `mtls-ca publish`: the CLI edge of commands/publish.ts — one target from the flags or ca.yml's
 * `publish.app_gateway`, Azure access from the environment (DefaultAzureCredential; the emulator
 * credential, MTLS_CA_AZURE_CA_FILE and MTLS_CA_ARM_ENDPOINT for doubles and sovereign clouds).
 */
import { CaError } from '../ca/errors.js'
import { formatPublishReport, publishToGateways } from '../commands/publish.js'
import { systemRuntime } from '../commands/runtime.js'
import { appGatewayRuntime } from '../publish/app-gateway-runtime.js'
import { checkTarget, type ClientRevocation, type GatewayTarget } from '../publish/gateway-target.js'
import { openDirectoryStore } from '../store/directory-store.js'
import {
  DIR,
  DIR_HELP,
  JSON_HELP,
  noPositionals,
  stringOption,
  type Command,
  type CommandContext,
} from './options.js'

function targetFromFlags(ctx: CommandContext): GatewayTarget | undefined {
  const resourceId = stringOption(ctx, 'app-gateway')
  const trustedClientCertificate = stringOption(ctx, 'trusted-client-certificate')
  const sslProfile = stringOption(ctx, 'ssl-profile')
  const revocation = stringOption(ctx, 'verify-client-revocation')
  const issuerDn = stringOption(ctx, 'verify-client-cert-issuer-dn')
  const given = [resourceId, trustedClientCertificate, sslProfile, revocation, issuerDn].some(
    (v) => v !== undefined,
  )
  if (!given) return undefined
  if (resourceId === undefined || trustedClientCertificate === undefined || sslProfile === undefined) {
    throw new CaError(
      'usage.invalid',
      '--app-gateway, --trusted-client-certificate and --ssl-profile go together (one target); ' +
        'or leave them out to use ca.yml publish.app_gateway',
    )
  }
  if (revocation !== undefined && revocation !== 'None' && revocation !== 'OCSP') {
    throw new CaError('usage.invalid', `--verify-client-revocation takes None or OCSP, not "${revocation}"`)
  }
  if (issuerDn !== undefined && issuerDn !== 'true' && issuerDn !== 'false') {
    throw new CaError(
      'usage.invalid',
      `--verify-client-cert-issuer-dn takes true or false, not "${issuerDn}"`,
    )
  }
  return checkTarget(
    {
      resourceId,
      trustedClientCertificate,
      sslProfile,
      verifyClientRevocation: revocation as ClientRevocation | undefined,
      verifyClientCertIssuerDN: issuerDn === undefined ? undefined : issuerDn === 'true',
    },
    'the flags',
  )
}

export const publish: Command = {
  name: 'publish',
  summary: 'publish the chain bundle to Azure Application Gateway (mutual TLS), or check it for drift',
  usage:
    'mtls-ca publish [--dir D] [--dry-run | --check] [--app-gateway RESOURCE_ID --trusted-client-certificate NAME --ssl-profile NAME]',
  help: [
    'Builds the bundle (root, current intermediate, and previous intermediates that still have valid',
    'certificates), checks it as the gateway will (one root, CA certificates only, no key, <= 25 KB, the',
    'chain verifies, nothing expired), then for each gateway: GET it, and when its trusted client',
    'certificate or SSL profile differs, replace that one entry, reference it from the SSL profile and PUT',
    'the gateway (everything else as read). Conflicts and throttling start again from a fresh GET.',
    'Targets: ca.yml publish.app_gateway, or one target from the flags.',
    '',
    'Options:',
    DIR_HELP,
    '  --dry-run        print the change (certificates added/removed) and write nothing',
    '  --check          compare each gateway with the repository; exit 1 on drift',
    '  --app-gateway RESOURCE_ID   /subscriptions/…/resourceGroups/…/providers/Microsoft.Network/applicationGateways/…',
    '  --trusted-client-certificate NAME   the trusted client certificate entry',
    '  --ssl-profile NAME          the SSL profile that references it',
    "  --verify-client-revocation None|OCSP   set the profile's client revocation check",
    "  --verify-client-cert-issuer-dn true|false   set the profile's issuer DN check",
    JSON_HELP,
  ],
  options: {
    ...DIR,
    'dry-run': { type: 'boolean' },
    check: { type: 'boolean' },
    'app-gateway': { type: 'string' },
    'trusted-client-certificate': { type: 'string' },
    'ssl-profile': { type: 'string' },
    'verify-client-revocation': { type: 'string' },
    'verify-client-cert-issuer-dn': { type: 'string' },
  },
  async run(ctx) {
    noPositionals(ctx)
    if (ctx.values['dry-run'] === true && ctx.values.check === true) {
      throw new CaError('usage.invalid', '--dry-run and --check exclude each other')
    }
    const target = targetFromFlags(ctx)
    const result = await publishToGateways(
      openDirectoryStore(ctx.dir),
      {
        mode: ctx.values.check === true ? 'check' : ctx.values['dry-run'] === true ? 'dry-run' : 'publish',
        ...(target ? { targets: [target] } : {}),
      },
      { now: systemRuntime.now, gateways: appGatewayRuntime(ctx.env) },
    )
    for (const line of formatPublishReport(result)) ctx.out(line)
    return { json: result, exitCode: result.drifted ? 1 : 0 }
  },
}
