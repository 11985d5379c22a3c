/**
 * An adoption from start to end: refuse a directory that is already an mtls-ca one, read the
 * configurations, adopt each CA and the chain, run the CA self-check `sign` runs, assemble and
 * validate ca.yml, and write it (with a chain or root file the directory lacked) in one commit
 * under the store's lock. Everything is checked before the lock is taken: taking it creates the
 * store's own folder, and a refusal must leave the directory exactly as it was.
 */
import { statSync } from 'node:fs'
import { checkCaCertificates } from '../ca/ca-self-check.js'
import { CaError } from '../ca/errors.js'
import { SAN_TYPES } from '../ca/subject-alt-name.js'
import { formatCaConfig, validateCaConfig, type CaConfigInput } from '../config/ca-config.js'
import { CONFIG_FILE } from '../config/layout.js'
import type { FileWrite, StateStore } from '../store/state-store.js'
import { adoptSide } from './ca-side.js'
import { adoptChain, checkRootIndex } from './chain.js'
import { adoptExtensionSections } from './extension-sections.js'
import { Findings } from './findings.js'
import { parseConfig } from './read-config.js'
import { adoptionComment, nextSteps } from './report.js'
import { noUrls, type AdoptInput, type AdoptResult } from './types.js'
import { issuanceDays } from './validity.js'

export async function adoptCa(store: StateStore, input: AdoptInput): Promise<AdoptResult> {
  let isDirectory = false
  try {
    isDirectory = statSync(store.root).isDirectory()
  } catch {
    // reported below
  }
  if (!isDirectory) {
    throw new CaError('state.missing', `no directory at ${store.root} to adopt`, { file: store.root })
  }
  await refuseExisting(store)
  const f = new Findings()
  const base = { cwd: input.cwd, root: store.root }
  const intermediate = parseConfig(input.intermediate, input, base, f)
  const root = input.root ? parseConfig(input.root, input, base, f) : undefined
  const inter = await adoptSide(store, base, 'intermediate', intermediate, f)
  const rootSide = root ? await adoptSide(store, base, 'root', root, f) : undefined
  if (rootSide && rootSide.dir === inter.dir) {
    throw new CaError(
      'adopt.unsupported',
      `the root and the intermediate use the same folder ${inter.dir}: they need a database each`,
      { file: root?.source.file },
    )
  }
  const writes: FileWrite[] = []
  const chain = await adoptChain(
    {
      store,
      p: intermediate,
      intermediate: inter.certificate,
      dir: inter.dir,
      root: rootSide?.certificate,
      writes,
    },
    f,
  )
  // What sign would refuse is refused now, with sign's error, before anything is written.
  checkCaCertificates({
    root: { certificate: chain.root.x509, file: chain.rootPath },
    intermediate: { certificate: inter.certificate.x509, file: inter.certificate.path },
    now: input.now,
  })
  const rootYml = rootSide ? rootSide.yml : { certificate: chain.rootPath }
  if (root && rootSide) checkRootIndex(root, rootSide.index, inter.certificate, f)
  else {
    f.map('root.certificate', chain.rootPath, chain.rootFrom)
    f.notes.push(
      'no --root-config: the root is offline to mtls-ca (no root key, database or CRL in ca.yml); ' +
        'only its certificate is used, for chains and verification',
    )
  }

  const urls = noUrls()
  const defaultProfile = adoptExtensionSections(intermediate, 'intermediate', urls, f)
  if (root) adoptExtensionSections(root, 'root', urls, f)

  const issuance: Record<string, unknown> = {
    profile: defaultProfile,
    days: issuanceDays(intermediate, f),
    crlUrls: urls.crl,
    ocspUrls: urls.ocsp,
    caIssuersUrls: urls.caIssuers,
    // openssl ca checks no names: say so in ca.yml rather than leave it implied by an empty policy.
    sans: { unrestricted: [...SAN_TYPES] },
  }
  const profiles: Record<string, unknown> = {}
  for (const p of f.profiles) {
    profiles[p.name] = {
      extendedKeyUsage: p.extendedKeyUsage,
      ...(p.keyUsage ? { keyUsage: p.keyUsage } : {}),
      requireSan: p.requireSan,
      copyCommonName: p.requireSan,
    }
  }
  const config: CaConfigInput = {
    version: 1,
    root: rootYml as CaConfigInput['root'],
    intermediate: { ...inter.yml, chain: chain.path } as CaConfigInput['intermediate'],
    issuance: issuance as CaConfigInput['issuance'],
    profiles: profiles as CaConfigInput['profiles'],
  }
  try {
    validateCaConfig(config, CONFIG_FILE)
  } catch (e) {
    if (!(e instanceof CaError)) throw e
    throw new CaError(
      'adopt.unsupported',
      `the adopted configuration is not valid for mtls-ca: ${e.message}`,
      {
        file: input.intermediate.file,
        cause: e,
      },
    )
  }
  f.notes.push(
    'issuance.sans.unrestricted is [dns, ip, email, uri]: every name a CSR asks for is allowed, as with openssl ca; list your names in issuance.sans and set unrestricted: [] to restrict it',
  )
  const files = [input.intermediate.file, input.root?.file].filter((x): x is string => Boolean(x))
  const yml = formatCaConfig(config) + adoptionComment(files, f.unmapped)
  const all: FileWrite[] = [{ path: CONFIG_FILE, data: yml }, ...writes]

  await store.locked(async () => {
    await refuseExisting(store)
    for (const w of writes) {
      if ((await store.read(w.path)) !== undefined) {
        throw new CaError('state.conflict', `${w.path} appeared while adopting; nothing was written`, {
          file: w.path,
        })
      }
    }
    await store.commit(all)
  })

  const keys = [inter.yml.key, rootSide?.yml.key].filter((k): k is string => typeof k === 'string')
  return {
    dir: store.root,
    written: all.map((w) => w.path),
    config,
    mapped: f.mapped,
    profiles: f.profiles,
    notes: f.notes,
    unmapped: f.unmapped,
    ignored: f.ignored,
    nextSteps: nextSteps({ keys, nextSerial: inter.nextSerial, unmapped: f.unmapped.length }),
  }
}

async function refuseExisting(store: StateStore): Promise<void> {
  if ((await store.read(CONFIG_FILE)) !== undefined) {
    throw new CaError(
      'state.exists',
      `${store.root} already has a ${CONFIG_FILE}: it is already an mtls-ca directory; refusing to overwrite it`,
      { file: CONFIG_FILE },
    )
  }
}
