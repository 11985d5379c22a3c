/**
 * A gateway to publish to (ca.yml `publish.app_gateway[]`, or the CLI's flags): the gateway's Azure
 * resource id, the name of its trusted client certificate entry, the SSL profile that must reference
 * it, and optionally the profile's client-auth settings. Every part ends up in a Resource Manager URL
 * or request body, so each is checked against Azure's naming rules here, at the edge.
 */
import { CaError } from '../ca/errors.js'

export type ClientRevocation = 'None' | 'OCSP'

export interface GatewayTarget {
  /** `/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/applicationGateways/<name>` */
  resourceId: string
  /** The `trustedClientCertificates[]` entry's name. */
  trustedClientCertificate: string
  /** The `sslProfiles[]` entry that must reference it. */
  sslProfile: string
  /** Sets `clientAuthConfiguration.verifyClientRevocation` when given. */
  verifyClientRevocation?: ClientRevocation | undefined
  /** Sets `clientAuthConfiguration.verifyClientCertIssuerDN` when given. */
  verifyClientCertIssuerDN?: boolean | undefined
}

export interface GatewayId {
  subscriptionId: string
  resourceGroup: string
  name: string
  /** The id as given. */
  id: string
}

const GUID = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}'
// Resource groups: 1-90 of letters, digits, _ ( ) - . and not ending in '.'.
const RESOURCE_GROUP = '[-\\w().]{0,89}[-\\w()]'
// Application Gateway and child names: 1-80, starting with a letter or digit, ending with one or '_'.
export const CHILD_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/
const GATEWAY_ID = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RESOURCE_GROUP})/providers/Microsoft\\.Network/applicationGateways/([A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?)$`,
  'i',
)

export const GATEWAY_ID_EXPECTED =
  '/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.Network/applicationGateways/<name>'

export function parseGatewayId(id: string): GatewayId {
  const m = GATEWAY_ID.exec(id)
  if (!m || !/^[\x21-\x7e]+$/.test(id)) {
    throw new CaError(
      'publish.target_invalid',
      `'${printable(id)}' is not an Application Gateway resource id; expected ${GATEWAY_ID_EXPECTED}`,
    )
  }
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]!, id }
}

/** Checks a target; `where` names its source in messages (`ca.yml publish.app_gateway[0]`, `--ssl-profile`). */
export function checkTarget(target: GatewayTarget, where: string): GatewayTarget {
  try {
    parseGatewayId(target.resourceId)
  } catch (e) {
    throw new CaError('publish.target_invalid', `${where}: ${(e as Error).message}`)
  }
  for (const [field, value] of [
    ['trusted_client_certificate', target.trustedClientCertificate],
    ['ssl_profile', target.sslProfile],
  ] as const) {
    if (!CHILD_NAME.test(value)) {
      throw new CaError(
        'publish.target_invalid',
        `${where}: ${field} '${printable(value)}' is not a gateway entry name; expected 1-80 letters, digits, ` +
          "'_', '.', '-', starting with a letter or digit",
      )
    }
  }
  return target
}

/** The id the SSL profile uses to reference the entry. */
export function trustedClientCertificateId(gatewayId: string, name: string): string {
  return `${gatewayId}/trustedClientCertificates/${name}`
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
}
