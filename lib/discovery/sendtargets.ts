// The answer to SendTargets=All (RFC 7143 §13.3 and Appendix C): each TargetName is followed by the
// TargetAddress entries of its portals, "host[:port][,tpgt]", host being an IPv4 address, a bracketed IPv6
// address or a DNS name. A target with no TargetAddress is reachable where it was discovered.
import { isIP } from 'node:net';
import { IscsiProtocolError } from '../errors';
import { protocolError } from './frame';
import { printable, type KeyList } from './keys';

export interface DiscoveredPortal {
  /** IP address (IPv6 without brackets) or host name, as the target gave it. */
  address: string;
  port: number;
  /** Target portal group tag; -1 when the target gave none (a target listed without any TargetAddress). */
  tpgt: number;
  /** "a.b.c.d:port", "[v6]:port" or "name:port" */
  portal: string;
}

export interface DiscoveredTarget {
  name: string;
  portals: DiscoveredPortal[];
}

export const DEFAULT_ISCSI_PORT = 3260;
/** RFC 7143: iSCSI names are at most 223 bytes. */
const MAX_NAME_BYTES = 223;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export const formatPortal = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function number(text: string, max: number, min: number, what: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > max) throw protocolError(`TargetAddress ${JSON.stringify(whole.slice(0, 80))} has an invalid ${what}`);
  return Number(text);
}

/**
 * "host[:port][,tpgt]": `192.0.2.1:3260,1`, `[2001:db8::1]:3260,1`, `[fe80::1%eth0]`, `san.example:3261`,
 * `san.example,2`. An unbracketed IPv6 address (which some old targets send) is taken whole, with the default port.
 */
export function parseTargetAddress(value: string): DiscoveredPortal {
  if (value.length === 0 || value.length > 255) throw protocolError('a TargetAddress is empty or longer than 255 bytes');
  const bad = () => protocolError(`TargetAddress ${JSON.stringify(printable(Buffer.from(value)))} is not host[:port][,tpgt]`);
  let rest = value;
  let tpgt = -1;
  const comma = rest.lastIndexOf(',');
  if (comma >= 0) {
    tpgt = number(rest.slice(comma + 1), 65535, 0, 'portal group tag', value);
    rest = rest.slice(0, comma);
  }
  let address: string;
  let port = DEFAULT_ISCSI_PORT;
  if (rest.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    if (!m || isIP(m[1]!) !== 6) throw bad();
    address = m[1]!;
    if (m[2] !== undefined) port = number(m[2], 65535, 1, 'port', value);
  } else if (isIP(rest) === 6) {
    address = rest;
  } else {
    const colon = rest.indexOf(':');
    address = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) port = number(rest.slice(colon + 1), 65535, 1, 'port', value);
    const looksNumeric = /^[\d.]+$/.test(address);
    if (looksNumeric ? isIP(address) !== 4 : !HOST_NAME.test(address)) throw bad();
  }
  return { address, port, tpgt, portal: formatPortal(address, port) };
}

// ---- bounded, linear assembly of an answer ---------------------------------------------------------------

/**
 * Caps on one SendTargets answer. A hostile or broken target can list anything; what a caller gets stays
 * bounded: at most MAX_TARGETS targets and MAX_PORTALS_PER_TARGET distinct portals each (duplicates are
 * dropped first, in constant time each). Beyond either cap the discovery fails with
 * DISCOVERY_ANSWER_TOO_LARGE (nothing is truncated silently). The answer's bytes are capped by the client
 * (16 MiB).
 */
export const MAX_TARGETS = 65_536;
export const MAX_PORTALS_PER_TARGET = 256;

const tooLarge = (message: string, details: Record<string, unknown>) =>
  new IscsiProtocolError('DISCOVERY_ANSWER_TOO_LARGE', `the SendTargets answer is too large: ${message}`, {
    details,
    hint: 'ask the target administrator to restrict what this initiator is offered (ACLs), or discover from a portal of a smaller portal group',
  });

/**
 * Builds the answer pair by pair, in linear time: a Map from target name, a Set of each target's portals.
 * Fed as the Text Responses arrive, so no single step handles more than one PDU's worth.
 */
export class SendTargetsBuilder {
  private readonly byName = new Map<string, { target: DiscoveredTarget; seen: Set<string> }>();
  private current: { target: DiscoveredTarget; seen: Set<string> } | undefined;

  add(key: string, value: string): void {
    if (key === 'TargetName') {
      if (value.length === 0 || Buffer.byteLength(value) > MAX_NAME_BYTES || /[\x00-\x20\x7f]/.test(value)) {
        throw protocolError(`TargetName ${JSON.stringify(printable(Buffer.from(value)))} is empty, longer than ${MAX_NAME_BYTES} bytes or has spaces or control characters`);
      }
      let entry = this.byName.get(value);
      if (!entry) {
        if (this.byName.size >= MAX_TARGETS) throw tooLarge(`more than ${MAX_TARGETS} targets`, { maxTargets: MAX_TARGETS });
        entry = { target: { name: value, portals: [] }, seen: new Set() };
        this.byName.set(value, entry);
      }
      this.current = entry;
    } else if (key === 'TargetAddress') {
      const c = this.current;
      if (!c) throw protocolError('a TargetAddress came before any TargetName');
      const p = parseTargetAddress(value);
      const id = `${p.portal},${p.tpgt}`;
      if (c.seen.has(id)) return;
      if (c.seen.size >= MAX_PORTALS_PER_TARGET) {
        throw tooLarge(`target ${c.target.name} lists more than ${MAX_PORTALS_PER_TARGET} portals`, { target: c.target.name, maxPortalsPerTarget: MAX_PORTALS_PER_TARGET });
      }
      c.seen.add(id);
      c.target.portals.push(p);
    } else if (key === 'SendTargets') {
      throw protocolError(`the target answered SendTargets=${value.slice(0, 20)}`);
    }
  }

  /** The targets in the answer's order; one without any TargetAddress gets the discovery portal (tpgt -1). */
  finish(discovery: { address: string; port: number }): DiscoveredTarget[] {
    const out: DiscoveredTarget[] = [];
    for (const { target } of this.byName.values()) {
      if (target.portals.length === 0) target.portals.push({ address: discovery.address, port: discovery.port, tpgt: -1, portal: formatPortal(discovery.address, discovery.port) });
      out.push(target);
    }
    return out;
  }
}

/**
 * Groups the pairs by target, in the target's order. A TargetName listed twice is merged; a portal listed
 * twice for a target is kept once. Other keys (TargetAlias, vendor keys) are ignored. Linear in the pairs.
 */
export function parseSendTargets(pairs: KeyList, discovery: { address: string; port: number }): DiscoveredTarget[] {
  const b = new SendTargetsBuilder();
  for (const [key, value] of pairs) b.add(key, value);
  return b.finish(discovery);
}
