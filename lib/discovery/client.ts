// One SendTargets discovery session over TCP (RFC 7143): connect (optionally from a given source address),
// log in with SessionType=Discovery through the security stage (AuthMethod None or CHAP, one-way or mutual)
// and the operational stage, send Text SendTargets=All and follow its continuations (F/C bits, target
// transfer tag), log out. Everything is bounded by one Guard (a deadline and an AbortSignal) that destroys
// the socket when it fires. A login redirect ends the session with a RedirectError for the caller to follow.
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { IscsiAbortError, IscsiAuthError, IscsiError, IscsiTimeoutError } from '../errors';
import {
  MAX_RECV_DATA_SEGMENT_LENGTH,
  PduReader,
  RESERVED_TAG,
  STAGE,
  decodeTargetPdu,
  describeReject,
  encodeLoginRequest,
  encodeLogoutRequest,
  encodeNopOut,
  encodeTextRequest,
  protocolError,
  type LoginResponse,
  type NopIn,
  type Stage,
  type TargetPdu,
  type TextResponse,
} from './pdu';
import { DEFAULT_KEY_LIMITS, KeyStream, decodeKeys, encodeKeys, uniqueValue, type KeyList } from './keys';
import { SendTargetsBuilder, type DiscoveredTarget } from './sendtargets';
import { CHAP_ALGORITHMS, ChapInitiator, type ChapAlgorithmName, type ChapCredentials } from './chap';

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

export type Phase = 'resolve' | 'connect' | 'login' | 'text' | 'logout';

/** Work on a SendTargets answer between two turns of the event loop: slices of this many bytes, for about this long. */
const ANSWER_SLICE_BYTES = 4096;
const SLICE_MS = 10;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** A SendTargets answer may hold many pairs (its bytes are capped by LIMITS.textBytes). */
const SENDTARGETS_KEY_LIMITS = { ...DEFAULT_KEY_LIMITS, maxPairs: 1 << 20 };

/** Limits of one session. */
export const LIMITS = {
  /** Login request/response exchanges, continuations included. */
  loginExchanges: 24,
  /** Bytes of login text the target may send in one exchange (with C-bit continuations). */
  loginTextBytes: 64 * 1024,
  /** Text responses to one SendTargets (each up to MAX_RECV_DATA_SEGMENT_LENGTH bytes). */
  textResponses: 4096,
  /** Bytes of SendTargets answer in total. */
  textBytes: 16 * 1024 * 1024,
  /** PDUs the target may send that we did not ask for (queued before we read them). */
  queuedPdus: 64,
  /** How long to wait for the Logout Response (within the deadline); the targets are known by then. */
  logoutGraceMs: 1000,
} as const;

/**
 * One deadline and one AbortSignal for a whole discovery, DNS and redirects included. When either fires,
 * every subscriber (the open socket) is told at once; `race` turns that into a rejection.
 */
export class Guard {
  readonly deadline: number;
  phase: Phase = 'connect';
  private fired: IscsiError | undefined;
  private readonly listeners = new Set<(e: IscsiError) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => {
    this.fire(new IscsiAbortError(`discovery at ${this.what} was aborted (during ${this.phase})`, { cause: this.signal?.reason, details: { phase: this.phase } }));
  };

  constructor(
    readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    /** The portal, for messages. */
    public what: string,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.timer = setTimeout(() => {
      this.fire(
        new IscsiTimeoutError('DISCOVERY_TIMEOUT', `discovery at ${this.what} did not finish within ${timeoutMs} ms (stuck in ${this.phase})`, {
          details: { timeoutMs, phase: this.phase },
          hint: 'check that the portal is an iSCSI target and reachable, or raise timeoutMs',
        }),
      );
    }, timeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.onAbort();
  }

  get failure(): IscsiError | undefined {
    return this.fired;
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  private fire(e: IscsiError): void {
    if (this.fired) return;
    this.fired = e;
    this.dispose();
    for (const l of [...this.listeners]) l(e);
    this.listeners.clear();
  }

  /** Calls `cb` when the guard fires (at once if it has); returns the unsubscribe function. */
  onFire(cb: (e: IscsiError) => void): () => void {
    if (this.fired) {
      cb(this.fired);
      return () => {};
    }
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.onFire(reject);
      work.then(
        (v) => {
          off();
          resolve(v);
        },
        (e: unknown) => {
          off();
          reject(e);
        },
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

export interface SessionOptions {
  /** An IP address (host names are resolved by the caller, within the same guard). */
  host: string;
  port: number;
  initiatorName: string;
  localAddress?: string | undefined;
  auth?: DiscoveryAuth | undefined;
  guard: Guard;
  connect?: ((o: net.NetConnectOpts) => net.Socket) | undefined;
}

export interface SessionResult {
  /** The answer, parsed as it arrived (see sendtargets.ts for its caps). */
  targets: DiscoveredTarget[];
  /** Text responses that carried the answer (more than one when the target used continuation). */
  textResponses: number;
  /** CHAP algorithm used, when CHAP was. */
  chap?: ChapAlgorithmName;
  timings: { connectMs: number; loginMs: number; textMs: number; logoutMs: number };
}

/** A login redirect (status class 1): the target sent us to `targetAddress`. */
export class RedirectError extends IscsiError {
  constructor(
    readonly targetAddress: string,
    readonly permanent: boolean,
    status: string,
  ) {
    super('DISCOVERY_REDIRECT', `the target redirected the discovery session to ${targetAddress} (status ${status}, ${permanent ? 'moved permanently' : 'moved temporarily'})`, {
      details: { targetAddress, permanent, status },
    });
  }
}

const STATUS_TEXT: Record<number, string> = {
  0x0101: 'target moved temporarily',
  0x0102: 'target moved permanently',
  0x0200: 'initiator error',
  0x0201: 'authentication failure',
  0x0202: 'authorization failure',
  0x0203: 'target not found',
  0x0204: 'target removed',
  0x0205: 'unsupported version',
  0x0206: 'too many connections',
  0x0207: 'missing parameter',
  0x0208: "can't include in session",
  0x0209: 'session type not supported',
  0x020a: 'session does not exist',
  0x020b: 'invalid request during login',
  0x0300: 'target error',
  0x0301: 'service unavailable',
  0x0302: 'out of resources',
};

interface LoginContext {
  offeredChap: boolean;
  /** Set while the target checks the CHAP response we sent with this algorithm. */
  chapAnswered?: ChapAlgorithmName | undefined;
  /** Set while the target picks one of the CHAP algorithms we offered (CHAP_A). */
  chapOffered?: string | undefined;
}

function loginStatusError(cls: number, detail: number, pairs: KeyList, ctx: LoginContext): IscsiError {
  const offeredChap = ctx.offeredChap;
  const code = (cls << 8) | detail;
  const status = `0x${code.toString(16).padStart(4, '0')}`;
  const statusText = STATUS_TEXT[code] ?? (cls === 2 ? 'initiator error' : cls === 3 ? 'target error' : 'unknown status');
  const details = { status, statusClass: cls, statusDetail: detail, statusText };
  if (cls === 1) {
    const to = uniqueValue(pairs, 'TargetAddress');
    if (to === undefined) throw protocolError(`a redirect (status ${status}) without a TargetAddress`, details);
    return new RedirectError(to, detail === 0x02, status);
  }
  if (code === 0x0201) {
    return offeredChap
      ? new IscsiAuthError('DISCOVERY_AUTH_FAILED', `the target refused our CHAP credentials (status ${status})`, {
          details,
          hint: "check auth.username and auth.password against the target's discovery account",
        })
      : new IscsiAuthError('DISCOVERY_AUTH_REQUIRED', `the target requires authentication for discovery (status ${status})`, {
          details,
          hint: 'pass auth: { username, password } with its discovery CHAP account',
        });
  }
  if (code === 0x0203 || code === 0x0204) return new IscsiError('DISCOVERY_TARGET_NOT_FOUND', `the target was not found or was removed (status ${status}, ${statusText})`, { details });
  if (code === 0x0301) return new IscsiError('DISCOVERY_SERVICE_UNAVAILABLE', `the target service is unavailable (status ${status})`, { details, hint: 'retry later' });
  // tgtd (through 1.0.9x at least) takes CHAP_A=7 for SHA-1, not SHA-256, and fails our answer as malformed.
  const hint =
    cls !== 2
      ? undefined
      : ctx.chapAnswered && ctx.chapAnswered !== 'MD5'
        ? `the target refused our ${ctx.chapAnswered} CHAP response as malformed; some targets (tgtd) get CHAP_A 6/7 wrong: offer MD5 (auth.algorithms)`
        : ctx.chapOffered
          ? `the target may speak none of the CHAP algorithms offered (${ctx.chapOffered}); most speak MD5`
          : undefined;
  return new IscsiError('DISCOVERY_LOGIN_REJECTED', `the target rejected the discovery login (status ${status}, ${statusText})`, { details, ...(hint ? { hint } : {}) });
}

function connectFailed(o: SessionOptions, e: unknown): IscsiError {
  const err = e as NodeJS.ErrnoException;
  const errnoName = typeof err?.code === 'string' ? err.code : undefined;
  const from = o.localAddress ? ` from ${o.localAddress}` : '';
  const hint =
    errnoName === 'EADDRNOTAVAIL' || errnoName === 'EINVAL'
      ? 'localAddress must be an address of this host, of the same family as the portal'
      : errnoName === 'ECONNREFUSED'
        ? 'nothing listens on that portal: check the address and port, and that the target runs'
        : undefined;
  return new IscsiError('DISCOVERY_CONNECT_FAILED', `cannot connect to ${net.isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${o.port}${from}: ${errnoName ?? err?.message ?? String(e)}`, {
    cause: e,
    details: { errnoName, address: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) },
    ...(hint ? { hint } : {}),
  });
}

function connectSocket(o: SessionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const opts: net.NetConnectOpts = { host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
    let s: net.Socket;
    try {
      s = (o.connect ?? net.connect)(opts);
    } catch (e) {
      reject(connectFailed(o, e));
      return;
    }
    // From here on an 'error' never goes unhandled, whoever owns the socket.
    s.on('error', () => {});
    const off = o.guard.onFire((e) => {
      s.destroy();
      reject(e);
    });
    const onError = (e: Error) => {
      off();
      s.removeListener('connect', onConnect);
      s.destroy();
      reject(connectFailed(o, e));
    };
    const onConnect = () => {
      off();
      s.removeListener('error', onError);
      if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
      resolve(s);
    };
    s.once('error', onError);
    s.once('connect', onConnect);
  });
}

/** The socket, framed into target PDUs. NOP-In pings are answered; Async Messages are noted and skipped. */
class Connection {
  private readonly reader = new PduReader(MAX_RECV_DATA_SEGMENT_LENGTH);
  private readonly queue: TargetPdu[] = [];
  private waiter: { resolve: (p: TargetPdu) => void; reject: (e: unknown) => void } | undefined;
  private failure: unknown;
  private readonly unguard: () => void;
  onPing: ((nop: NopIn) => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly guard: Guard,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(this.closed(e.code)));
    socket.on('close', () => this.fail(this.closed(undefined)));
    this.unguard = guard.onFire((e) => this.fail(e));
  }

  private closed(errnoName: string | undefined): IscsiError {
    const phase = this.guard.phase;
    return new IscsiError('DISCOVERY_CONNECTION_CLOSED', `the target closed the connection during ${phase}${errnoName ? ` (${errnoName})` : ''}`, {
      details: { phase, ...(errnoName ? { errnoName } : {}) },
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f; f = this.reader.next()) this.deliver(decodeTargetPdu(f));
    } catch (e) {
      this.fail(e);
    }
  }

  private deliver(p: TargetPdu): void {
    if (p.kind === 'nop-in') {
      if (p.ttt !== RESERVED_TAG) this.onPing?.(p);
      return;
    }
    // Async events (logout requested, connection about to drop, renegotiation): a discovery session is about
    // to end anyway; a drop shows up as a close.
    if (p.kind === 'async') return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(p);
      return;
    }
    if (this.queue.length >= LIMITS.queuedPdus) throw protocolError(`the target sent more than ${LIMITS.queuedPdus} PDUs nobody asked for`);
    this.queue.push(p);
  }

  send(pdu: Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket.write(pdu);
  }

  receive(): Promise<TargetPdu> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    this.socket.destroy();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  close(): void {
    this.unguard();
    this.fail(new Error('the discovery session is over'));
  }
}

/** A random ISID of the "random" format (RFC 7143 §11.12.5): T=10b, A=0, B and C random, qualifier D random. */
export function randomIsid(): Buffer {
  const isid = randomBytes(6);
  isid[0] = 0x80;
  return isid;
}

/** Session-wide keys that mean nothing in a discovery session: answered Irrelevant if the target offers them. */
const IRRELEVANT = new Set([
  'MaxConnections', 'InitialR2T', 'ImmediateData', 'MaxBurstLength', 'FirstBurstLength', 'DefaultTime2Wait', 'DefaultTime2Retain',
  'MaxOutstandingR2T', 'DataPDUInOrder', 'DataSequenceInOrder', 'TaskReporting', 'IFMarker', 'OFMarker', 'IFMarkInt', 'OFMarkInt',
]);
/** Keys a target declares (nothing to answer). */
const DECLARATIVE = new Set(['MaxRecvDataSegmentLength', 'TargetAlias', 'TargetAddress', 'TargetPortalGroupTag', 'TargetName', 'InitiatorAlias']);
const ANSWERS = new Set(['NotUnderstood', 'Irrelevant', 'Reject']);

class Session {
  private readonly isid = randomIsid();
  private itt = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
  private cmdSN = 1;
  private expStatSN = 0;
  private tsih = 0;
  chapAlgorithm: ChapAlgorithmName | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly o: SessionOptions,
  ) {
    conn.onPing = (nop) => {
      // A target ping (TTT set) wants a NOP-Out back with the same TTT, its ping data echoed.
      conn.send(encodeNopOut({ lun: nop.lun, itt: RESERVED_TAG, ttt: nop.ttt, cmdSN: this.cmdSN, expStatSN: this.expStatSN, data: nop.data }));
    };
  }

  private newItt(): number {
    this.itt = (this.itt + 1) & 0x7fffffff;
    return this.itt;
  }

  private async expect<K extends TargetPdu['kind']>(kind: K, what: string): Promise<Extract<TargetPdu, { kind: K }>> {
    const p = await this.conn.receive();
    if (p.kind === 'reject') throw protocolError(`${describeReject(p)} (during ${this.o.guard.phase})`, { rejectReason: p.reason });
    if (p.kind !== kind) throw protocolError(`expected a ${what}, got a ${p.kind} PDU`);
    return p as Extract<TargetPdu, { kind: K }>;
  }

  /** One login request (and its C-bit continuations) → the response, its text reassembled. */
  private async loginExchange(itt: number, csg: Stage, transit: boolean, nsg: Stage, pairs: KeyList, ctx: LoginContext): Promise<LoginResponse> {
    let data = encodeKeys(pairs);
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let i = 0; ; i++) {
      if (i >= LIMITS.loginExchanges) throw protocolError('the login response text never ended');
      const more = i > 0; // asking for the rest of a response the target sent with the C bit
      this.conn.send(
        encodeLoginRequest({
          transit: more ? false : transit,
          continue: false,
          csg,
          nsg: more ? csg : nsg,
          versionMax: 0,
          versionMin: 0,
          isid: this.isid,
          tsih: this.tsih,
          itt,
          cid: 0,
          cmdSN: this.cmdSN,
          expStatSN: this.expStatSN,
          data,
        }),
      );
      data = Buffer.alloc(0);
      const rsp = await this.expect('login', 'Login Response');
      if (rsp.itt !== itt) throw protocolError(`a Login Response for task ${rsp.itt}, not ours (${itt})`);
      this.expStatSN = (rsp.statSN + 1) >>> 0;
      if (rsp.statusClass !== 0) throw loginStatusError(rsp.statusClass, rsp.statusDetail, safeKeys(rsp.data), ctx);
      if (rsp.versionActive !== 0) throw protocolError(`the target speaks iSCSI version ${rsp.versionActive}, not 0`);
      if (rsp.csg !== csg) throw protocolError(`a Login Response for stage ${rsp.csg} while we are in stage ${csg}`);
      bytes += rsp.data.length;
      if (bytes > LIMITS.loginTextBytes) throw protocolError(`more than ${LIMITS.loginTextBytes} bytes of login text`);
      parts.push(rsp.data);
      if (!rsp.continue) return { ...rsp, data: Buffer.concat(parts) };
    }
  }

  async login(): Promise<void> {
    const auth = this.o.auth;
    const chap = auth ? new ChapInitiator(auth, (auth.algorithms?.length ? auth.algorithms : ['MD5' as const]).map((a) => CHAP_ALGORITHMS[a])) : undefined;
    // With mutual CHAP configured, a target that does not authenticate itself is not acceptable.
    const offersNone = !chap?.mutual;
    const itt = this.newItt();
    let csg: Stage = STAGE.SECURITY;
    let state: 'offer' | 'chap-a' | 'chap-r' | 'done' = 'offer';
    let send: KeyList = [
      ['InitiatorName', this.o.initiatorName],
      ['SessionType', 'Discovery'],
      ['AuthMethod', chap ? (offersNone ? 'CHAP,None' : 'CHAP') : 'None'],
    ];
    let transit = true;
    let nsg: Stage = STAGE.OPERATIONAL;
    let declared = false;

    for (let round = 0; ; round++) {
      if (round >= LIMITS.loginExchanges) throw protocolError(`the login did not finish in ${LIMITS.loginExchanges} exchanges`);
      const rsp = await this.loginExchange(itt, csg, transit, nsg, send, {
        offeredChap: chap !== undefined,
        chapAnswered: state === 'chap-r' ? this.chapAlgorithm : undefined,
        chapOffered: state === 'chap-a' ? auth?.algorithms?.join(', ') ?? 'MD5' : undefined,
      });
      const keys = decodeKeys(rsp.data);
      send = [];
      if (csg === STAGE.SECURITY) {
        if (state === 'offer') {
          const method = uniqueValue(keys, 'AuthMethod');
          if (method === 'CHAP' && chap) {
            state = 'chap-a';
          } else if (method === 'None' && offersNone) {
            state = 'done';
          } else if (method === undefined && rsp.transit && offersNone) {
            state = 'done'; // a target that does not answer AuthMethod but moves on accepted None
          } else if (method === 'Reject' || method === 'None' || method === 'CHAP') {
            if (!chap) throw new IscsiAuthError('DISCOVERY_AUTH_REQUIRED', `the target does not accept AuthMethod=None for discovery (it answered ${method})`, { hint: 'pass auth: { username, password } with its discovery CHAP account' });
            throw new IscsiAuthError(chap.mutual && method === 'None' ? 'DISCOVERY_MUTUAL_AUTH_FAILED' : 'DISCOVERY_AUTH_FAILED', `the target answered AuthMethod=${method} to our offer of ${offersNone ? 'CHAP,None' : 'CHAP'}`, {
              details: { reason: 'method' },
            });
          } else {
            throw protocolError(method === undefined ? 'the target did not answer AuthMethod' : `the target chose AuthMethod=${method.slice(0, 20)}, which we did not offer`);
          }
        } else if (state === 'chap-a') {
          send = chap!.answer(uniqueValue(keys, 'CHAP_A'), uniqueValue(keys, 'CHAP_I'), uniqueValue(keys, 'CHAP_C'));
          this.chapAlgorithm = (Object.keys(CHAP_ALGORITHMS) as ChapAlgorithmName[]).find((k) => String(CHAP_ALGORITHMS[k]) === uniqueValue(keys, 'CHAP_A'));
          state = 'chap-r';
        } else if (state === 'chap-r') {
          if (chap!.mutual) chap!.verifyTarget(uniqueValue(keys, 'CHAP_N'), uniqueValue(keys, 'CHAP_R'));
          state = 'done';
        }
      } else {
        send = this.answerOperational(keys);
      }

      if (rsp.transit) {
        if (rsp.nsg <= csg) throw protocolError(`the target moved from login stage ${csg} to stage ${rsp.nsg}`);
        if (csg === STAGE.SECURITY && state !== 'done') throw protocolError('the target left the security stage before authentication finished');
        csg = rsp.nsg;
        if (csg === STAGE.FULL_FEATURE) {
          this.tsih = rsp.tsih;
          return;
        }
      }

      if (csg === STAGE.SECURITY) {
        if (state === 'chap-a') {
          send = chap!.offer();
          transit = false;
        } else {
          transit = true; // after CHAP_N/CHAP_R, or the target still has to move on
          nsg = STAGE.OPERATIONAL;
        }
      } else {
        if (!declared) {
          send = [['HeaderDigest', 'None'], ['DataDigest', 'None'], ['MaxRecvDataSegmentLength', String(MAX_RECV_DATA_SEGMENT_LENGTH)], ...send];
          declared = true;
        }
        transit = true;
        nsg = STAGE.FULL_FEATURE;
      }
    }
  }

  /** Checks the target's operational keys; returns our answers to any keys it offered. */
  private answerOperational(keys: KeyList): KeyList {
    const answers: KeyList = [];
    for (const [k, v] of keys) {
      if (k === 'HeaderDigest' || k === 'DataDigest') {
        // Our None answered (or declared back), or the target's own offer, which must include None.
        if (v === 'None') continue;
        if (!v.split(',').includes('None')) throw protocolError(`the target insists on ${k}=${v.slice(0, 20)}; a discovery session does without digests`);
        answers.push([k, 'None']);
      } else if (k === 'MaxRecvDataSegmentLength') {
        if (!/^\d{1,8}$/.test(v) || Number(v) < 512 || Number(v) > 0xffffff) throw protocolError(`MaxRecvDataSegmentLength=${v.slice(0, 12)} is not 512..16777215`);
      } else if (DECLARATIVE.has(k) || ANSWERS.has(v)) {
        continue;
      } else if (k === 'ErrorRecoveryLevel') {
        answers.push([k, '0']);
      } else if (IRRELEVANT.has(k)) {
        answers.push([k, 'Irrelevant']);
      } else {
        answers.push([k, 'NotUnderstood']);
      }
    }
    return answers;
  }

  /**
   * SendTargets=All and its continuations. The answer is decoded and parsed as it arrives, in slices of
   * 4 KiB (linear work), and the event loop gets a turn whenever a slice ends more than 10 ms after the last
   * turn: a target that answers with megabytes of addresses, as fast as it can, never holds the process.
   */
  async sendTargets(): Promise<{ targets: DiscoveredTarget[]; responses: number }> {
    const itt = this.newItt();
    let ttt = RESERVED_TAG;
    let data = encodeKeys([['SendTargets', 'All']]);
    const keys = new KeyStream(SENDTARGETS_KEY_LIMITS);
    const answer = new SendTargetsBuilder();
    const add = (pairs: KeyList) => {
      for (const [k, v] of pairs) answer.add(k, v);
    };
    let responses = 0;
    let bytes = 0;
    let slice = performance.now();
    for (;;) {
      if (responses >= LIMITS.textResponses) throw protocolError(`the SendTargets answer did not end within ${LIMITS.textResponses} Text Responses`);
      this.conn.send(encodeTextRequest({ immediate: false, final: true, continue: false, lun: Buffer.alloc(8), itt, ttt, cmdSN: this.cmdSN, expStatSN: this.expStatSN, data }));
      this.cmdSN = (this.cmdSN + 1) >>> 0;
      data = Buffer.alloc(0);
      const rsp: TextResponse = await this.expect('text', 'Text Response');
      if (rsp.itt !== itt) throw protocolError(`a Text Response for task ${rsp.itt}, not ours (${itt})`);
      this.expStatSN = (rsp.statSN + 1) >>> 0;
      bytes += rsp.data.length;
      if (bytes > LIMITS.textBytes) throw protocolError(`a SendTargets answer larger than ${LIMITS.textBytes} bytes`);
      responses++;
      for (let at = 0; at < rsp.data.length; at += ANSWER_SLICE_BYTES) {
        add(keys.push(rsp.data.subarray(at, at + ANSWER_SLICE_BYTES)));
        if (performance.now() - slice > SLICE_MS) {
          await yieldToEventLoop();
          slice = performance.now();
        }
      }
      if (rsp.final) break;
      // F=0 (with or without C): more to come; the target must give a transfer tag to continue with.
      if (rsp.ttt === RESERVED_TAG) throw protocolError('a Text Response with more to come (F=0) but no target transfer tag');
      ttt = rsp.ttt;
    }
    add(keys.end());
    return { targets: answer.finish({ address: this.o.host, port: this.o.port }), responses };
  }

  /** Logout (close the session). Never fails the discovery: the answer is already in. */
  async logout(): Promise<void> {
    try {
      this.conn.send(encodeLogoutRequest({ reasonCode: 0, itt: this.newItt(), cid: 0, cmdSN: this.cmdSN, expStatSN: this.expStatSN }));
    } catch {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.conn.receive().then(
        () => {},
        () => {},
      ),
      new Promise<void>((r) => {
        timer = setTimeout(r, Math.min(LIMITS.logoutGraceMs, this.o.guard.remaining()));
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Keys of a failed login response, for its TargetAddress: a malformed segment there is not worth a second error. */
function safeKeys(data: Buffer): KeyList {
  try {
    return decodeKeys(data);
  } catch {
    return [];
  }
}

/** Runs one discovery session and returns the targets it was offered. */
export async function runDiscoverySession(o: SessionOptions): Promise<SessionResult> {
  const g = o.guard;
  if (g.failure) throw g.failure;
  const t0 = Date.now();
  g.phase = 'connect';
  const socket = await g.race(connectSocket(o));
  const conn = new Connection(socket, g);
  try {
    const t1 = Date.now();
    g.phase = 'login';
    const session = new Session(conn, o);
    await g.race(session.login());
    const t2 = Date.now();
    g.phase = 'text';
    const { targets, responses } = await g.race(session.sendTargets());
    const t3 = Date.now();
    g.phase = 'logout';
    await session.logout();
    // An abort wins even now; a deadline passing during the logout does not (the answer is complete).
    const late: IscsiError | undefined = g.failure as IscsiError | undefined; // (narrowed by the check at the top)
    if (late instanceof IscsiAbortError) throw late;
    return {
      targets,
      textResponses: responses,
      ...(session.chapAlgorithm ? { chap: session.chapAlgorithm } : {}),
      timings: { connectMs: t1 - t0, loginMs: t2 - t1, textMs: t3 - t2, logoutMs: Date.now() - t3 },
    };
  } finally {
    conn.close();
  }
}
