// Every operation besides the reads (login, discovery, iface administration, hardware checks, iface
// resolution, connect), each loaded on its first call with what it needs (iscsid's socket client, the
// SendTargets client, node:dns, ...). A process that only reads, such as a monitoring loop or
// `openiscsi sessions`, never loads them: every module costs its load, and under the lab's emulation a
// small one costs 30-60 ms (bench/README.md). All of these return promises, so loading on demand adds one
// turn and changes no signature. Every one maps the operating system's EACCES/EPERM (a lock, a file, a sysfs
// write, a socket) to IscsiPermissionError PERMISSION_DENIED here, in one place (errors.ts).
//
// These are the public operations as users see them: each is written out with its parameters, its result and
// its documentation (what an editor shows on hover), not derived from the module it loads.
// test/unit/on-demand-types.test.ts checks each signature equals the implementation's, and
// test/unit/package-types.test.ts what a user's editor and compiler see.
import { withPermissionErrors } from './errors';
import type { NativeIscsidStats } from './native';
import type { Session } from './read/sessions';
import type { LoginOptions } from './iscsid/login';
import type { LogoutTarget, SessionCallOptions } from './iscsid/session-calls';
import type { DiscoverOptions, DiscoverResult, SendTargetsOptions, SendTargetsResult } from './discovery/discover';
import type { HardwareOptions, HardwareReport, HardwareSubject } from './attach/hardware';
import type { CreatedIface, CreateIfaceOptions, DeleteIfaceOptions } from './attach/iface-admin';
import type { ResolvedIface, ResolveOptions } from './attach/resolve';
import type { ConnectOptions, ConnectResult } from './attach/connect';
import type { DisconnectOptions, DisconnectResult } from './attach/disconnect';
import type { MultipathDetachOptions, MultipathDetachResult } from './attach/multipath';

/** iscsid's view of a session (sessionState()). */
export interface SessionState {
  sid: number;
  /** The connection's state: `FREE`, `XPT_WAIT`, `IN_LOGIN`, `LOGGED_IN`, `IN_LOGOUT`, `LOGOUT_REQUESTED`, `CLEANUP_WAIT` (`UNKNOWN(n)` for a number this library does not know). */
  connection: string;
  /** The session's recovery stage: `NO_CHANGE`, `SESSION_CLEANUP`, `SESSION_REOPEN`, `SESSION_REDIRECT`, `DESTROYED` (`UNKNOWN(n)` likewise). */
  stage: string;
}

/** The kernel's counters for a session, as iscsid reports them (sessionStats()). */
export interface SessionStats extends NativeIscsidStats {
  sid: number;
}

/**
 * Logs in to a target through iscsid and returns the session, with its devices (iscsid answers after the
 * kernel's LUN scan). Idempotent: an existing LOGGED_IN session for the same (target, portal, iface) is
 * returned instead of a second one; logins to one (target, portal, iface) are serialised across processes.
 * `persist: true` also writes the node record the way iscsiadm does. Needs root.
 *
 * A deadline or abort while iscsid is still trying is `LOGIN_TIMEOUT` / `ABORTED` with `details.inFlight`:
 * iscsid cannot cancel a login, and if it later succeeds `logout({ target, portal, iface })` removes it.
 * Other codes: `ISCSID_ERR_*` (iscsid's answer), `ISCSID_NOT_RUNNING`, `ISCSI_TRANSPORT_NOT_LOADED`,
 * `SESSION_NOT_LOGGED_IN`, `LOGIN_LOCKED`, `PERMISSION_DENIED`, and the input codes (`INVALID_*`).
 *
 * @param options The target (IQN), the portal (`host[:port][,tpgt]`), the iface (default `default`), CHAP
 *   `auth`, iscsiadm `node.*` `options`, `persist`, `timeoutMs` and `signal`.
 */
export async function login(options: LoginOptions): Promise<Session> {
  return withPermissionErrors('login', async () => (await import('./iscsid/login')).login(options));
}

/**
 * Logs out one session by sid (`SESSION_NOT_FOUND` when there is none), or every session of (target, portal,
 * iface), where none is not an error. Needs root.
 *
 * @param what `{ sid }`, or `{ target, portal, iface? }`.
 * @param options `timeoutMs`, `signal`, and `abi` to name iscsid's open-iscsi version.
 * @returns The sids logged out.
 */
export async function logout(what: LogoutTarget, options: SessionCallOptions = {}): Promise<number[]> {
  return withPermissionErrors('logout', async () => (await import('./iscsid/session-calls')).logout(what, options));
}

/**
 * iscsid's view of a session: its connection state and recovery stage. Needs root.
 *
 * @param sid The session id (`Session.sid`).
 * @param options `timeoutMs`, `signal`, `abi`.
 */
export async function sessionState(sid: number, options: SessionCallOptions = {}): Promise<SessionState> {
  return withPermissionErrors('sessionState', async () => (await import('./iscsid/session-calls')).sessionState(sid, options));
}

/**
 * The kernel's counters for a session (octets and PDUs each way, digest and timeout errors), through iscsid.
 * Needs root.
 *
 * @param sid The session id (`Session.sid`).
 * @param options `timeoutMs`, `signal`, `abi`.
 */
export async function sessionStats(sid: number, options: SessionCallOptions = {}): Promise<SessionStats> {
  return withPermissionErrors('sessionStats', async () => (await import('./iscsid/session-calls')).sessionStats(sid, options));
}

/**
 * The initiator name: iscsid's (read when it started), else the one in `/etc/iscsi/initiatorname.iscsi`
 * (`NO_INITIATOR_NAME` when neither has one).
 *
 * @param options `timeoutMs`, `signal`, `abi`.
 */
export async function initiatorName(options: SessionCallOptions = {}): Promise<string> {
  return withPermissionErrors('initiatorName', async () => (await import('./iscsid/session-calls')).initiatorName(options));
}

/**
 * Lists the targets a portal offers (SendTargets) as seen through an iface: from its source address and with
 * its initiator name (default iface `default`, iscsid's name). Offload ifaces are discovered over software
 * TCP. Writes nothing and does not talk to iscsid. Codes: `DISCOVERY_*`, `IFACE_NOT_FOUND`,
 * `IFACE_NETDEV_MISSING`, `IFACE_NETDEV_NO_ADDRESS`, and the input codes.
 *
 * @param options The portal, the iface, CHAP `auth` for discovery, an `initiatorName` override, `timeoutMs`
 *   (default 15 s) and `signal`.
 */
export async function discover(options: DiscoverOptions): Promise<DiscoverResult> {
  return withPermissionErrors('discover', async () => (await import('./discovery/discover')).discover(options));
}

/**
 * SendTargets discovery at the lowest level: connects to the portal (from `localAddress` if given), logs in
 * as a discovery session (CHAP one-way or mutual, if given), lists the targets with their portals, follows
 * redirects (`maxRedirects`, default 3) and logs out. Writes nothing. Codes: `DISCOVERY_*` and the input codes.
 *
 * @param options The portal, the `initiatorName`, `auth`, `localAddress`, `timeoutMs` (default 15 s) and `signal`.
 */
export async function discoverSendTargets(options: SendTargetsOptions): Promise<SendTargetsResult> {
  return withPermissionErrors('discoverSendTargets', async () => (await import('./discovery/discover')).discoverSendTargets(options));
}

/**
 * Whether a transport is usable on this machine, and if not, why: reads sysfs and /proc only, loads no module
 * and changes nothing. The report has `registered`, `caps`, the matched `host`, its `pci` function and `nic`,
 * `iscsiuio`, iser's `rdma` device, `problems` (each a code and a sentence) and `ok`. A bad subject is an
 * error (`UNKNOWN_TRANSPORT`, `IFACE_NOT_FOUND`, `INVALID_*`); a transport that cannot be used is not.
 *
 * @param what A transport (any host of it), an iface binding `{ transport, hwaddress?, netdev?, ipaddress? }`,
 *   or `{ iface }` (the host iscsid would pick for that iface file).
 * @param options `portal` (iser: the RDMA device must serve the netdev toward it), and where sysfs, /proc and
 *   the iface files are.
 */
export async function checkHardware(what: HardwareSubject, options: HardwareOptions = {}): Promise<HardwareReport> {
  return withPermissionErrors('checkHardware', async () => (await import('./attach/hardware')).checkHardware(what, options));
}

/**
 * Writes an iface file (`<db>/ifaces/<name>` in the running iscsid's database: `/etc/iscsi`, or `/var/lib/iscsi`
 * on Debian 13+; iscsiadm's format) for a transport bound to a port:
 * validated, hardware-checked (unless `checkHardware: false`: a failed check is `IFACE_HARDWARE_CHECK_FAILED`),
 * written atomically (0600) under open-iscsi's lock. Idempotent: an identical iface is `created: false`; one
 * with other settings is `IFACE_EXISTS`. Needs root.
 *
 * @param options The transport, `hwaddress`, `ipaddress` (bnx2i, qedi need one), `netdev`, `initiatorName`,
 *   `name` (default `<transport>.<hwaddress>`), `checkHardware`, `timeoutMs` for the lock.
 */
export async function createIface(options: CreateIfaceOptions): Promise<CreatedIface> {
  return withPermissionErrors('createIface', async () => (await import('./attach/iface-admin')).createIface(options));
}

/**
 * Removes an iface file: only one this library created unless `force` (`IFACE_NOT_OURS`), never one a session
 * uses (`IFACE_IN_USE`). Idempotent: a missing iface is `{ deleted: false }`. Needs root.
 *
 * @param name The iface's name (not `default` or `iser`).
 * @param options `force`, `timeoutMs` for the lock, `signal`.
 */
export async function deleteIface(name: string, options: DeleteIfaceOptions = {}): Promise<{ deleted: boolean }> {
  return withPermissionErrors('deleteIface', async () => (await import('./attach/iface-admin')).deleteIface(name, options));
}

/**
 * The iface and iSCSI host to use for an address, step by step from sysfs: route (the kernel's local table
 * first: a local or loopback target is `lo`) → netdev → MAC → PCI function → driver → transport → host →
 * iface, each step in `steps` with how it was found. Reads only. Codes: `NO_ROUTE`, `ADDRESS_NOT_LOCAL`,
 * `INVALID_ADDRESS`, `INVALID_OPTIONS`.
 *
 * @param by `{ sourceIp }`, an address of this machine (or of an HBA), or `{ targetIp }`, a target's address.
 * @param options Where sysfs, /proc and the iface files are.
 */
export async function resolveIface(by: { sourceIp: string } | { targetIp: string }, options: ResolveOptions = {}): Promise<ResolvedIface> {
  return withPermissionErrors('resolveIface', async () => (await import('./attach/resolve')).resolveIface(by, options));
}

/**
 * Where the kernel sends a packet for `targetIp`: its netdev and gateway, `lo` (with `local: true`) for an
 * address of this machine, undefined when no route matches.
 *
 * @param targetIp An IPv4 or IPv6 address.
 * @param procRoot Where procfs is mounted (default `/proc`).
 */
export async function routeTo(targetIp: string, procRoot?: string): Promise<{ netdev: string; gateway?: string; local?: boolean } | undefined> {
  return withPermissionErrors('routeTo', async () => (await import('./attach/resolve')).routeTo(targetIp, procRoot));
}

/**
 * Attaches a volume: chooses the iface for the transport (or takes `iface`), checks the hardware, discovers
 * (when no target is named, or `discovery: true`), logs in and waits for the LUN's block device. Falls back
 * to software `tcp` only for hardware or transport reasons, never for authentication or a target's refusal,
 * and says why (`transport.fallbackReason`, `onEvent`); `fallback: false` makes that `TRANSPORT_UNAVAILABLE`.
 * With `portals`, logs in on every path at once and waits for multipathd's map (`multipath`). A failure logs
 * out a session this call made. Needs root.
 *
 * Codes: `TRANSPORT_UNAVAILABLE`, `ISCSI_TRANSPORT_NOT_LOADED`, `TARGET_NOT_OFFERED`, `TARGET_AMBIGUOUS`,
 * `NO_TARGETS`, `LUN_NOT_FOUND`, `LUN_NOT_A_DISK`, `DEVICE_TIMEOUT`, the `MULTIPATH*` codes, and those of
 * login() and discover().
 *
 * @param options The portal, target, LUN (default the first disk LUN), `transport` (default `tcp`) or `iface`,
 *   `fallback`, CHAP `auth` and `discoveryAuth`, `portals` and `multipath`, `timeoutMs`, `signal`, `onEvent`.
 * @returns The session, the LUN's `device` (`{ blockDevice, path, ... }`), the transport requested and used,
 *   and per-phase `timings`.
 */
export async function connect(options: ConnectOptions): Promise<ConnectResult> {
  return withPermissionErrors('connect', async () => (await import('./attach/connect')).connect(options));
}

/**
 * Detaches one LUN or a whole session, deciding from the kernel's state only: refuses, removing nothing,
 * when a device is mounted, held, open or claimed (`DEVICE_IN_USE`, unless `force`); flushes each device
 * before removing it (`DEVICE_FLUSH_FAILED`: nothing removed); logs the session out when no disk LUN is
 * left. Idempotent: a session or LUN that is gone already is nothing to do. Needs root.
 *
 * @param options The `sid`, the `lun` (default every LUN, then the session), `force`, `timeoutMs` (default 60 s), `signal`.
 */
export async function disconnect(options: DisconnectOptions): Promise<DisconnectResult> {
  return withPermissionErrors('disconnect', async () => (await import('./attach/disconnect')).disconnect(options));
}

/**
 * Detaches a multipath volume made by `connect({ portals })`: refuses a map that is mounted, held or open
 * (`DEVICE_IN_USE`) unless forced, flushes it (`FLUSH_FAILED`), has multipathd remove it (without
 * multipathd, or when it still refuses, device-mapper's DM_DEV_REMOVE; `removedBy` says which;
 * `MULTIPATH_MAP_BUSY` when neither will), then detaches each path as disconnect() does (a path the kernel
 * took offline is deleted unflushed: `unflushed`). Idempotent: a map that is gone already is not an error.
 * Needs root.
 *
 * @param options The `map` (`dm-0`, its name or its WWID), `force`, `timeoutMs`, `signal`.
 */
export async function disconnectMultipath(options: MultipathDetachOptions): Promise<MultipathDetachResult> {
  return withPermissionErrors('disconnectMultipath', async () => {
    const [{ disconnectMultipath: run }, { disconnect: detach }, { connect: attach }] = await Promise.all([import('./attach/multipath'), import('./attach/disconnect'), import('./attach/connect')]);
    return run(options, { connect: attach, disconnect: detach });
  });
}
