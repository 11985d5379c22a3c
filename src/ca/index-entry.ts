/** One line of index.txt, as its six columns' raw strings (index-txt.ts reads and writes them). */

export type IndexStatus = 'V' | 'R' | 'E'

export interface IndexEntry {
  /** V valid, R revoked, E expired (only `openssl ca -updatedb` writes E). */
  status: IndexStatus
  /** The certificate's notAfter as its ASN.1 text: `YYMMDDHHMMSSZ`, or `YYYYMMDDHHMMSSZ` from 2050. */
  expiry: string
  /** Empty unless revoked; then `<time>[,<reason>[,<argument>]]` (see parseRevocation). */
  revocation: string
  /** BN_bn2hex of the serial: upper-case hex, whole octets (`01`, `1000`, `80`). */
  serial: string
  /** `unknown`: openssl ca never records a file name. */
  file: string
  /** X509_NAME_oneline of the subject (`/C=US/O=…/CN=…`); openssl ca puts the serial when it is empty. */
  subject: string
}
