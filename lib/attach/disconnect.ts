// disconnect(): detaches from the kernel's state alone, so the answer is the same in any process, after a
// restart and from the CLI. It removes only the devices asked for, refuses (and removes nothing) when any
// of them is in use, flushes before it deletes, and logs the session out only when no LUN of it is left
// that keeps it (devices.ts: keepsSession). It decides and acts holding the session key's lock, the one
// login() holds (connect() until its LUN's device is there): a session another call is attaching is not
// logged out under it.
import { IscsiAbortError, IscsiError, IscsiTimeoutError, throwIfAborted } from '../errors';
import { LOCK_DIR, sessionLockName, withLocks } from '../files/locks';
import { checkDisconnectOptions } from './inputs';
import { logout } from '../iscsid/session-calls';
import { session as readSession, type ScsiDevice, type Session } from '../read/sessions';
import { claimDevices, deleteScsiDevice, flushClaims, keepsSession, releaseClaims, type DeviceEnv, type InUse } from './devices';

export interface DisconnectOptions {
  sid: number;
  /** Only this LUN's device; default every LUN of the session (and then the session). */
  lun?: number | undefined;
  /** Remove devices even when they are mounted, held or open; the flush is still required. */
  force?: boolean | undefined;
  /** Whole-call deadline (default 60 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  sysfsRoot?: string | undefined;
  /** Test seams. */
  deps?: DisconnectDeps | undefined;
}

export interface DisconnectDeps {
  /** The session as the kernel has it now; undefined when there is none. */
  readSession?: (sid: number) => Promise<Session | undefined>;
  logout?: (sid: number, o: { timeoutMs: number; signal?: AbortSignal | undefined }) => Promise<void>;
  env?: DeviceEnv;
  /** Where the session locks are (default LOCK_DIR). */
  lockDir?: string;
  /** Runs `fn` holding the session's locks (default withLocks in lockDir). */
  lock?: <T>(s: Session, fn: () => Promise<T>) => Promise<T>;
}

export interface DisconnectResult {
  /** The SCSI addresses (H:C:T:L) deleted by this call. */
  removed: string[];
  /**
   * Of `removed`, the devices the kernel had taken offline (cannot be opened, so deleted without a flush);
   * present only when there were some.
   */
  unflushed?: string[];
  /** Whether this call logged the session out. */
  loggedOut: boolean;
  /** The LUNs that still keep the session logged in (empty once it is logged out or gone). */
  remaining: number[];
}

const DEFAULT_TIMEOUT_MS = 60_000;

async function kernelSession(sid: number, o: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<Session | undefined> {
  return readSession(sid, { timeoutMs: o.timeoutMs, signal: o.signal }).catch((e: unknown) => {
    if (e instanceof IscsiError && e.code === 'SESSION_NOT_FOUND') return undefined;
    throw e;
  });
}

function describeInUse(u: InUse): string {
  const why =
    u.reason === 'mounted' ? `mounted on ${u.mountPoints!.join(', ')}`
    : u.reason === 'holders' ? `held by ${u.holders!.join(', ')}`
    : u.reason === 'open' ? `open by ${u.openers!.map((x) => `${x.comm} (pid ${x.pid})`).join(', ')}`
    : 'busy (claimed exclusively by something: a mount in another namespace, swap, or an exclusive opener)';
  return `/dev/${u.device} (LUN ${u.lun}, ${u.hctl}) is ${why}`;
}

/** The in-use refusal: which devices and why; nothing was removed. */
export function deviceInUseError(sid: number, inUse: InUse[]): IscsiError {
  return new IscsiError('DEVICE_IN_USE', `session ${sid}: ${inUse.map(describeInUse).join('; ')}; nothing was removed`, {
    details: { sid, devices: inUse },
    hint: 'unmount it or stop what holds it first; force: true removes it anyway',
  });
}

/** A clock for one call: each step gets what is left, and nothing runs after the deadline or an abort. */
function budget(timeoutMs: number, signal: AbortSignal | undefined) {
  const until = Date.now() + timeoutMs;
  return {
    until,
    left(what: string): number {
      if (signal?.aborted) throw new IscsiAbortError(`disconnect was aborted before ${what}`);
      const ms = until - Date.now();
      if (ms <= 0) throw new IscsiTimeoutError('TIMEOUT', `disconnect did not finish within ${timeoutMs} ms (before ${what})`);
      return ms;
    },
    async step<T>(what: string, work: () => Promise<T>): Promise<T> {
      const ms = this.left(what);
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const p = work();
      try {
        return await Promise.race([
          p,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new IscsiTimeoutError('TIMEOUT', `disconnect did not finish within ${timeoutMs} ms (${what})`)), ms);
            onAbort = () => reject(new IscsiAbortError(`disconnect was aborted during ${what}`));
            signal?.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        p.catch(() => {});
      }
    },
  };
}

/**
 * The detach itself, also used by connect() to undo a failed attach. `luns` undefined: the whole session.
 */
export async function detach(
  sid: number,
  luns: number[] | undefined,
  o: { force: boolean; timeoutMs: number; signal?: AbortSignal | undefined; deps?: DisconnectDeps | undefined; sysfsRoot?: string | undefined },
): Promise<DisconnectResult> {
  const deps = o.deps ?? {};
  const env: DeviceEnv = { ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}), ...deps.env };
  const b = budget(o.timeoutMs, o.signal);
  const read = (what: string) => b.step(what, () => (deps.readSession ? deps.readSession(sid) : kernelSession(sid, { timeoutMs: b.left(what), signal: o.signal })));
  const first = await read('reading the session');
  if (!first) return { removed: [], loggedOut: false, remaining: [] };
  // The key's lock, under the addresses login() may have used (the portal asked for, and where it is now)
  const locked = () => detachLocked(sid, luns, o, deps, env, b, read);
  return (deps.lock ? deps.lock(first, locked) : withLocks(sessionLockNames(first), { dir: deps.lockDir ?? LOCK_DIR, deadline: b.until, signal: o.signal }, locked)).catch((e: unknown) => {
    if (e instanceof IscsiTimeoutError && e.code === 'LOCK_TIMEOUT') {
      throw new IscsiTimeoutError('SESSION_LOCKED', `session ${sid}: another call is attaching to or detaching it (its target, portal and iface are locked) past the deadline`, {
        cause: e,
        errno: 11,
        details: { sid, ...e.details },
        hint: 'retry once that connect() or disconnect() has finished',
      });
    }
    throw e;
  });
}

function sessionLockNames(s: Session): string[] {
  const names = [sessionLockName(s.targetName, s.address, s.port, s.iface.name)];
  if (s.persistentAddress) names.push(sessionLockName(s.targetName, s.persistentAddress, s.persistentPort, s.iface.name));
  return names;
}

/** detach() holding the key's lock: the session is read again, since another call may have changed it. */
async function detachLocked(
  sid: number,
  luns: number[] | undefined,
  o: { force: boolean; timeoutMs: number; signal?: AbortSignal | undefined },
  deps: DisconnectDeps,
  env: DeviceEnv,
  b: ReturnType<typeof budget>,
  read: (what: string) => Promise<Session | undefined>,
): Promise<DisconnectResult> {
  const current = await read('reading the session under its lock');
  if (!current) return { removed: [], loggedOut: false, remaining: [] };

  const targets: ScsiDevice[] = luns === undefined ? current.devices.filter(keepsSession) : current.devices.filter((d) => luns.includes(d.lun));
  const removed: string[] = [];
  const unflushed: string[] = [];
  if (targets.length > 0) {
    // Every device is checked (and held exclusively) before any is flushed or removed.
    const claiming = claimDevices(targets, { force: o.force, env });
    const { claims, inUse } = await b.step('checking the devices', () => claiming).catch((e: unknown) => {
      void claiming.then((r) => releaseClaims(r.claims), () => {}); // late claims are let go, not kept
      throw e;
    });
    if (inUse.length > 0) throw deviceInUseError(sid, inUse);
    let released = false;
    try {
      await b.step('flushing the devices', () => flushClaims(claims));
      for (const c of claims) {
        if (await b.step(`deleting ${c.device.hctl}`, () => deleteScsiDevice(c.device, env))) {
          removed.push(c.device.hctl);
          if (c.offline !== undefined) unflushed.push(c.device.hctl);
        }
      }
    } catch (e) {
      // A step that timed out may still be running in the pool: close behind it, do not wait for it.
      released = true;
      void releaseClaims(claims);
      throw e;
    } finally {
      if (!released) await releaseClaims(claims);
    }
  }

  // What is left is read again from the kernel: another process may have removed or added LUNs meanwhile.
  const off = unflushed.length > 0 ? { unflushed } : {};
  const after = await read('reading the session again');
  if (!after) return { removed, ...off, loggedOut: false, remaining: [] };
  const remaining = after.devices.filter(keepsSession).map((d) => d.lun);
  if (remaining.length > 0) return { removed, ...off, loggedOut: false, remaining };
  try {
    await b.step('logging out', () =>
      deps.logout ? deps.logout(sid, { timeoutMs: b.left('logging out'), signal: o.signal }) : logout({ sid }, { timeoutMs: b.left('logging out'), signal: o.signal }).then(() => {}),
    );
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'SESSION_NOT_FOUND') return { removed, ...off, loggedOut: false, remaining: [] };
    throw e;
  }
  return { removed, ...off, loggedOut: true, remaining: [] };
}

/**
 * Detaches one LUN (`lun`) or the whole session, deciding from the kernel's state only:
 * - removes only the SCSI devices asked for (flushed first: a failed flush is DEVICE_FLUSH_FAILED and
 *   nothing is removed);
 * - refuses with DEVICE_IN_USE, removing nothing, when any of them is mounted, has holders, is open by a
 *   process or is claimed exclusively (unless `force`);
 * - logs the session out when no LUN that keeps it is left (a target's controller LUN does not);
 * - is idempotent: a session or LUN already gone is nothing to do.
 */
export async function disconnect(o: DisconnectOptions): Promise<DisconnectResult> {
  checkDisconnectOptions(o);
  throwIfAborted(o.signal);
  const { sid, lun } = o;
  return detach(sid, lun === undefined ? undefined : [lun], {
    force: o.force === true,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: o.signal,
    deps: o.deps,
    sysfsRoot: o.sysfsRoot,
  });
}
