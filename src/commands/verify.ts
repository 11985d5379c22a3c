/**
 * `mtls-ca verify`: a certificate against this CA — the chain to the root, validity now, and
 * revocation against the intermediate's current CRL. Not OK is a CaError `verify.failed` whose
 * message says why (expired, revoked with reason and date, unknown issuer, bad signature).
 */
import { CaError } from '../ca/errors.js'
import { verifyCertificate } from '../ca/chain-verification.js'
import type { StateStore } from '../store/state-store.js'
import { loadCa, readText } from './ca-state.js'

export interface VerifyResult {
  ok: true
  subject: string
  serial: string
  notAfter: Date
  revocationChecked: boolean
  message: string
}

export async function verifyAgainstCa(
  store: StateStore,
  certificate: { pem: string; file: string },
  now: Date,
): Promise<VerifyResult> {
  return store.locked(async () => {
    const ca = await loadCa(store)
    const crlFile = ca.config.intermediate.crl.file
    const crl = await readText(store, crlFile)
    let result
    try {
      result = verifyCertificate({
        certificate: certificate.pem,
        intermediate: ca.intermediate.certificate,
        root: ca.root.certificate,
        ...(crl === undefined ? {} : { crl }),
        now,
      })
    } catch (e) {
      throw e instanceof CaError ? e.withFile(certificate.file) : e
    }
    if (!result.ok) throw new CaError('verify.failed', result.message, { file: certificate.file })
    return result
  })
}
