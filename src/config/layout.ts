/**
 * Where things live in a CA repository made by `mtls-ca init`: the tutorial's layout (DESIGN.md "The
 * state on disk is OpenSSL's"). ca.yml records the CA paths, so an adopted directory may differ; the
 * request and certificate folders are fixed.
 */
export const CONFIG_FILE = 'ca.yml'
export const REQUESTS_DIR = 'requests'
export const CERTS_DIR = 'certs'

export const DEFAULT_LAYOUT = {
  root: {
    dir: 'rootCA',
    certificate: 'rootCA/certs/ca.cert.pem',
    key: 'rootCA/private/ca.key.pem',
    crl: 'rootCA/crl/ca.crl.pem',
  },
  intermediate: {
    dir: 'intermediateCA',
    certificate: 'intermediateCA/certs/intermediate.cert.pem',
    chain: 'intermediateCA/certs/ca-chain.cert.pem',
    key: 'intermediateCA/private/intermediate.key.pem',
    crl: 'intermediateCA/crl/intermediate.crl.pem',
  },
} as const

/** The tutorial's DNs. */
export const DEFAULT_ROOT_SUBJECT =
  '/C=US/ST=California/L=San Francisco/O=Example Corp/OU=IT Department/CN=Root CA'
export const DEFAULT_INTERMEDIATE_SUBJECT =
  '/C=US/ST=California/L=San Francisco/O=Example Corp/OU=IT Department/CN=Intermediate CA'

/** Where a CA's database lives: a folder, with openssl ca's file names unless ca.yml names others. */
export interface DatabaseLocation {
  dir: string
  database?: string | undefined
  serialFile?: string | undefined
  crlnumberFile?: string | undefined
  newCertsDir?: string | undefined
}

export interface DatabaseFiles {
  index: string
  attr: string
  serial: string
  crlnumber: string
  newcerts: string
}

/** Files of a CA database; `index.txt.attr` always sits beside the index, as openssl ca keeps it. */
export function databaseFiles(location: DatabaseLocation | string): DatabaseFiles {
  const l = typeof location === 'string' ? { dir: location } : location
  const index = l.database ?? `${l.dir}/index.txt`
  return {
    index,
    attr: `${index}.attr`,
    serial: l.serialFile ?? `${l.dir}/serial`,
    crlnumber: l.crlnumberFile ?? `${l.dir}/crlnumber`,
    newcerts: l.newCertsDir ?? `${l.dir}/newcerts`,
  }
}

export function newCertPath(files: DatabaseFiles, serialHex: string): string {
  return `${files.newcerts}/${serialHex}.pem`
}

export function requestPaths(name: string) {
  return { csr: `${REQUESTS_DIR}/${name}.csr.pem`, options: `${REQUESTS_DIR}/${name}.yml` }
}

export function certificatePaths(name: string) {
  return { cert: `${CERTS_DIR}/${name}.cert.pem`, fullchain: `${CERTS_DIR}/${name}.fullchain.pem` }
}

/** The file name of a request's CSR: `<name>.csr.pem` in requests/. */
export const CSR_SUFFIX = '.csr.pem'

/**
 * What a request's `<name>` may be. It becomes certs/<name>.cert.pem and .fullchain.pem in git, on
 * every checkout (Linux, macOS, Windows) and in shell commands people type: ASCII letters and digits
 * first, then also '.', '_' and '-', at most 100 characters (well under the 255 bytes of a file name
 * with the longest suffix), and not a name Windows reserves for a device.
 */
export const REQUEST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i

/** Why `name` cannot name a request (a sentence), or undefined when it can. */
export function requestNameProblem(name: string): string | undefined {
  if (!REQUEST_NAME.test(name)) {
    return (
      `the name ${JSON.stringify(name)} cannot name a certificate: expected 1 to 100 ASCII letters, ` +
      `digits, '.', '_' or '-', starting with a letter or digit`
    )
  }
  if (WINDOWS_DEVICE.test(name)) {
    return `the name ${JSON.stringify(name)} cannot name a certificate: Windows reserves it for a device`
  }
  return undefined
}
