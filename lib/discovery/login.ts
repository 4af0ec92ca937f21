// The login of a discovery session (RFC 7143 §6): SessionType=Discovery through the security stage
// (AuthMethod None or CHAP, one-way or mutual, with chap.ts's ChapInitiator) and the operational stage, each
// exchange's C-bit continuations reassembled; a failed login's status becomes a typed error, a redirect a
// RedirectError for the caller to follow.
import { IscsiAuthError, IscsiError } from '../errors';
import { MAX_RECV_DATA_SEGMENT_LENGTH, STAGE, protocolError, type Stage } from './frame';
import { encodeLoginRequest, type LoginResponse } from './pdu';
import { decodeKeys, encodeKeys, uniqueValue, type KeyList } from './keys';
import { CHAP_ALGORITHMS, ChapInitiator, type ChapAlgorithmName } from './chap';
import { LIMITS } from './guard';
import { SessionCore } from './session';

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

/** Session-wide keys that mean nothing in a discovery session: answered Irrelevant if the target offers them. */
const IRRELEVANT = new Set([
  'MaxConnections', 'InitialR2T', 'ImmediateData', 'MaxBurstLength', 'FirstBurstLength', 'DefaultTime2Wait', 'DefaultTime2Retain',
  'MaxOutstandingR2T', 'DataPDUInOrder', 'DataSequenceInOrder', 'TaskReporting', 'IFMarker', 'OFMarker', 'IFMarkInt', 'OFMarkInt',
]);
/** Keys a target declares (nothing to answer). */
const DECLARATIVE = new Set(['MaxRecvDataSegmentLength', 'TargetAlias', 'TargetAddress', 'TargetPortalGroupTag', 'TargetName', 'InitiatorAlias']);
const ANSWERS = new Set(['NotUnderstood', 'Irrelevant', 'Reject']);

/** Keys of a failed login response, for its TargetAddress: a malformed segment there is not worth a second error. */
function safeKeys(data: Buffer): KeyList {
  try {
    return decodeKeys(data);
  } catch {
    return [];
  }
}

export class LoginSession extends SessionCore {
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
}
