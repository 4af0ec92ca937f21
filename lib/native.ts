// The only module that loads the addon. Importing the package never fails: when the addon cannot be loaded,
// every native call rejects with one actionable IscsiUnsupportedError; without libopeniscsiusr, only the calls
// that need it do (LIBOPENISCSIUSR_MISSING).
import * as fs from 'node:fs';
import * as path from 'node:path';
import bindings = require('bindings');
import { IscsiUnsupportedError } from './errors';

export interface NativeIface {
  name: string;
  /** iface.transport_name (`tcp`, `cxgb4i`, ...) as the file or the kernel has it; a read is not narrowed to `Transport`: a hand-edited file or an out-of-tree driver can name another; `isTransport()` narrows it. */
  transport: string;
  hwaddress: string;
  ipaddress: string;
  netdev: string;
  initiatorName: string;
  portState: string;
  portSpeed: string;
  isDefault: boolean;
}

/** An iscsi_iface entry of an offload host (<host device>/iscsi_iface). */
export interface NativeHostIface {
  /** e.g. ipv4-iface-3-0 */
  name: string;
  family: 'ipv4' | 'ipv6';
  ifaceNum: number;
  ipaddress?: string;
  enabled?: string;
  vlanId?: number;
  port?: number;
}

/** An iscsi_host (native/usr/host_sysfs.cc); an attribute that is unreadable, empty or "(null)" is left out. */
export interface NativeHost {
  hostNo: number;
  /** Kernel driver of the SCSI host (proc_name), without an `iscsi_` prefix: `tcp`, `cxgb4i`, `qla4xxx`, …; a read is not narrowed to `Transport`: a hand-edited file or an out-of-tree driver can name another; `isTransport()` narrows it. */
  transport?: string;
  hwaddress?: string;
  ipaddress?: string;
  netdev?: string;
  initiatorName?: string;
  portState?: string;
  portSpeed?: string;
  /** The host's device directory (realpath), e.g. under its PCI function for offload HBAs. */
  devicePath: string;
  ifaces: NativeHostIface[];
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

export interface NativeIpcHandle<T = NativeIpcResponse & { peerPid: number }> {
  promise: Promise<T>;
  cancel(): void;
}

/** The credentials of the process listening on iscsid's socket (SO_PEERCRED), as seen in our pid namespace. */
export interface NativeIscsidPeer {
  pid: number;
  uid: number;
  gid: number;
}

/** An exclusive flock held on a lock file; release() closes the file, which is what releases the lock. */
export interface NativeLockHandle {
  readonly path: string;
  release(): Promise<void>;
}

/** The addon's export table, exactly as native/ registers it. */
export interface NativeBinding {
  readonly addonVersion: string;
  readonly napiVersion: number;
  /** libopeniscsiusr.so.0 loads (dlopen on first need, native/usr/usr_dl.cc); reading this may load it. */
  readonly hasLibopeniscsiusr: boolean;
  /** The addon was compiled with libopeniscsiusr's headers (without them, it can never load it). */
  readonly buildHasLibopeniscsiusr: boolean;
  /** Why libopeniscsiusr does not load (the dynamic loader's message), or null when it does. */
  libopeniscsiusrError(): string | null;
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
  /** Every iscsi_host under `sysfsRoot` (default /sys), by host number. */
  getHosts(sysfsRoot?: string): Promise<NativeHost[]>;
  /** iscsiadm request bytes for an ABI family; `record` is a LoginRecord (lib/iscsid/record.ts). */
  buildRequest(family: string, command: number, sid: number, record?: object): Buffer;
  requestSize(family: string): number;
  /**
   * One exchange with iscsid on its own thread; cancel() aborts the wait. Before anything is sent the peer
   * must be uid 0 and, when `expectedPid` > 0, that pid (ISCSID_PEER_UNTRUSTED, ISCSID_PEER_CHANGED,
   * ISCSID_PEER_PID_HIDDEN). The answer carries the peer's pid.
   */
  ipcRequest(request: Buffer, timeoutMs: number, socketName: string | undefined, expectedPid: number): NativeIpcHandle;
  /** Connects, reads the listener's credentials, closes; nothing is sent. Root peers with a visible pid only. */
  identifyIscsid(timeoutMs: number, socketName: string | undefined): NativeIpcHandle<NativeIscsidPeer>;
  /**
   * One non-blocking attempt at an exclusive flock on `dir`/`name` (the directory is created 0700 when
   * absent). Null when another open file holds it. LOCK_DIR_UNSAFE / LOCK_FILE_UNSAFE for anything not
   * root's and root-only, LOCK_ACCESS without the privilege, LOCK_IO otherwise.
   */
  tryLockFile(dir: string, name: string): Promise<NativeLockHandle | null>;
  /** One command to multipathd over its socket (peer checked to be root); resolves with its answer text. */
  multipathdCommand(command: string, timeoutMs: number, socketName?: string): Promise<string>;
  /** DM_DEV_REMOVE of the map with this dm uuid; DM_MAP_BUSY, DM_MAP_NOT_FOUND, DM_CONTROL_UNAVAILABLE, DM_PERMISSION. */
  dmRemoveMap(uuid: string): Promise<void>;
}

export interface NativeStatus {
  /** The addon loaded (login, logout, discovery, sessions() work). */
  loaded: boolean;
  /** libopeniscsiusr.so.0 loads too (ifaces(), nodes(), setupDefaultIfaces() work). */
  libopeniscsiusr: boolean;
  /** The binary in use: the shipped prebuilt one (`prebuilds/`) or one built at install (`build/`). */
  binary?: { path: string; prebuilt: boolean };
  /** Why something did not load: NATIVE_UNAVAILABLE (the addon) or LIBOPENISCSIUSR_MISSING. */
  error?: IscsiUnsupportedError;
}

const packageRoot = path.join(__dirname, '..');

/** Where node-gyp puts the addon in a checkout or at install, in the order `bindings` tries them. */
const BUILD_DIRS: ReadonlyArray<readonly string[]> = [
  ['module_root', 'build', 'Release', 'bindings'],
  ['module_root', 'build', 'Debug', 'bindings'],
];

/** The prebuilt binary `npm run prebuildify` (prebuildify --napi, run by `npm pack`) ships. */
export function prebuiltPath(root: string): string {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'openiscsi.node');
}

function describeLoadFailure(e: unknown): IscsiUnsupportedError {
  const text = e instanceof Error ? e.message : String(e);
  let hint: string;
  if (process.platform !== 'linux') {
    hint = 'openiscsi drives the Linux open-iscsi stack and only runs on Linux';
  } else if (/no openiscsi\.node/.test(text)) {
    hint = 'the native addon is not built: run `npm rebuild openiscsi --foreground-scripts` (needs python3, make, g++ and libopeniscsiusr-dev)';
  } else if (/ERR_DLOPEN_DISABLED|--no-addons/.test(text)) {
    hint = 'this Node.js process cannot load native addons (--no-addons or a policy forbids it)';
  } else if (/GLIBC_|GLIBCXX_|CXXABI_|version .* not found/.test(text)) {
    hint = 'the prebuilt binary needs a newer C library than this system has: build it here with `npm rebuild openiscsi --build-from-source --foreground-scripts`';
  } else {
    hint = 'reinstall the package or rebuild it with `npm rebuild openiscsi --foreground-scripts`';
  }
  return new IscsiUnsupportedError('NATIVE_UNAVAILABLE', `openiscsi native addon could not be loaded (${text.split('\n')[0]})`, {
    hint,
    cause: e,
  });
}

interface LoadResult {
  binding?: NativeBinding;
  binary?: { path: string; prebuilt: boolean };
  error?: IscsiUnsupportedError;
}

let cached: LoadResult | undefined;

function load(): LoadResult {
  cached ??= loadFrom(packageRoot);
  return cached;
}

/**
 * Loads the addon from a package root: the first candidate that exists and loads (binaryCandidates); exported
 * for tests and the install script. A binary that exists but does not load is the error reported.
 */
export function loadFrom(root: string): LoadResult {
  let failure: unknown;
  // A build (bindings finds node-gyp's output) comes first, then the shipped prebuilt binary.
  try {
    const binding = bindings({ bindings: 'openiscsi', module_root: root, try: BUILD_DIRS }) as NativeBinding & { path: string };
    return { binding, binary: { path: binding.path, prebuilt: false } };
  } catch (e) {
    // bindings rethrows a binary that exists but does not load; "Could not locate" means there is none
    if (!/Could not locate the bindings file/.test((e as Error).message)) failure = e;
  }
  const prebuilt = prebuiltPath(root);
  if (fs.existsSync(prebuilt)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { binding: require(prebuilt) as NativeBinding, binary: { path: prebuilt, prebuilt: true } };
    } catch (e) {
      failure ??= e;
    }
  }
  return { error: describeLoadFailure(failure ?? new Error(`no openiscsi.node under ${root} (build/ or prebuilds/${process.platform}-${process.arch}/)`)) };
}

function libopeniscsiusrMissing(binding: NativeBinding): IscsiUnsupportedError {
  // The addon's message says why and what to install.
  return new IscsiUnsupportedError('LIBOPENISCSIUSR_MISSING', binding.libopeniscsiusrError() ?? 'libopeniscsiusr cannot be loaded');
}

/**
 * Whether the addon and libopeniscsiusr load, and which binary is in use, without throwing. The first call
 * loads libopeniscsiusr if no read has yet (synchronously, once per process).
 */
export function nativeStatus(): NativeStatus {
  const { binding, binary, error } = load();
  if (!binding) return { loaded: false, libopeniscsiusr: false, ...(error ? { error } : {}) };
  const usr = binding.hasLibopeniscsiusr;
  return { loaded: true, libopeniscsiusr: usr, ...(binary ? { binary } : {}), ...(usr ? {} : { error: libopeniscsiusrMissing(binding) }) };
}

/**
 * The binding, or the single actionable error explaining why it is unavailable. A binding without
 * libopeniscsiusr is returned too: only its calls that need the library reject, with LIBOPENISCSIUSR_MISSING.
 */
export function native(): NativeBinding {
  const { binding, error } = load();
  if (binding) return binding;
  throw error ?? describeLoadFailure(new Error('unknown'));
}

/** Used by the install script: throws when no usable binary is present. */
export function probe(): void {
  native();
}
