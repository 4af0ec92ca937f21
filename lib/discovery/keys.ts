// Text keys of login and text PDUs: `key=value` pairs, each NUL-terminated (RFC 7143 §6).
import { protocolError } from './pdu';

export const MAX_KEY = 63;
export const MAX_VALUE = 8192;
export const MAX_PAIRS = 65536;

export type KeyList = Array<[string, string]>;

export function encodeKeys(pairs: KeyList): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}

/** Parses a complete (reassembled) key segment. Rejects malformed or oversized pairs. */
export function decodeKeys(data: Buffer): KeyList {
  const out: KeyList = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length; // tolerate a missing final NUL
    if (end > start) {
      const text = data.toString('utf8', start, end);
      const eq = text.indexOf('=');
      if (eq <= 0) throw protocolError(`text pair without "=": ${JSON.stringify(text.slice(0, 40))}`);
      const key = text.slice(0, eq);
      const value = text.slice(eq + 1);
      if (key.length > MAX_KEY || !/^[A-Za-z0-9.\-+@_]+$/.test(key)) throw protocolError(`invalid key ${JSON.stringify(key.slice(0, 70))}`);
      if (value.length > MAX_VALUE) throw protocolError(`value of ${key} is longer than ${MAX_VALUE}`);
      out.push([key, value]);
      if (out.length > MAX_PAIRS) throw protocolError('too many text pairs');
    }
    start = end + 1;
  }
  return out;
}

export function lastValue(pairs: KeyList, key: string): string | undefined {
  for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i]![0] === key) return pairs[i]![1];
  return undefined;
}
