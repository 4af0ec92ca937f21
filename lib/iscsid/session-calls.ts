// logout, session state and statistics, and the initiator name: the requests to iscsid besides LOGIN.
import { iscsidRequest } from './ipc';
import { readInitiatorNameFile, INITIATOR_NAME_FILE } from './config';
import { requireVerifiedFamily, type VersionOptions } from './version';
import { IscsiError, IscsiValidationError, throwIfAborted } from '../errors';
import { checkOptions, checkSid, checkText, checkWait, parsePortal, validateIfaceName, validateIscsiName } from '../validate';
import { sessions as listSessions } from '../read/sessions';
import { resolveAddress, sameKey, type LoginDeps } from './login';

export type LogoutTarget = { sid: number } | { target: string; portal: string; iface?: string };

export interface SessionCallOptions extends VersionOptions {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  deps?: LoginDeps | undefined;
}

/** A session call's options: timeoutMs, signal, the seams; checked before anything is sent. */
function checkCallOptions(o: SessionCallOptions): void {
  checkOptions(o, 'options');
  checkWait(o);
  checkOptions(o.deps, 'deps');
  if (o.abi !== undefined) checkText(o.abi, 'abi', { maxBytes: 64, code: 'INVALID_OPTION' });
}

async function request(command: 'SESSION_LOGOUT' | 'SESSION_INFO' | 'SESSION_STATS' | 'CONFIG_INAME', sid: number, o: SessionCallOptions, defaultTimeoutMs: number) {
  const deps = o.deps ?? {};
  const { family, version } = await requireVerifiedFamily({ ...o, ...(deps.socketName ? { socketName: deps.socketName } : {}) });
  return iscsidRequest(command, {
    family,
    expectedPid: version.peerPid,
    sid,
    timeoutMs: o.timeoutMs ?? defaultTimeoutMs,
    signal: o.signal,
    ...(deps.binding ? { binding: deps.binding } : {}),
    ...(deps.socketName ? { socketName: deps.socketName } : {}),
  });
}

/**
 * Logs out one session by sid (SESSION_NOT_FOUND if there is none), or every session of (target, portal,
 * iface) — for that form, none is not an error. Returns the sids logged out.
 */
export async function logout(what: LogoutTarget, o: SessionCallOptions = {}): Promise<number[]> {
  checkCallOptions(o);
  checkOptions(what, 'logout target');
  if (what === undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'logout needs { sid } or { target, portal[, iface] }');
  const byKey = 'sid' in what ? undefined : { target: validateIscsiName(what.target, 'target'), portal: parsePortal(what.portal), iface: validateIfaceName(what.iface === undefined ? 'default' : what.iface) };
  const sid = byKey ? undefined : checkSid((what as { sid: unknown }).sid);
  throwIfAborted(o.signal);
  let sids: number[];
  if (sid !== undefined) {
    sids = [sid];
  } else {
    const { target, portal, iface } = byKey!;
    const address = await resolveAddress(portal.host, o.deps ?? {});
    const list = await listSessions({ target, ...(o.deps?.binding ? { binding: o.deps.binding } : {}) });
    sids = list.filter((s) => sameKey(s, target, address, portal.port, iface)).map((s) => s.sid);
  }
  for (const sid of sids) {
    try {
      await request('SESSION_LOGOUT', sid, o, 60_000);
    } catch (e) {
      if (e instanceof IscsiError && e.code === 'ISCSID_ERR_SESS_NOT_FOUND') {
        throw new IscsiError('SESSION_NOT_FOUND', `iscsid has no session ${sid}`, { errno: 2, cause: e, hint: 'it is gone already, or was created by firmware' });
      }
      throw e;
    }
  }
  return sids;
}

const CONN_STATES = ['FREE', 'XPT_WAIT', 'IN_LOGIN', 'LOGGED_IN', 'IN_LOGOUT', 'LOGOUT_REQUESTED', 'CLEANUP_WAIT'] as const;
const SESSION_STAGES = ['NO_CHANGE', 'SESSION_CLEANUP', 'SESSION_REOPEN', 'SESSION_REDIRECT', 'DESTROYED'] as const;

/** iscsid's view of a session: its connection state and recovery stage. */
export async function sessionState(sid: number, o: SessionCallOptions = {}): Promise<{ sid: number; connection: string; stage: string }> {
  checkSid(sid);
  checkCallOptions(o);
  const rsp = await request('SESSION_INFO', sid, o, 60_000);
  return { sid, connection: CONN_STATES[rsp.connState] ?? `UNKNOWN(${rsp.connState})`, stage: SESSION_STAGES[rsp.sessionState] ?? `UNKNOWN(${rsp.sessionState})` };
}

/** The kernel's counters for a session, through iscsid. */
export async function sessionStats(sid: number, o: SessionCallOptions = {}) {
  checkSid(sid);
  checkCallOptions(o);
  return { sid, ...(await request('SESSION_STATS', sid, o, 60_000)).stats };
}

/** iscsid's initiator name (read by iscsid at start), else the one in initiatorname.iscsi. */
export async function initiatorName(o: SessionCallOptions = {}): Promise<string> {
  checkCallOptions(o);
  try {
    const v = (await request('CONFIG_INAME', 0, o, 5_000)).var;
    if (v) return v;
  } catch (e) {
    if (!(e instanceof IscsiError) || e.code !== 'ISCSID_NOT_RUNNING') throw e;
  }
  const file = await readInitiatorNameFile(o.deps?.initiatorNamePath ?? INITIATOR_NAME_FILE);
  if (!file.name) throw new IscsiError('NO_INITIATOR_NAME', 'no initiator name: iscsid has none and initiatorname.iscsi sets none', { hint: 'set InitiatorName= in /etc/iscsi/initiatorname.iscsi and restart iscsid' });
  return file.name;
}
