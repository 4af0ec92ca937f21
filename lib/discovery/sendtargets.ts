// SendTargets=All responses: TargetName followed by its TargetAddress entries (RFC 7143 §13.3, App. C).
import { protocolError } from './pdu';
import type { KeyList } from './keys';

export interface DiscoveredPortal {
  address: string;
  port: number;
  /** -1 when the target gave no portal group tag. */
  tpgt: number;
  /** "a.b.c.d:port" or "[v6]:port" */
  portal: string;
}

export interface DiscoveredTarget {
  name: string;
  portals: DiscoveredPortal[];
}

export const formatPortal = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** "host[:port][,tpgt]" with host an IPv4 address, a [IPv6] literal or a DNS name. */
export function parseTargetAddress(v: string): DiscoveredPortal {
  const m = /^(?:\[([0-9A-Fa-f:.%a-zA-Z]+)\]|([^:,[\]\s]+))(?::(\d{1,5}))?(?:,(\d{1,5}))?$/.exec(v);
  if (!m) throw protocolError(`TargetAddress ${JSON.stringify(v.slice(0, 80))} is not host[:port][,tpgt]`);
  const address = (m[1] ?? m[2])!;
  const port = m[3] === undefined ? 3260 : Number(m[3]);
  const tpgt = m[4] === undefined ? -1 : Number(m[4]);
  if (port < 1 || port > 65535 || tpgt > 65535) throw protocolError(`TargetAddress ${JSON.stringify(v)} has an out-of-range port or tag`);
  return { address, port, tpgt, portal: formatPortal(address, port) };
}

/** Groups the pairs by target; a target without any TargetAddress is reachable at the discovery portal. */
export function parseSendTargets(pairs: KeyList, discovery: { address: string; port: number }): DiscoveredTarget[] {
  const out: DiscoveredTarget[] = [];
  let cur: DiscoveredTarget | undefined;
  for (const [k, v] of pairs) {
    if (k === 'TargetName') {
      if (v.length === 0 || v.length > 223) throw protocolError('TargetName is empty or longer than 223 bytes');
      cur = { name: v, portals: [] };
      out.push(cur);
    } else if (k === 'TargetAddress') {
      if (!cur) throw protocolError('TargetAddress before any TargetName');
      cur.portals.push(parseTargetAddress(v));
    }
  }
  for (const t of out) {
    if (t.portals.length === 0) t.portals.push({ address: discovery.address, port: discovery.port, tpgt: -1, portal: formatPortal(discovery.address, discovery.port) });
  }
  return out;
}
