/**
 * `mtls-ca adopt`: writes ca.yml for an existing `openssl ca` directory (typically the tutorial's) from
 * its OpenSSL configuration files, read as `openssl ca` reads them, and leaves every existing file
 * where it is. Every setting of the configuration ends up in ca.yml, in a note, or in the `unmapped`
 * / `ignored` lists with its file, section and line: nothing is dropped silently. A configuration or a
 * directory that `openssl ca` could not have worked with, or that mtls-ca cannot run as it is, is
 * refused before anything is written (`adopt.*`, `ca.*` from the self-check `sign` runs, or
 * `state.exists` when a ca.yml is already there). The mapping rules live in src/adopt/, one module
 * per concern; this module is the command's surface.
 */
export { adoptCa } from '../adopt/adoption.js'
export { includeReader, readConfigSource } from '../adopt/read-config.js'
export { formatAdoptReport } from '../adopt/report.js'
export type {
  AdoptedProfile,
  AdoptInput,
  AdoptItem,
  AdoptResult,
  ConfigSource,
  MappedValue,
} from '../adopt/types.js'
