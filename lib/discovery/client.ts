// One SendTargets discovery session over TCP: login (SessionType=Discovery, optional CHAP and mutual CHAP),
// Text SendTargets=All with continuation, logout. Bounded by one deadline and an AbortSignal.
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { IscsiAbortError, IscsiError, IscsiTimeoutError } from '../errors';
import { encodePdu, OP, PduReader, protocolError, type Pdu } from './pdu';
import { decodeKeys, encodeKeys, lastValue, type KeyList } from './keys';
import { CHAP_ALGS, chapResponse, decodeBinary, encodeHex, newChallenge, sameBytes, type ChapAlgName } from './chap';

export interface DiscoveryAuth {
  username: string;
  password: string;
  /** Mutual CHAP: the name and secret the target must prove it knows. */
  usernameIn?: string | undefined;
  passwordIn?: string | undefined;
  algorithms?: ChapAlgName[] | undefined;
}

export interface SessionOptions {
  host: string;
  port: number;
  initiatorName: string;
  localAddress?: string | undefined;
  auth?: DiscoveryAuth | undefined;
  deadline: number;
  signal?: AbortSignal | undefined;
  connect?: ((o: net.NetConnectOpts) => net.Socket) | undefined;
}

export interface SessionResult {
  pairs: KeyList;
  /** How many Text responses carried the answer (more than one when the target used continuation). */
  textResponses: number;
  timings: { connectMs: number; loginMs: number; textMs: number };
}

/** A redirect (login status class 1) to another portal. */
export class RedirectError extends IscsiError {
  constructor(readonly targetAddress: string) {
    super('DISCOVERY_REDIRECT', `the target redirected the discovery session to ${targetAddress}`);
  }
}

const MAX_EXCHANGES = 16;
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function loginFailure(cls: number, detail: number): IscsiError {
  const status = `0x${((cls << 8) | detail).toString(16).padStart(4, '0')}`;
  const details = { statusClass: cls, statusDetail: detail, status };
  if (cls === 2 && detail === 0x01) return new IscsiError('DISCOVERY_AUTH_FAILED', `the target refused the CHAP credentials (status ${status})`, { details, hint: 'check the discovery CHAP user name and secret' });
  if (cls === 2 && detail === 0x02) return new IscsiError('DISCOVERY_AUTH_FAILED', `this initiator is not authorized for discovery (status ${status})`, { details });
  if (cls === 2 && (detail === 0x03 || detail === 0x04)) return new IscsiError('DISCOVERY_TARGET_NOT_FOUND', `the target was not found or was removed (status ${status})`, { details });
  if (cls === 3 && detail === 0x01) return new IscsiError('DISCOVERY_SERVICE_UNAVAILABLE', `the target service is unavailable (status ${status})`, { details, hint: 'retry later' });
  return new IscsiError('DISCOVERY_LOGIN_REJECTED', `the target rejected the discovery login (status ${status})`, { details });
}

class Connection {
  private reader = new PduReader();
  private waiting: { resolve: (p: Pdu) => void; reject: (e: Error) => void } | undefined;
  private queue: Pdu[] = [];
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (b: Buffer) => {
      try {
        this.reader.push(b);
        for (let p = this.reader.next(); p; p = this.reader.next()) this.deliver(p);
      } catch (e) {
        this.fail(e as Error);
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(protocolError('the target closed the connection')));
  }

  private deliver(p: Pdu): void {
    if (p.opcode === OP.NOP_IN || p.opcode === OP.ASYNC) return; // not part of the exchange
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(p);
    } else {
      this.queue.push(p);
    }
  }

  fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.socket.destroy();
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  async exchange(pdu: Buffer): Promise<Pdu> {
    if (this.failure) throw this.failure;
    this.socket.write(pdu);
    const queued = this.queue.shift();
    if (queued) return queued;
    return new Promise<Pdu>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  close(): void {
    this.failure ??= new Error('closed');
    this.socket.destroy();
  }
}

function connectSocket(o: SessionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const opts: net.NetConnectOpts = { host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
    const s = (o.connect ?? net.connect)(opts);
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      reject(new IscsiError('DISCOVERY_CONNECT_FAILED', `cannot connect to ${o.host}:${o.port}: ${e.code ?? e.message}`, { cause: e, details: { syscallCode: e.code } }));
    });
  });
}

/** Runs one discovery session and returns the raw SendTargets pairs. */
export async function runDiscoverySession(o: SessionOptions): Promise<SessionResult> {
  const t0 = Date.now();
  let conn: Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const remaining = o.deadline - Date.now();
    const fire = (e: Error) => {
      conn?.fail(e);
      reject(e);
    };
    timer = setTimeout(() => fire(new IscsiTimeoutError('DISCOVERY_TIMEOUT', `discovery at ${o.host}:${o.port} did not finish in time`)), Math.max(0, remaining));
    onAbort = () => fire(new IscsiAbortError('discovery was aborted'));
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => {});
  try {
    const socket = await Promise.race([connectSocket(o), stop]);
    conn = new Connection(socket);
    const tConnect = Date.now();
    const run = session(conn, o);
    const { pairs, loginDone, textResponses } = await Promise.race([run, stop]);
    const tEnd = Date.now();
    return { pairs, textResponses, timings: { connectMs: tConnect - t0, loginMs: loginDone - tConnect, textMs: tEnd - loginDone } };
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    conn?.close();
  }
}

async function session(conn: Connection, o: SessionOptions): Promise<{ pairs: KeyList; loginDone: number; textResponses: number }> {
  const isid = Buffer.concat([Buffer.from([0x80]), randomBytes(5)]); // type "random" (RFC 7143 §11.12.5)
  const lun = Buffer.concat([isid, Buffer.alloc(2)]); // TSIH 0: a new session
  const itt = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
  let cmdSN = 1;
  let expStatSN = 0;
  let tsih = 0;

  const loginPdu = (csg: number, nsg: number, transit: boolean, pairs: KeyList) => {
    lun.writeUInt16BE(tsih, 6);
    return encodePdu({
      opcode: OP.LOGIN_REQ, immediate: true, flags: (transit ? 0x80 : 0) | (csg << 2) | nsg, lun, itt, w20: 0, w24: cmdSN, w28: expStatSN, data: encodeKeys(pairs),
    });
  };
  const checkLoginRsp = (p: Pdu): KeyList => {
    if (p.opcode === OP.REJECT) throw protocolError('the target rejected a login PDU');
    if (p.opcode !== OP.LOGIN_RSP) throw protocolError(`expected a login response, got opcode 0x${p.opcode.toString(16)}`);
    if (p.itt !== itt) throw protocolError('login response for another task');
    expStatSN = (p.w24 + 1) >>> 0;
    tsih = p.lun.readUInt16BE(6);
    const pairs = decodeKeys(p.data);
    if (p.statusClass === 1) throw new RedirectError(lastValue(pairs, 'TargetAddress') ?? '');
    if (p.statusClass !== 0) throw loginFailure(p.statusClass, p.statusDetail);
    return pairs;
  };

  const base: KeyList = [['InitiatorName', o.initiatorName], ['SessionType', 'Discovery']];
  // Security stage (0), then operational (1), then full feature (3).
  let csg = 0;
  let exchanges = 0;
  const auth = o.auth;
  const algs: number[] = (auth?.algorithms ?? ["MD5" as const]).map((a) => CHAP_ALGS[a]);
  let mutual: { id: number; challenge: Buffer; alg: number } | undefined;
  let first: KeyList = [...base, ['AuthMethod', auth ? 'CHAP,None' : 'None']];
  let chapPending = false;
  let operationalSent = false;
  for (;;) {
    if (++exchanges > MAX_EXCHANGES) throw protocolError('login negotiation did not converge');
    let send: KeyList;
    let transit = true;
    let nsg = csg === 0 ? 1 : 3;
    if (csg === 0) {
      send = first;
      first = [];
      if (chapPending) transit = false;
    } else {
      // Declare our operational keys once; later rounds only answer the target (RFC 7143 §6.2).
      send = operationalSent ? [] : [['HeaderDigest', 'None'], ['DataDigest', 'None'], ['MaxRecvDataSegmentLength', '32768']];
      operationalSent = true;
      nsg = 3;
    }
    const rsp = await conn.exchange(loginPdu(csg, nsg, transit, send));
    const pairs = checkLoginRsp(rsp);
    const rspTransit = (rsp.flags & 0x80) !== 0;
    const rspNsg = rsp.flags & 0x03;
    if (csg === 0) {
      const method = lastValue(pairs, 'AuthMethod');
      const chapA = lastValue(pairs, 'CHAP_A');
      const chapC = lastValue(pairs, 'CHAP_C');
      if (method === 'CHAP' && !chapA && !chapC) {
        if (!auth) throw new IscsiError('DISCOVERY_AUTH_REQUIRED', 'the target requires CHAP for discovery', { hint: 'pass auth: { username, password }' });
        first = [['CHAP_A', algs.join(',')]];
        chapPending = true;
        continue;
      }
      if (chapA && chapC) {
        const alg = Number(chapA);
        if (!algs.includes(alg)) throw protocolError(`the target chose CHAP_A=${chapA}, which was not offered`);
        const id = Number(lastValue(pairs, 'CHAP_I'));
        if (!Number.isInteger(id) || id < 0 || id > 255) throw protocolError('CHAP_I is not 0..255');
        const challenge = decodeBinary(chapC, 'CHAP_C');
        if (challenge.length === 0 || challenge.length > 1024) throw protocolError('CHAP_C length out of range');
        const reply: KeyList = [['CHAP_N', auth!.username], ['CHAP_R', encodeHex(chapResponse(alg, id, auth!.password, challenge))]];
        if (auth!.usernameIn !== undefined && auth!.passwordIn !== undefined) {
          mutual = { ...newChallenge(alg), alg };
          if (sameBytes(mutual.challenge, challenge)) throw new IscsiError('DISCOVERY_MUTUAL_AUTH_FAILED', 'the target reflected our CHAP challenge');
          reply.push(['CHAP_I', String(mutual.id)], ['CHAP_C', encodeHex(mutual.challenge)]);
        }
        first = reply;
        chapPending = false;
        continue;
      }
      if (mutual) {
        const n = lastValue(pairs, 'CHAP_N');
        const r = lastValue(pairs, 'CHAP_R');
        if (n !== auth!.usernameIn || !r || !sameBytes(decodeBinary(r, 'CHAP_R'), chapResponse(mutual.alg, mutual.id, auth!.passwordIn!, mutual.challenge))) {
          throw new IscsiError('DISCOVERY_MUTUAL_AUTH_FAILED', 'the target did not prove it knows the mutual CHAP secret', { hint: 'check auth.usernameIn / auth.passwordIn' });
        }
        mutual = undefined;
      }
      if (rspTransit) {
        csg = rspNsg === 3 ? 3 : 1;
      }
      if (csg === 3) break;
      continue;
    }
    if (rspTransit && rspNsg === 3) break;
  }
  const loginDone = Date.now();

  // Text SendTargets=All, following continuations (C bit) with the target transfer tag.
  const chunks: Buffer[] = [];
  let total = 0;
  let ttt = 0xffffffff;
  let data = encodeKeys([['SendTargets', 'All']]);
  for (let i = 0; ; i++) {
    if (i > 1024) throw protocolError('text response did not end');
    const req = encodePdu({ opcode: OP.TEXT_REQ, flags: 0x80, itt: (itt + 1) >>> 0, w20: ttt, w24: cmdSN, w28: expStatSN, data, lun: Buffer.alloc(8) });
    cmdSN = (cmdSN + 1) >>> 0;
    const rsp = await conn.exchange(req);
    if (rsp.opcode === OP.REJECT) throw protocolError('the target rejected the SendTargets request');
    if (rsp.opcode !== OP.TEXT_RSP) throw protocolError(`expected a text response, got opcode 0x${rsp.opcode.toString(16)}`);
    expStatSN = (rsp.w24 + 1) >>> 0;
    total += rsp.data.length;
    if (total > MAX_TEXT_BYTES) throw protocolError('SendTargets response larger than 4 MiB');
    chunks.push(rsp.data);
    const final = (rsp.flags & 0x80) !== 0;
    const cont = (rsp.flags & 0x40) !== 0;
    if (final && !cont) break;
    ttt = rsp.w20;
    data = Buffer.alloc(0);
  }
  const pairs = decodeKeys(Buffer.concat(chunks));

  // Logout (close the session); a target that just closes is fine too.
  try {
    await conn.exchange(encodePdu({ opcode: OP.LOGOUT_REQ, immediate: true, flags: 0x80, itt: (itt + 2) >>> 0, w24: cmdSN, w28: expStatSN }));
  } catch {
    // the answer to a logout changes nothing: the targets are already known
  }
  return { pairs, loginDone, textResponses: chunks.length };
}
