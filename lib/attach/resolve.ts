// resolveIface(): from an IP address (ours, or the target's via the routing table) to the iface to use, step by
// step by sysfs parentage: netdev → MAC → PCI function → driver → transport → iscsi_host → iface. No MAC-offset
// guesses: a host belongs to a NIC when it has the NIC's MAC or netdev, or sits alone on its PCI function/device.
import { checkAddress, checkCommonOptions, checkDir, checkOptions } from '../validate';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { IscsiError, IscsiValidationError, throwIfAborted } from '../errors';
import { hosts, lowerDevices, netDevices, pciDeviceOf, pciFunction, pciFunctionOf, type IscsiHost, type NetDevice, type SysfsOptions } from '../read/sysfs';
import { listIfaceFiles } from '../files/iface-file';
import { ifacesDirFor } from './ifaces-dir';
import { isTransport, TRANSPORT_INFO, transportForDriver, type Transport } from './transport';

export interface ResolveStep {
  step: 'route' | 'address' | 'netdev' | 'hwaddress' | 'pci' | 'driver' | 'transport' | 'host' | 'iface';
  value: string;
  how: string;
}

export interface ResolvedHost {
  hostNo: number;
  transport: Transport;
  hwaddress?: string;
  netdev?: string;
  ipaddress?: string;
  /** Why this host belongs to the NIC (or to the address, for HBAs without a netdev). */
  matchedBy: 'hwaddress' | 'netdev' | 'pci-function' | 'pci-device' | 'ipaddress';
}

export interface ResolvedIface {
  steps: ResolveStep[];
  /** Absent when the address belongs to an HBA without a netdev (qla4xxx, qedi). */
  netdev?: string;
  hwaddress?: string;
  /** PCI function (e.g. 0000:03:00.4) of the NIC, or of the host. */
  pci?: string;
  driver?: string;
  transport: Transport;
  host?: ResolvedHost;
  /** Same as host.hostNo. */
  hostNo?: number;
  iface: { name: string; exists: boolean; wouldCreate: boolean };
}

export interface ResolveOptions extends SysfsOptions {
  procRoot?: string | undefined;
  /** Where iface files live (default: the running iscsid's database, ifaces-dir.ts: /var/lib/iscsi/ifaces on Debian 13+, else /etc/iscsi/ifaces). */
  ifacesDir?: string | undefined;
  /** Seam for tests: the IPv4/IPv6 addresses of the local netdevs (default os.networkInterfaces). */
  networkInterfaces?: (() => NodeJS.Dict<os.NetworkInterfaceInfo[]>) | undefined;
}

// ---- routes --------------------------------------------------------------------------------------------

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** An IPv4/IPv6 address as bytes (IPv4-mapped IPv6 is not special-cased). */
function ipBytes(withScope: string): Buffer {
  const ip = withScope.replace(/%.*$/, '');
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::') as [string, string?];
  const words = (s: string) => (s === '' ? [] : s.split(':'));
  let h = words(head);
  let t = ip.includes('::') ? words(tail) : [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two words.
  const v4 = (l: string[]) => {
    const last = l[l.length - 1];
    if (last === undefined || !last.includes('.')) return l;
    const b = last.split('.').map(Number);
    return [...l.slice(0, -1), ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
  };
  h = v4(h);
  t = v4(t);
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
  return b;
}

function prefixMatches(addr: Buffer, net: Buffer, len: number): boolean {
  for (let bit = 0; bit < len; bit++) {
    const m = 0x80 >> (bit % 8);
    if ((addr[bit >> 3]! & m) !== (net[bit >> 3]! & m)) return false;
  }
  return true;
}

export interface Route {
  netdev: string;
  gateway?: string;
  prefixLength: number;
}


/** An IPv4-mapped IPv6 address (::ffff:192.0.2.1) as the IPv4 address it goes out as; any other as it is. */
const unmapped = (ip: string): string => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;

/** The main table: longest-prefix match (then lowest metric) in /proc/net/route or /proc/net/ipv6_route. */
async function findRoute(ip: string, procRoot: string): Promise<Route | undefined> {
  // An IPv4-mapped IPv6 address goes out by the IPv4 table.
  const targetIp = unmapped(ip);
  const v6 = isIP(targetIp) === 6;
  const target = ipBytes(targetIp);
  const text = await fs.readFile(path.join(procRoot, 'net', v6 ? 'ipv6_route' : 'route'), 'utf8').catch(() => '');
  let best: (Route & { metric: number }) | undefined;
  const consider = (r: Route & { metric: number }) => {
    if (!best || r.prefixLength > best.prefixLength || (r.prefixLength === best.prefixLength && r.metric < best.metric)) best = r;
  };
  for (const line of text.split('\n').slice(v6 ? 0 : 1)) {
    const f = line.trim().split(/\s+/);
    if (!v6) {
      // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT; addresses are the kernel's
      // network-order u32 printed as host-order hex (little-endian on x86/arm64).
      if (f.length < 8) continue;
      const [dev, dest, gw, flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
      const fl = parseInt(flags, 16);
      if (!(fl & RTF_UP) || fl & RTF_REJECT) continue;
      const le = (h: string) => Buffer.from(h, 'hex').reverse();
      const toBytes = (h: string) => (os.endianness() === 'LE' ? le(h) : Buffer.from(h, 'hex'));
      const m = toBytes(mask);
      let len = 0;
      for (const byte of m) len += byte.toString(2).replace(/0/g, '').length;
      if (!prefixMatches(target, toBytes(dest), len)) continue;
      const g = toBytes(gw);
      consider({ netdev: dev, prefixLength: len, metric: Number(metric), ...(g.readUInt32BE(0) !== 0 ? { gateway: [...g].join('.') } : {}) });
    } else {
      // dest plen src splen nexthop metric refcnt use flags dev (hex, network order)
      if (f.length < 10) continue;
      const [dest, plen, , , hop, metric, , , flags, dev] = f as [string, string, string, string, string, string, string, string, string, string];
      const fl = parseInt(flags, 16);
      if (dev === 'lo' || !(fl & RTF_UP) || fl & RTF_REJECT) continue;
      const len = parseInt(plen, 16);
      if (!prefixMatches(target, Buffer.from(dest, 'hex'), len)) continue;
      const g = Buffer.from(hop, 'hex');
      // The URL parser prints IPv6 in its canonical compressed form.
      const gateway = g.some((x) => x !== 0) ? new URL(`http://[${[0, 2, 4, 6, 8, 10, 12, 14].map((i) => g.readUInt16BE(i).toString(16)).join(':')}]/`).hostname.slice(1, -1) : undefined;
      consider({ netdev: dev, prefixLength: len, metric: parseInt(metric, 16), ...(gateway ? { gateway } : {}) });
    }
  }
  return best && { netdev: best.netdev, prefixLength: best.prefixLength, ...(best.gateway ? { gateway: best.gateway } : {}) };
}

// ---- the local table ------------------------------------------------------------------------------------

const RTF_LOCAL = 0x80000000;

export interface LocalRoute {
  /** The prefix of the local table's entry that holds the address (e.g. 127.0.0.0/8, 192.0.2.2/32). */
  prefix: string;
  /** The netdev the address is configured on, when the table names one (IPv6), else undefined. */
  owner?: string;
  table: string;
}

/**
 * The kernel looks an address up in its local table before the main one: a local or loopback address goes
 * out of `lo` whatever the main table says. IPv4: the LOCAL entries of /proc/net/fib_trie; IPv6: the
 * RTF_LOCAL rows of /proc/net/ipv6_route (which name the device that has the address).
 */
async function findLocal(ip: string, procRoot: string): Promise<LocalRoute | undefined> {
  const targetIp = unmapped(ip);
  const target = ipBytes(targetIp);
  if (isIP(targetIp) === 4) {
    const file = path.join(procRoot, 'net', 'fib_trie');
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return prefixMatches(target, ipBytes('127.0.0.0'), 8) ? { prefix: '127.0.0.0/8', table: 'the IPv4 loopback network' } : undefined;
    let node: string | undefined;
    for (const line of text.split('\n')) {
      const leaf = /^\s*\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
      if (leaf) {
        node = leaf[1];
        continue;
      }
      const entry = /^\s*\/(\d+)\s+\S+\s+LOCAL\b/.exec(line);
      if (entry && node !== undefined && prefixMatches(target, ipBytes(node), Number(entry[1]))) return { prefix: `${node}/${entry[1]}`, table: file };
    }
    return undefined;
  }
  const file = path.join(procRoot, 'net', 'ipv6_route');
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8]!, 16);
    const len = parseInt(f[1]!, 16);
    if (!(flags & RTF_UP) || !(flags & RTF_LOCAL) || !prefixMatches(target, Buffer.from(f[0]!, 'hex'), len)) continue;
    return { prefix: `${targetIp}/${len}`, table: file, ...(f[9] !== 'lo' ? { owner: f[9]! } : {}) };
  }
  return targetIp === '::1' ? { prefix: '::1/128', table: 'the IPv6 loopback address' } : undefined;
}

/** Where the kernel sends a packet for `ip`: `lo` for a local address (its local table), else the main table's route. */
export async function routeTo(targetIp: string, procRoot = '/proc'): Promise<{ netdev: string; gateway?: string; local?: boolean } | undefined> {
  checkAddress(targetIp, 'targetIp');
  checkDir(procRoot, 'procRoot');
  if (await findLocal(targetIp, procRoot)) return { netdev: 'lo', local: true };
  const r = await findRoute(targetIp, procRoot);
  return r && { netdev: r.netdev, ...(r.gateway ? { gateway: r.gateway } : {}) };
}

// ---- local addresses -----------------------------------------------------------------------------------

/** The netdev that has `ip`: os.networkInterfaces() (IPv4 and IPv6), then /proc/net/if_inet6 for IPv6. */
async function netdevWithAddress(ip: string, o: ResolveOptions): Promise<string | undefined> {
  const nics = (o.networkInterfaces ?? os.networkInterfaces)();
  const want = ipBytes(ip);
  const hit = Object.keys(nics).find((n) => nics[n]?.some((a) => isIP(a.address) === isIP(ip) && ipBytes(a.address.replace(/%.*$/, '')).equals(want)));
  if (hit || isIP(ip) !== 6) return hit;
  const text = await fs.readFile(path.join(o.procRoot ?? '/proc', 'net', 'if_inet6'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6 && Buffer.from(f[0]!, 'hex').equals(want)) return f[5];
  }
  return undefined;
}

/**
 * The netdev that traffic to `ip` uses: the device that has the address when it is one of ours (the RDMA CM
 * binds to that device; the IP stack delivers it locally), else the longest-prefix route's device.
 */
export async function netdevToward(ip: string, o: ResolveOptions = {}): Promise<{ netdev: string; how: string } | undefined> {
  const local = await netdevWithAddress(ip, o);
  if (local) return { netdev: local, how: `${ip} is configured on ${local}` };
  const r = await findRoute(ip, o.procRoot ?? '/proc');
  return r && { netdev: r.netdev, how: `the route to ${ip} (/${r.prefixLength}${r.gateway ? ` via ${r.gateway}` : ''}) goes out of ${r.netdev}` };
}

// ---- hosts ---------------------------------------------------------------------------------------------

const offloadHost = (h: IscsiHost): h is IscsiHost & { transport: Transport } => isTransport(h.transport) && TRANSPORT_INFO[h.transport].offload;

/** The offload host that belongs to a NIC, by MAC, netdev, then sysfs parentage; `ambiguous` when parentage gives several. */
function hostOfNic(all: IscsiHost[], nic: NetDevice, nics: NetDevice[]): { host: IscsiHost & { transport: Transport }; by: ResolvedHost['matchedBy'] } | { ambiguous: IscsiHost[] } | undefined {
  const off = all.filter(offloadHost);
  const byMac = nic.mac ? off.find((h) => h.hwaddress?.toLowerCase() === nic.mac) : undefined;
  if (byMac) return { host: byMac, by: 'hwaddress' };
  const byName = off.find((h) => h.netdev === nic.name);
  if (byName) return { host: byName, by: 'netdev' };
  if (!nic.pciPath) return undefined;
  // Hosts that name another NIC, or have another NIC's MAC, are that NIC's, not this one's.
  const otherMacs = new Set(nics.filter((n) => n.name !== nic.name && n.mac).map((n) => n.mac));
  const free = off.filter((h) => h.netdev === undefined && !(h.hwaddress && otherMacs.has(h.hwaddress.toLowerCase())));
  const sameFn = free.filter((h) => pciFunctionOf(h.devicePath) === nic.pciPath);
  if (sameFn.length === 1) return { host: sameFn[0]!, by: 'pci-function' };
  if (sameFn.length > 1) return { ambiguous: sameFn };
  const sameDev = free.filter((h) => {
    const f = pciFunctionOf(h.devicePath);
    return f !== undefined && pciDeviceOf(f) === pciDeviceOf(nic.pciPath!);
  });
  if (sameDev.length === 1) return { host: sameDev[0]!, by: 'pci-device' };
  if (sameDev.length > 1) return { ambiguous: sameDev };
  return undefined;
}

// ---- resolveIface ---------------------------------------------------------------------------------------

export async function resolveIface(by: { sourceIp: string } | { targetIp: string }, o: ResolveOptions = {}): Promise<ResolvedIface> {
  checkOptions(by, 'resolveIface({ sourceIp } or { targetIp })');
  if (by === undefined || ('targetIp' in by) === ('sourceIp' in by)) throw new IscsiValidationError('INVALID_OPTIONS', 'resolveIface takes { sourceIp } or { targetIp }');
  checkAddress('targetIp' in by ? by.targetIp : by.sourceIp, 'targetIp' in by ? 'targetIp' : 'sourceIp');
  checkCommonOptions(o, 'resolveIface options');
  throwIfAborted(o.signal);
  const steps: ResolveStep[] = [];
  const all = await hosts(o);
  let netdev: string | undefined;
  let hbaHost: { host: IscsiHost & { transport: Transport }; ip: string } | undefined;

  if ('targetIp' in by) {
    if (typeof by.targetIp !== 'string' || isIP(by.targetIp) === 0) throw new IscsiValidationError('INVALID_ADDRESS', `targetIp ${JSON.stringify(by.targetIp)} is not an IPv4 or IPv6 address`);
    const procRoot = o.procRoot ?? '/proc';
    const local = await findLocal(by.targetIp, procRoot);
    if (local) {
      netdev = 'lo';
      steps.push({ step: 'route', value: 'local', how: `${by.targetIp} is this machine's own address (${local.prefix}${local.owner ? ` on ${local.owner}` : ''} in the kernel's local table, ${local.table}), looked up before the main table` });
      steps.push({ step: 'netdev', value: 'lo', how: 'the kernel sends traffic to its own addresses through the loopback device' });
    } else {
      const r = await findRoute(by.targetIp, procRoot);
      if (!r) throw new IscsiError('NO_ROUTE', `no route to ${by.targetIp}`, { hint: 'add a route, or give the source address instead' });
      netdev = r.netdev;
      const table = isIP(by.targetIp) === 6 && !/^::ffff:\d/i.test(by.targetIp) ? '/proc/net/ipv6_route' : '/proc/net/route';
      steps.push({ step: 'route', value: r.gateway ? `via ${r.gateway}` : 'directly connected', how: `longest prefix (/${r.prefixLength}) matching ${by.targetIp} in ${table}` });
      steps.push({ step: 'netdev', value: netdev, how: 'the route goes out of this device' });
    }
  } else {
    if (typeof by.sourceIp !== 'string' || isIP(by.sourceIp) === 0) throw new IscsiValidationError('INVALID_ADDRESS', `sourceIp ${JSON.stringify(by.sourceIp)} is not an IPv4 or IPv6 address`);
    netdev = await netdevWithAddress(by.sourceIp, o);
    if (netdev) {
      steps.push({ step: 'netdev', value: netdev, how: `${by.sourceIp} is configured on it` });
    } else {
      // An HBA's own address (qla4xxx, be2iscsi, qedi): on the host, or on one of its iscsi_iface entries.
      const ip = by.sourceIp;
      const h = all.filter(offloadHost).find((x) => x.ipaddress === ip || x.ifaces.some((i) => i.ipaddress === ip));
      if (!h) throw new IscsiError('ADDRESS_NOT_LOCAL', `no local network device and no iSCSI host has ${ip}`, { hint: 'give an address configured on this machine, or the target address' });
      hbaHost = { host: h, ip };
      steps.push({ step: 'address', value: ip, how: `the address of iSCSI host${h.hostNo}${h.ipaddress === ip ? '' : ` (iscsi_iface ${h.ifaces.find((i) => i.ipaddress === ip)!.name})`}, not of a netdev` });
    }
  }

  const out: ResolvedIface = { steps, transport: 'tcp', iface: { name: 'default', exists: true, wouldCreate: false } };
  let host: { host: IscsiHost & { transport: Transport }; by: ResolvedHost['matchedBy'] } | undefined;

  if (netdev !== undefined) {
    out.netdev = netdev;
    const nics = await netDevices(o);
    let nic = nics.find((n) => n.name === netdev);
    // A VLAN (or another stacked device with one lower device) resolves through the device it sits on.
    for (let depth = 0; nic && !nic.pciPath && depth < 4; depth++) {
      const lower = await lowerDevices(nic.name, o);
      if (lower.length !== 1) break;
      const next = nics.find((n) => n.name === lower[0]);
      if (!next) break;
      steps.push({ step: 'netdev', value: next.name, how: `${nic.name} sits on it (/sys/class/net/${nic.name}/lower_${next.name})` });
      nic = next;
    }
    if (nic?.mac) {
      out.hwaddress = nic.mac;
      steps.push({ step: 'hwaddress', value: nic.mac, how: `/sys/class/net/${nic.name}/address` });
    }
    if (nic?.pciPath) {
      const pci = await pciFunction(nic.pciPath);
      out.pci = pci.slot;
      steps.push({ step: 'pci', value: pci.slot, how: `/sys/class/net/${nic.name}/device${pci.vendor ? ` (vendor ${pci.vendor}, device ${pci.device ?? '?'})` : ''}` });
      if (pci.driver) {
        out.driver = pci.driver;
        steps.push({ step: 'driver', value: pci.driver, how: `/sys/bus/pci/devices/${pci.slot}/driver` });
      }
    }
    const m = nic ? hostOfNic(all, nic, nics) : undefined;
    const family = transportForDriver(out.driver);
    if (m && 'host' in m) {
      host = m;
      const why = { hwaddress: 'has the NIC\'s MAC', netdev: `names ${nic!.name} as its netdev`, 'pci-function': 'is the only offload host on the NIC\'s PCI function', 'pci-device': 'is the only offload host on another function of the NIC\'s PCI device', ipaddress: '' }[m.by];
      steps.push({ step: 'transport', value: m.host.transport, how: family === m.host.transport ? `${out.driver} carries ${family}` : `the NIC's iSCSI host is ${m.host.transport}` });
      steps.push({ step: 'host', value: `host${m.host.hostNo}`, how: `the ${m.host.transport} iscsi_host that ${why}` });
    } else if (m && 'ambiguous' in m) {
      steps.push({ step: 'transport', value: 'tcp', how: `offload hosts ${m.ambiguous.map((h) => `host${h.hostNo}`).join(', ')} share the card and none names ${nic!.name}: name the iface yourself` });
    } else {
      steps.push({
        step: 'transport',
        value: 'tcp',
        how: family ? `${out.driver} can carry ${family}, but no ${family} iscsi_host belongs to ${nic?.name ?? netdev} (driver not loaded?)` : out.driver ? `${out.driver} has no iSCSI offload` : 'no PCI function: a virtual device',
      });
    }
  } else if (hbaHost) {
    host = { host: hbaHost.host, by: 'ipaddress' };
    const f = pciFunctionOf(hbaHost.host.devicePath);
    if (f) {
      const pci = await pciFunction(f);
      out.pci = pci.slot;
      steps.push({ step: 'pci', value: pci.slot, how: `the PCI function host${hbaHost.host.hostNo} sits under` });
      if (pci.driver) {
        out.driver = pci.driver;
        steps.push({ step: 'driver', value: pci.driver, how: `/sys/bus/pci/devices/${pci.slot}/driver` });
      }
    }
    if (hbaHost.host.hwaddress) out.hwaddress = hbaHost.host.hwaddress.toLowerCase();
    steps.push({ step: 'transport', value: hbaHost.host.transport, how: `host${hbaHost.host.hostNo} is a ${hbaHost.host.transport} host` });
    steps.push({ step: 'host', value: `host${hbaHost.host.hostNo}`, how: `the iscsi_host with ${hbaHost.ip}` });
  }

  if (host) {
    const h = host.host;
    const t = h.transport;
    out.transport = t;
    out.hostNo = h.hostNo;
    out.host = { hostNo: h.hostNo, transport: t, matchedBy: host.by };
    if (h.hwaddress) out.host.hwaddress = h.hwaddress.toLowerCase();
    if (h.netdev) out.host.netdev = h.netdev;
    if (h.ipaddress) out.host.ipaddress = h.ipaddress;
    const hw = out.host.hwaddress ?? out.hwaddress;
    // The iscsi_iface entry: the one with the source address, else the first.
    const ip = 'sourceIp' in by ? by.sourceIp : undefined;
    const entry = h.ifaces.find((i) => i.ipaddress === ip) ?? h.ifaces[0];
    // An existing iface of this transport that iscsid would bind to this host (its hwaddress, else its netdev).
    const files = (await listIfaceFiles({ ifacesDir: await ifacesDirFor(o.ifacesDir) })).filter((f) => f.transport === t);
    const existing =
      files.find((f) => f.hwaddress !== undefined && f.hwaddress === hw && (entry === undefined || (f.ifaceNum ?? 0) === entry.ifaceNum)) ??
      files.find((f) => f.hwaddress === undefined && f.netdev !== undefined && f.netdev === h.netdev);
    if (existing) {
      out.iface = { name: existing.name, exists: true, wouldCreate: false };
      steps.push({ step: 'iface', value: existing.name, how: `existing iface file bound to host${h.hostNo} by ${existing.hwaddress ? 'hwaddress' : 'netdev'}` });
    } else {
      const name = hw ? (entry ? `${t}.${hw}.${entry.family}.${entry.ifaceNum}` : `${t}.${hw}`) : `${t}.${h.netdev ?? `host${h.hostNo}`}`;
      out.iface = { name, exists: false, wouldCreate: true };
      steps.push({ step: 'iface', value: name, how: `no iface file yet: createIface() would write it${entry ? ` (for iscsi_iface ${entry.name})` : ''}` });
    }
  } else {
    steps.push({ step: 'iface', value: 'default', how: 'software iSCSI through the built-in default iface' });
  }
  return out;
}
