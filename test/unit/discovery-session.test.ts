// discoverSendTargets() against a scripted in-memory target, through the `connect` seam (no network): the
// PDUs the client sends, login stages, CHAP (one-way and mutual, every algorithm), Text continuation, pings,
// redirects, login status codes, deadlines and aborts, early closes, input validation, and a bounded fuzz of
// whole sessions with mutated answers.
import { describe, expect, it } from 'vitest';
import { Duplex } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as os from 'node:os';
import { readFileSync } from 'node:fs';
import { discoverSendTargets, type SendTargetsOptions } from '../../lib/discovery/discover';
import { IscsiError } from '../../lib/errors';
import { OPCODE, PduReader, RESERVED_TAG, type Frame } from '../../lib/discovery/frame';
import {
  decodeLoginRequest,
  decodeLogoutRequest,
  decodeTextRequest,
  encodeLoginResponse,
  encodeLogoutResponse,
  encodeTextResponse,
  type LoginRequest,
} from '../../lib/discovery/pdu';
import { decodeNopOut, encodeAsyncMessage, encodeNopIn, encodeReject } from '../../lib/discovery/pdu-control';
import { decodeKeys, encodeKeys, type KeyList } from '../../lib/discovery/keys';
import { MAX_PORTALS_PER_TARGET, MAX_TARGETS, parseSendTargets } from '../../lib/discovery/sendtargets';

const INITIATOR = 'iqn.2026-11.org.openiscsi:unit';
const T = (n: string) => `iqn.2026-11.org.openiscsi:t.${n}`;
const HASH: Record<number, string> = { 5: 'md5', 6: 'sha1', 7: 'sha256' };
const chap = (alg: number, id: number, secret: string, c: Buffer) => createHash(HASH[alg]!).update(Buffer.from([id])).update(secret).update(c).digest();

class FakeSocket extends Duplex {
  destroyedAt: number | undefined;
  constructor(
    private readonly onBytes: (b: Buffer) => void,
    connect: 'connect' | 'never' | Error,
  ) {
    super();
    setImmediate(() => {
      if (connect === 'connect') this.emit('connect');
      else if (connect instanceof Error) this.destroy(connect);
    });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.onBytes(chunk);
    cb();
  }
  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    this.destroyedAt ??= Date.now();
    cb(e);
  }
  setNoDelay(): this {
    return this;
  }
}

interface Behaviour {
  auth?: {
    user: string;
    secret: string;
    algs?: number[];
    mutual?: { user: string; secret: string };
    wrongMutual?: boolean;
    skipMutualAnswer?: boolean;
    identifier?: (id: number) => string;
    challenge?: (c: Buffer) => string;
    /** Sends this challenge instead of a random one. */
    fixedChallenge?: Buffer;
  };
  answer?: KeyList;
  /** The answer already encoded (so a huge one costs the target nothing while the client is measured). */
  answerBytes?: Buffer;
  textChunk?: number;
  loginChunk?: number;
  status?: { cls: number; detail: number; keys?: KeyList };
  operationalKeys?: KeyList;
  /** The first operational response leaves T=0 (the target wants another round). */
  operationalRounds?: number;
  pingBeforeText?: boolean;
  asyncBeforeText?: boolean;
  rejectText?: number;
  logout?: 'answer' | 'close' | 'silent';
  silent?: boolean;
  closeAfter?: number;
  connect?: 'connect' | 'never' | Error;
  /** Transforms every PDU the target sends (fuzzing). */
  mutate?: (b: Buffer) => Buffer;
}

interface Conn {
  socket: FakeSocket;
  requests: Frame[];
  state: string;
  statSN: number;
  alg: number;
  id: number;
  challenge: Buffer;
  text: Buffer;
  textOffset: number;
  ttt: number;
  login: Buffer;
  loginOffset: number;
  opRounds: number;
}

/** A scripted iSCSI target speaking just enough RFC 7143 for a discovery session. */
class FakeTarget {
  readonly conns: Conn[] = [];
  readonly connects: net.NetConnectOpts[] = [];
  /** Challenges this target sent, in order. */
  readonly challenges: Buffer[] = [];
  constructor(readonly b: Behaviour = {}) {}

  connect = (o: net.NetConnectOpts): net.Socket => {
    this.connects.push(o);
    const reader = new PduReader(1 << 24);
    const c: Conn = { socket: undefined as never, requests: [], state: 'start', statSN: 100, alg: 0, id: 0, challenge: Buffer.alloc(0), text: Buffer.alloc(0), textOffset: 0, ttt: 0, login: Buffer.alloc(0), loginOffset: 0, opRounds: 0 };
    c.socket = new FakeSocket((bytes) => {
      reader.push(bytes);
      for (let f = reader.next(); f; f = reader.next()) {
        c.requests.push(f);
        this.onRequest(c, f);
      }
    }, this.b.connect ?? 'connect');
    this.conns.push(c);
    return c.socket as unknown as net.Socket;
  };

  private send(c: Conn, pdu: Buffer): void {
    if (c.socket.destroyed) return;
    c.socket.push(this.b.mutate ? this.b.mutate(pdu) : pdu);
  }

  private loginRsp(c: Conn, req: LoginRequest, transit: boolean, pairs: KeyList, extra: { statusClass?: number; statusDetail?: number; continue?: boolean; data?: Buffer } = {}): void {
    this.send(
      c,
      encodeLoginResponse({
        transit,
        continue: extra.continue ?? false,
        csg: req.csg,
        nsg: transit ? req.nsg : 0,
        versionMax: 0,
        versionActive: 0,
        isid: req.isid,
        tsih: transit && req.nsg === 3 ? 0x0101 : 0,
        itt: req.itt,
        statSN: c.statSN++,
        expCmdSN: req.cmdSN,
        maxCmdSN: req.cmdSN + 1,
        statusClass: extra.statusClass ?? 0,
        statusDetail: extra.statusDetail ?? 0,
        data: extra.data ?? encodeKeys(pairs),
      }),
    );
  }

  private fail(c: Conn, req: LoginRequest, cls: number, detail: number, pairs: KeyList = []): void {
    this.loginRsp(c, req, false, pairs, { statusClass: cls, statusDetail: detail });
    setImmediate(() => c.socket.destroy());
  }

  private onRequest(c: Conn, f: Frame): void {
    const b = this.b;
    if (b.silent) return;
    if (b.closeAfter !== undefined && c.requests.length > b.closeAfter) {
      c.socket.destroy();
      return;
    }
    const op = f.bhs[0]! & 0x3f;
    if (op === OPCODE.LOGIN_REQUEST) this.onLogin(c, decodeLoginRequest(f));
    else if (op === OPCODE.TEXT_REQUEST) this.onText(c, f);
    else if (op === OPCODE.LOGOUT_REQUEST) {
      const r = decodeLogoutRequest(f);
      if ((b.logout ?? 'answer') === 'answer') this.send(c, encodeLogoutResponse({ response: 0, itt: r.itt, statSN: c.statSN++, expCmdSN: r.cmdSN, maxCmdSN: r.cmdSN, time2Wait: 0, time2Retain: 0 }));
      if (b.logout !== 'silent') setImmediate(() => c.socket.destroy());
    }
  }

  private onLogin(c: Conn, req: LoginRequest): void {
    const b = this.b;
    const keys = new Map(decodeKeys(req.data));
    if (b.status && c.state === 'start') return this.fail(c, req, b.status.cls, b.status.detail, b.status.keys);
    if (req.csg === 0) {
      const a = b.auth;
      if (c.state === 'start') {
        const offered = (keys.get('AuthMethod') ?? '').split(',');
        if (a) {
          if (!offered.includes('CHAP')) return this.fail(c, req, 2, 1, [['AuthMethod', 'Reject']]);
          c.state = 'method';
          return this.loginRsp(c, req, false, [['AuthMethod', 'CHAP']]);
        }
        if (!offered.includes('None')) return this.fail(c, req, 2, 1, [['AuthMethod', 'Reject']]);
        c.state = 'secdone';
        return this.loginRsp(c, req, req.transit, [['AuthMethod', 'None']]);
      }
      if (c.state === 'method' && a) {
        const pick = (keys.get('CHAP_A') ?? '').split(',').map(Number).find((x) => (a.algs ?? [5]).includes(x));
        if (pick === undefined) return this.loginRsp(c, req, false, [['CHAP_A', 'Reject']]);
        c.alg = pick;
        c.id = randomBytes(1)[0]!;
        c.challenge = a.fixedChallenge ?? randomBytes(16);
        this.challenges.push(c.challenge);
        c.state = 'challenge';
        return this.loginRsp(c, req, false, [
          ['CHAP_A', String(pick)],
          ['CHAP_I', a.identifier ? a.identifier(c.id) : String(c.id)],
          ['CHAP_C', a.challenge ? a.challenge(c.challenge) : `0x${c.challenge.toString('hex')}`],
        ]);
      }
      if (c.state === 'challenge' && a) {
        const r = keys.get('CHAP_R') ?? '';
        if (keys.get('CHAP_N') !== a.user || r !== `0x${chap(c.alg, c.id, a.secret, c.challenge).toString('hex')}`) return this.fail(c, req, 2, 1);
        const out: KeyList = [];
        if (keys.has('CHAP_C')) {
          if (!a.mutual) return this.fail(c, req, 2, 1);
          const theirs = Buffer.from(keys.get('CHAP_C')!.slice(2), 'hex');
          const resp = chap(c.alg, Number(keys.get('CHAP_I')), a.wrongMutual ? 'not-the-secret!' : a.mutual.secret, theirs);
          if (!a.skipMutualAnswer) out.push(['CHAP_N', a.mutual.user], ['CHAP_R', `0x${resp.toString('hex')}`]);
        }
        c.state = 'secdone';
        return this.loginRsp(c, req, req.transit, out);
      }
      return this.loginRsp(c, req, req.transit, []);
    }
    // operational stage
    if (c.state !== 'op') {
      c.state = 'op';
      const pairs: KeyList = [];
      if (keys.has('HeaderDigest')) pairs.push(['HeaderDigest', 'None']);
      if (keys.has('DataDigest')) pairs.push(['DataDigest', 'None']);
      pairs.push(['MaxRecvDataSegmentLength', '262144'], ...(b.operationalKeys ?? []));
      c.login = encodeKeys(pairs);
      c.loginOffset = 0;
    }
    const chunk = b.loginChunk ?? c.login.length;
    const part = c.login.subarray(c.loginOffset, c.loginOffset + chunk);
    c.loginOffset += part.length;
    if (c.loginOffset < c.login.length) return this.loginRsp(c, req, false, [], { continue: true, data: part });
    if (c.opRounds++ < (b.operationalRounds ?? 0)) return this.loginRsp(c, req, false, [], { data: part });
    return this.loginRsp(c, req, req.transit, [], { data: part });
  }

  private onText(c: Conn, f: Frame): void {
    const b = this.b;
    const req = decodeTextRequest(f);
    if (b.rejectText !== undefined) {
      this.send(c, encodeReject({ reason: b.rejectText, statSN: c.statSN, expCmdSN: req.cmdSN, maxCmdSN: req.cmdSN, dataSN: 0, header: f.bhs }));
      return;
    }
    if (req.ttt === RESERVED_TAG) {
      if (b.pingBeforeText) this.send(c, encodeNopIn({ lun: Buffer.alloc(8), itt: RESERVED_TAG, ttt: 0x5555, statSN: c.statSN, expCmdSN: req.cmdSN, maxCmdSN: req.cmdSN, data: Buffer.from('ping') }));
      if (b.asyncBeforeText) this.send(c, encodeAsyncMessage({ lun: Buffer.alloc(8), statSN: c.statSN, expCmdSN: req.cmdSN, maxCmdSN: req.cmdSN, asyncEvent: 4, asyncVCode: 0, parameter1: 0, parameter2: 0, parameter3: 0, data: Buffer.alloc(0) }));
      c.text = b.answerBytes ?? encodeKeys(b.answer ?? [['TargetName', T('a')], ['TargetAddress', '192.0.2.10:3260,1']]);
      c.textOffset = 0;
    } else if (req.ttt !== c.ttt) {
      c.socket.destroy(); // a continuation with a tag we never gave
      return;
    }
    const chunk = b.textChunk ?? c.text.length;
    const part = c.text.subarray(c.textOffset, c.textOffset + chunk);
    c.textOffset += part.length;
    const more = c.textOffset < c.text.length;
    c.ttt = more ? 0x1000 + c.textOffset : RESERVED_TAG;
    this.send(c, encodeTextResponse({ final: !more, continue: more, lun: Buffer.alloc(8), itt: req.itt, ttt: c.ttt, statSN: c.statSN++, expCmdSN: req.cmdSN + 1, maxCmdSN: req.cmdSN + 1, data: part }));
  }
}

const run = (t: FakeTarget, o: Partial<SendTargetsOptions> = {}) => discoverSendTargets({ portal: '192.0.2.10:3260', initiatorName: INITIATOR, connect: t.connect, ...o });
const failure = async (p: Promise<unknown>): Promise<IscsiError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IscsiError);
    return e as IscsiError;
  }
  throw new Error('expected a rejection');
};
const opcodes = (c: Conn) => c.requests.map((f) => f.bhs[0]! & 0x3f);

describe('a discovery session, PDU by PDU', () => {
  it('logs in without authentication and lists the targets; sends what RFC 7143 asks for', async () => {
    const t = new FakeTarget({ answer: [['TargetName', T('a')], ['TargetAddress', '192.0.2.10:3260,1'], ['TargetAddress', '[2001:db8::10]:3260,1'], ['TargetName', T('b')]] });
    const r = await run(t);
    expect(r).toMatchObject({ portal: '192.0.2.10:3260', textResponses: 1, redirects: [] });
    expect(r.chapAlgorithm).toBeUndefined();
    expect(r.targets).toEqual([
      { name: T('a'), portals: [{ address: '192.0.2.10', port: 3260, tpgt: 1, portal: '192.0.2.10:3260' }, { address: '2001:db8::10', port: 3260, tpgt: 1, portal: '[2001:db8::10]:3260' }] },
      { name: T('b'), portals: [{ address: '192.0.2.10', port: 3260, tpgt: -1, portal: '192.0.2.10:3260' }] },
    ]);
    for (const k of ['connectMs', 'loginMs', 'textMs', 'totalMs'] as const) expect(r.timings[k]).toBeGreaterThanOrEqual(0);
    expect(t.connects).toEqual([{ host: '192.0.2.10', port: 3260 }]);

    const c = t.conns[0]!;
    expect(opcodes(c)).toEqual([OPCODE.LOGIN_REQUEST, OPCODE.LOGIN_REQUEST, OPCODE.TEXT_REQUEST, OPCODE.LOGOUT_REQUEST]);
    const [sec, op] = [decodeLoginRequest(c.requests[0]!), decodeLoginRequest(c.requests[1]!)];
    expect(c.requests[0]!.bhs[0]! & 0x40).toBe(0x40); // immediate
    expect(sec).toMatchObject({ transit: true, continue: false, csg: 0, nsg: 1, versionMax: 0, versionMin: 0, tsih: 0, cid: 0 });
    expect(sec.isid[0]! >> 6).toBe(0b10); // ISID type "random"
    expect(sec.isid[0]! & 0x3f).toBe(0);
    expect(decodeKeys(sec.data)).toEqual([['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['AuthMethod', 'None']]);
    expect(op).toMatchObject({ transit: true, csg: 1, nsg: 3, itt: sec.itt, cmdSN: sec.cmdSN, expStatSN: 101 });
    expect(op.isid).toEqual(sec.isid);
    expect(decodeKeys(op.data)).toEqual([['HeaderDigest', 'None'], ['DataDigest', 'None'], ['MaxRecvDataSegmentLength', '32768']]);
    const text = decodeTextRequest(c.requests[2]!);
    expect(text).toMatchObject({ immediate: false, final: true, continue: false, ttt: RESERVED_TAG, cmdSN: sec.cmdSN, expStatSN: 102 });
    expect(text.itt).not.toBe(sec.itt);
    expect(decodeKeys(text.data)).toEqual([['SendTargets', 'All']]);
    const logout = decodeLogoutRequest(c.requests[3]!);
    expect(c.requests[3]!.bhs[0]! & 0x40).toBe(0x40);
    expect(logout).toMatchObject({ reasonCode: 0, cid: 0, cmdSN: sec.cmdSN + 1, expStatSN: 103 });
    expect(c.socket.destroyed).toBe(true);

    // a new session, a new random ISID
    await run(t);
    expect(decodeLoginRequest(t.conns[1]!.requests[0]!).isid.equals(sec.isid)).toBe(false);
  });

  it('follows Text continuations (F=0, C=1, target transfer tag), with pairs split across PDUs', async () => {
    const answer: KeyList = [];
    for (let i = 0; i < 50; i++) answer.push(['TargetName', T(`n${i}`)], ['TargetAddress', `192.0.2.${i}:3260,${i}`]);
    const t = new FakeTarget({ answer, textChunk: 97 });
    const r = await run(t);
    const total = encodeKeys(answer).length;
    expect(r.textResponses).toBe(Math.ceil(total / 97));
    expect(r.targets).toHaveLength(50);
    expect(r.targets[49]).toEqual({ name: T('n49'), portals: [{ address: '192.0.2.49', port: 3260, tpgt: 49, portal: '192.0.2.49:3260' }] });
    const texts = t.conns[0]!.requests.filter((f) => (f.bhs[0]! & 0x3f) === OPCODE.TEXT_REQUEST).map((f) => decodeTextRequest(f));
    expect(texts).toHaveLength(r.textResponses);
    for (let i = 1; i < texts.length; i++) {
      expect(texts[i]).toMatchObject({ itt: texts[0]!.itt, ttt: 0x1000 + 97 * i, final: true, cmdSN: texts[0]!.cmdSN + i });
      expect(texts[i]!.data.length).toBe(0);
    }
  });

  it('follows a Login Response continued with the C bit, and extra operational rounds', async () => {
    const t = new FakeTarget({ loginChunk: 7, operationalRounds: 2, operationalKeys: [['TargetAlias', 'a long alias for a small target']] });
    const r = await run(t);
    expect(r.targets).toHaveLength(1);
    const logins = t.conns[0]!.requests.filter((f) => (f.bhs[0]! & 0x3f) === OPCODE.LOGIN_REQUEST).map((f) => decodeLoginRequest(f));
    const continued = logins.filter((l) => l.csg === 1 && !l.transit);
    expect(continued.length).toBeGreaterThan(3);
    for (const l of continued) expect(l.data.length).toBe(0);
  });

  it('answers keys the target offers in the operational stage', async () => {
    const t = new FakeTarget({ operationalRounds: 1, operationalKeys: [['DefaultTime2Wait', '2'], ['ErrorRecoveryLevel', '1'], ['X-com.example.Thing', 'yes'], ['HeaderDigest', 'CRC32C,None']] });
    await run(t);
    const second = decodeLoginRequest(t.conns[0]!.requests[2]!);
    expect(decodeKeys(second.data)).toEqual([['DefaultTime2Wait', 'Irrelevant'], ['ErrorRecoveryLevel', '0'], ['X-com.example.Thing', 'NotUnderstood'], ['HeaderDigest', 'None']]);
    const insists = new FakeTarget({ operationalKeys: [['DataDigest', 'CRC32C']] });
    expect(await failure(run(insists))).toMatchObject({ code: 'DISCOVERY_PROTOCOL_ERROR', message: expect.stringMatching(/DataDigest=CRC32C/) });
  });

  it('answers a NOP-In ping with a NOP-Out carrying its tag and data; skips async messages', async () => {
    const t = new FakeTarget({ pingBeforeText: true, asyncBeforeText: true });
    const r = await run(t);
    expect(r.targets).toHaveLength(1);
    const nop = t.conns[0]!.requests.find((f) => (f.bhs[0]! & 0x3f) === OPCODE.NOP_OUT);
    expect(nop).toBeDefined();
    expect(decodeNopOut(nop!)).toMatchObject({ itt: RESERVED_TAG, ttt: 0x5555, data: Buffer.from('ping') });
  });

  it('a Reject is a protocol error naming the reason', async () => {
    const e = await failure(run(new FakeTarget({ rejectText: 0x09 })));
    expect(e).toMatchObject({ code: 'DISCOVERY_PROTOCOL_ERROR', details: { rejectReason: 9 } });
    expect(e.message).toMatch(/Reject of our opcode 0x04 PDU: reason 0x09 \(invalid PDU field\)/);
  });

  it('the logout answer is optional: a target that closes or stays silent still gives its targets', async () => {
    expect((await run(new FakeTarget({ logout: 'close' }))).targets).toHaveLength(1);
    const t0 = Date.now();
    expect((await run(new FakeTarget({ logout: 'silent' }), { timeoutMs: 300 })).targets).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('CHAP', () => {
  const auth = { username: 'disc-user', password: 'discovery-secret-1' };
  const mutual = { ...auth, usernameIn: 'target-user', passwordIn: 'target-secret-12' };

  it.each([
    ['MD5', 5],
    ['SHA1', 6],
    ['SHA256', 7],
  ] as const)('one-way and mutual with %s', async (name, alg) => {
    const oneWay = new FakeTarget({ auth: { user: auth.username, secret: auth.password, algs: [alg] } });
    const r = await run(oneWay, { auth: { ...auth, algorithms: ['MD5', 'SHA1', 'SHA256'] } });
    expect(r.chapAlgorithm).toBe(name);
    const sec = decodeLoginRequest(oneWay.conns[0]!.requests[0]!);
    expect(decodeKeys(sec.data)).toContainEqual(['AuthMethod', 'CHAP,None']);
    expect(decodeKeys(decodeLoginRequest(oneWay.conns[0]!.requests[1]!).data)).toEqual([['CHAP_A', '5,6,7']]);
    const both = new FakeTarget({ auth: { user: auth.username, secret: auth.password, algs: [alg], mutual: { user: mutual.usernameIn, secret: mutual.passwordIn } } });
    expect((await run(both, { auth: { ...mutual, algorithms: [name] } })).targets).toHaveLength(1);
    // mutual offers CHAP only: a target that does not authenticate itself is not acceptable
    expect(decodeKeys(decodeLoginRequest(both.conns[0]!.requests[0]!).data)).toContainEqual(['AuthMethod', 'CHAP']);
  });

  it('reads CHAP_I and CHAP_C in every encoding', async () => {
    const b64 = new FakeTarget({ auth: { user: auth.username, secret: auth.password, identifier: (id) => `0x${id.toString(16)}`, challenge: (c) => `0b${c.toString('base64')}` } });
    expect((await run(b64, { auth })).targets).toHaveLength(1);
    const upper = new FakeTarget({ auth: { user: auth.username, secret: auth.password, identifier: (id) => `0b${Buffer.from([id]).toString('base64')}`, challenge: (c) => `0X${c.toString('hex').toUpperCase()}` } });
    expect((await run(upper, { auth })).targets).toHaveLength(1);
  });

  it('a wrong secret is DISCOVERY_AUTH_FAILED (0x0201) and no secret leaks into the error', async () => {
    const t = new FakeTarget({ auth: { user: auth.username, secret: auth.password } });
    const e = await failure(run(t, { auth: { ...auth, password: 'wrong-secret-123' } }));
    expect(e).toMatchObject({ name: 'IscsiAuthError', code: 'DISCOVERY_AUTH_FAILED', details: { status: '0x0201', statusClass: 2, statusDetail: 1 } });
    expect(JSON.stringify({ m: e.message, d: e.details, s: e.stack })).not.toMatch(/wrong-secret-123|discovery-secret-1/);
  });

  it('a target that requires CHAP, asked without credentials: DISCOVERY_AUTH_REQUIRED', async () => {
    const e = await failure(run(new FakeTarget({ auth: { user: 'u', secret: 'discovery-secret-1' } })));
    expect(e).toMatchObject({ name: 'IscsiAuthError', code: 'DISCOVERY_AUTH_REQUIRED', details: { status: '0x0201' } });
  });

  it('no common algorithm: DISCOVERY_AUTH_FAILED naming the algorithms offered', async () => {
    const e = await failure(run(new FakeTarget({ auth: { user: auth.username, secret: auth.password, algs: [7] } }), { auth }));
    expect(e).toMatchObject({ code: 'DISCOVERY_AUTH_FAILED', details: { reason: 'algorithm', offered: [5] } });
    expect(e.message).toMatch(/MD5/);
  });

  it('mutual: a wrong answer, no answer or another name is DISCOVERY_MUTUAL_AUTH_FAILED; a target without CHAP refuses', async () => {
    const base = { user: auth.username, secret: auth.password, mutual: { user: mutual.usernameIn, secret: mutual.passwordIn } };
    expect(await failure(run(new FakeTarget({ auth: { ...base, wrongMutual: true } }), { auth: mutual }))).toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason: 'response' } });
    expect(await failure(run(new FakeTarget({ auth: { ...base, skipMutualAnswer: true } }), { auth: mutual }))).toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason: 'no-response' } });
    expect(await failure(run(new FakeTarget({ auth: { ...base, mutual: { ...base.mutual, user: 'someone-else' } } }), { auth: mutual }))).toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason: 'name' } });
    const noAuthTarget = new FakeTarget({});
    expect(await failure(run(noAuthTarget, { auth: mutual }))).toMatchObject({ code: 'DISCOVERY_AUTH_FAILED' }); // refused AuthMethod=CHAP (0x0201)
  });

  it('refuses a target that reflects the challenge we issued in an earlier session', async () => {
    const base = { user: auth.username, secret: auth.password, mutual: { user: mutual.usernameIn, secret: mutual.passwordIn } };
    const first = new FakeTarget({ auth: base });
    await run(first, { auth: mutual });
    const ours = Buffer.from(new Map(decodeKeys(decodeLoginRequest(first.conns[0]!.requests[2]!).data)).get('CHAP_C')!.slice(2), 'hex');
    const evil = new FakeTarget({ auth: { ...base, fixedChallenge: ours } });
    expect(await failure(run(evil, { auth: mutual }))).toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason: 'reflected-challenge' } });
    // it never computed a response to it
    expect(evil.conns[0]!.requests).toHaveLength(2);
  });
});

describe('login status and redirects', () => {
  it.each([
    [2, 0x01, 'DISCOVERY_AUTH_REQUIRED'],
    [2, 0x02, 'DISCOVERY_LOGIN_REJECTED'],
    [2, 0x03, 'DISCOVERY_TARGET_NOT_FOUND'],
    [2, 0x04, 'DISCOVERY_TARGET_NOT_FOUND'],
    [2, 0x05, 'DISCOVERY_LOGIN_REJECTED'],
    [2, 0x09, 'DISCOVERY_LOGIN_REJECTED'],
    [3, 0x01, 'DISCOVERY_SERVICE_UNAVAILABLE'],
    [3, 0x02, 'DISCOVERY_LOGIN_REJECTED'],
    [3, 0x7f, 'DISCOVERY_LOGIN_REJECTED'],
  ])('status class %i detail %i → %s', async (cls, detail, code) => {
    const e = await failure(run(new FakeTarget({ status: { cls, detail } })));
    expect(e).toMatchObject({ code, details: { status: `0x0${cls}${detail.toString(16).padStart(2, '0')}`, statusClass: cls, statusDetail: detail } });
  });

  it('follows a redirect to another portal within the same deadline', async () => {
    const first = new FakeTarget({ status: { cls: 1, detail: 1, keys: [['TargetAddress', '[2001:db8::20]:3261,1']] } });
    const second = new FakeTarget({ answer: [['TargetName', T('moved')]] });
    const connect = (o: net.NetConnectOpts) => ((o as net.TcpNetConnectOpts).host === '2001:db8::20' ? second.connect(o) : first.connect(o));
    const r = await run(first, { connect });
    expect(r).toMatchObject({ portal: '[2001:db8::20]:3261', redirects: ['[2001:db8::20]:3261'] });
    expect(r.targets).toEqual([{ name: T('moved'), portals: [{ address: '2001:db8::20', port: 3261, tpgt: -1, portal: '[2001:db8::20]:3261' }] }]);
  });

  it('a redirect loop ends after maxRedirects; maxRedirects 0 reports the first redirect', async () => {
    const loop = new FakeTarget({ status: { cls: 1, detail: 2, keys: [['TargetAddress', '192.0.2.10:3260']] } });
    const e = await failure(run(loop));
    expect(e).toMatchObject({ code: 'DISCOVERY_REDIRECT', details: { permanent: true, status: '0x0102', redirects: ['192.0.2.10:3260', '192.0.2.10:3260', '192.0.2.10:3260'] } });
    expect(loop.connects).toHaveLength(4);
    const once = new FakeTarget({ status: { cls: 1, detail: 1, keys: [['TargetAddress', 'other.example:3260']] } });
    expect(await failure(run(once, { maxRedirects: 0 }))).toMatchObject({ code: 'DISCOVERY_REDIRECT', details: { targetAddress: 'other.example:3260', permanent: false } });
    expect(once.connects).toHaveLength(1);
    const nowhere = new FakeTarget({ status: { cls: 1, detail: 1 } });
    expect(await failure(run(nowhere))).toMatchObject({ code: 'DISCOVERY_PROTOCOL_ERROR' });
  });
});

describe('deadline, abort, connection failures', () => {
  it('a target that never answers: DISCOVERY_TIMEOUT at the deadline, socket destroyed', async () => {
    const t = new FakeTarget({ silent: true });
    const t0 = Date.now();
    const e = await failure(run(t, { timeoutMs: 150 }));
    expect(e).toMatchObject({ name: 'IscsiTimeoutError', code: 'DISCOVERY_TIMEOUT', details: { timeoutMs: 150, phase: 'login' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(t.conns[0]!.socket.destroyed).toBe(true);
  });

  it('a connect that never completes times out in phase connect', async () => {
    const t = new FakeTarget({ connect: 'never' });
    expect(await failure(run(t, { timeoutMs: 100 }))).toMatchObject({ code: 'DISCOVERY_TIMEOUT', details: { phase: 'connect' } });
    expect(t.conns[0]!.socket.destroyed).toBe(true);
  });

  it('an AbortSignal stops it at once and destroys the socket; an aborted signal connects nowhere', async () => {
    const t = new FakeTarget({ silent: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const e = await failure(run(t, { signal: ac.signal }));
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(t.conns[0]!.socket.destroyed).toBe(true);
    const idle = new FakeTarget();
    expect(await failure(run(idle, { signal: AbortSignal.abort() }))).toMatchObject({ code: 'ABORTED' });
    expect(idle.connects).toHaveLength(0);
  });

  it('a refused connection is DISCOVERY_CONNECT_FAILED with the errno name', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 192.0.2.10:3260'), { code: 'ECONNREFUSED' });
    const e = await failure(run(new FakeTarget({ connect: refused })));
    expect(e).toMatchObject({ code: 'DISCOVERY_CONNECT_FAILED', details: { errnoName: 'ECONNREFUSED', address: '192.0.2.10', port: 3260 } });
  });

  it('a target that hangs up mid-login: DISCOVERY_CONNECTION_CLOSED with the phase', async () => {
    expect(await failure(run(new FakeTarget({ closeAfter: 0 })))).toMatchObject({ code: 'DISCOVERY_CONNECTION_CLOSED', details: { phase: 'login' } });
    expect(await failure(run(new FakeTarget({ closeAfter: 2 })))).toMatchObject({ code: 'DISCOVERY_CONNECTION_CLOSED', details: { phase: 'text' } });
  });

  it('resolves host names within the deadline, from the local address family', async () => {
    const t = new FakeTarget();
    const asked: Array<[string, number]> = [];
    const r = await run(t, { portal: 'san.example:3262', localAddress: '192.0.2.99', lookup: async (h, f) => (asked.push([h, f]), { address: '192.0.2.50' }) });
    expect(asked).toEqual([['san.example', 4]]);
    expect(t.connects).toEqual([{ host: '192.0.2.50', port: 3262, localAddress: '192.0.2.99' }]);
    expect(r.portal).toBe('192.0.2.50:3262');
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    expect(await failure(run(t, { portal: 'nowhere.example', lookup: () => Promise.reject(notFound) }))).toMatchObject({ code: 'DISCOVERY_CONNECT_FAILED', details: { errnoName: 'ENOTFOUND' } });
    expect(await failure(run(t, { portal: 'slow.example', timeoutMs: 50, lookup: () => new Promise(() => {}) }))).toMatchObject({ code: 'DISCOVERY_TIMEOUT', details: { phase: 'resolve' } });
  });
});

describe('input validation, before any connection', () => {
  const t = new FakeTarget();
  it.each([
    [{ portal: '' }, 'INVALID_PORTAL'],
    [{ portal: '1.2.3.4:0' }, 'INVALID_PORTAL'],
    [{ portal: '[1.2.3.4]:3260' }, 'INVALID_PORTAL'],
    [{ portal: 'host name' }, 'INVALID_PORTAL'],
    [{ initiatorName: 'not-an-iqn' }, 'INVALID_IQN'],
    [{ initiatorName: 'iqn.2026-13.x:y' }, 'INVALID_IQN'],
    [{ initiatorName: `iqn.2026-11.org.x:${'a'.repeat(220)}` }, 'INVALID_IQN'],
    [{ auth: { username: 'u', password: 'short' } }, 'INVALID_CHAP_SECRET'],
    [{ auth: { username: 'u', password: 'x'.repeat(256) } }, 'INVALID_CHAP_SECRET'],
    [{ auth: { username: 'u', password: 'twelve-bytes\0!' } }, 'INVALID_CHAP_SECRET'],
    [{ auth: { username: 'u', password: 'same-secret-123', usernameIn: 't', passwordIn: 'same-secret-123' } }, 'INVALID_CHAP_SECRET'],
    [{ auth: { username: 'u', password: 'discovery-secret-1', usernameIn: 't' } }, 'INVALID_CHAP_USER'],
    [{ auth: { username: '', password: 'discovery-secret-1' } }, 'INVALID_CHAP_USER'],
    [{ auth: { username: 'u', password: 'discovery-secret-1', algorithms: [] } }, 'INVALID_CHAP_ALGORITHM'],
    [{ auth: { username: 'u', password: 'discovery-secret-1', algorithms: ['MD4'] } }, 'INVALID_CHAP_ALGORITHM'],
    [{ localAddress: 'eth0' }, 'INVALID_ADDRESS'],
    [{ localAddress: '::1' }, 'INVALID_ADDRESS'],
    [{ timeoutMs: 0 }, 'INVALID_TIMEOUT'],
    [{ timeoutMs: 1.5 }, 'INVALID_TIMEOUT'],
    [{ maxRedirects: -1 }, 'INVALID_OPTION'],
  ])('%j → %s', async (o, code) => {
    const e = await failure(run(t, o as Partial<SendTargetsOptions>));
    expect(e).toMatchObject({ name: 'IscsiValidationError', code });
    expect(e.message).not.toMatch(/short|xxxxxxxx|twelve|same-secret|discovery-secret/);
    expect(t.connects).toHaveLength(0);
  });

  it('a 12-byte and a 255-byte secret are fine', async () => {
    const ok = new FakeTarget({ auth: { user: 'u', secret: 'x'.repeat(255) } });
    expect((await run(ok, { auth: { username: 'u', password: 'x'.repeat(255) } })).targets).toHaveLength(1);
    const twelve = new FakeTarget({ auth: { user: 'u', secret: 'twelve-bytes' } });
    expect((await run(twelve, { auth: { username: 'u', password: 'twelve-bytes' } })).targets).toHaveLength(1);
  });
});

describe('fuzz: whole sessions against a target whose answers are mutated', () => {
  // A fixed number of sessions, and a wall-clock bound far above the 60 ms deadline (yet far below any hang or
  // default timeout): under a loaded machine a 1.5 s budget and a 500 ms bound failed on unchanged code.
  it('every session ends in a result or a typed DISCOVERY_* error within its deadline (80 sessions)', async () => {
    const allowed = /^DISCOVERY_(PROTOCOL_ERROR|CONNECTION_CLOSED|TIMEOUT|AUTH_FAILED|AUTH_REQUIRED|MUTUAL_AUTH_FAILED|TARGET_NOT_FOUND|SERVICE_UNAVAILABLE|LOGIN_REJECTED|REDIRECT)$/;
    const codes = new Map<string, number>();
    let runs = 0;
    while (runs < 80) {
      runs++;
      const mode = runs % 4;
      const mutate = (b: Buffer): Buffer => {
        const out = Buffer.from(b);
        if (mode === 0) {
          for (let i = 0; i < 1 + (runs % 4); i++) out[Math.floor(Math.random() * out.length)] = Math.floor(Math.random() * 256);
          return out;
        }
        if (mode === 1) return Math.random() < 0.3 ? randomBytes(Math.floor(Math.random() * 200)) : out;
        if (mode === 2) {
          const i = 36 + Math.floor(Math.random() * 12) - (Math.random() < 0.5 ? 36 : 0);
          out[i] = Math.floor(Math.random() * 256); // header fields: flags, lengths, tags, status
          return out;
        }
        return out.subarray(0, Math.floor(Math.random() * out.length)); // truncated
      };
      const target = new FakeTarget({
        mutate,
        textChunk: 40,
        answer: [['TargetName', T('f')], ['TargetAddress', '192.0.2.1:3260,1'], ['TargetName', T('g')], ['TargetAddress', '[2001:db8::1]:3261,2']],
        ...(runs % 3 === 0 ? { auth: { user: 'u', secret: 'discovery-secret-1', mutual: { user: 't', secret: 'target-secret-12' } } } : {}),
      });
      const t0 = Date.now();
      try {
        await run(target, { timeoutMs: 60, ...(runs % 3 === 0 ? { auth: { username: 'u', password: 'discovery-secret-1', usernameIn: 't', passwordIn: 'target-secret-12' } } : {}) });
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        expect(e).toBeInstanceOf(IscsiError);
        const code = (e as IscsiError).code;
        expect(code).toMatch(allowed);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      expect(Date.now() - t0).toBeLessThan(2000);
      for (const c of target.conns) expect(c.socket.destroyed).toBe(true);
    }
    expect(codes.get('DISCOVERY_PROTOCOL_ERROR')).toBeGreaterThan(0);
  });
});

describe('a hostile answer cannot stall the process (issue 16.8)', () => {
  /** 100,000 TargetAddress entries: `perTarget` for each of 100,000 / perTarget targets (or all the same address). */
  const answer = (perTarget: number, same = false) => {
    const parts: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (i % perTarget === 0) parts.push(`TargetName=${T(`n${i}`)}`);
      parts.push(same ? 'TargetAddress=192.0.2.10:3260,1' : `TargetAddress=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:3260,1`);
    }
    return Buffer.from(`${parts.join('\0')}\0`);
  };
  /**
   * Runs a discovery while a 1 ms timer measures the longest time the event loop was held between two of
   * its ticks: in CPU time of the main thread (/proc/thread-self/schedstat: what our code spent; the OS may also deschedule the process on
   * a loaded machine, which no code can prevent), and in wall time (monitorEventLoopDelay, printed).
   */
  const measured = async <T>(p: () => Promise<T>): Promise<{ result: T | IscsiError; blockedMs: number; wallMs: number; ms: number }> => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    // This thread's time on a CPU, in ns (the main thread's own: V8's helper threads do not count).
    const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
    let last = cpu();
    let blockedMs = 0;
    const tick = setInterval(() => {
      const now = cpu();
      blockedMs = Math.max(blockedMs, now - last);
      last = now;
    }, 1);
    const t0 = performance.now();
    h.enable();
    const result = await p().catch((e: IscsiError) => e);
    h.disable();
    clearInterval(tick);
    blockedMs = Math.max(blockedMs, cpu() - last);
    return { result, blockedMs, wallMs: h.max / 1e6, ms: performance.now() - t0 };
  };

  it('100,000 addresses in one answer (25,000 targets of 4 portals, 32 KiB Text Responses): parsed, the event loop never held 50 ms', async () => {
    const bytes = answer(4);
    const t = new FakeTarget({ answerBytes: bytes, textChunk: 32768 });
    const { result, blockedMs, wallMs, ms } = await measured(() => run(t, { timeoutMs: 60_000 }));
    if (result instanceof Error) throw result;
    expect(result.targets).toHaveLength(25_000);
    expect(result.targets.every((x) => x.portals.length === 4)).toBe(true);
    expect(result.targets[24_999]!.portals[3]).toEqual({ address: '10.1.134.159', port: 3260, tpgt: 1, portal: '10.1.134.159:3260' });
    expect(result.textResponses).toBe(Math.ceil(bytes.length / 32768));
    console.log(`100,000 addresses (${bytes.length} bytes, ${result.textResponses} Text Responses): ${ms.toFixed(0)} ms; event loop held at most ${blockedMs.toFixed(1)} ms of CPU (${wallMs.toFixed(1)} ms of wall time, load average ${os.loadavg()[0]!.toFixed(1)})`);
    expect(blockedMs).toBeLessThan(50);
  });

  it('100,000 distinct portals for one target: DISCOVERY_ANSWER_TOO_LARGE at the cap, without holding the event loop', async () => {
    const t = new FakeTarget({ answerBytes: answer(100_000), textChunk: 32768 });
    const { result, blockedMs } = await measured(() => run(t, { timeoutMs: 60_000 }));
    expect(result).toMatchObject({ name: 'IscsiProtocolError', code: 'DISCOVERY_ANSWER_TOO_LARGE', details: { target: T('n0'), maxPortalsPerTarget: MAX_PORTALS_PER_TARGET } });
    expect(blockedMs).toBeLessThan(50);
  });

  it('100,000 copies of one portal are kept once, in linear time', async () => {
    const t = new FakeTarget({ answerBytes: answer(100_000, true), textChunk: 32768 });
    const { result, blockedMs } = await measured(() => run(t, { timeoutMs: 60_000 }));
    if (result instanceof Error) throw result;
    expect(result.targets).toEqual([{ name: T('n0'), portals: [{ address: '192.0.2.10', port: 3260, tpgt: 1, portal: '192.0.2.10:3260' }] }]);
    expect(blockedMs).toBeLessThan(50);
  });

  it(`more than ${MAX_TARGETS} targets: DISCOVERY_ANSWER_TOO_LARGE`, () => {
    const pairs: KeyList = [];
    for (let i = 0; i <= MAX_TARGETS; i++) pairs.push(['TargetName', T(`m${i}`)]);
    expect(() => parseSendTargets(pairs, { address: '192.0.2.10', port: 3260 })).toThrow(expect.objectContaining({ code: 'DISCOVERY_ANSWER_TOO_LARGE', details: { maxTargets: MAX_TARGETS } }));
    expect(parseSendTargets(pairs.slice(0, MAX_TARGETS), { address: '192.0.2.10', port: 3260 })).toHaveLength(MAX_TARGETS);
  });
});
