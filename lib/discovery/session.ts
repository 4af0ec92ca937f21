// One discovery session's state over its connection: what it is given (SessionOptions), its numbering
// (ISID, ITT, CmdSN, ExpStatSN, TSIH), the answer to a target's ping, and how a response is awaited. The
// login (login.ts) and the SendTargets exchange (client.ts) build on it.
import { randomBytes } from 'node:crypto';
import { RESERVED_TAG, protocolError } from './frame';
import type { TargetPdu } from './pdu';
import { describeReject, encodeNopOut } from './pdu-control';
import type { Connection, ConnectOptions } from './connection';
import type { ChapAlgorithmName, ChapCredentials } from './chap';

export interface DiscoveryAuth extends ChapCredentials {
  /** Our CHAP name and secret (the target's incoming account). */
  username: string;
  password: string;
  /** Mutual CHAP: the name and secret the target must prove it knows (its outgoing account). */
  usernameIn?: string | undefined;
  passwordIn?: string | undefined;
  /** CHAP_A offer, in order of preference. Default ['MD5'], what every target speaks. */
  algorithms?: ChapAlgorithmName[] | undefined;
}

export interface SessionOptions extends ConnectOptions {
  initiatorName: string;
  auth?: DiscoveryAuth | undefined;
}

/** A random ISID of the "random" format (RFC 7143 §11.12.5): T=10b, A=0, B and C random, qualifier D random. */
export function randomIsid(): Buffer {
  const isid = randomBytes(6);
  isid[0] = 0x80;
  return isid;
}

export class SessionCore {
  protected readonly isid = randomIsid();
  protected itt = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
  protected cmdSN = 1;
  protected expStatSN = 0;
  protected tsih = 0;
  chapAlgorithm: ChapAlgorithmName | undefined;

  constructor(
    protected readonly conn: Connection,
    protected readonly o: SessionOptions,
  ) {
    conn.onPing = (nop) => {
      // A target ping (TTT set) wants a NOP-Out back with the same TTT, its ping data echoed.
      conn.send(encodeNopOut({ lun: nop.lun, itt: RESERVED_TAG, ttt: nop.ttt, cmdSN: this.cmdSN, expStatSN: this.expStatSN, data: nop.data }));
    };
  }

  protected newItt(): number {
    this.itt = (this.itt + 1) & 0x7fffffff;
    return this.itt;
  }

  protected async expect<K extends TargetPdu['kind']>(kind: K, what: string): Promise<Extract<TargetPdu, { kind: K }>> {
    const p = await this.conn.receive();
    if (p.kind === 'reject') throw protocolError(`${describeReject(p)} (during ${this.o.guard.phase})`, { rejectReason: p.reason });
    if (p.kind !== kind) throw protocolError(`expected a ${what}, got a ${p.kind} PDU`);
    return p as Extract<TargetPdu, { kind: K }>;
  }
}
