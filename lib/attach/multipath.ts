// One volume over several paths: log in on every path at once (each with its own iface, transport and
// fallback), wait for the path devices (one WWID) and multipathd's map over them, and tear the map down
// safely: refuse a map in use, flush it, have multipathd remove it (device-mapper's ioctl when multipathd is
// absent or keeps refusing), then detach each path under the usual rules (disconnect() removes a device
// and logs out a session left without devices).
import { promises as fs } from 'node:fs';
import { blockDeviceInUse } from './devices';
import { fromNative, IscsiError, IscsiUnsupportedError, IscsiValidationError, throwIfAborted } from '../errors';
import { native, type NativeBinding } from '../native';
import { dmMap, multipathMapOf, multipathMaps, type DmMap } from '../read/dm';
import { sessions as listSessions } from '../read/sessions';
import { parsePortal } from '../validate';
import { sleepUnlessAborted } from '../deadline';
import type { Transport } from './transport';
import { multipathd, multipathdPaths, multipathdRunning, type MultipathdOptions, type MultipathdPath } from './multipathd';
import type { ConnectOptions, ConnectResult } from './connect';

export type MultipathMode = 'required' | 'preferred' | false;

/** One path: a portal, optionally with its own iface or transport (else the call's). */
export interface PathSpec {
  portal: string;
  iface?: string | undefined;
  transport?: Transport | undefined;
}

export interface MultipathPath {
  portal: string;
  sid?: number;
  iface?: string;
  transport?: { requested: Transport; used: Transport; fallbackReason?: string };
  blockDevice?: string;
  /**
   * With a map: multipathd's view, `<dm state>/<checker state>` (`active/ready`, `active/i/o pending` while
   * its first check is still running, `failed/faulty`, ...), or `unreported` when multipathd did not list the
   * path in the map within 5 s (its state is unknown). Without a map: `up` (logged in, device present).
   * A path whose login failed: `failed`, with `error`.
   */
  state: string;
  error?: { code: string; message: string };
}

export interface MultipathInfo {
  requested: MultipathMode;
  /** The map, when one was made. */
  map?: { dm: string; path: string; name: string; wwid: string };
  paths: MultipathPath[];
  /** Why there is no map (preferred without multipathd, a single path, ...). */
  reason?: string;
  /**
   * Where the time went, in ms: every path's connect() (in parallel), `multipathd add path` of each device,
   * waiting for the map to hold every device, reading the paths' states.
   */
  timings: { pathsMs: number; addPathMs: number; mapWaitMs: number; statesMs: number };
}

export interface MultipathDeps {
  connect: (o: ConnectOptions) => Promise<ConnectResult>;
  disconnect: (o: { sid: number; lun?: number; force?: boolean; timeoutMs?: number; signal?: AbortSignal }) => Promise<{ removed: string[]; unflushed?: string[]; loggedOut: boolean }>;
  multipathd?: MultipathdOptions;
  sysfsRoot?: string;
  /** Test seam for device-mapper's ioctl (default: the addon). */
  dm?: Pick<NativeBinding, 'dmRemoveMap'>;
  /** Test seam for the sessions that exist before the attach (default: sessions()). */
  sessions?: (target: string) => Promise<Array<{ sid: number }>>;
}

const MAP_WAIT_MS = 60_000;
const STATE_WAIT_MS = 5_000;
const ADD_PATH_RETRY_MS = 5_000;
const STATE_POLL_MS = 250;
// for the teardown's waits that do not stop on an abort (the map is gone: its paths are detached to the end)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pathSpecs(o: ConnectOptions): PathSpec[] {
  const raw = o.portals ?? [];
  if (!Array.isArray(raw) || raw.length === 0) throw new IscsiValidationError('INVALID_OPTIONS', 'portals must list at least one portal');
  if (raw.length > 32) throw new IscsiValidationError('INVALID_OPTIONS', `portals lists ${raw.length} paths; at most 32`);
  const specs = raw.map((p) => (typeof p === 'string' ? { portal: p } : p));
  const seen = new Set<string>();
  for (const s of specs) {
    if (typeof s !== 'object' || s === null || typeof s.portal !== 'string') throw new IscsiValidationError('INVALID_OPTIONS', 'each path is a portal string or { portal, iface?, transport? }');
    const p = parsePortal(s.portal);
    const key = `${p.host}:${p.port}|${s.iface ?? o.iface ?? ''}|${s.transport ?? o.transport ?? ''}`;
    if (seen.has(key)) throw new IscsiValidationError('INVALID_OPTIONS', `path ${s.portal} is listed twice`);
    seen.add(key);
  }
  return specs;
}

/**
 * Waits for one map holding every device. multipathd may not act on a device it was told of before udev
 * had processed it (it answers "fail", or keeps the path unused until udev's event, which can be lost to a
 * race with the path's removal and re-creation under the same name): every ADD_PATH_RETRY_MS the devices
 * not yet in the map are added again, which multipathd takes as a no-op for a path it already uses.
 */
async function waitForMap(devs: string[], until: number, o: { signal?: AbortSignal | undefined; sysfsRoot?: string | undefined; mpd: MultipathdOptions; emit: (m: string) => void }): Promise<DmMap | undefined> {
  let nextAdd = Date.now() + ADD_PATH_RETRY_MS;
  for (;;) {
    throwIfAborted(o.signal);
    const maps = await Promise.all(devs.map((d) => multipathMapOf(d, { sysfsRoot: o.sysfsRoot })));
    const first = maps[0];
    if (first && maps.every((m) => m?.dm === first.dm)) return first;
    if (Date.now() > until) return undefined;
    if (Date.now() >= nextAdd) {
      nextAdd = Date.now() + ADD_PATH_RETRY_MS;
      for (const [i, d] of devs.entries()) {
        if (maps[i] === undefined || maps[i]!.dm !== first?.dm) await addPath(d, o.mpd, o.emit, 'again');
      }
    }
    await sleepUnlessAborted(100, o.signal);
  }
}

async function addPath(dev: string, mpd: MultipathdOptions, emit: (m: string) => void, again = ''): Promise<void> {
  await multipathd(`add path ${dev}`, mpd).then(
    () => again && emit(`multipathd add path ${dev}: sent again, no map yet`),
    (e: unknown) => emit(`multipathd add path ${dev}${again ? ` (${again})` : ''}: ${(e as Error).message}`),
  );
}

/**
 * multipathd's view of the map's paths: polled (every 250 ms, at most 5 s and never past the deadline) until
 * it lists every device in this map. Its checker may not have answered yet ("i/o pending": the first
 * asynchronous check is running; "undef": not run): that is reported as it is, not waited for, so the
 * attach does not pay for a checker interval. A device it never listed is absent (the caller reports it
 * "unreported").
 */
async function pathStates(devs: string[], mapName: string, until: number, o: MultipathdOptions, emit: (m: string) => void): Promise<Map<string, MultipathdPath>> {
  let last = new Map<string, MultipathdPath>();
  for (;;) {
    throwIfAborted(o.signal);
    try {
      const listed = (await multipathdPaths(o)).filter((p) => devs.includes(p.dev) && p.map === mapName);
      last = new Map(listed.map((p) => [p.dev, p] as const));
      if (devs.every((d) => last.has(d))) return last;
    } catch (e) {
      if (Date.now() + STATE_POLL_MS > until) {
        emit(`multipathd show paths: ${(e as Error).message}`);
        return last;
      }
    }
    if (Date.now() + STATE_POLL_MS > until) {
      const missing = devs.filter((d) => !last.has(d));
      if (missing.length) emit(`multipathd does not list ${missing.join(', ')} in ${mapName} yet: state unreported`);
      return last;
    }
    await sleepUnlessAborted(STATE_POLL_MS, o.signal);
  }
}

/** connect() with `portals` (or `multipath` and one portal): see ConnectOptions. */
export async function connectMultipath(o: ConnectOptions, deps: MultipathDeps): Promise<ConnectResult> {
  throwIfAborted(o.signal);
  const mode: MultipathMode = o.multipath ?? 'preferred';
  if (mode !== 'required' && mode !== 'preferred' && mode !== false) throw new IscsiValidationError('INVALID_OPTIONS', `multipath must be 'required', 'preferred' or false, not ${JSON.stringify(mode)}`);
  if (o.target === undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'name the target when connecting several portals');
  const specs = pathSpecs(o);
  const deadline = Date.now() + (o.timeoutMs ?? 180_000);
  const emit = (message: string) => o.onEvent?.({ type: 'decision', message });
  const mpdOpts: MultipathdOptions = { ...deps.multipathd, signal: o.signal };

  let reason: string | undefined;
  if (mode !== false && !(await multipathdRunning(mpdOpts))) {
    if (mode === 'required') {
      throw new IscsiUnsupportedError('MULTIPATHD_NOT_RUNNING', 'multipath: required, but multipathd does not answer on its socket; nothing was logged in', {
        hint: 'start multipathd (and udevd), or use multipath: "preferred" to attach a single path',
      });
    }
    reason = 'multipathd is not running: attached a single path';
  }
  const wanted = mode === false || reason !== undefined ? specs.slice(0, 1) : specs;
  if (mode === false && specs.length > 1) reason = 'multipath: false: attached the first path only';
  const before = new Set((await (deps.sessions ?? ((target: string) => listSessions({ target })))(o.target)).map((s) => s.sid));

  // Every path at once, each with its own transport and fallback.
  const { portals: _p, multipath: _m, ...single } = o;
  const timings = { pathsMs: 0, addPathMs: 0, mapWaitMs: 0, statesMs: 0 };
  let t = Date.now();
  const results = await Promise.allSettled(
    wanted.map((s) =>
      deps.connect({
        ...single,
        portal: s.portal,
        iface: s.iface ?? o.iface,
        transport: s.iface !== undefined ? undefined : (s.transport ?? o.transport),
        timeoutMs: Math.max(1000, deadline - Date.now()),
      }),
    ),
  );
  timings.pathsMs = Date.now() - t;
  const paths: MultipathPath[] = results.map((r, i) =>
    r.status === 'fulfilled'
      ? {
          portal: wanted[i]!.portal,
          sid: r.value.session.sid,
          iface: r.value.transport.iface,
          transport: { requested: r.value.transport.requested, used: r.value.transport.used, ...(r.value.transport.fallbackReason ? { fallbackReason: r.value.transport.fallbackReason } : {}) },
          blockDevice: r.value.device.blockDevice ?? '',
          state: 'up',
        }
      : { portal: wanted[i]!.portal, state: 'failed', error: { code: (r.reason as IscsiError).code ?? 'ERROR', message: (r.reason as Error).message } },
  );
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // Undo what this call made: sessions that did not exist before.
  const rollback = async () => {
    for (const r of ok) if (!before.has(r.session.sid)) await deps.disconnect({ sid: r.session.sid, lun: r.device.lun, force: true }).catch(() => {});
  };
  if (ok.length === 0) {
    const first = results[0] as PromiseRejectedResult;
    throw first.reason;
  }
  const wwids = new Set(ok.map((r) => r.device.wwid ?? `(none: ${r.device.blockDevice})`));
  if (wwids.size > 1) {
    await rollback();
    throw new IscsiError('MULTIPATH_WWID_MISMATCH', `the paths' devices are different volumes (WWIDs ${[...wwids].join(', ')}); refusing to combine them`, { details: { paths } });
  }
  const primary = ok[0]!;
  const info: MultipathInfo = { requested: mode, paths, timings };
  if (reason === undefined && ok.length < wanted.length && mode === 'required') {
    // A path failed: the map goes on with the paths that work, and says which did not.
    emit(`${wanted.length - ok.length} of ${wanted.length} paths failed`);
  }
  if (reason === undefined) {
    const devs = ok.map((r) => r.device.blockDevice!);
    t = Date.now();
    for (const d of devs) await addPath(d, mpdOpts, emit);
    timings.addPathMs = Date.now() - t;
    t = Date.now();
    const map = await waitForMap(devs, Math.min(deadline, Date.now() + MAP_WAIT_MS), { signal: o.signal, sysfsRoot: deps.sysfsRoot, mpd: mpdOpts, emit });
    timings.mapWaitMs = Date.now() - t;
    if (!map) {
      if (mode === 'required') {
        // what multipathd made of the devices, for the error (read before the rollback removes them)
        const seen = await multipathdPaths(mpdOpts).then((l) => l.filter((x) => devs.includes(x.dev)), (e: unknown) => (e as Error).message);
        await rollback();
        throw new IscsiError('MULTIPATH_MAP_TIMEOUT', `multipathd made no map over ${devs.join(', ')} in time (it lists ${typeof seen === 'string' ? seen : JSON.stringify(seen)}); the paths were detached again`, {
          details: { paths, multipathd: seen },
          hint: 'check multipath.conf (blacklist, find_multipaths) and that udevd runs',
        });
      }
      info.reason = 'multipathd made no map over the paths in time: attached without one';
    } else {
      info.map = { dm: map.dm, path: map.path, name: map.name, wwid: map.wwid! };
      t = Date.now();
      const states = await pathStates(devs, map.name, Math.min(deadline, Date.now() + STATE_WAIT_MS), mpdOpts, emit);
      timings.statesMs = Date.now() - t;
      for (const p of paths) {
        if (p.blockDevice === undefined || p.error) continue;
        const s = states.get(p.blockDevice);
        p.state = s ? `${s.dmState}/${s.checkerState}` : 'unreported';
      }
      emit(`map ${map.dm} (${map.name}) over ${devs.join(', ')}`);
    }
  } else {
    info.reason = reason;
    emit(reason);
  }
  return { ...primary, multipath: info };
}

export interface MultipathDetachOptions {
  /** `dm-0`, the map's name, or its WWID. */
  map: string;
  force?: boolean | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

async function findMap(which: string, sysfsRoot: string | undefined): Promise<DmMap | undefined> {
  if (typeof which !== 'string' || which === '' || /[\s/\0]/.test(which)) throw new IscsiValidationError('INVALID_MAP', `map must be a dm name (dm-0), a map name or a WWID, not ${JSON.stringify(which)}`);
  if (/^dm-\d+$/.test(which)) {
    const m = await dmMap(which, { sysfsRoot });
    return m?.wwid !== undefined ? m : undefined;
  }
  return (await multipathMaps({ sysfsRoot })).find((m) => m.name === which || m.wwid === which);
}

/** The map's in-use check: devices.ts's, the same as for a path device (mounted, holders, open, busy). */
async function mapInUse(m: DmMap, sysfsRoot: string | undefined): Promise<string | undefined> {
  const u = await blockDeviceInUse(m.dm, sysfsRoot !== undefined ? { sysfsRoot } : {});
  if (!u) return undefined;
  return u.reason === 'mounted' ? `mounted on ${u.mountPoints!.join(', ')}`
    : u.reason === 'holders' ? `held by ${u.holders!.join(', ')}`
    : u.reason === 'open' ? `open by ${u.openers!.map((x) => `${x.comm} (pid ${x.pid})`).join(', ')}`
    : 'busy (claimed exclusively: a mount in another namespace, or an exclusive opener)';
}

const DM_BUSY_HINT = 'something still has the map open: close it and try again';

/**
 * Removes the map: through multipathd (`del map`), which also forgets it; when multipathd is not running,
 * or still refuses at the deadline, through device-mapper itself (DM_DEV_REMOVE on /dev/mapper/control, by
 * the map's uuid). Both refuse a map that is open, and udev opens it briefly after every change (an
 * unmount, a flush): refusals are retried until the deadline, as connectors retry `multipath -f`.
 */
async function removeMap(map: DmMap, until: number, mpdOpts: MultipathdOptions, deps: MultipathDeps): Promise<'multipathd' | 'device-mapper'> {
  let why: unknown;
  for (;;) {
    try {
      await multipathd(`del map ${map.name}`, mpdOpts);
      return 'multipathd';
    } catch (e) {
      why = e;
      if (!(e instanceof IscsiError) || (e.code !== 'MULTIPATHD_REFUSED' && e.code !== 'MULTIPATHD_NOT_RUNNING')) {
        throw new IscsiError('MULTIPATH_MAP_BUSY', `multipathd would not remove ${map.dm} (${map.name}); its paths were left attached`, { cause: e, hint: DM_BUSY_HINT });
      }
      if (e.code === 'MULTIPATHD_NOT_RUNNING' || Date.now() > until) break;
      await sleepUnlessAborted(250, mpdOpts.signal);
      throwIfAborted(mpdOpts.signal);
    }
  }
  const dm = deps.dm ?? native();
  for (;;) {
    try {
      await dm.dmRemoveMap(map.uuid);
      return 'device-mapper';
    } catch (e) {
      const err = fromNative(e, `removing ${map.dm}`);
      if (err instanceof IscsiError && err.code === 'DM_MAP_NOT_FOUND') return 'device-mapper'; // gone meanwhile
      if (!(err instanceof IscsiError && err.code === 'DM_MAP_BUSY') || Date.now() > until) {
        throw new IscsiError('MULTIPATH_MAP_BUSY', `neither multipathd (${(why as Error).message}) nor device-mapper (${(err as Error).message}) removed ${map.dm} (${map.name}); its paths were left attached`, {
          cause: err,
          hint: DM_BUSY_HINT,
        });
      }
      await sleepUnlessAborted(250, mpdOpts.signal);
      throwIfAborted(mpdOpts.signal);
    }
  }
}

export interface MultipathDetachResult {
  /** The map removed (`dm-N`); absent when there was none. */
  map?: string;
  /** Who removed it: multipathd (`del map`), or device-mapper's ioctl when multipathd was absent or refused. */
  removedBy?: 'multipathd' | 'device-mapper';
  /** The path devices deleted (H:C:T:L). */
  removed: string[];
  /** Of `removed`, the paths the kernel had taken offline (a dead path), deleted without a flush. */
  unflushed?: string[];
  /** The sessions logged out. */
  loggedOut: number[];
}

/**
 * Detaches a multipath volume: refuses a map that is mounted, held or open (DEVICE_IN_USE) unless forced,
 * flushes it, removes it (removeMap), then detaches each path (removing its device and logging out a
 * session left without devices). Idempotent: a map that is gone already is not an error.
 */
export async function disconnectMultipath(o: MultipathDetachOptions, deps: MultipathDeps): Promise<MultipathDetachResult> {
  throwIfAborted(o.signal);
  const map = await findMap(o.map, deps.sysfsRoot);
  if (!map) return { removed: [], loggedOut: [] };
  const mpdOpts: MultipathdOptions = { ...deps.multipathd, signal: o.signal };
  if (!o.force) {
    const busy = await mapInUse(map, deps.sysfsRoot);
    if (busy) throw new IscsiError('DEVICE_IN_USE', `${map.path} (${map.name}) is ${busy}; nothing was removed`, { details: { device: map.dm, reason: busy }, hint: 'unmount or close it first, or pass force: true' });
  }
  // Which session and LUN each path is, read before the map goes.
  const all = await listSessions();
  const paths = map.slaves.flatMap((dev) => all.flatMap((s) => s.devices.filter((d) => d.blockDevice === dev).map((d) => ({ dev, sid: s.sid, lun: d.lun }))));
  const h = await fs.open(map.path, 'r').catch(() => undefined);
  if (h) {
    try {
      await h.sync();
    } catch (e) {
      throw new IscsiError('FLUSH_FAILED', `flushing ${map.path} failed; the map was not removed`, { cause: e });
    } finally {
      await h.close();
    }
  }
  const until = Date.now() + (o.timeoutMs ?? 30_000);
  const removedBy = await removeMap(map, until, mpdOpts, deps);
  while (await dmMap(map.dm, { sysfsRoot: deps.sysfsRoot })) {
    if (Date.now() > until) throw new IscsiError('MULTIPATH_MAP_BUSY', `${removedBy} accepted the removal of ${map.name} but ${map.dm} is still there`);
    await sleep(50);
  }
  const removed: string[] = [];
  const unflushed: string[] = [];
  const loggedOut: number[] = [];
  for (const p of paths) {
    // udev probes the paths once the map is gone: a path briefly open by it is retried until the deadline
    let r: Awaited<ReturnType<MultipathDeps['disconnect']>>;
    for (;;) {
      try {
        r = await deps.disconnect({ sid: p.sid, lun: p.lun, ...(o.force ? { force: true } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
        break;
      } catch (e) {
        if (!(e instanceof IscsiError && e.code === 'DEVICE_IN_USE') || Date.now() > until) throw e;
        await sleep(250);
      }
    }
    removed.push(...r.removed);
    unflushed.push(...(r.unflushed ?? []));
    if (r.loggedOut) loggedOut.push(p.sid);
  }
  return { map: map.dm, removedBy, removed, ...(unflushed.length ? { unflushed } : {}), loggedOut };
}
