// The CHAP algorithms iSCSI negotiates with CHAP_A, in one table for iscsid's record (chap_algs), the
// persisted node files and our own SendTargets client. Numbers are IANA's "PPP Authentication Algorithms"
// (RFC 7143 §12.1.3; SHA3-256 = 8 as open-iscsi numbers it); `hash` is the name node:crypto knows.
export const CHAP_ALGORITHM_TABLE = {
  MD5: { id: 5, hash: 'md5', digestBytes: 16 },
  SHA1: { id: 6, hash: 'sha1', digestBytes: 20 },
  SHA256: { id: 7, hash: 'sha256', digestBytes: 32 },
  'SHA3-256': { id: 8, hash: 'sha3-256', digestBytes: 32 },
} as const;

export type ChapAlgorithm = keyof typeof CHAP_ALGORITHM_TABLE;

/** Name → CHAP_A number, e.g. CHAP_ALGORITHM_IDS.MD5 === 5. */
export const CHAP_ALGORITHM_IDS = Object.fromEntries(Object.entries(CHAP_ALGORITHM_TABLE).map(([n, a]) => [n, a.id])) as { readonly [K in ChapAlgorithm]: (typeof CHAP_ALGORITHM_TABLE)[K]['id'] };
export const CHAP_ALGORITHM_NAMES = Object.keys(CHAP_ALGORITHM_TABLE) as ChapAlgorithm[];

export function isChapAlgorithm(name: unknown): name is ChapAlgorithm {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(CHAP_ALGORITHM_TABLE, name);
}

export function chapAlgorithmId(name: ChapAlgorithm): number {
  return CHAP_ALGORITHM_TABLE[name].id;
}

/** The algorithm with CHAP_A number `id`, or undefined. */
export function chapAlgorithmById(id: number): { name: ChapAlgorithm; id: number; hash: string; digestBytes: number } | undefined {
  const name = CHAP_ALGORITHM_NAMES.find((n) => CHAP_ALGORITHM_TABLE[n].id === id);
  return name === undefined ? undefined : { name, ...CHAP_ALGORITHM_TABLE[name] };
}
