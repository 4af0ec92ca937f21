// Every operation besides the reads (login, discovery, iface administration, hardware checks, iface
// resolution, connect), each loaded on its first call with what it needs (iscsid's socket client, the
// SendTargets client, node:dns, ...). A process that only reads, such as a monitoring loop or
// `openiscsi sessions`, never loads them: every module costs its load, and under the lab's emulation a
// small one costs 30-60 ms (README, "Calls that are not warm"). All of these return promises, so loading
// on demand adds one turn and changes no signature. Every one maps the operating system's EACCES/EPERM (a lock,
// a file, a sysfs write, a socket) to IscsiPermissionError PERMISSION_DENIED here, in one place (errors.ts).
import { withPermissionErrors } from './errors';
import type * as Connect from './attach/connect';
import type * as Disconnect from './attach/disconnect';
import type * as Multipath from './attach/multipath';
import type * as Discovery from './discovery/discover';
import type * as Hardware from './attach/hardware';
import type * as IfaceAdmin from './attach/iface-admin';
import type * as Login from './iscsid/login';
import type * as SessionCalls from './iscsid/session-calls';
import type * as Resolve from './attach/resolve';

/** Logs in and returns the session, or the existing one for the same (target, portal, iface). See lib/iscsid/login.ts. */
export async function login(...a: Parameters<typeof Login.login>): ReturnType<typeof Login.login> {
  return withPermissionErrors('login', async () => (await import('./iscsid/login')).login(...a));
}
/** Logs out one session by sid, or every session of (target, portal, iface); returns the sids logged out. */
export async function logout(...a: Parameters<typeof SessionCalls.logout>): ReturnType<typeof SessionCalls.logout> {
  return withPermissionErrors('logout', async () => (await import('./iscsid/session-calls')).logout(...a));
}
/** iscsid's view of a session: its connection state and recovery stage. */
export async function sessionState(...a: Parameters<typeof SessionCalls.sessionState>): ReturnType<typeof SessionCalls.sessionState> {
  return withPermissionErrors('sessionState', async () => (await import('./iscsid/session-calls')).sessionState(...a));
}
/** The kernel's counters for a session, through iscsid. */
export async function sessionStats(...a: Parameters<typeof SessionCalls.sessionStats>): ReturnType<typeof SessionCalls.sessionStats> {
  return withPermissionErrors('sessionStats', async () => (await import('./iscsid/session-calls')).sessionStats(...a));
}
/** iscsid's initiator name, else the one in initiatorname.iscsi. */
export async function initiatorName(...a: Parameters<typeof SessionCalls.initiatorName>): ReturnType<typeof SessionCalls.initiatorName> {
  return withPermissionErrors('initiatorName', async () => (await import('./iscsid/session-calls')).initiatorName(...a));
}
/** Lists a portal's targets through an iface (its initiator name and source address), over software TCP. */
export async function discover(...a: Parameters<typeof Discovery.discover>): ReturnType<typeof Discovery.discover> {
  return withPermissionErrors('discover', async () => (await import('./discovery/discover')).discover(...a));
}
/** Lists the targets a portal offers (SendTargets), writing nothing. */
export async function discoverSendTargets(...a: Parameters<typeof Discovery.discoverSendTargets>): ReturnType<typeof Discovery.discoverSendTargets> {
  return withPermissionErrors('discoverSendTargets', async () => (await import('./discovery/discover')).discoverSendTargets(...a));
}
/** Checks a transport, an iface binding or a named iface against the hardware present. */
export async function checkHardware(...a: Parameters<typeof Hardware.checkHardware>): ReturnType<typeof Hardware.checkHardware> {
  return withPermissionErrors('checkHardware', async () => (await import('./attach/hardware')).checkHardware(...a));
}
/** Creates an iface from (transport, hwaddress, ipaddress): validated, hardware-checked, written atomically. */
export async function createIface(...a: Parameters<typeof IfaceAdmin.createIface>): ReturnType<typeof IfaceAdmin.createIface> {
  return withPermissionErrors('createIface', async () => (await import('./attach/iface-admin')).createIface(...a));
}
/** Removes an iface file this library created (any, when forced), never one a session uses. */
export async function deleteIface(...a: Parameters<typeof IfaceAdmin.deleteIface>): ReturnType<typeof IfaceAdmin.deleteIface> {
  return withPermissionErrors('deleteIface', async () => (await import('./attach/iface-admin')).deleteIface(...a));
}
/** The iface and host to use for a source or target IP address. See lib/attach/resolve.ts. */
export async function resolveIface(...a: Parameters<typeof Resolve.resolveIface>): ReturnType<typeof Resolve.resolveIface> {
  return withPermissionErrors('resolveIface', async () => (await import('./attach/resolve')).resolveIface(...a));
}
/** The route the kernel would take to an address: its netdev and gateway. */
export async function routeTo(...a: Parameters<typeof Resolve.routeTo>): ReturnType<typeof Resolve.routeTo> {
  return withPermissionErrors('routeTo', async () => (await import('./attach/resolve')).routeTo(...a));
}
/** Attaches a volume: transport or iface choice, hardware check, fallback to tcp, login, device wait. See lib/attach/connect.ts. */
export async function connect(...a: Parameters<typeof Connect.connect>): ReturnType<typeof Connect.connect> {
  return withPermissionErrors('connect', async () => (await import('./attach/connect')).connect(...a));
}
/** Detaches a LUN or a whole session from the kernel's state: refuses devices in use, flushes, logs out when no LUN is left. */
export async function disconnect(...a: Parameters<typeof Disconnect.disconnect>): ReturnType<typeof Disconnect.disconnect> {
  return withPermissionErrors('disconnect', async () => (await import('./attach/disconnect')).disconnect(...a));
}
/**
 * Detaches a multipath volume made by connect({ portals }): refuses a map that is mounted, held or open
 * (DEVICE_IN_USE) unless forced, flushes it, has multipathd remove it, then detaches each path.
 */
export async function disconnectMultipath(o: Multipath.MultipathDetachOptions): Promise<Multipath.MultipathDetachResult> {
  return withPermissionErrors('disconnectMultipath', async () => {
    const [{ disconnectMultipath: run }, { disconnect }, { connect }] = await Promise.all([import('./attach/multipath'), import('./attach/disconnect'), import('./attach/connect')]);
    return run(o, { connect, disconnect });
  });
}
