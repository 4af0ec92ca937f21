// Whether login() may hand back a session that already exists for its (target, portal, iface). Only a
// LOGGED_IN one is reused. A session in another state (FAILED while iscsid recovers it, or the half-made one
// the kernel keeps when iscsid dies mid-login) is judged with iscsid: if iscsid is not there, nobody will
// finish or recover it, and the answer is ISCSID_NOT_RUNNING at once; if iscsid does not know the session, the
// same holds and it is reported with its state; else it is waited for, within the login's deadline.
import { IscsiError, IscsiTimeoutError } from '../errors';
import { waitForSession } from '../read/session-wait';
import type { Session } from '../read/sessions';
import { iscsidRequest } from './ipc';
import type { AbiFamily } from './version';
import type { LoginDeps } from './login';

export interface ReuseContext {
  family: AbiFamily;
  deadline: number;
  signal: AbortSignal | undefined;
  deps: LoginDeps;
  /** For messages: target, portal, iface. */
  target: string;
  portal: string;
  iface: string;
}

/** How long the "is iscsid there" question may take at most (iscsid answers SESSION_INFO at once). */
const PROBE_MS = 5_000;

/**
 * Returns the session when it is (or becomes, before the deadline) LOGGED_IN, undefined when it disappeared
 * meanwhile (the caller may log in afresh); throws ISCSID_NOT_RUNNING, or SESSION_NOT_LOGGED_IN naming the
 * state.
 */
export async function reuseSession(s: Session, c: ReuseContext): Promise<Session | undefined> {
  if (s.state === 'LOGGED_IN') return s;
  const details = { sid: s.sid, state: s.state ?? 'unknown', target: c.target, portal: c.portal, iface: c.iface };
  const what = `session ${s.sid} to ${c.target} at ${c.portal} (iface ${c.iface}) is in state ${details.state}`;
  try {
    await iscsidRequest('SESSION_INFO', {
      family: c.family,
      sid: s.sid,
      timeoutMs: Math.max(1, Math.min(PROBE_MS, c.deadline - Date.now())),
      signal: c.signal,
      ...(c.deps.binding ? { binding: c.deps.binding } : {}),
      ...(c.deps.socketName ? { socketName: c.deps.socketName } : {}),
    });
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'ISCSID_NOT_RUNNING') {
      throw new IscsiError('ISCSID_NOT_RUNNING', `${what}, not LOGGED_IN, and iscsid is not running to complete or recover it`, {
        cause: e,
        ...(e.errno !== undefined ? { errno: e.errno } : {}),
        hint: 'start iscsid (systemctl start iscsid): it takes over the session, or logs in afresh',
        details,
      });
    }
    if (e instanceof IscsiError && e.code === 'ISCSID_ERR_SESS_NOT_FOUND') {
      throw new IscsiError('SESSION_NOT_LOGGED_IN', `${what}, not LOGGED_IN, and iscsid does not manage it`, {
        cause: e,
        hint: 'restart iscsid so that it takes the session over, or remove it with logout({ sid })',
        details,
      });
    }
    throw e;
  }
  const r = await waitForSession(s.sid, (x) => x.state === 'LOGGED_IN', {
    until: c.deadline,
    signal: c.signal,
    ...(c.deps.binding ? { binding: c.deps.binding } : {}),
  });
  if (r.ready) return r.session;
  if (!r.session) return undefined;
  throw new IscsiTimeoutError('SESSION_NOT_LOGGED_IN', `session ${s.sid} to ${c.target} at ${c.portal} (iface ${c.iface}) is still in state ${r.session.state ?? 'unknown'} at the login's deadline, not LOGGED_IN`, {
    hint: 'iscsid is still trying to recover it (is the target reachable?); wait and retry, or remove it with logout({ sid })',
    details: { ...details, state: r.session.state ?? 'unknown' },
  });
}
