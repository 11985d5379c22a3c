/**
 * Parse limits for signed objects whose size we do not bound: a CRL can list a hundred thousand
 * entries. asn1js stops at 10,000 nodes and 16 MB by default (a CRL of about 1,250 entries); every node
 * takes at least two bytes, so half the input's length never refuses a real object and still bounds
 * the work by the size of the input.
 */
export function parseLimitsFor(length: number): {
  berOptions: { maxNodes: number; maxContentLength: number }
} {
  return {
    berOptions: {
      maxNodes: Math.max(10_000, Math.ceil(length / 2) + 16),
      maxContentLength: Math.max(16 * 1024 * 1024, length),
    },
  }
}
