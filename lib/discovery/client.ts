// One SendTargets discovery session over TCP (RFC 7143): connect (connection.ts), log in (login.ts), send
// Text SendTargets=All and follow its continuations (F/C bits, target transfer tag), log out. Everything is
// bounded by one Guard (guard.ts) that destroys the socket when it fires. A login redirect ends the session
// with a RedirectError for the caller to follow.
import { IscsiAbortError, type IscsiError } from '../errors';
import { RESERVED_TAG, protocolError } from './frame';
import { encodeLogoutRequest, encodeTextRequest, type TextResponse } from './pdu';
import { DEFAULT_KEY_LIMITS, KeyStream, encodeKeys, type KeyList } from './keys';
import { SendTargetsBuilder, type DiscoveredTarget } from './sendtargets';
import type { ChapAlgorithmName } from './chap';
import { Connection, connectSocket } from './connection';
import { LIMITS } from './guard';
import { LoginSession } from './login';
import type { SessionOptions } from './session';

/** Work on a SendTargets answer between two turns of the event loop: slices of this many bytes, for about this long. */
const ANSWER_SLICE_BYTES = 4096;
const SLICE_MS = 10;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** A SendTargets answer may hold many pairs (its bytes are capped by LIMITS.textBytes). */
const SENDTARGETS_KEY_LIMITS = { ...DEFAULT_KEY_LIMITS, maxPairs: 1 << 20 };

export interface SessionResult {
  /** The answer, parsed as it arrived (see sendtargets.ts for its caps). */
  targets: DiscoveredTarget[];
  /** Text responses that carried the answer (more than one when the target used continuation). */
  textResponses: number;
  /** CHAP algorithm used, when CHAP was. */
  chap?: ChapAlgorithmName;
  timings: { connectMs: number; loginMs: number; textMs: number; logoutMs: number };
}

class Session extends LoginSession {
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
