// CHAP for iSCSI (RFC 1994 as used by RFC 7143 §12.1.3): response = H(id || secret || challenge).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { protocolError } from './pdu';

export const CHAP_ALGS = { MD5: 5, SHA1: 6, SHA256: 7 } as const;
export type ChapAlgName = keyof typeof CHAP_ALGS;
const HASH: Record<number, string> = { 5: 'md5', 6: 'sha1', 7: 'sha256' };
const DIGEST_LEN: Record<number, number> = { 5: 16, 6: 20, 7: 32 };

export function chapResponse(alg: number, id: number, secret: string, challenge: Buffer): Buffer {
  const h = HASH[alg];
  if (!h) throw new Error(`unsupported CHAP algorithm ${alg}`);
  return createHash(h).update(Buffer.from([id & 0xff])).update(Buffer.from(secret, 'utf8')).update(challenge).digest();
}

/** CHAP binary values: "0x" + hex or "0b" + base64 (RFC 7143 §6.1). */
export function decodeBinary(v: string, what: string): Buffer {
  if (/^0x([0-9a-f]{2})+$/i.test(v)) return Buffer.from(v.slice(2), 'hex');
  if (/^0b[A-Za-z0-9+/]+={0,2}$/.test(v)) return Buffer.from(v.slice(2), 'base64');
  throw protocolError(`${what} is not a 0x/0b binary value`);
}

export const encodeHex = (b: Buffer) => `0x${b.toString('hex')}`;

export function newChallenge(alg: number): { id: number; challenge: Buffer } {
  return { id: randomBytes(1)[0]!, challenge: randomBytes(Math.max(16, DIGEST_LEN[alg] ?? 16)) };
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
