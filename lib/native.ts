// The only module that loads the addon. Importing the package never fails: when the addon or
// libopeniscsiusr cannot be loaded, every native call rejects with one actionable IscsiUnsupportedError.
import * as path from 'node:path';
import bindings from 'bindings';
import { IscsiUnsupportedError } from './errors';

export interface NativeIface {
  name: string;
  transport: string;
  hwaddress: string;
  ipaddress: string;
  netdev: string;
  initiatorName: string;
  portState: string;
  portSpeed: string;
  isDefault: boolean;
}

// Sessions and their LUNs cross from the addon as positional rows, not objects: JSON.parse reads 16
// sessions' rows in about half the time (measured in the lab), and sessions() is called by monitoring
// loops. The order is native/usr/records.cc's; lib/read/sessions.ts names the fields. null: sysfs did not have it.

/** A LUN, in the order of NativeLunField. */
export type NativeScsiDeviceRow = readonly [
  hctl: string, host: number, channel: number, target: number, lun: number,
  state: string | null, type: number | null, vendor: string | null, model: string | null, revision: string | null,
  blockDevice: string | null, sizeBytes: number | null, wwid: string | null,
];

export const enum NativeLunField {
  Hctl, Host, Channel, Target, Lun, State, Type, Vendor, Model, Revision, BlockDevice, SizeBytes, Wwid,
}

/**
 * A session, in the order of NativeSessionField: what libopeniscsiusr (or the addon's reader of the same
 * files) gives, then the iface it derives, then what the addon read from sysfs (`present`: the session's
 * sysfs directory was there; `kernelIfaceName`: the kernel's own ifacename attribute).
 */
export type NativeSessionRow = readonly [
  sid: number, targetName: string, address: string, port: number, persistentAddress: string, persistentPort: number, tpgt: number,
  username: string, usernameIn: string, recoveryTmo: number, luResetTmo: number, tgtResetTmo: number, abortTmo: number,
  ifaceName: string, transport: string, hwaddress: string, ipaddress: string, netdev: string, initiatorName: string,
  portState: string, portSpeed: string, isDefault: boolean,
  present: boolean, state: string | null, connectionState: string | null, kernelIfaceName: string | null,
  hostNo: number | null, targetId: number | null, devices: readonly NativeScsiDeviceRow[],
];

export const enum NativeSessionField {
  Sid, TargetName, Address, Port, PersistentAddress, PersistentPort, Tpgt,
  Username, UsernameIn, RecoveryTmo, LuResetTmo, TgtResetTmo, AbortTmo,
  IfaceName, Transport, Hwaddress, Ipaddress, Netdev, InitiatorName, PortState, PortSpeed, IsDefault,
  Present, State, ConnectionState, KernelIfaceName, HostNo, TargetId, Devices,
}

export interface NativeSessionReadOptions {
  target?: string;
  /** Only these sessions are read in full. */
  sids?: number[];
  /** Read through libopeniscsiusr's iscsi_session_get() instead of the addon's own sysfs reader. */
  libopeniscsiusr?: boolean;
}

export interface NativeSessionList {
  sessions: readonly NativeSessionRow[];
  /** Every sid in /sys/class/iscsi_session at the time of the listing (that matched the target filter). */
  sysfsSessionIds: number[];
}

export interface NativeNode {
  targetName: string;
  address: string;
  port: number;
  portal: string;
  tpgt: number;
  ifaceName: string;
  ipv6: boolean;
}

export interface NativeIscsidStats {
  txdataOctets: number;
  rxdataOctets: number;
  noptxPdus: number;
  scsicmdPdus: number;
  tmfcmdPdus: number;
  loginPdus: number;
  textPdus: number;
  dataoutPdus: number;
  logoutPdus: number;
  snackPdus: number;
  noprxPdus: number;
  scsirspPdus: number;
  tmfrspPdus: number;
  textrspPdus: number;
  datainPdus: number;
  logoutrspPdus: number;
  r2tPdus: number;
  asyncPdus: number;
  rjtPdus: number;
  digestErr: number;
  timeoutErr: number;
  custom: Array<{ name: string; value: number }>;
}

/** iscsid's answer, decoded in every form; which fields mean something depends on the command. */
export interface NativeIpcResponse {
  command: number;
  err: number;
  sessionState: number;
  connState: number;
  var: string;
  stats: NativeIscsidStats;
}

export interface NativeIpcHandle {
  promise: Promise<NativeIpcResponse>;
  cancel(): void;
}

/** The addon's export table, exactly as native/ registers it. */
export interface NativeBinding {
  readonly addonVersion: string;
  readonly napiVersion: number;
  readonly hasLibopeniscsiusr: boolean;
  /**
   * Every session, or only `target`'s (the others are not read in full); from sysfs, or libopeniscsiusr.
   * Rows are frozen, and a row whose bytes did not change is the same object as in the last listing.
   */
  getSessions(options?: NativeSessionReadOptions): Promise<NativeSessionList>;
  getSession(sid: number, options?: Omit<NativeSessionReadOptions, 'target' | 'sids'>): Promise<NativeSessionRow>;
  /**
   * Closes the sysfs descriptors the session reader keeps for re-reading, and ends its idle helper
   * threads (kept so that a listing need not start one); returns how many descriptors it held. The
   * parsed rows kept for reuse stay (native/usr/session_row_cache.h).
   */
  releaseSysfsFds(): number;
  /**
   * The listings that take open-iscsi's database lock reject with code DB_LOCK_HELD, without calling
   * libopeniscsiusr, while `lockFile` (default /run/lock/iscsi/lock.write) exists.
   */
  getIfaces(lockFile?: string): Promise<NativeIface[]>;
  getIface(name: string): Promise<NativeIface>;
  setupDefaultIfaces(lockFile?: string): Promise<NativeIface[]>;
  getNodes(lockFile?: string): Promise<NativeNode[]>;
  /** iscsiadm request bytes for an ABI family; `record` is a LoginRecord (lib/iscsid/record.ts). */
  buildRequest(family: string, command: number, sid: number, record?: object): Buffer;
  requestSize(family: string): number;
  /** One exchange with iscsid on its own thread; cancel() aborts the wait. */
  ipcRequest(request: Buffer, timeoutMs: number, socketName?: string): NativeIpcHandle;
  /** One command to multipathd over its socket (peer checked to be root); resolves with its answer text. */
  multipathdCommand(command: string, timeoutMs: number, socketName?: string): Promise<string>;
}

export interface NativeStatus {
  loaded: boolean;
  libopeniscsiusr: boolean;
  error?: IscsiUnsupportedError;
}

const packageRoot = path.join(__dirname, '..');

function describeLoadFailure(e: unknown): IscsiUnsupportedError {
  const text = e instanceof Error ? e.message : String(e);
  let hint: string;
  if (process.platform !== 'linux') {
    hint = 'openiscsi drives the Linux open-iscsi stack and only runs on Linux';
  } else if (/libopeniscsiusr/.test(text)) {
    hint = 'libopeniscsiusr.so.0 is missing: install it (Debian/Ubuntu: apt-get install libopeniscsiusr; to build: libopeniscsiusr-dev)';
  } else if (/Could not locate the bindings file|Cannot find module/.test(text)) {
    hint = 'the native addon is not built: run `npm rebuild openiscsi` (needs python3, make, g++ and libopeniscsiusr-dev)';
  } else if (/ERR_DLOPEN_DISABLED|dlopen/.test(text)) {
    hint = 'this Node.js process cannot load native addons (--no-addons or a policy forbids it)';
  } else {
    hint = 'reinstall the package or rebuild it with `npm rebuild openiscsi`';
  }
  return new IscsiUnsupportedError('NATIVE_UNAVAILABLE', `openiscsi native addon could not be loaded (${text.split('\n')[0]})`, {
    hint,
    cause: e,
  });
}

interface LoadResult {
  binding?: NativeBinding;
  error?: IscsiUnsupportedError;
}

let cached: LoadResult | undefined;

function load(): LoadResult {
  cached ??= loadFrom(packageRoot);
  return cached;
}

/** Loads the addon from a package root (build/ or prebuilds/); exported for tests. */
export function loadFrom(root: string): LoadResult {
  try {
    const binding = bindings({
      bindings: 'openiscsi.node',
      module_root: root,
      try: [
        ['module_root', 'build', 'Release', 'bindings'],
        ['module_root', 'build', 'Debug', 'bindings'],
        // `npm run prebuildify` (prebuildify --napi) writes prebuilds/<platform>-<arch>/openiscsi.node
        ['module_root', 'prebuilds', `${process.platform}-${process.arch}`, 'bindings'],
      ],
    }) as NativeBinding;
    return binding.hasLibopeniscsiusr
      ? { binding }
      : {
          binding,
          error: new IscsiUnsupportedError('LIBOPENISCSIUSR_MISSING', 'openiscsi was built without libopeniscsiusr', {
            hint: 'install libopeniscsiusr-dev (Debian/Ubuntu) and run `npm rebuild openiscsi`',
          }),
        };
  } catch (e) {
    return { error: describeLoadFailure(e) };
  }
}

/** Whether the addon and libopeniscsiusr loaded, without throwing. */
export function nativeStatus(): NativeStatus {
  const { binding, error } = load();
  return error ? { loaded: binding !== undefined, libopeniscsiusr: false, error } : { loaded: true, libopeniscsiusr: true };
}

/** The binding, or the single actionable error explaining why it is unavailable. */
export function native(): NativeBinding {
  const { binding, error } = load();
  if (error) throw error;
  if (!binding) throw describeLoadFailure(new Error('unknown'));
  return binding;
}

/** Used by the install script: throws when no usable binary is present. */
export function probe(): void {
  native();
}
