// login/logout through iscsid's socket, with the guarantees iscsiadm does not give: validation before
// anything is sent, idempotency, per-key serialisation in and across processes, deadlines and abort.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { IscsiAbortError, IscsiError, IscsiTimeoutError, IscsiValidationError, requireRoot, throwIfAborted } from '../errors';
import { iscsidRequest } from './ipc';
import { readIscsidConf, ISCSID_CONF } from './config';
import { applyConf, applyIface, applyOptions, CHAP_ALGORITHMS, defaultRecord, type ChapAlgorithm, type IfaceValues, type LoginRecord } from './record';
import { requireVerifiedFamily, type AbiFamily, type VersionOptions } from './version';
import { checkAuth, checkBoolean, checkDir, checkOptions, checkSid, checkText, checkWait, parsePortal, validateIfaceName, validateIscsiName, type CheckedAuth } from '../validate';
import { sessions as listSessions, type Session } from '../read/sessions';
import { waitForSession } from '../read/session-wait';
import { reuseSession, type ReuseContext } from './session-reuse';
import { writeNodeRecord } from './node-file';
import { native, type NativeBinding } from '../native';
import { transportPresence, transportNotLoaded, type TransportPresenceOptions } from '../read/transport-presence';
import { acquireLock, LOCK_DIR, sessionLockName } from '../files/locks';

export interface ChapAuth {
  username: string;
  password: string;
  /** Mutual CHAP: the target's user name and secret. */
  usernameIn?: string;
  passwordIn?: string;
  /** Offered in this order; default MD5 (iscsid.conf may say otherwise). */
  algorithms?: ChapAlgorithm[];
}

export interface LoginOptions extends VersionOptions {
  target: string;
  /** "192.0.2.10:3260", "[2001:db8::1]:3260", "host.example" (resolved), optional ",tpgt". */
  portal: string;
  /** iface name (a file in /etc/iscsi/ifaces, or `default` / `iser`); default `default` (software tcp). */
  iface?: string | undefined;
  auth?: ChapAuth | undefined;
  /** iscsiadm node.* keys, e.g. { 'node.session.timeo.replacement_timeout': 20 }. */
  options?: Record<string, string | number | boolean> | undefined;
  /** Also write the node record in iscsiadm's format (under its lock). Default false: nothing on disk. */
  persist?: boolean | undefined;
  /** Whole-call deadline; default: iscsid's own worst case (retries × login timeout) + 15 s. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  deps?: LoginDeps | undefined;
  /**
   * Filled in to tell iscsid's and the kernel's time from ours: `iscsidMs`, from the LOGIN request to its
   * answer (iscsid, the target, the kernel's LUN scan); `diskWaitMs`, waiting for the kernel to attach the
   * block devices after that (sd probes asynchronously; see session-wait.ts).
   */
  timings?: { iscsidMs?: number; diskWaitMs?: number } | undefined;
  /**
   * Filled in with whether this call made the session (`created: true`: iscsid logged it in for this call)
   * or returned one that existed (`created: false`), so a caller that fails later undoes only what it made.
   */
  outcome?: { created?: boolean } | undefined;
}

/** Seams for tests. */
export interface LoginDeps {
  binding?: Pick<NativeBinding, 'buildRequest' | 'ipcRequest' | 'getIface' | 'getSessions' | 'getSession'>;
  lookup?: (host: string) => Promise<{ address: string }>;
  iscsidConfPath?: string;
  initiatorNamePath?: string;
  lockDir?: string;
  nodesDir?: string;
  socketName?: string;
  /** The effective uid to judge (default process.geteuid()). */
  euid?: number;
  /** Where the kernel's transports and modules are looked up when iscsid cannot find a transport. */
  kernel?: TransportPresenceOptions;
}

export const sameKey = (s: Session, target: string, address: string, port: number, iface: string) =>
  s.targetName === target && s.iface.name === iface && ((s.persistentAddress === address && s.persistentPort === port) || (s.address === address && s.port === port));

interface Prepared {
  record: LoginRecord;
  family: AbiFamily;
  /** Where persist writes the node record; undefined: node-file.ts's default. */
  nodesDir: string | undefined;
  /** The listener whose executable chose `family` (undefined: an `abi` override, any root listener). */
  peerPid: number | undefined;
  key: string;
  timeoutMs: number;
}

export async function resolveAddress(host: string, deps: LoginDeps): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await (deps.lookup ?? ((h: string) => dnsLookup(h)))(host)).address;
  } catch (e) {
    throw new IscsiValidationError('PORTAL_UNRESOLVABLE', `cannot resolve portal host ${JSON.stringify(host)}`, { cause: e });
  }
}

const LOGIN_ALGORITHMS = Object.keys(CHAP_ALGORITHMS) as ChapAlgorithm[];

/** The node.* options: a plain object of strings (no control characters), finite numbers and booleans. */
function checkNodeOptions(options: unknown): LoginOptions['options'] {
  if (options === undefined) return undefined;
  checkOptions(options, 'options');
  for (const [key, v] of Object.entries(options as object)) {
    checkText(key, 'an option name', { maxBytes: 128, code: 'UNKNOWN_OPTION' });
    if (typeof v === 'string') checkText(v, `option ${key}`, { maxBytes: 1024, minBytes: 0, code: 'INVALID_OPTION' });
    else if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      throw new IscsiValidationError('INVALID_OPTION', `option ${key} must be a string, a finite number or a boolean`);
    }
  }
  return options as LoginOptions['options'];
}

/** Every field of a login's options, before anything is read. */
function checkLoginOptions(o: LoginOptions): { target: string; portal: ReturnType<typeof parsePortal>; ifaceName: string; auth: CheckedAuth<ChapAlgorithm> | undefined } {
  checkOptions(o, 'login options');
  const target = validateIscsiName(o.target, 'target');
  const portal = parsePortal(o.portal);
  const ifaceName = validateIfaceName(o.iface === undefined ? 'default' : o.iface);
  const auth = checkAuth(o.auth, LOGIN_ALGORITHMS);
  checkNodeOptions(o.options);
  checkBoolean(o.persist, 'persist');
  checkWait(o);
  checkOptions(o.deps, 'deps');
  for (const k of ['iscsidConfPath', 'initiatorNamePath', 'lockDir', 'nodesDir'] as const) checkDir(o.deps?.[k], `deps.${k}`);
  if (o.abi !== undefined) checkText(o.abi, 'abi', { maxBytes: 64, code: 'INVALID_OPTION' });
  return { target, portal, ifaceName, auth };
}

/** Everything that can fail without touching iscsid: validation, version, config, iface, record. */
async function prepare(o: LoginOptions): Promise<Prepared> {
  const { target, portal, ifaceName, auth } = checkLoginOptions(o);
  const deps = o.deps ?? {};
  const record = defaultRecord();
  applyConf(record, await readIscsidConf(deps.iscsidConfPath ?? ISCSID_CONF));
  let iface: IfaceValues = { name: ifaceName, transport: ifaceName === 'iser' ? 'iser' : 'tcp' };
  if (ifaceName !== 'default' && ifaceName !== 'iser') {
    const binding = deps.binding ?? native();
    const i = await binding.getIface(ifaceName).catch((e: unknown) => {
      throw new IscsiValidationError('IFACE_NOT_FOUND', `iface ${ifaceName} cannot be read from /etc/iscsi/ifaces`, { cause: e, hint: 'create it first (createIface) or use "default"' });
    });
    iface = { name: i.name, transport: i.transport, hwaddress: i.hwaddress, ipaddress: i.ipaddress, netdev: i.netdev, initiatorName: i.initiatorName };
  }
  applyIface(record, iface);
  if (o.options) applyOptions(record, o.options);
  record.name = target;
  record.tpgt = portal.tpgt ?? -1;
  record.conn.address = await resolveAddress(portal.host, deps);
  record.conn.port = portal.port;
  if (auth) {
    record.session.auth = {
      authmethod: 1,
      username: auth.username,
      password: auth.password,
      usernameIn: auth.usernameIn ?? '',
      passwordIn: auth.passwordIn ?? '',
      chapAlgs: auth.algorithms ? auth.algorithms.map((a) => CHAP_ALGORITHMS[a]) : record.session.auth.chapAlgs,
    };
  }
  // Identifying iscsid (SO_PEERCRED) needs root and a running daemon: a non-root caller or a kernel without
  // the transport is told that first (see login()), so this is the last step.
  requireRoot('login', deps.euid ?? process.geteuid?.() ?? 0);
  let found: Awaited<ReturnType<typeof requireVerifiedFamily>>;
  try {
    found = await requireVerifiedFamily({ ...o, ...(deps.socketName ? { socketName: deps.socketName } : {}) });
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'ISCSID_NOT_RUNNING') {
      const presence = await transportPresence(record.iface.transportName, deps.kernel ?? {});
      if (!presence.registered && presence.loadable === false) throw transportNotLoaded(presence, e);
      // a half-made session for the same key (iscsid died during its login) is named, never returned
      const list = await listSessions({ target, ...(deps.binding ? { binding: deps.binding } : {}) }).catch(() => [] as Session[]);
      const half = list.find((x) => sameKey(x, target, record.conn.address, record.conn.port, ifaceName));
      if (half) {
        throw new IscsiError('ISCSID_NOT_RUNNING', `session ${half.sid} for this target, portal and iface is ${half.state ?? 'in an unknown state'}, not LOGGED_IN, and iscsid is not running to complete or recover it`, {
          cause: e,
          hint: 'start iscsid: it takes the session over; or log out once it runs',
          details: { sid: half.sid, state: half.state ?? 'unknown' },
        });
      }
    }
    throw e;
  }
  const { family, version } = found;
  const s = record.session;
  const worstCase = (s.initialLoginRetryMax + 1) * (record.conn.loginTimeout + 1) * 1000 + 15_000;
  // persist writes where the running iscsid's own iscsiadm reads (Debian 13 moved it to /var/lib/iscsi)
  const nodesDir = deps.nodesDir ?? (version.dbRoot ? path.join(version.dbRoot, 'nodes') : undefined);
  return { record, family, nodesDir, peerPid: version.peerPid, key: `${target}|${record.conn.address}|${record.conn.port}|${ifaceName}`, timeoutMs: o.timeoutMs ?? worstCase };
}

// ---- serialisation ----------------------------------------------------------------------------------

const inProcess = new Map<string, Promise<unknown>>();

async function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = inProcess.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  inProcess.set(key, tail);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === tail) inProcess.delete(key);
  }
}

/**
 * The cross-process half of the serialisation: a kernel lock (flock, lib/files/locks.ts) per key in
 * <lockDir>, held until the login settles, released by the kernel if the process dies. LOGIN_LOCKED when
 * another process still holds it at the deadline.
 */
async function crossProcess<T>(name: string, lockDir: string, deadline: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(name, { dir: lockDir, deadline, signal });
  } catch (e) {
    if (e instanceof IscsiTimeoutError && e.code === 'LOCK_TIMEOUT') {
      throw new IscsiTimeoutError('LOGIN_LOCKED', 'another process is logging in to the same target, portal and iface', { cause: e, errno: 11, ...(e.details ? { details: e.details } : {}) });
    }
    throw e;
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

// ---- login ------------------------------------------------------------------------------------------

async function findSession(deps: LoginDeps, target: string, address: string, port: number, iface: string): Promise<Session | undefined> {
  const list = await listSessions({ target, ...(deps.binding ? { binding: deps.binding } : {}) });
  return list.find((s) => sameKey(s, target, address, port, iface));
}

/**
 * Logs in and returns the session (with its devices: iscsid answers after the kernel's scan). An existing
 * LOGGED_IN session for the same (target, portal, iface) is returned instead of a second one; one in another
 * state is waited for within the deadline (SESSION_NOT_LOGGED_IN, naming the state, if it does not get there),
 * and with iscsid not running the answer is ISCSID_NOT_RUNNING (see session-reuse.ts).
 *
 * If the deadline passes or the signal aborts first, the error says so with `details.inFlight = true`:
 * iscsid keeps retrying the login on its own (it has no way to cancel one), and if it later succeeds the
 * session exists; `logout({ target, portal, iface })` removes it.
 */
export async function login(o: LoginOptions): Promise<Session> {
  return loginAndThen(o, async (s) => s);
}

/**
 * login(), then `then(session)` while this call still holds the key's lock: connect() waits for its LUN's
 * device there, and disconnect() takes the same lock before it decides, so it cannot log out a session that
 * a connect() found LOGGED_IN (or made) and is still attaching. The lock is released when `then` settles.
 */
export async function loginAndThen<T>(o: LoginOptions, then: (s: Session) => Promise<T>): Promise<T> {
  checkOptions(o, 'login options');
  throwIfAborted(o.signal);
  const started = Date.now();
  const p = await prepare(o);
  const deps = o.deps ?? {};
  // iscsid serves only uid 0 (it checks the peer's credentials): refuse before the lock or a node record is made
  requireRoot('login', deps.euid ?? process.geteuid?.() ?? 0);
  const deadline = started + p.timeoutMs;
  const { name: target } = p.record;
  const { address, port } = p.record.conn;
  const ifaceName = p.record.iface.name;
  const attempt = async (): Promise<Session> => {
    const reuse: ReuseContext = { family: p.family, deadline, signal: o.signal, deps, target, portal: `${address}:${port}`, iface: ifaceName };
    const existing = await findSession(deps, target, address, port, ifaceName);
    // only a LOGGED_IN session is reused (waited for within the deadline); one that disappears meanwhile is made again
    const reused = existing && (await reuseSession(existing, reuse));
    if (o.outcome) o.outcome.created = false;
    if (reused) return reused;
    if (o.persist) await writeNodeRecord(p.record, { ...(p.nodesDir ? { nodesDir: p.nodesDir } : {}), timeoutMs: Math.max(1, deadline - Date.now()), signal: o.signal });
    const remaining = Math.max(1, deadline - Date.now());
    const sent = process.hrtime.bigint();
    try {
      await iscsidRequest('SESSION_LOGIN', {
        family: p.family,
        expectedPid: p.peerPid,
        record: p.record,
        timeoutMs: remaining,
        signal: o.signal,
        ...(deps.binding ? { binding: deps.binding } : {}),
        ...(deps.socketName ? { socketName: deps.socketName } : {}),
      });
    } catch (e) {
      if (e instanceof IscsiError && e.code === 'ISCSID_ERR_SESS_EXISTS') {
        const s = await findSession(deps, target, address, port, ifaceName);
        const r = s && (await reuseSession(s, reuse));
        if (r) return r;
      }
      // No iscsid, or iscsid could not load the transport: if the kernel cannot have it, say that instead.
      if (e instanceof IscsiError && (e.code === 'ISCSID_ERR_TRANS_NOT_FOUND' || e.code === 'ISCSID_NOT_RUNNING')) {
        const presence = await transportPresence(p.record.iface.transportName, deps.kernel ?? {});
        if (!presence.registered && (presence.loadable === false || e.code === 'ISCSID_ERR_TRANS_NOT_FOUND')) throw transportNotLoaded(presence, e);
      }
      if (e instanceof IscsiTimeoutError || e instanceof IscsiAbortError) {
        const Cls = e instanceof IscsiAbortError ? IscsiAbortError : IscsiTimeoutError;
        const details = { inFlight: true, target, portal: `${address}:${port}`, iface: ifaceName };
        const msg = `login to ${target} at ${address}:${port} ${e instanceof IscsiAbortError ? 'was aborted' : `did not finish within ${p.timeoutMs} ms`}; iscsid may still complete it`;
        const hint = 'if it does, the session shows in sessions(); logout({ target, portal, iface }) removes it';
        throw Cls === IscsiAbortError ? new IscsiAbortError(msg, { cause: e, hint, details }) : new IscsiTimeoutError('LOGIN_TIMEOUT', msg, { cause: e, hint, details });
      }
      throw e;
    } finally {
      if (o.timings) o.timings.iscsidMs = Number(process.hrtime.bigint() - sent) / 1e6;
    }
    if (o.outcome) o.outcome.created = true;
    const s = await findSession(deps, target, address, port, ifaceName);
    if (!s) throw new IscsiError('LOGIN_SESSION_MISSING', `iscsid reported a login to ${target} but no session shows in sysfs`);
    return waitForDisks(s, deps, Math.min(deadline, Date.now() + DISK_WAIT_MS), o.timings);
  };
  // the existing session is looked for only once the lock is held: a disconnect() that held it may just have logged it out
  return serialised(p.key, () => crossProcess(sessionLockName(target, address, port, ifaceName), deps.lockDir ?? LOCK_DIR, deadline, o.signal, async () => then(await attempt())));
}

const DISK_WAIT_MS = 10_000;

/**
 * iscsid answers after the kernel's LUN scan, but sd attaches block devices asynchronously: wait (bounded)
 * until every disk-type LUN (SCSI type 0) has its block device, so callers get usable device names.
 */
async function waitForDisks(s: Session, deps: LoginDeps, until: number, timings: LoginOptions['timings']): Promise<Session> {
  const ready = (x: Session) => x.devices.every((d) => d.type !== 0 || d.blockDevice !== undefined);
  if (timings) timings.diskWaitMs = 0;
  if (ready(s)) return s;
  const started = Date.now();
  const r = await waitForSession(s.sid, ready, { until, ...(deps.binding ? { binding: deps.binding } : {}) });
  if (timings) timings.diskWaitMs = Date.now() - started;
  return r.session ?? s;
}
