// CHAP as iSCSI uses it (RFC 7143 §12.1.3, RFC 1994): response = H(identifier ‖ secret ‖ challenge), with the
// algorithm negotiated by CHAP_A (the table is lib/chap-algorithms.ts, shared with iscsid's record).
// One-way: the target challenges us. Mutual: we then challenge the target and check its answer.
//
// Reflection: a challenge the target sends us must never be one we issued (a target replaying our own
// challenge back would make us compute its answer for it); we remember the challenges we issued recently,
// in this process, and refuse any of them coming back. Our challenge is never the target's.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IscsiAuthError } from '../errors';
import { protocolError } from './frame';
import type { KeyList } from './keys';
import { chapAlgorithmById, type ChapAlgorithm } from '../chap-algorithms';

export { CHAP_ALGORITHM_IDS as CHAP_ALGORITHMS } from '../chap-algorithms';
export type { ChapAlgorithm as ChapAlgorithmName } from '../chap-algorithms';

/** RFC 7143: a CHAP challenge is at most 1024 bytes. */
export const MAX_CHALLENGE_BYTES = 1024;

export function algorithmInfo(alg: number): { name: ChapAlgorithm; hash: string; digestBytes: number } {
  const info = chapAlgorithmById(alg);
  if (!info) throw new RangeError(`unsupported CHAP algorithm ${alg}`);
  return info;
}

/** H(identifier ‖ secret ‖ challenge) with the secret's UTF-8 bytes. */
export function chapResponse(alg: number, identifier: number, secret: string, challenge: Buffer): Buffer {
  return createHash(algorithmInfo(alg).hash)
    .update(Buffer.from([identifier & 0xff]))
    .update(Buffer.from(secret, 'utf8'))
    .update(challenge)
    .digest();
}

/**
 * A binary value (RFC 7143 §6.1): "0x"/"0X" and hex digits (an odd count has an implied leading zero digit),
 * or "0b"/"0B" and base64 with correct padding. Throws DISCOVERY_PROTOCOL_ERROR naming `what`, never the value.
 */
export function decodeBinaryValue(value: string, what: string, maxBytes = MAX_CHALLENGE_BYTES): Buffer {
  const prefix = value.slice(0, 2).toLowerCase();
  const body = value.slice(2);
  let out: Buffer;
  if (prefix === '0x' && /^[0-9a-fA-F]+$/.test(body)) {
    if (body.length > 2 * maxBytes) throw protocolError(`${what} is longer than ${maxBytes} bytes`);
    out = Buffer.from(body.length % 2 ? `0${body}` : body, 'hex');
  } else if (prefix === '0b' && body.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    if (body.length > 4 * Math.ceil(maxBytes / 3)) throw protocolError(`${what} is longer than ${maxBytes} bytes`);
    out = Buffer.from(body, 'base64');
    if (out.toString('base64') !== body) throw protocolError(`${what} is not canonical base64`);
  } else {
    throw protocolError(`${what} is not a 0x (hex) or 0b (base64) binary value`);
  }
  if (out.length === 0 || out.length > maxBytes) throw protocolError(`${what} has ${out.length} bytes; 1 to ${maxBytes} are allowed`);
  return out;
}

/** CHAP_I: a one-byte number, in decimal, or as a 0x/0b constant. */
export function decodeChapIdentifier(value: string): number {
  let n: number;
  if (/^(0|[1-9][0-9]{0,2})$/.test(value)) n = Number(value);
  else if (/^0[xXbB]/.test(value)) {
    const b = decodeBinaryValue(value, 'CHAP_I', 8);
    n = b.subarray(0, b.length - 1).some((x) => x !== 0) ? 256 : b[b.length - 1]!;
  } else throw protocolError('CHAP_I is not a number');
  if (n > 255) throw protocolError('CHAP_I is not in 0..255');
  return n;
}

export const encodeHexValue = (b: Buffer) => `0x${b.toString('hex')}`;

// Challenges we issued recently (hex), oldest first. Bounded; shared by every session in this process.
const issued = new Set<string>();
const MAX_REMEMBERED = 4096;

function remember(challenge: Buffer): void {
  issued.add(challenge.toString('hex'));
  if (issued.size > MAX_REMEMBERED) issued.delete(issued.values().next().value!);
}

export function wasIssuedByUs(challenge: Buffer): boolean {
  return issued.has(challenge.toString('hex'));
}

export interface ChapCredentials {
  username: string;
  password: string;
  usernameIn?: string | undefined;
  passwordIn?: string | undefined;
}

/** One CHAP exchange from the initiator's side. */
export class ChapInitiator {
  private ours: { alg: number; identifier: number; challenge: Buffer } | undefined;

  constructor(
    private readonly credentials: ChapCredentials,
    /** CHAP_A numbers, in our order of preference. */
    readonly algorithms: number[],
  ) {
    for (const a of algorithms) algorithmInfo(a);
  }

  get mutual(): boolean {
    return this.credentials.usernameIn !== undefined && this.credentials.passwordIn !== undefined;
  }

  /** CHAP_A=… as we offer it. */
  offer(): KeyList {
    return [['CHAP_A', this.algorithms.join(',')]];
  }

  private offeredNames(): string {
    return this.algorithms.map((a) => algorithmInfo(a).name).join(', ');
  }

  /**
   * The target's CHAP_A/CHAP_I/CHAP_C → our CHAP_N/CHAP_R, plus CHAP_I/CHAP_C of our own challenge when mutual.
   */
  answer(chapA: string | undefined, chapI: string | undefined, chapC: string | undefined): KeyList {
    if (chapA === 'Reject') {
      throw new IscsiAuthError('DISCOVERY_AUTH_FAILED', `the target accepts none of the CHAP algorithms offered (${this.offeredNames()})`, {
        hint: 'offer another algorithm in auth.algorithms (MD5 is what most targets speak)',
        details: { reason: 'algorithm', offered: this.algorithms },
      });
    }
    if (chapA === undefined || chapI === undefined || chapC === undefined) throw protocolError('the target chose CHAP but sent no CHAP_A, CHAP_I and CHAP_C');
    if (!/^\d{1,3}$/.test(chapA) || !this.algorithms.includes(Number(chapA))) {
      throw protocolError(`the target chose CHAP_A=${chapA.slice(0, 12)}, which we did not offer (${this.algorithms.join(',')})`);
    }
    const alg = Number(chapA);
    const identifier = decodeChapIdentifier(chapI);
    const challenge = decodeBinaryValue(chapC, 'CHAP_C');
    if (wasIssuedByUs(challenge)) {
      throw new IscsiAuthError(this.mutual ? 'DISCOVERY_MUTUAL_AUTH_FAILED' : 'DISCOVERY_AUTH_FAILED', 'the target sent back a CHAP challenge this initiator issued (a reflection attack)', {
        details: { reason: 'reflected-challenge' },
      });
    }
    const reply: KeyList = [
      ['CHAP_N', this.credentials.username],
      ['CHAP_R', encodeHexValue(chapResponse(alg, identifier, this.credentials.password, challenge))],
    ];
    if (this.mutual) {
      const length = Math.max(16, algorithmInfo(alg).digestBytes);
      let ours = randomBytes(length);
      while (ours.equals(challenge) || wasIssuedByUs(ours)) ours = randomBytes(length);
      this.ours = { alg, identifier: randomBytes(1)[0]!, challenge: ours };
      remember(ours);
      reply.push(['CHAP_I', String(this.ours.identifier)], ['CHAP_C', encodeHexValue(ours)]);
    }
    return reply;
  }

  /** Mutual CHAP: the target's CHAP_N/CHAP_R must prove it knows passwordIn. */
  verifyTarget(chapN: string | undefined, chapR: string | undefined): void {
    const ours = this.ours;
    if (!ours) throw new Error('verifyTarget() before answer()');
    const fail = (why: string, reason: string) =>
      new IscsiAuthError('DISCOVERY_MUTUAL_AUTH_FAILED', `the target did not prove its identity: ${why}`, {
        hint: 'check auth.usernameIn and auth.passwordIn against the target\'s outgoing account',
        details: { reason },
      });
    if (chapN === undefined || chapR === undefined) throw fail('it did not answer our CHAP challenge', 'no-response');
    if (chapN !== this.credentials.usernameIn) throw fail('it answered with another CHAP name', 'name');
    let theirs: Buffer;
    try {
      theirs = decodeBinaryValue(chapR, 'CHAP_R', 64);
    } catch {
      throw fail('its CHAP_R is not a binary value', 'malformed');
    }
    const expected = chapResponse(ours.alg, ours.identifier, this.credentials.passwordIn!, ours.challenge);
    if (theirs.length !== expected.length || !timingSafeEqual(theirs, expected)) throw fail('its CHAP response is wrong', 'response');
  }
}
