// SendTargets discovery with our own iSCSI client: nothing is written to the node database (unless a
// caller persists the result itself), the source address can be pinned to an iface, and every step is
// bounded by one deadline and an AbortSignal. Login redirects are followed (at most 3).
import { isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type * as net from 'node:net';
import { IscsiError, IscsiValidationError, throwIfAborted } from './errors';
import { parsePortal, validateChapSecret, validateChapUser, validateIfaceName, validateIscsiName } from './validate';
import { RedirectError, runDiscoverySession, type DiscoveryAuth } from './discovery/client';
import { parseSendTargets, parseTargetAddress, formatPortal, type DiscoveredTarget } from './discovery/sendtargets';
import { decodeKeys } from './discovery/keys';
import { CHAP_ALGS } from './discovery/chap';
import * as os from 'node:os';
import { native } from './native';
import { initiatorName as initiatorNameOf } from './login';

export type { DiscoveredTarget, DiscoveredPortal } from './discovery/sendtargets';
export type { DiscoveryAuth } from './discovery/client';

export interface SendTargetsOptions {
  /** "host[:port]", "[v6]:port" */
  portal: string;
  initiatorName: string;
  /** Source address to connect from (the iface's address). */
  localAddress?: string | undefined;
  auth?: DiscoveryAuth | undefined;
  /** Default 15 000 ms for the whole discovery, redirects included. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Test seam. */
  connect?: ((o: net.NetConnectOpts) => net.Socket) | undefined;
  lookup?: ((host: string) => Promise<{ address: string }>) | undefined;
}

export interface SendTargetsResult {
  /** The portal that answered (after redirects). */
  portal: string;
  targets: DiscoveredTarget[];
  /** Text responses that carried the answer (> 1 when the target used continuation). */
  textResponses: number;
  timings: { connectMs: number; loginMs: number; textMs: number; totalMs: number };
}

function checkAuth(auth: DiscoveryAuth | undefined): void {
  if (!auth) return;
  validateChapUser(auth.username, 'auth.username');
  validateChapSecret(auth.password, 'auth.password');
  if ((auth.usernameIn === undefined) !== (auth.passwordIn === undefined)) {
    throw new IscsiValidationError('INVALID_CHAP_USER', 'mutual CHAP needs both auth.usernameIn and auth.passwordIn');
  }
  if (auth.usernameIn !== undefined) {
    validateChapUser(auth.usernameIn, 'auth.usernameIn');
    validateChapSecret(auth.passwordIn, 'auth.passwordIn');
  }
  for (const a of auth.algorithms ?? []) {
    if (!(a in CHAP_ALGS)) throw new IscsiValidationError('INVALID_CHAP_ALGORITHM', `discovery supports CHAP algorithms ${Object.keys(CHAP_ALGS).join(', ')}, not ${JSON.stringify(a)}`);
  }
}

export async function discoverSendTargets(o: SendTargetsOptions): Promise<SendTargetsResult> {
  throwIfAborted(o.signal);
  let portal = parsePortal(o.portal);
  validateIscsiName(o.initiatorName, 'initiatorName');
  checkAuth(o.auth);
  if (o.localAddress !== undefined && isIP(o.localAddress) === 0) throw new IscsiValidationError('INVALID_ADDRESS', `localAddress ${JSON.stringify(o.localAddress)} is not an IP address`);
  const started = Date.now();
  const deadline = started + (o.timeoutMs ?? 15_000);
  for (let redirects = 0; ; redirects++) {
    let host = portal.host;
    if (isIP(host) === 0) {
      try {
        host = (await (o.lookup ?? ((h: string) => dnsLookup(h)))(host)).address;
      } catch (e) {
        throw new IscsiValidationError('PORTAL_UNRESOLVABLE', `cannot resolve ${JSON.stringify(portal.host)}`, { cause: e });
      }
    }
    try {
      const { pairs, timings, textResponses } = await runDiscoverySession({
        host,
        port: portal.port,
        initiatorName: o.initiatorName,
        deadline,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        ...(o.auth ? { auth: o.auth } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.connect ? { connect: o.connect } : {}),
      });
      return {
        portal: formatPortal(host, portal.port),
        targets: parseSendTargets(pairs, { address: host, port: portal.port }),
        textResponses,
        timings: { ...timings, totalMs: Date.now() - started },
      };
    } catch (e) {
      if (!(e instanceof RedirectError)) throw e;
      if (redirects >= 3 || !e.targetAddress) throw new IscsiError('DISCOVERY_REDIRECT', `too many redirects (last to ${e.targetAddress || 'nowhere'})`, { cause: e });
      const next = parseTargetAddress(e.targetAddress);
      portal = { host: next.address, port: next.port };
    }
  }
}

/** Parses a raw SendTargets text payload (exposed for tools and tests). */
export function parseSendTargetsText(data: Buffer, discoveryPortal: { address: string; port: number }): DiscoveredTarget[] {
  return parseSendTargets(decodeKeys(data), discoveryPortal);
}

// ---- discover(): the iface-aware entry point ---------------------------------------------------------

export interface DiscoverOptions {
  portal: string;
  /** iface whose initiator name and source address to use; default `default`. */
  iface?: string | undefined;
  auth?: DiscoveryAuth | undefined;
  /** Overrides the iface's (and iscsid's) initiator name. */
  initiatorName?: string | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  deps?: DiscoverDeps | undefined;
}

export interface DiscoverDeps {
  getIface?: (name: string) => Promise<{ name: string; transport: string; ipaddress: string; netdev: string; initiatorName: string }>;
  initiatorName?: () => Promise<string>;
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export interface DiscoverResult extends SendTargetsResult {
  iface: string;
  /** Offload ifaces are discovered over software TCP and logged in over offload (what os-brick does too). */
  method: 'software';
  initiatorName: string;
  localAddress?: string;
}

const unbound = (v: string | undefined) => !v || v === 'default';

/** The iface's source address: its ipaddress, else the first address of its netdev in the portal's family. */
function sourceAddress(iface: { ipaddress: string; netdev: string }, portalHost: string, nics: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>): string | undefined {
  if (!unbound(iface.ipaddress)) return iface.ipaddress;
  if (unbound(iface.netdev)) return undefined;
  const family = isIP(portalHost) === 6 ? 'IPv6' : 'IPv4';
  const addrs = nics()[iface.netdev];
  if (!addrs) throw new IscsiError('IFACE_NETDEV_MISSING', `the iface is bound to ${iface.netdev}, which does not exist`, { hint: 'fix iface.net_ifacename or use another iface' });
  const a = addrs.find((x) => x.family === family && !x.internal) ?? addrs.find((x) => x.family === family);
  if (!a) throw new IscsiError('IFACE_NETDEV_NO_ADDRESS', `${iface.netdev} has no ${family} address to discover from`);
  return a.address;
}

export async function discover(o: DiscoverOptions): Promise<DiscoverResult> {
  throwIfAborted(o.signal);
  const portal = parsePortal(o.portal);
  const ifaceName = o.iface ?? 'default';
  validateIfaceName(ifaceName);
  const deps = o.deps ?? {};
  const getIface = deps.getIface ?? ((n: string) => native().getIface(n));
  const iface = await getIface(ifaceName).catch((e: unknown) => {
    throw new IscsiValidationError('IFACE_NOT_FOUND', `iface ${ifaceName} cannot be read`, { cause: e });
  });
  const initiatorName = o.initiatorName ?? (unbound(iface.initiatorName) ? await (deps.initiatorName ?? (() => initiatorNameOf()))() : iface.initiatorName);
  const localAddress = sourceAddress(iface, portal.host, deps.networkInterfaces ?? os.networkInterfaces);
  const r = await discoverSendTargets({
    portal: o.portal,
    initiatorName,
    ...(localAddress ? { localAddress } : {}),
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { ...r, iface: ifaceName, method: 'software', initiatorName, ...(localAddress ? { localAddress } : {}) };
}
