// connect()/disconnect(): the attach path. Resolve and check the transport, discover through the iface when
// no target is named, log in, wait for the LUN's block device. Falls back to software TCP only for
// hardware/transport reasons, never for authentication or target refusals, and reports why.
import { checkConnectOptions } from './inputs';
import { promises as fs } from 'node:fs';
import { IscsiError, IscsiUnsupportedError, IscsiValidationError, throwIfAborted } from '../errors';
import { checkHardware, type HardwareOptions, type HardwareReport } from './hardware';
import { isTransport, parseTransport, type Transport } from './transport';
import { isTransportRelated } from '../iscsid/error-numbers';
import { discover, type DiscoveredTarget, type DiscoveryAuth } from '../discovery/discover';
import { login, type ChapAuth } from '../iscsid/login';
import { waitForSession } from '../read/session-wait';
import { type ScsiDevice, type Session } from '../read/sessions';
import { ifaces as listIfaces, type Iface } from '../read/ifaces';
import { parsePortal, validateIfaceName } from '../validate';
import { native } from '../native';

export type ConnectEvent =
  | { type: 'phase'; phase: 'resolve' | 'check' | 'discover' | 'login' | 'device'; status: 'start' | 'done'; ms?: number }
  | { type: 'decision'; message: string }
  | { type: 'fallback'; from: Transport; to: 'tcp'; reason: string };

export interface ConnectOptions {
  /** Omit to discover through the iface and use the only target offered (or fail listing them). */
  target?: string | undefined;
  portal: string;
  /** LUN whose block device to wait for; default the first disk LUN. */
  lun?: number | undefined;
  transport?: string | undefined;
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
}

const DEVICE_WAIT_MS = 30_000;

interface Choice {
  transport: Transport;
  iface: string;
  binding: { transport: string; hwaddress?: string; netdev?: string; ipaddress?: string };
}

async function chooseIface(o: ConnectOptions): Promise<{ requested: Transport; choice: Choice }> {
  if (o.iface !== undefined) {
    validateIfaceName(o.iface);
    const i: Iface = await native().getIface(o.iface).catch((e: unknown) => {
      throw new IscsiValidationError('IFACE_NOT_FOUND', `iface ${o.iface} cannot be read`, { cause: e });
    });
    const t = parseTransport(i.transport);
    return { requested: t, choice: { transport: t, iface: i.name, binding: { transport: t, hwaddress: i.hwaddress, netdev: i.netdev, ipaddress: i.ipaddress } } };
  }
  const requested = parseTransport(o.transport ?? 'tcp');
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

async function waitForDevice(s0: Session, lun: number | undefined, until: number, signal: AbortSignal | undefined, waited: { ms: number }): Promise<{ s: Session; d: ScsiDevice }> {
  const pick = (s: Session) => (lun === undefined ? s.devices.find((x) => x.type === 0 && x.blockDevice) : s.devices.find((x) => x.lun === lun && x.blockDevice));
  const started = Date.now();
  let s = s0;
  for (;;) {
    throwIfAborted(signal);
    const d = pick(s);
    if (d && (await fs.access(`/dev/${d.blockDevice}`).then(() => true, () => false))) return { s, d };
    if (Date.now() > until) {
      throw new IscsiError('DEVICE_TIMEOUT', `session ${s.sid} has no block device${lun === undefined ? '' : ` for LUN ${lun}`}${d ? ` in /dev (sysfs names ${d.blockDevice})` : ''} yet`, {
        details: { luns: s.devices.map((x) => x.hctl) },
        hint: lun === undefined ? 'the target may export no disk LUN' : 'check the LUN number',
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

/** Sessions and LUNs this process attached, so disconnect() logs out only the last user. */
export const attached = new Map<number, Set<number>>();

export async function connect(o: ConnectOptions): Promise<ConnectResult> {
  checkConnectOptions(o);
  throwIfAborted(o.signal);
  const t0 = Date.now();
  const deadline = t0 + (o.timeoutMs ?? 180_000);
  const emit = (e: ConnectEvent) => o.onEvent?.(e);
  const fallbackAllowed = o.fallback !== false;
  if (o.transport !== undefined && o.iface !== undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'give transport or iface, not both');
  if (o.transport !== undefined && !isTransport(o.transport)) parseTransport(o.transport);
  parsePortal(o.portal);
  const timings = { resolveMs: 0, checkMs: 0, discoverMs: 0, loginMs: 0, iscsidMs: 0, deviceMs: 0, deviceWaitMs: 0, totalMs: 0 };
  const loginTimings: { iscsidMs?: number; diskWaitMs?: number } = {};
  const phase = async <T>(name: 'resolve' | 'check' | 'discover' | 'login' | 'device', fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    emit({ type: 'phase', phase: name, status: 'start' });
    try {
      return await fn();
    } finally {
      const ms = Date.now() - s;
      timings[`${name}Ms`] += ms;
      emit({ type: 'phase', phase: name, status: 'done', ms });
    }
  };

  const { requested, choice: first } = await phase('resolve', () => chooseIface(o));
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

  const report: HardwareReport = await phase('check', () => checkHardware(choice.binding, { portal: o.portal, ...o.hardware, signal: o.signal }));
  if (!report.ok) {
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
    const found = await phase('discover', () => discover({ portal: o.portal, iface: via, auth: o.discoveryAuth, timeoutMs: Math.max(1000, deadline - Date.now()), signal: o.signal }));
    const t = pickTarget(found.targets, target, o.portal);
    target = t.name;
    const p = t.portals[0]!;
    portal = p.tpgt >= 0 ? `${p.portal},${p.tpgt}` : p.portal;
    emit({ type: 'decision', message: `target ${target} at ${portal}` });
  }

  // A target that does not serve the requested transport (iSER without an RDMA listener) fails only after
  // iscsid's login retries (~2 min with iscsid.conf's defaults): with a fallback to go to, one attempt is enough.
  const oneAttempt = () => (choice.transport !== 'tcp' && fallbackAllowed ? { options: { 'node.session.initial_login_retry_max': 0 } } : {});
  const doLogin = async () => {
    const s = await login({ target: target!, portal, iface: choice.iface, auth: o.auth, timeoutMs: Math.max(1000, deadline - Date.now()), signal: o.signal, timings: loginTimings, ...oneAttempt() });
    timings.iscsidMs += loginTimings.iscsidMs ?? 0;
    timings.deviceWaitMs += loginTimings.diskWaitMs ?? 0;
    loginTimings.iscsidMs = 0;
    loginTimings.diskWaitMs = 0;
    return s;
  };
  let s: Session;
  try {
    s = await phase('login', doLogin);
  } catch (e) {
    if (choice.transport !== 'tcp' && isTransportRelated(e) && fallBack(`login over ${choice.transport} failed: ${(e as Error).message}`)) {
      s = await phase('login', doLogin);
    } else {
      throw e;
    }
  }
  const waited = { ms: 0 };
  const { s: withDev, d } = await phase('device', () => waitForDevice(s, o.lun, Math.min(deadline, Date.now() + DEVICE_WAIT_MS), o.signal, waited));
  timings.deviceWaitMs += waited.ms;
  const luns = attached.get(s.sid) ?? new Set<number>();
  luns.add(d.lun);
  attached.set(s.sid, luns);
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
}
