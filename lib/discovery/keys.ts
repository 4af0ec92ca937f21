// Text keys of Login and Text PDUs (RFC 7143 §6.1): `key=value` pairs, each terminated by a NUL, in UTF-8.
// Decoding is bounded (key length, value length, number of pairs, total bytes) and strict about the syntax;
// every failure is DISCOVERY_PROTOCOL_ERROR. Encoding checks our own pairs the same way.
import { IscsiValidationError } from '../errors';
import { protocolError } from './frame';

export type KeyList = Array<[string, string]>;

export interface KeyLimits {
  /** RFC 7143: a key name is at most 63 bytes. */
  maxKeyBytes: number;
  /**
   * RFC 7143 allows 255 bytes unless a key says otherwise; CHAP values reach 2 + 2 × 1024 hex digits, and
   * vendors send long values, so we allow 8192.
   */
  maxValueBytes: number;
  maxPairs: number;
  maxBytes: number;
}

export const DEFAULT_KEY_LIMITS: KeyLimits = {
  maxKeyBytes: 63,
  maxValueBytes: 8192,
  maxPairs: 100_000,
  maxBytes: 16 * 1024 * 1024,
};

/**
 * Key names: letters, digits, `.` `-` `+` `@` `_`, starting with a capital letter (RFC 7143 §6.1); `#` is
 * allowed for the IANA-registered `X#` extension keys.
 */
const KEY_NAME = /^[A-Z][A-Za-z0-9.\-+@_#]*$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Builds a data segment from pairs. Throws IscsiValidationError for a pair that cannot be sent as is. */
export function encodeKeys(pairs: KeyList, limits: KeyLimits = DEFAULT_KEY_LIMITS): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of pairs) {
    if (!KEY_NAME.test(key) || Buffer.byteLength(key) > limits.maxKeyBytes) {
      throw new IscsiValidationError('INVALID_TEXT_KEY', `${JSON.stringify(key.slice(0, 80))} is not a valid iSCSI key name`);
    }
    // The value is not quoted: it may be a user name; it is never a secret (those are hashed before they get here).
    if (value.includes('\0')) throw new IscsiValidationError('INVALID_TEXT_VALUE', `the value of ${key} contains a NUL byte`);
    if (Buffer.byteLength(value) > limits.maxValueBytes) throw new IscsiValidationError('INVALID_TEXT_VALUE', `the value of ${key} is longer than ${limits.maxValueBytes} bytes`);
    parts.push(Buffer.from(`${key}=${value}\0`, 'utf8'));
  }
  return Buffer.concat(parts);
}

/**
 * Parses a complete (reassembled) data segment. Empty entries (NUL padding) are skipped; a last pair without
 * its NUL is accepted, since the segment's end bounds it. Keys may repeat (SendTargets repeats TargetName and
 * TargetAddress); see `uniqueValue` for negotiation keys.
 */
export function decodeKeys(data: Buffer, limits: KeyLimits = DEFAULT_KEY_LIMITS): KeyList {
  if (data.length > limits.maxBytes) throw protocolError(`a text segment of ${data.length} bytes exceeds ${limits.maxBytes}`);
  const out: KeyList = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length;
    if (end > start) {
      const eq = data.indexOf(0x3d, start); // '='
      if (eq < 0 || eq >= end) throw protocolError(`a text pair has no "=" (${JSON.stringify(printable(data.subarray(start, Math.min(end, start + 40))))})`);
      if (eq === start) throw protocolError('a text pair has an empty key');
      if (eq - start > limits.maxKeyBytes) throw protocolError(`a key is longer than ${limits.maxKeyBytes} bytes`);
      if (end - eq - 1 > limits.maxValueBytes) throw protocolError(`a value is longer than ${limits.maxValueBytes} bytes`);
      let key: string;
      let value: string;
      try {
        key = utf8.decode(data.subarray(start, eq));
        value = utf8.decode(data.subarray(eq + 1, end));
      } catch {
        throw protocolError('a text pair is not valid UTF-8');
      }
      if (!KEY_NAME.test(key)) throw protocolError(`invalid key name ${JSON.stringify(printable(Buffer.from(key)))}`);
      if (out.length >= limits.maxPairs) throw protocolError(`more than ${limits.maxPairs} text pairs`);
      out.push([key, value]);
    }
    start = end + 1;
  }
  return out;
}

/** The value of `key`, undefined if absent; a key given twice (with different values) is a protocol error. */
export function uniqueValue(pairs: KeyList, key: string): string | undefined {
  let found: string | undefined;
  for (const [k, v] of pairs) {
    if (k !== key) continue;
    if (found !== undefined && found !== v) throw protocolError(`the target sent ${key} twice`);
    found = v;
  }
  return found;
}

export function lastValue(pairs: KeyList, key: string): string | undefined {
  for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i]![0] === key) return pairs[i]![1];
  return undefined;
}

/** For messages: at most 40 characters, control characters replaced. */
export function printable(b: Buffer): string {
  return b.toString('latin1').slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
}

/**
 * Decodes a text answer as it arrives, PDU by PDU (a pair may span PDUs): each push returns the pairs
 * completed so far and keeps the unfinished tail, so no step decodes more than one PDU's worth and the pair
 * count is bounded across the whole answer.
 */
export class KeyStream {
  private tail: Buffer = Buffer.alloc(0);
  private pairs = 0;
  constructor(private readonly limits: KeyLimits = DEFAULT_KEY_LIMITS) {}

  push(data: Buffer): KeyList {
    const buf = this.tail.length ? Buffer.concat([this.tail, data]) : data;
    const end = buf.lastIndexOf(0);
    this.tail = Buffer.from(end < 0 ? buf : buf.subarray(end + 1));
    if (this.tail.length > this.limits.maxKeyBytes + this.limits.maxValueBytes + 1) throw protocolError(`a text pair is longer than ${this.limits.maxKeyBytes + this.limits.maxValueBytes + 1} bytes`);
    return end < 0 ? [] : this.count(decodeKeys(buf.subarray(0, end + 1), this.limits));
  }

  /** The last pair, which may lack its NUL. */
  end(): KeyList {
    const rest = this.tail;
    this.tail = Buffer.alloc(0);
    return rest.length ? this.count(decodeKeys(rest, this.limits)) : [];
  }

  private count(out: KeyList): KeyList {
    this.pairs += out.length;
    if (this.pairs > this.limits.maxPairs) throw protocolError(`more than ${this.limits.maxPairs} text pairs`);
    return out;
  }
}
