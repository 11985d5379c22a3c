/**
 * `ca.yml`: the CA's configuration, read once at the edge into a typed, validated object. Unknown keys
 * are refused (a misspelt option must not be silently ignored). Paths are relative to the folder that
 * holds ca.yml unless absolute (an adopted `openssl ca` directory keeps its absolute paths).
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { z } from 'zod'
import { CaError } from '../ca/errors.js'
import { KEY_USAGES } from '../openssl-config/extension-section.js'
import { SAN_TYPES, type SanType } from '../ca/subject-alt-name.js'
import { BUILTIN_PROFILES, EKU_OIDS } from '../ca/profiles.js'

const SCHEMES = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const

const keyRef = z
  .string()
  .regex(
    /^(file:.+|https:\/\/[^/]+\/keys\/[^/]+(\/[^/]*)?)$/,
    'a key reference is file:PATH or a Key Vault key URL',
  )

const policyField = z.strictObject({
  field: z.string().min(1),
  rule: z.enum(['match', 'supplied', 'optional']),
})

const crl = z.strictObject({
  /** Where the current CRL is written (PEM; a .der is written beside it). */
  file: z.string().min(1),
  /** nextUpdate = thisUpdate + days. */
  days: z.number().int().positive().max(3650).default(30),
})

const caSide = {
  /** The openssl ca database folder: index.txt, index.txt.attr, serial, crlnumber, newcerts/. */
  dir: z.string().min(1),
  /** Other names for the database files, as an adopted openssl ca config may have them. */
  database: z.string().min(1).optional(),
  serialFile: z.string().min(1).optional(),
  crlnumberFile: z.string().min(1).optional(),
  newCertsDir: z.string().min(1).optional(),
  certificate: z.string().min(1),
  key: keyRef,
  /** Signature scheme; by default RS256 for RSA keys, ES256/384/512 by curve. */
  signature: z.enum(SCHEMES).optional(),
  /** Key Vault keys: signatures in flight at once (the vault throttles per vault). Default 8. */
  concurrency: z.number().int().min(1).max(64).optional(),
  /** OpenSSL `policy` section: which subject attributes must match the issuer, be supplied, or may be. */
  policy: z.array(policyField).min(1),
  /** OpenSSL `preserve`: keep the request's DN order and attributes instead of the policy's. */
  preserveDn: z.boolean().default(false),
  /** OpenSSL `email_in_dn`. */
  emailInDn: z.boolean().default(true),
  /** OpenSSL `unique_subject`: refuse a second valid certificate with the same subject. */
  uniqueSubject: z.boolean().default(false),
  /** `random` (159 bits from the CSPRNG) or `sequential` from the serial file (adopted CAs). */
  serials: z.enum(['random', 'sequential']).default('random'),
  crl,
}

/**
 * An intermediate replaced by `rotate-intermediate`: its database moved to `dir`, kept so that its
 * certificates can still be revoked and its CRL published (`--intermediate <serial>`).
 */
const previousIntermediate = z.strictObject({
  /** Its serial in the root's database (hex), by which commands name it. */
  serial: z.string().regex(/^[0-9A-Fa-f]{1,40}$/, 'a serial in hex'),
  dir: caSide.dir,
  /** Its issued certificates stay where they were written. */
  newCertsDir: caSide.newCertsDir,
  certificate: caSide.certificate,
  key: keyRef,
  signature: caSide.signature,
  concurrency: caSide.concurrency,
  crl,
})

const keyPolicy = z.strictObject({
  rsaMinBits: z.number().int().min(2048).default(2048),
  rsaMaxBits: z.number().int().max(16384).default(8192),
  ecCurves: z.array(z.enum(['P-256', 'P-384', 'P-521'])).default(['P-256', 'P-384', 'P-521']),
  ed25519: z.boolean().default(true),
})

const sanLists = {
  dns: z.array(z.string()).optional(),
  ip: z.array(z.string()).optional(),
  email: z.array(z.string()).optional(),
  uri: z.array(z.string()).optional(),
  /** Kinds that take any name of correct syntax; a kind neither listed nor here takes none. */
  unrestricted: z.array(z.enum(SAN_TYPES)).optional(),
}

type SanLists = { [K in SanType]?: string[] | undefined } & { unrestricted?: SanType[] | undefined }

function listedKinds(p: SanLists): SanType[] {
  return SAN_TYPES.filter((kind) => p[kind] !== undefined)
}

function eachKindOnce(p: SanLists, ctx: z.RefinementCtx): void {
  for (const kind of p.unrestricted ?? []) {
    if (p[kind] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['unrestricted'],
        message: `${kind} has a list and is also unrestricted: keep one of the two`,
      })
    }
  }
}

/** A profile's narrowing of the CA's policy: the kinds it neither lists nor leaves unrestricted are refused. */
const profileSanPolicy = z.strictObject(sanLists).superRefine(eachKindOnce)

/**
 * The CA's policy. Files written before `unrestricted` existed keep their meaning or are refused: an
 * empty policy meant "every name of every kind" and still does (now said explicitly); a policy that
 * lists some kinds left the others open, which would now silently close them, so such a file must say
 * which it means.
 */
const sanPolicy = z
  .strictObject(sanLists)
  .superRefine((p, ctx) => {
    eachKindOnce(p, ctx)
    const listed = listedKinds(p)
    if (p.unrestricted === undefined && listed.length > 0) {
      const others = SAN_TYPES.filter((kind) => !listed.includes(kind))
      if (others.length === 0) return
      ctx.addIssue({
        code: 'custom',
        path: ['unrestricted'],
        message:
          `missing: the policy lists ${listed.join(', ')} but does not say what ${others.join(', ')} names may be. ` +
          `Add "unrestricted: [${others.join(', ')}]" to keep allowing any such name, or "unrestricted: []" to refuse them`,
      })
    }
  })
  .transform((p): SanLists => {
    if (p.unrestricted !== undefined || listedKinds(p).length > 0) return p
    return { ...p, unrestricted: [...SAN_TYPES] }
  })

/** No allow-list at all: every kind open, said explicitly. */
const OPEN_SANS: SanLists = { unrestricted: [...SAN_TYPES] }

export { KEY_USAGES, type KeyUsageName } from '../openssl-config/extension-section.js'

const profile = z.strictObject({
  /** EKU names (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning) or OIDs. */
  extendedKeyUsage: z.array(z.string().min(1)).min(1),
  /** Key usages; by default those that fit the key type (RSA adds keyEncipherment). */
  keyUsage: z.array(z.enum(KEY_USAGES)).optional(),
  days: z.number().int().positive().optional(),
  /** A certificate of this profile must carry a SAN. */
  requireSan: z.boolean().default(false),
  /** Copy the CN into the SAN list when it is a DNS name. */
  copyCommonName: z.boolean().default(false),
  /**
   * Narrows issuance.sans for this profile (e.g. clients: uri only): a name must pass both. Absent:
   * issuance.sans alone decides.
   */
  sans: profileSanPolicy.optional(),
})

/** What the GitHub Action does on its own: who may revoke, when the CRL is renewed, what it reports. */
const githubSection = z.strictObject({
  /** Logins who may revoke by labelling an issue besides those with the write, maintain or admin role. */
  revokers: z
    .array(z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, 'a GitHub login'))
    .default([]),
  /** The scheduled run renews the CRL when its nextUpdate is at most this many days away. */
  crlRenewalDays: z.number().int().min(0).max(3650).default(7),
  /** The scheduled run reports valid certificates that expire within this many days. */
  expiryWarningDays: z.number().int().min(1).max(3650).default(30),
})

/**
 * One Application Gateway to publish the chain bundle to (`mtls-ca publish`). Keys are spelt as in
 * Azure's documentation of the gateway; the values are checked again, more strictly, by
 * publish/gateway-target.ts.
 */
const appGatewayTarget = z.strictObject({
  /** `/subscriptions/…/resourceGroups/…/providers/Microsoft.Network/applicationGateways/…` */
  resource_id: z.string().min(1),
  /** The gateway's `trustedClientCertificates[]` entry that holds the bundle. */
  trusted_client_certificate: z.string().min(1),
  /** The gateway's SSL profile that must reference that entry. */
  ssl_profile: z.string().min(1),
  verify_client_revocation: z.enum(['None', 'OCSP']).optional(),
  verify_client_cert_issuer_dn: z.boolean().optional(),
})

export const caConfigSchema = z.strictObject({
  version: z.literal(1),
  /**
   * The root. Its key and database may be elsewhere (an offline root): only its certificate is
   * required, for chains and verification.
   */
  root: z.strictObject({
    ...caSide,
    dir: caSide.dir.optional(),
    key: keyRef.optional(),
    policy: caSide.policy.optional(),
    crl: crl.optional(),
  }),
  intermediate: z.strictObject({
    ...caSide,
    /** Intermediate + root: the bundle for servers and the gateway. */
    chain: z.string().min(1),
    /** Intermediates this one replaced, newest first. */
    previous: z.array(previousIntermediate).default([]),
  }),
  issuance: z
    .strictObject({
      profile: z.string().default('server'),
      days: z.number().int().positive().default(375),
      keys: keyPolicy.default(keyPolicy.parse({})),
      sans: sanPolicy.default(OPEN_SANS),
      crlUrls: z.array(z.url()).default([]),
      ocspUrls: z.array(z.url()).default([]),
      caIssuersUrls: z.array(z.url()).default([]),
    })
    .default(() => ({
      profile: 'server',
      days: 375,
      keys: keyPolicy.parse({}),
      sans: OPEN_SANS,
      crlUrls: [],
      ocspUrls: [],
      caIssuersUrls: [],
    })),
  profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), profile).default({}),
  github: githubSection.default(() => ({ revokers: [], crlRenewalDays: 7, expiryWarningDays: 30 })),
  publish: z.strictObject({ app_gateway: z.array(appGatewayTarget).default([]) }).optional(),
})

export type CaConfig = z.infer<typeof caConfigSchema>
export type CaConfigInput = z.input<typeof caConfigSchema>
export type ProfileConfig = z.infer<typeof profile>
export type SanPolicyConfig = z.infer<typeof sanPolicy>
export type GitHubConfig = z.infer<typeof githubSection>
export type KeyPolicyConfig = z.infer<typeof keyPolicy>
export type AppGatewayTargetConfig = z.infer<typeof appGatewayTarget>
export type PreviousIntermediateConfig = z.infer<typeof previousIntermediate>

/**
 * The largest ca.yml read: a configuration with many profiles and previous intermediates is a few
 * KiB; a pull request's 200 MiB one must not be parsed.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024

export function parseCaConfig(text: string, file = 'ca.yml'): CaConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new CaError(
      'config.too_large',
      `the file is over ${MAX_CONFIG_BYTES} bytes; ${file} is at most that`,
      { file },
    )
  }
  let raw: unknown
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true })
  } catch (cause) {
    throw new CaError('config.invalid', `not valid YAML: ${(cause as Error).message.split('\n')[0]}`, {
      file,
      cause,
    })
  }
  return validateCaConfig(raw, file)
}

/**
 * The path of a `__proto__` key anywhere in `value`, if there is one. zod's records drop such a key
 * without a word (a profile named so would vanish), so it is refused before the schema sees it.
 */
function protoKeyPath(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__') return [...path, key]
    const found = protoKeyPath(child, [...path, key])
    if (found) return found
  }
  return undefined
}

export function validateCaConfig(raw: unknown, file = 'ca.yml'): CaConfig {
  const proto = protoKeyPath(raw)
  if (proto) {
    throw new CaError('config.invalid', `${proto.join('.')}: "__proto__" cannot be a key`, { file })
  }
  const result = caConfigSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? issue.path.join('.') : '(top level)'
    throw new CaError('config.invalid', `${where}: ${issue?.message ?? 'invalid'}`, { file })
  }
  const config = result.data
  const profile = config.issuance.profile
  // Own properties only: "constructor" or "__proto__" must not find Object.prototype's.
  if (!Object.hasOwn(config.profiles, profile) && !Object.hasOwn(BUILTIN_PROFILES, profile)) {
    const known = [...new Set([...Object.keys(BUILTIN_PROFILES), ...Object.keys(config.profiles)])]
    throw new CaError(
      'config.invalid',
      `issuance.profile: unknown profile ${JSON.stringify(profile)} (expected one of: ${known.join(', ')})`,
      { file },
    )
  }
  for (const [name, p] of Object.entries(config.profiles)) {
    for (const [i, eku] of p.extendedKeyUsage.entries()) {
      if (!Object.hasOwn(EKU_OIDS, eku) && !/^\d+(\.\d+)+$/.test(eku)) {
        throw new CaError(
          'config.invalid',
          `profiles.${name}.extendedKeyUsage.${i}: unknown extended key usage ${JSON.stringify(eku)} (expected one of ${Object.keys(EKU_OIDS).join(', ')}, or an OID)`,
          { file },
        )
      }
    }
  }
  return config
}

const HEADER = `# mtls-ca configuration. Paths are relative to this file. Keys: file:PATH or a Key Vault key URL.
# Validated on every run: unknown keys are refused.
`

export function formatCaConfig(config: CaConfigInput): string {
  return HEADER + stringifyYaml(config, { lineWidth: 0 })
}
