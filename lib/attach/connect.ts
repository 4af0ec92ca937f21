// connect(): the attach path. Resolve and check the transport, discover through the iface when no target is
// named, log in, find the LUN and wait for its block device. Falls back to software TCP only for
// hardware/transport reasons, never for authentication or target refusals, and reports why. A failed attach
// undoes what it made (a session it logged in); disconnect() lives in disconnect.ts.
import { checkConnectOptions, type CheckedConnect } from './inputs';
import { promises as fs } from 'node:fs';
import { IscsiError, IscsiUnsupportedError, IscsiValidationError, requireRoot, throwIfAborted } from '../errors';
import { checkHardware, type HardwareOptions, type HardwareReport } from './hardware';
import { parseTransport, type Transport } from './transport';
import { isTransportRelated } from '../iscsid/error-numbers';
import { discover, type DiscoveredTarget, type DiscoveryAuth } from '../discovery/discover';
import { loginAndThen, type ChapAuth, type LoginOptions } from '../iscsid/login';
import { waitForSession } from '../read/session-wait';
import { session as getSession, type ScsiDevice, type Session } from '../read/sessions';
import { ifaces as listIfaces, type Iface } from '../read/ifaces';
import type { Portal } from '../validate';
import { withDeadline } from '../deadline';
import type { MultipathInfo, MultipathMode, PathSpec } from './multipath';
import { native } from '../native';
import { detach, type DisconnectDeps, type DisconnectResult } from './disconnect';
import { scanLun, type DeviceEnv } from './devices';
import { transportPresence, transportNotLoaded } from '../read/transport-presence';

export type ConnectEvent =
  /** A phase started, or ended: `done`, or `failed` (the error follows; `ms` is how long it ran). */
  | { type: 'phase'; phase: 'resolve' | 'check' | 'discover' | 'login' | 'device'; status: 'start' | 'done' | 'failed'; ms?: number }
  | { type: 'decision'; message: string }
  | { type: 'fallback'; from: Transport; to: 'tcp'; reason: string }
  /**
   * After a failure: `logout` when this call had logged a session in (ok: whether it is gone again),
   * `kept` when the session existed before this call (left as it was).
   */
  | { type: 'rollback'; action: 'logout' | 'kept'; sid: number; ok: boolean; message: string };

export interface ConnectOptions {
  /** Omit to discover through the iface and use the only target offered (or fail listing them). */
  target?: string | undefined;
  /** The portal; with `portals`, ignored. */
  portal: string;
  /**
   * Several paths to the same target (each a portal, or { portal, iface?, transport? }): logs in on all of them
   * at once and waits for multipathd's map over their devices; the result's `multipath` has the map and paths.
   */
  portals?: Array<string | PathSpec> | undefined;
  /** With `portals`: 'required' (a map or an error), 'preferred' (default: a single path when multipathd is absent), false. */
  multipath?: MultipathMode | undefined;
  /** LUN whose block device to wait for; default the first disk LUN. */
  lun?: number | undefined;
  /** The transport to attach over (default `tcp`); an offload one uses its first iface file, else any host of it. Not with `iface`. */
  transport?: Transport | undefined;
  /** An iface (a file in /etc/iscsi/ifaces) to attach through instead of naming a transport. */
  iface?: string | undefined;
  /** Fall back to software TCP when the requested transport cannot be used; default true. */
  fallback?: boolean | undefined;
  auth?: ChapAuth | undefined;
  discoveryAuth?: DiscoveryAuth | undefined;
  /** Discover even when a target is named, to check it is offered. */
  discovery?: boolean | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((e: ConnectEvent) => void) | undefined;
  hardware?: HardwareOptions | undefined;
  /** Test seams. */
  deps?: ConnectDeps | undefined;
}

/** Test seams: each defaults to the real call. */
export interface ConnectDeps {
  checkHardware?: typeof checkHardware;
  discover?: typeof discover;
  login?: (o: LoginOptions) => Promise<Session>;
  readSession?: (sid: number) => Promise<Session | undefined>;
  /** The probe of one LUN (devices.ts scanLun). */
  scan?: (hostNo: number, targetId: number | undefined, lun: number | undefined) => Promise<void>;
  /** The undo of a session this call made (disconnect.ts detach of the whole session). */
  undo?: (sid: number) => Promise<DisconnectResult>;
  /** Where device nodes are (default /dev). */
  devDir?: string;
  /** For the default undo. */
  detach?: DisconnectDeps;
  env?: DeviceEnv;
}

export interface ConnectResult {
  session: Session;
  devices: ScsiDevice[];
  /** The LUN's device, e.g. { blockDevice: 'sdb', path: '/dev/sdb' }. */
  device: ScsiDevice & { path: string };
  /** `rdma`: for iser, the RDMA device (and the netdev toward the portal) the hardware check found. */
  transport: { requested: Transport; used: Transport; iface: string; fallbackReason?: string; rdma?: { device: string; netdev: string } };
  /**
   * Per phase. Of these, `iscsidMs` (the LOGIN request to its answer: iscsid, the target and the kernel's LUN
   * scan) and `deviceWaitMs` (waiting for the kernel to attach the block device; woken by its /dev node) are not our
   * code's time; the rest of `totalMs` is.
   */
  timings: { resolveMs: number; checkMs: number; discoverMs: number; loginMs: number; iscsidMs: number; deviceMs: number; deviceWaitMs: number; totalMs: number };
  /** With `portals`: the map and every path (session, device, transport used, state). */
  multipath?: MultipathInfo;
}

const DEVICE_WAIT_MS = 30_000;

interface Choice {
  transport: Transport;
  iface: string;
  binding: { transport: Transport; hwaddress?: string; netdev?: string; ipaddress?: string };
}

async function chooseIface(o: CheckedConnect): Promise<{ requested: Transport; choice: Choice }> {
  if (o.iface !== undefined) {
    const i: Iface = await native().getIface(o.iface).catch((e: unknown) => {
      throw new IscsiValidationError('IFACE_NOT_FOUND', `iface ${o.iface} cannot be read`, { cause: e });
    });
    const t = parseTransport(i.transport);
    return { requested: t, choice: { transport: t, iface: i.name, binding: { transport: t, hwaddress: i.hwaddress, netdev: i.netdev, ipaddress: i.ipaddress } } };
  }
  const requested = o.transport ?? 'tcp';
  if (requested === 'tcp' || requested === 'iser') return { requested, choice: { transport: requested, iface: requested === 'tcp' ? 'default' : 'iser', binding: { transport: requested } } };
  // An offload transport: the first iface file of that transport, else any host of it (checked next).
  const files = (await listIfaces().catch(() => [] as Iface[])).filter((i) => i.transport === requested);
  const f = files[0];
  if (f) return { requested, choice: { transport: requested, iface: f.name, binding: { transport: requested, hwaddress: f.hwaddress, netdev: f.netdev, ipaddress: f.ipaddress } } };
  return { requested, choice: { transport: requested, iface: `${requested} (no iface file: any ${requested} host)`, binding: { transport: requested } } };
}

function pickTarget(targets: DiscoveredTarget[], wanted: string | undefined, portal: string): DiscoveredTarget {
  if (wanted) {
    const t = targets.find((x) => x.name === wanted);
    if (!t) throw new IscsiError('TARGET_NOT_OFFERED', `${portal} does not offer ${wanted}`, { details: { offered: targets.map((x) => x.name) } });
    return t;
  }
  if (targets.length === 1) return targets[0]!;
  throw new IscsiValidationError(targets.length ? 'TARGET_AMBIGUOUS' : 'NO_TARGETS', targets.length ? `${portal} offers ${targets.length} targets; name one` : `${portal} offers no targets to this initiator`, {
    details: { offered: targets.map((x) => x.name) },
  });
}

/** SCSI types the kernel gives a block device: disk, CD/DVD, optical memory, RBC. */
const BLOCK_TYPES = new Set([0, 5, 7, 14]);
const LUN_SCAN_MS = 30_000;
/** The undo's own budget: it runs after the caller's deadline or abort, which may be why the attach failed. */
export const ROLLBACK_MS = 30_000;

/**
 * Makes sure the LUN is on the session, or says it is not. The LUN list in sysfs after login() is the
 * kernel's scan of the target (iscsid answers LOGIN only once its scan is done; a reused session was
 * scanned when it was made). A LUN missing from it, the one asked for, or with no LUN named any disk LUN,
 * is probed once more with a synchronous scan of the session's SCSI target (it also brings back a LUN an
 * earlier disconnect() removed); still missing, it is LUN_NOT_FOUND at once, with the LUNs the session has.
 */
async function findLun(s0: Session, lun: number | undefined, until: number, o: { signal?: AbortSignal | undefined; deps: ConnectDeps }): Promise<Session> {
  const has = (s: Session) => (lun === undefined ? s.devices.some((x) => x.type === 0) : s.devices.some((x) => x.lun === lun));
  let s = s0;
  if (!has(s) && s.hostNo !== undefined) {
    const hostNo = s.hostNo;
    const probe = o.deps.scan ? o.deps.scan(hostNo, s.targetId, lun) : scanLun(hostNo, s.targetId, lun, o.deps.env);
    await withDeadline(probe, `probing LUN ${lun ?? '(all)'} of session ${s.sid}`, { signal: o.signal, timeoutMs: Math.max(1, Math.min(LUN_SCAN_MS, until - Date.now())) }, LUN_SCAN_MS);
    const again = await (o.deps.readSession ?? readKernelSession)(s.sid);
    if (!again) throw new IscsiError('SESSION_NOT_FOUND', `session ${s.sid} ended while looking for LUN ${lun ?? '(any disk)'}`);
    s = again;
  }
  const reported = s.devices.map((x) => x.lun).sort((a, b) => a - b);
  if (!has(s)) {
    throw new IscsiError('LUN_NOT_FOUND', lun === undefined ? `${s.targetName} reports no disk LUN (LUNs: ${reported.join(', ') || 'none'})` : `${s.targetName} has no LUN ${lun} (it reports LUN ${reported.join(', ') || 'none'})`, {
      details: { sid: s.sid, target: s.targetName, ...(lun === undefined ? {} : { lun }), reported },
      hint: lun === undefined ? 'the target exports no disk to this initiator' : 'use one of the reported LUNs',
    });
  }
  const d = lun === undefined ? undefined : s.devices.find((x) => x.lun === lun);
  if (d && d.type !== undefined && !BLOCK_TYPES.has(d.type) && d.blockDevice === undefined) {
    throw new IscsiError('LUN_NOT_A_DISK', `LUN ${lun} of ${s.targetName} is SCSI type ${d.type}${d.type === 12 ? ' (the target\'s controller)' : ''}, which has no block device`, {
      details: { sid: s.sid, target: s.targetName, lun, type: d.type, reported },
      hint: 'use one of the disk LUNs',
    });
  }
  return s;
}

async function readKernelSession(sid: number): Promise<Session | undefined> {
  return getSession(sid).catch((e: unknown) => {
    if (e instanceof IscsiError && e.code === 'SESSION_NOT_FOUND') return undefined;
    throw e;
  });
}

async function waitForDevice(s0: Session, lun: number | undefined, until: number, signal: AbortSignal | undefined, waited: { ms: number }, devDir: string): Promise<{ s: Session; d: ScsiDevice }> {
  const pick = (s: Session) => (lun === undefined ? s.devices.find((x) => x.type === 0 && x.blockDevice) : s.devices.find((x) => x.lun === lun && x.blockDevice));
  const started = Date.now();
  let s = s0;
  for (;;) {
    throwIfAborted(signal);
    const d = pick(s);
    if (d && (await fs.access(`${devDir}/${d.blockDevice}`).then(() => true, () => false))) return { s, d };
    if (Date.now() > until) {
      throw new IscsiError('DEVICE_TIMEOUT', `session ${s.sid} has no block device${lun === undefined ? '' : ` for LUN ${lun}`}${d ? ` in /dev (sysfs names ${d.blockDevice})` : ''} yet`, {
        details: { luns: s.devices.map((x) => x.hctl) },
        hint: 'the kernel found the LUN but attached no block device in time',
      });
    }
    if (d) {
      await new Promise((r) => setTimeout(r, 5)); // in sysfs already, not yet in /dev: look again shortly
    } else {
      const r = await waitForSession(s.sid, (x) => pick(x) !== undefined, { until, signal });
      if (!r.session) throw new IscsiError('SESSION_NOT_FOUND', `session ${s.sid} ended while waiting for its device`);
      s = r.session;
    }
    waited.ms = Date.now() - started;
  }
}

/** The portal to log in to: the caller's when it named the target; else the one the answer gives for it. */
function loginPortal(t: DiscoveredTarget, named: boolean, asked: string, a: Portal): string {
  if (named) return asked;
  const same = t.portals.find((p) => p.address === a.host && p.port === a.port);
  const p = same ?? t.portals[0];
  if (!p) return asked;
  return p.tpgt >= 0 ? `${p.portal},${p.tpgt}` : p.portal;
}

export async function connect(o: ConnectOptions): Promise<ConnectResult> {
  const checked = checkConnectOptions(o);
  throwIfAborted(o.signal);
  if (o.portals !== undefined || o.multipath !== undefined) {
    const { connectMultipath } = await import('./multipath');
    const { disconnect } = await import('./disconnect');
    return connectMultipath({ ...o, portals: o.portals ?? [o.portal] }, { connect, disconnect });
  }
  const t0 = Date.now();
  const lunWanted = o.lun;
  const deps = o.deps ?? {};
  const deadline = t0 + (o.timeoutMs ?? 180_000);
  const emit = (e: ConnectEvent) => o.onEvent?.(e);
  const fallbackAllowed = o.fallback !== false;
  const timings = { resolveMs: 0, checkMs: 0, discoverMs: 0, loginMs: 0, iscsidMs: 0, deviceMs: 0, deviceWaitMs: 0, totalMs: 0 };
  const loginTimings: { iscsidMs?: number; diskWaitMs?: number } = {};
  type PhaseName = 'resolve' | 'check' | 'discover' | 'login' | 'device';
  const begin = (name: PhaseName) => {
    const s = Date.now();
    emit({ type: 'phase', phase: name, status: 'start' });
    return (status: 'done' | 'failed') => {
      const ms = Date.now() - s;
      timings[`${name}Ms`] += ms;
      emit({ type: 'phase', phase: name, status, ms });
    };
  };
  const phase = async <T>(name: PhaseName, fn: () => Promise<T>): Promise<T> => {
    const end = begin(name);
    let status: 'done' | 'failed' = 'failed';
    try {
      const r = await fn();
      status = 'done';
      return r;
    } finally {
      end(status);
    }
  };

  const { requested, choice: first } = await phase('resolve', () => chooseIface(checked));
  let choice = first;
  let fallbackReason: string | undefined;
  const fallBack = (reason: string) => {
    if (!fallbackAllowed) return false;
    emit({ type: 'fallback', from: choice.transport, to: 'tcp', reason });
    fallbackReason = reason;
    choice = { transport: 'tcp', iface: 'default', binding: { transport: 'tcp' } };
    return true;
  };
  emit({ type: 'decision', message: `requested ${requested} through iface ${choice.iface}` });

  // a non-root caller can log in to nothing: say so before the checks (a kernel without iSCSI is the next answer)
  requireRoot('connect');
  const report: HardwareReport = await phase('check', () => (deps.checkHardware ?? checkHardware)(choice.binding, { portal: o.portal, ...o.hardware, signal: o.signal }));
  if (!report.ok) {
    // Software tcp itself missing from the kernel: there is nothing to fall back to.
    if (choice.transport === 'tcp' && report.problems.some((p) => p.code === 'TRANSPORT_NOT_REGISTERED')) throw transportNotLoaded(await transportPresence('tcp', { ...o.hardware }));
    const reason = report.problems.map((p) => `${p.code}: ${p.message}`).join('; ');
    if (!fallBack(reason)) {
      throw new IscsiUnsupportedError('TRANSPORT_UNAVAILABLE', `${choice.transport} cannot be used here: ${reason}`, { details: { problems: report.problems }, hint: 'allow fallback to tcp, or fix the hardware' });
    }
  } else {
    emit({ type: 'decision', message: `hardware check passed for ${choice.transport}${report.rdma ? ` (RDMA device ${report.rdma.device} on ${report.rdma.netdev}: ${report.rdma.route})` : ''}` });
  }

  let target = o.target;
  let portal = o.portal;
  if (!target || o.discovery) {
    // Offload ifaces discover over software TCP; the login then goes over offload.
    const via = choice.transport === 'tcp' || choice.transport === 'iser' ? choice.iface : 'default';
    const found = await phase('discover', () => (deps.discover ?? discover)({ portal: o.portal, iface: via, auth: o.discoveryAuth, timeoutMs: Math.max(1000, deadline - Date.now()), signal: o.signal }));
    const t = pickTarget(found.targets, target, o.portal);
    // A named target is logged in at the portal the caller named, never at one the answer advertises.
    portal = loginPortal(t, target !== undefined && target !== '', o.portal, checked.portal!); // one path: parsed by checkConnectOptions
    target = t.name;
    emit({ type: 'decision', message: `target ${target} at ${portal}` });
  }

  // A target that does not serve the requested transport (iSER without an RDMA listener) fails only after
  // iscsid's login retries (~2 min with iscsid.conf's defaults): with a fallback to go to, one attempt is enough.
  const oneAttempt = () => (choice.transport !== 'tcp' && fallbackAllowed ? { options: { 'node.session.initial_login_retry_max': 0 } } : {});
  const outcome: { created?: boolean } = {};
  // `then` runs while login still holds the lock for the key (loginAndThen): the LUN's device is waited for
  // there, so a disconnect() of the same target, portal and iface (which takes that lock) waits for this attach.
  const doLogin = async <T>(then: (s: Session) => Promise<T>): Promise<T> => {
    delete outcome.created;
    const lo: LoginOptions = { target: target!, portal, iface: choice.iface, auth: o.auth, timeoutMs: Math.max(1000, deadline - Date.now()), signal: o.signal, timings: loginTimings, outcome, ...oneAttempt() };
    const after = (s: Session) => {
      timings.iscsidMs += loginTimings.iscsidMs ?? 0;
      timings.deviceWaitMs += loginTimings.diskWaitMs ?? 0;
      loginTimings.iscsidMs = 0;
      loginTimings.diskWaitMs = 0;
      return then(s);
    };
    return deps.login ? deps.login(lo).then(after) : loginAndThen(lo, after);
  };
  const got: { s?: Session } = {};
  const attach = async (): Promise<ConnectResult> => {
    const endLogin = begin('login');
    let loggedIn = false;
    try {
      return await doLogin((s) => {
        loggedIn = true;
        endLogin('done');
        got.s = s;
        return attachDevice(s);
      });
    } finally {
      if (!loggedIn) endLogin('failed');
    }
  };
  const attachDevice = async (s: Session): Promise<ConnectResult> => {
    const waited = { ms: 0 };
    const { s: withDev, d } = await phase('device', async () => {
      const until = Math.min(deadline, Date.now() + DEVICE_WAIT_MS);
      const found = await findLun(s, lunWanted, until, { signal: o.signal, deps });
      return waitForDevice(found, lunWanted, until, o.signal, waited, deps.devDir ?? '/dev');
    });
    timings.deviceWaitMs += waited.ms;
    timings.totalMs = Date.now() - t0;
    return {
      session: withDev,
      devices: withDev.devices,
      device: { ...d, path: `/dev/${d.blockDevice}` },
      transport: {
        requested,
        used: choice.transport,
        iface: choice.iface,
        ...(fallbackReason ? { fallbackReason } : {}),
        ...(choice.transport === 'iser' && report.rdma ? { rdma: { device: report.rdma.device, netdev: report.rdma.netdev } } : {}),
      },
      timings,
    };
  };
  try {
    try {
      return await attach();
    } catch (e) {
      if (!got.s && choice.transport !== 'tcp' && isTransportRelated(e) && fallBack(`login over ${choice.transport} failed: ${(e as Error).message}`)) return await attach();
      throw e;
    }
  } catch (e) {
    // after the lock is released: the undo is a detach, which takes it (and finds a LUN another call attached meanwhile)
    if (got.s) await rollback(got.s.sid, outcome.created === true, e, emit, deps);
    throw e;
  }
}

/**
 * Undoes a failed attach: a session this call logged in is detached under disconnect()'s rules (its devices
 * are checked, flushed and removed, then it is logged out) with a budget of its own; one that existed
 * before is kept. Never throws: the attach's own error is the answer, the events say what was undone.
 */
async function rollback(sid: number, created: boolean, cause: unknown, emit: (e: ConnectEvent) => void, deps: ConnectDeps): Promise<void> {
  const why = cause instanceof IscsiError ? cause.code : (cause as Error)?.name ?? 'error';
  if (!created) {
    emit({ type: 'rollback', action: 'kept', sid, ok: true, message: `attach failed (${why}); session ${sid} existed before this call: kept` });
    return;
  }
  try {
    const r = await (deps.undo ? deps.undo(sid) : detach(sid, undefined, { force: false, timeoutMs: ROLLBACK_MS, deps: deps.detach }));
    const gone = r.loggedOut || r.remaining.length === 0; // remaining is empty too when it was gone already
    emit({
      type: 'rollback', action: 'logout', sid, ok: gone,
      message: gone ? `attach failed (${why}); session ${sid}, logged in by this call, logged out again` : `attach failed (${why}); session ${sid}, logged in by this call, was kept: LUN ${r.remaining.join(', ')} appeared on it meanwhile`,
    });
  } catch (e) {
    emit({ type: 'rollback', action: 'logout', sid, ok: false, message: `attach failed (${why}); session ${sid}, logged in by this call, could not be logged out: ${(e as Error).message}` });
  }
}
