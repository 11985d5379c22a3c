/**
 * Adopting an `openssl ca` configuration: the NCONF parser (./parse.ts), what `openssl ca` takes
 * from it (./ca-config.ts), extension sections as typed specs (./extension-section.ts), and the
 * guarded reading of configuration files from disk (./config-files.ts).
 */

export * from './parse.js'
export * from './ca-config.js'
export { confineIncludes, includeReader, readConfigFile } from './config-files.js'
export { parseList } from './extension-list.js'
export { DN_ATTRIBUTES, EXTENDED_KEY_USAGES, isDottedOid } from './object-names.js'
export type { ObjectName } from './object-names.js'
