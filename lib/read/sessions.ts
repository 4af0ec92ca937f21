// Sessions: the fields iscsi_session_get() reports plus what only sysfs knows (states, host, devices), read
// by the addon from sysfs (or, with source: 'libopeniscsiusr', through libopeniscsiusr itself).
import { readFile } from 'node:fs/promises';
import { native, NativeLunField as L, NativeSessionField as F, type NativeBinding, type NativeIface, type NativeScsiDeviceRow, type NativeSessionRow } from '../native';
import { fromNative, IscsiError, IscsiPermissionError, IscsiValidationError } from '../errors';
import { checkCommonOptions, checkSid, checkSids, describeValue, validateIscsiName } from '../validate';
import { MAX_TIMER_MS, withDeadline, type WaitOptions } from '../deadline';
import { holdersOf } from './dm';

/** A LUN of a session; the optional fields are absent when sysfs does not have them. */
export interface ScsiDevice {
  /** `H:C:T:L`, with the session's own target id. */
  hctl: string;
  host: number;
  channel: number;
  target: number;
  lun: number;
  /** SCSI device state: running, offline, blocked, ... */
  state?: string;
  /** SCSI peripheral device type (0 disk, 5 CD/DVD, 12 controller, ...). */
  type?: number;
  vendor?: string;
  model?: string;
  revision?: string;
  /** The block device's name (`sdb`), when a block driver has bound the LUN. */
  blockDevice?: string;
  sizeBytes?: number;
  wwid?: string;
  /** The devices stacked on the block device (e.g. `['dm-0']`, its multipath map), when there are any. */
  holders?: string[];
}
export type SessionIface = NativeIface;

export interface Session {
  sid: number;
  targetName: string;
  tpgt: number;
  address: string;
  port: number;
  persistentAddress: string;
  persistentPort: number;
  iface: SessionIface;
  initiatorName: string;
  /** CHAP user names; passwords are never read into the result. */
  username?: string;
  usernameIn?: string;
  timeouts: { recovery: number; luReset: number; tgtReset: number; abort: number };
  /** Session state from sysfs: LOGGED_IN, FAILED, FREE. */
  state?: string;
  /** Connection state on kernels that expose it: up, down, failed, bound. */
  connectionState?: string;
  /** SCSI host number (`hostH`). */
  hostNo?: number;
  /** The session's SCSI target id: the T in H:C:T:L. */
  targetId?: number;
  devices: ScsiDevice[];
}

export interface SessionReadOptions extends WaitOptions {
  /**
   * `sysfs` (default): the addon's own reader, which keeps the attribute files it read open for
   * re-reading (see `keepOpenMs`).
   * `libopeniscsiusr`: its iscsi_session_get(), opening every file anew, completed by the addon's reader
   * for what only sysfs has (states, host, devices); the same fields.
   */
  source?: 'sysfs' | 'libopeniscsiusr' | undefined;
  /**
   * How long after this read the sysfs files the reader opened stay open for the next read, in ms: a
   * whole number from 0 to 2147483647, default 10000. They close when every read's time has run out, so
   * a shorter time (such as an attach path's default) never cuts a longer one short; 0 asks for nothing
   * beyond this read. A loop that polls less often than every 10 s passes more than its interval: a read
   * after they closed opens every file again (bench/README.md: about 4 times the cost of a kept read).
   */
  keepOpenMs?: number | undefined;
  /** Test seam: the native binding. */
  binding?: Pick<NativeBinding, 'getSessions' | 'getSession'> & Partial<Pick<NativeBinding, 'releaseSysfsFds'>>;
  /** Test seam: /proc/self/status, to read the effective capabilities. */
  procStatusPath?: string;
}

export interface SessionsOptions extends SessionReadOptions {
  /** Only the sessions to this target; the others are skipped after one sysfs read each. */
  target?: string | undefined;
  /** Only these sessions (those that exist); the others are not read. */
  sids?: number[] | undefined;
}

const CAP_SYS_ADMIN = 21;
const KEEP_OPEN_MS = 10_000;
let releaseTimer: NodeJS.Timeout | undefined;
let timerAt = 0; // performance.now() at which releaseTimer fires
let releaseAt = 0; // performance.now() until which some read asked the files to stay open
let releaseLast: (() => void) | undefined;

/** The call's keepOpenMs, checked before anything is read: a bad value fails the call and changes nothing. */
function keepOpenMs(o: SessionReadOptions): number {
  const v = o.keepOpenMs;
  if (v === undefined) return KEEP_OPEN_MS;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TIMER_MS) {
    throw new IscsiValidationError('INVALID_OPTION', `keepOpenMs must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describeValue(v)}`, {
      hint: 'leave it out for the default (10000), or pass e.g. 120000 for a loop that polls every minute',
    });
  }
  return v;
}

/**
 * After the last read, the kept sysfs descriptors are closed: a monitoring loop keeps them, an attach path
 * does not. Each read asks to keep them until its end + its keepOpenMs; they close at the latest such
 * time. One unref'd timer, not one per read: when it fires before that time, it waits out the rest.
 */
function releaseWhenIdle(binding: SessionReadOptions['binding'] & object, keepMs: number): void {
  const release = binding.releaseSysfsFds;
  if (!release) return;
  const now = performance.now();
  releaseAt = Math.max(releaseAt, now + keepMs);
  releaseLast = () => release.call(binding);
  if (releaseTimer && timerAt <= releaseAt) return;
  armReleaseTimer(releaseAt);
}

function armReleaseTimer(at: number): void {
  timerAt = at;
  releaseTimer = setTimeout(() => {
    releaseTimer = undefined;
    if (performance.now() < releaseAt) return armReleaseTimer(releaseAt);
    releaseAt = 0;
    releaseLast?.();
  }, Math.max(0, at - performance.now())).unref();
}

function sourceOption(o: SessionReadOptions): { libopeniscsiusr?: boolean } {
  if (o.source === undefined || o.source === 'sysfs') return {};
  if (o.source === 'libopeniscsiusr') return { libopeniscsiusr: true };
  throw new IscsiValidationError('INVALID_OPTION', `source must be 'sysfs' or 'libopeniscsiusr', got ${describeValue(o.source)}`);
}

async function hasSysAdmin(statusPath: string): Promise<boolean | undefined> {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile(statusPath, 'utf8'));
    if (!m) return undefined;
    return (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_SYS_ADMIN))) !== 0n;
  } catch {
    return undefined;
  }
}

// Index access, not destructuring: in code not yet optimised, a tuple's destructuring goes through the
// iterator protocol (measured: 15 times slower on an attach path's first calls).
function toDevice(r: NativeScsiDeviceRow): ScsiDevice {
  const d: ScsiDevice = { hctl: r[L.Hctl], host: r[L.Host], channel: r[L.Channel], target: r[L.Target], lun: r[L.Lun] };
  const state = r[L.State], type = r[L.Type], vendor = r[L.Vendor], model = r[L.Model], revision = r[L.Revision];
  const blockDevice = r[L.BlockDevice], sizeBytes = r[L.SizeBytes], wwid = r[L.Wwid];
  if (state !== null) d.state = state;
  if (type !== null) d.type = type;
  if (vendor !== null) d.vendor = vendor;
  if (model !== null) d.model = model;
  if (revision !== null) d.revision = revision;
  if (blockDevice !== null) d.blockDevice = blockDevice;
  if (sizeBytes !== null) d.sizeBytes = sizeBytes;
  if (wwid !== null) d.wwid = wwid;
  return d;
}

function toSession(r: NativeSessionRow): Session {
  const present = r[F.Present];
  const devices = present ? r[F.Devices].map(toDevice) : [];
  const out: Session = {
    sid: r[F.Sid],
    targetName: r[F.TargetName],
    tpgt: r[F.Tpgt],
    address: r[F.Address],
    port: r[F.Port],
    persistentAddress: r[F.PersistentAddress],
    persistentPort: r[F.PersistentPort],
    iface: {
      // libopeniscsiusr derives offload iface names (<transport>.<hw>.ipv4.0) even when the session was
      // logged in through another iface; the kernel's own record of the name wins.
      name: (present && r[F.KernelIfaceName]) || r[F.IfaceName],
      transport: r[F.Transport],
      hwaddress: r[F.Hwaddress],
      ipaddress: r[F.Ipaddress],
      netdev: r[F.Netdev],
      initiatorName: r[F.InitiatorName],
      portState: r[F.PortState],
      portSpeed: r[F.PortSpeed],
      isDefault: r[F.IsDefault],
    },
    initiatorName: r[F.InitiatorName],
    timeouts: { recovery: r[F.RecoveryTmo], luReset: r[F.LuResetTmo], tgtReset: r[F.TgtResetTmo], abort: r[F.AbortTmo] },
    devices,
  };
  if (r[F.Username]) out.username = r[F.Username];
  if (r[F.UsernameIn]) out.usernameIn = r[F.UsernameIn];
  if (!present) return out;
  const state = r[F.State], connectionState = r[F.ConnectionState], hostNo = r[F.HostNo];
  if (state !== null) out.state = state;
  if (connectionState !== null) out.connectionState = connectionState;
  if (hostNo !== null) out.hostNo = hostNo;
  const targetId = r[F.TargetId] ?? devices[0]?.target;
  if (targetId !== undefined) out.targetId = targetId;
  return out;
}

/**
 * Every iSCSI session the kernel has, with devices. Raises IscsiPermissionError instead of returning an
 * empty or partial list when sessions could not be read (Linux >= 5.12 hides the CHAP attributes from
 * callers without CAP_SYS_ADMIN; libopeniscsiusr then silently skips the session, and so does the reader).
 */
export async function sessions(o: SessionsOptions = {}): Promise<Session[]> {
  checkCommonOptions(o);
  const target = o.target === undefined ? undefined : validateIscsiName(o.target, 'target');
  const sids = o.sids === undefined ? undefined : checkSids(o.sids);
  const source = sourceOption(o);
  const keepMs = keepOpenMs(o);
  const binding = o.binding ?? native();
  const run = async () => {
    let listing;
    try {
      listing = await binding.getSessions({ ...source, ...(target === undefined ? {} : { target }), ...(sids === undefined ? {} : { sids }) });
    } catch (e) {
      throw fromNative(e, 'listing sessions');
    } finally {
      releaseWhenIdle(binding, keepMs);
    }
    const seen = new Set(listing.sessions.map((s) => s[F.Sid]));
    const missing = listing.sysfsSessionIds.filter((sid) => !seen.has(sid));
    // Without CAP_SYS_ADMIN, a sid that sysfs lists but the reader left out was dropped for lack of privilege.
    if (missing.length > 0 && (await hasSysAdmin(o.procStatusPath ?? '/proc/self/status')) === false) {
      throw new IscsiPermissionError(
        'SESSIONS_PERMISSION_DENIED',
        `${missing.length} of ${listing.sysfsSessionIds.length} session(s) cannot be read without CAP_SYS_ADMIN (sid ${missing.join(', ')})`,
        { hint: 'the kernel hides CHAP attributes from processes without CAP_SYS_ADMIN; run as root', details: { missing } },
      );
    }
    const all = listing.sessions.map(toSession).filter((s) => (target === undefined || s.targetName === target) && (sids === undefined || sids.includes(s.sid)));
    await addHolders(all);
    return all;
  };
  return withDeadline(run(), 'listing sessions', o, 35_000);
}

/** Which map (or other device) holds each block device: read at every call, since maps come and go. */
async function addHolders(list: Session[]): Promise<void> {
  await Promise.all(
    list.flatMap((s) =>
      s.devices.map(async (d) => {
        if (d.blockDevice === undefined) return;
        const h = await holdersOf(d.blockDevice);
        if (h.length) d.holders = h;
      }),
    ),
  );
}

/** One session by sid; IscsiError code SESSION_NOT_FOUND when there is none. */
export async function session(sid: number, o: SessionReadOptions = {}): Promise<Session> {
  checkSid(sid);
  checkCommonOptions(o);
  const source = sourceOption(o);
  const keepMs = keepOpenMs(o);
  const binding = o.binding ?? native();
  const run = async () => {
    let s: NativeSessionRow;
    try {
      s = await binding.getSession(sid, source);
    } catch (e) {
      const err = fromNative(e, `reading session ${sid}`);
      if (err instanceof IscsiError && err.code === 'USR_SESS_NOT_FOUND') {
        throw new IscsiError('SESSION_NOT_FOUND', `there is no iSCSI session ${sid}`, { errno: err.errno ?? 2, cause: err, hint: 'list the current ones with sessions()' });
      }
      // The same trap as in sessions(): the kernel hides the CHAP attributes.
      if (err instanceof IscsiPermissionError) {
        throw new IscsiPermissionError('SESSIONS_PERMISSION_DENIED', `session ${sid} cannot be read without CAP_SYS_ADMIN`, {
          ...(err.errno !== undefined ? { errno: err.errno } : {}),
          cause: err,
          hint: 'the kernel hides CHAP attributes from processes without CAP_SYS_ADMIN; run as root',
          details: { missing: [sid] },
        });
      }
      throw err;
    } finally {
      releaseWhenIdle(binding, keepMs);
    }
    const one = toSession(s);
    await addHolders([one]);
    return one;
  };
  return withDeadline(run(), `reading session ${sid}`, o, 35_000);
}
