/**
 * SendTargets discovery with our own iSCSI client (RFC 7143), in TypeScript: `discoverSendTargets()` opens a
 * TCP connection to the portal (optionally from `localAddress`, an iface's source address), logs in with
 * SessionType=Discovery (AuthMethod None, or CHAP with MD5/SHA-1/SHA-256, one-way or mutual), asks
 * `SendTargets=All`, follows continuations and login redirects (at most `maxRedirects`, default 3), logs out,
 * and returns the targets with their portals. One deadline (`timeoutMs`, default 15 s) and one AbortSignal
 * bound everything, DNS and redirects included; either destroys the socket at once.
 *
 * What it does not do:
 * - It writes nothing: no node records, no `send_targets/` entry in the open-iscsi database, no iface
 *   binding. Persisting the result the way `iscsiadm -m discovery` does is a later layer's job (`persist`).
 * - It does not talk to iscsid, and does not log in to any target (a discovery session only lists them).
 * - No iSNS, SLP or firmware (iBFT) discovery, and no offload SendTargets (MGMT_IPC_SEND_TARGETS): offload
 *   ifaces are discovered over software TCP (`discover()` below says so in its result).
 * - No header or data digests, no TLS/IPsec: a discovery session negotiates HeaderDigest=DataDigest=None.
 *
 * Input rules, checked before any connection (IscsiValidationError): `initiatorName` an iqn./eui./naa. name
 * (INVALID_IQN); `portal` "host[:port]" or "[v6][:port]" (INVALID_PORTAL); CHAP user names 1..255 bytes
 * (INVALID_CHAP_USER); CHAP secrets 12..255 bytes of UTF-8 without NUL (INVALID_CHAP_SECRET): RFC 7143
 * §12.1.3 wants at least 96 bits of secret, and 255 is what tgtd's and iscsid's buffers hold; the mutual
 * secret must differ from ours (RFC 7143: a secret authenticates one side only). Secrets never appear in
 * error messages or details.
 */
import { isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type * as net from 'node:net';
import { IscsiError, IscsiValidationError, throwIfAborted } from '../errors';
import { checkAddress, checkAuth, checkInteger, checkOptions, checkWait, parsePortal, validateIfaceName, validateIscsiName } from '../validate';
import { runDiscoverySession } from './client';
import { Guard } from './guard';
import { RedirectError } from './login';
import type { DiscoveryAuth } from './session';
import { parseSendTargets, parseTargetAddress, formatPortal, type DiscoveredTarget } from './sendtargets';
import { decodeKeys } from './keys';
import { CHAP_ALGORITHMS, type ChapAlgorithmName } from './chap';
import * as os from 'node:os';
import { native } from '../native';
import { initiatorName as initiatorNameOf } from '../iscsid/session-calls';

export type { DiscoveredTarget, DiscoveredPortal } from './sendtargets';
export type { DiscoveryAuth } from './session';
export type { ChapAlgorithmName } from './chap';

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_REDIRECTS = 3;

export interface SendTargetsOptions {
  /** "host", "host:port", "a.b.c.d:port", "[v6]:port" (default port 3260; a ",tpgt" suffix is ignored). */
  portal: string;
  initiatorName: string;
  /** Source address to connect from (the iface's address); an IP address of the portal's family. */
  localAddress?: string | undefined;
  auth?: DiscoveryAuth | undefined;
  /** For the whole discovery: DNS, connect, login, text, redirects. Default 15 000 ms. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Login redirects to follow (status class 1); beyond that, DISCOVERY_REDIRECT. 0 reports the first. Default 3. */
  maxRedirects?: number | undefined;
  /** Test seam: opens the TCP connection. */
  connect?: ((o: net.NetConnectOpts) => net.Socket) | undefined;
  /** Test seam: resolves a host name. */
  lookup?: ((host: string, family: 0 | 4 | 6) => Promise<{ address: string }>) | undefined;
}

export interface SendTargetsResult {
  /** The portal that answered, as an IP address and port (after redirects). */
  portal: string;
  targets: DiscoveredTarget[];
  /** Text responses that carried the answer (> 1 when the target used continuation). */
  textResponses: number;
  /** Portals we were redirected to, in order (empty without redirects). */
  redirects: string[];
  /** The CHAP algorithm the target chose, when it authenticated us with CHAP. */
  chapAlgorithm?: ChapAlgorithmName;
  /** Of the session that answered; totalMs covers everything (DNS, redirects, logout). */
  timings: { connectMs: number; loginMs: number; textMs: number; totalMs: number };
}

const DISCOVERY_ALGORITHMS = Object.keys(CHAP_ALGORITHMS) as ChapAlgorithmName[];

/** Every field of a discovery's options, before anything is resolved or opened. */
function checkSendTargetsOptions(o: SendTargetsOptions) {
  checkOptions(o, 'discovery options');
  const start = parsePortal(o.portal);
  const initiatorName = validateIscsiName(o.initiatorName, 'initiatorName');
  const auth = checkAuth(o.auth, DISCOVERY_ALGORITHMS);
  const localAddress = o.localAddress === undefined ? undefined : checkAddress(o.localAddress, 'localAddress');
  checkWait(o);
  const maxRedirects = o.maxRedirects === undefined ? DEFAULT_MAX_REDIRECTS : checkInteger(o.maxRedirects, 'maxRedirects', 0, 16);
  for (const k of ['connect', 'lookup'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new IscsiValidationError('INVALID_OPTION', `${k} must be a function`);
  }
  return { start, initiatorName, auth, localAddress, maxRedirects };
}

async function resolveHost(host: string, family: 0 | 4 | 6, o: SendTargetsOptions, guard: Guard): Promise<string> {
  if (isIP(host) !== 0) return host;
  guard.phase = 'resolve';
  const lookup = o.lookup ?? ((h: string, f: 0 | 4 | 6) => dnsLookup(h, { family: f }));
  try {
    return (await guard.race(lookup(host, family))).address;
  } catch (e) {
    if (e === guard.failure) throw e;
    const errnoName = (e as NodeJS.ErrnoException)?.code;
    throw new IscsiError('DISCOVERY_CONNECT_FAILED', `cannot resolve ${JSON.stringify(host)}${family ? ` to an IPv${family} address` : ''}: ${errnoName ?? String(e)}`, {
      cause: e,
      details: { errnoName, host },
    });
  }
}

/** Lists the targets a portal offers. See the file comment for what it does and does not do. */
export async function discoverSendTargets(o: SendTargetsOptions): Promise<SendTargetsResult> {
  const { start, initiatorName, auth, localAddress, maxRedirects } = checkSendTargetsOptions(o);
  const family = localAddress === undefined ? 0 : isIP(localAddress);
  if (localAddress !== undefined) {
    const portalFamily = isIP(start.host);
    if (portalFamily !== 0 && portalFamily !== family) throw new IscsiValidationError('INVALID_ADDRESS', `localAddress ${localAddress} is IPv${family} but the portal is IPv${portalFamily}`);
  }
  const timeoutMs = o.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
  throwIfAborted(o.signal);

  const started = Date.now();
  const guard = new Guard(timeoutMs, o.signal, o.portal);
  const redirects: string[] = [];
  try {
    let host = start.host;
    let port = start.port;
    for (;;) {
      const address = await resolveHost(host, family as 0 | 4 | 6, o, guard);
      const portal = formatPortal(address, port);
      guard.what = portal;
      try {
        const s = await runDiscoverySession({
          host: address,
          port,
          initiatorName,
          guard,
          ...(localAddress !== undefined ? { localAddress } : {}),
          ...(auth ? { auth } : {}),
          ...(o.connect ? { connect: o.connect } : {}),
        });
        return {
          portal,
          targets: s.targets,
          textResponses: s.textResponses,
          redirects,
          ...(s.chap ? { chapAlgorithm: s.chap } : {}),
          timings: { connectMs: s.timings.connectMs, loginMs: s.timings.loginMs, textMs: s.timings.textMs, totalMs: Date.now() - started },
        };
      } catch (e) {
        if (!(e instanceof RedirectError)) throw e;
        const next = parseTargetAddress(e.targetAddress);
        if (redirects.length >= maxRedirects) {
          throw new IscsiError(
            'DISCOVERY_REDIRECT',
            maxRedirects === 0 ? e.message : `more than ${maxRedirects} login redirects (the last from ${portal} to ${next.portal})`,
            { cause: e, details: { ...e.details, from: portal, to: next.portal, redirects: [...redirects] }, hint: 'discover from the portal the target redirects to' },
          );
        }
        redirects.push(next.portal);
        host = next.address;
        port = next.port;
      }
    }
  } finally {
    guard.dispose();
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
  checkOptions(o, 'discovery options');
  const portal = parsePortal(o.portal);
  const ifaceName = validateIfaceName(o.iface === undefined ? 'default' : o.iface);
  checkAuth(o.auth, DISCOVERY_ALGORITHMS);
  if (o.initiatorName !== undefined) validateIscsiName(o.initiatorName, 'initiatorName');
  checkWait(o);
  checkOptions(o.deps, 'deps');
  throwIfAborted(o.signal);
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
