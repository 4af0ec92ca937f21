// The kernel's sysfs layout for transports, hosts, netdevs and PCI functions. Every function takes the sysfs
// root so unit tests run on fixture trees; the default is the real /sys. Hosts are read by the addon, which
// reads a session's host for its iface too (native/usr/host_sysfs.cc); the per-session walk, on every
// attach's hot path, is the addon's as well (native/usr/session_sysfs.cc).
import { checkCommonOptions } from '../validate';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { throwIfAborted } from '../errors';
import { native, type NativeHost, type NativeHostIface } from '../native';

export interface SysfsOptions {
  /** Where sysfs is mounted; tests point this at a fixture tree. */
  sysfsRoot?: string | undefined;
  signal?: AbortSignal | undefined;
}

const root = (o: SysfsOptions) => o.sysfsRoot ?? '/sys';

/** Reads a sysfs attribute: trimmed, `(null)` and unreadable attributes become undefined. */
export async function readAttr(file: string): Promise<string | undefined> {
  try {
    const v = (await fs.readFile(file, 'utf8')).trim();
    return v === '(null)' ? undefined : v;
  } catch {
    return undefined;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

// ---- transports -------------------------------------------------------------------------------------

/** Transport capability bits (the kernel's iscsi_if.h). */
export const CAPS = {
  recoveryL0: 0x1,
  recoveryL1: 0x2,
  recoveryL2: 0x4,
  multiR2T: 0x8,
  headerDigest: 0x10,
  dataDigest: 0x20,
  multiConnection: 0x40,
  textNegotiation: 0x80,
  markers: 0x100,
  firmwareDb: 0x200,
  sendTargetsOffload: 0x400,
  dataPathOffload: 0x800,
  digestOffload: 0x1000,
  paddingOffload: 0x2000,
  loginOffload: 0x4000,
} as const;

export type CapName = keyof typeof CAPS;

export function decodeCaps(caps: number): CapName[] {
  return (Object.keys(CAPS) as CapName[]).filter((k) => (caps & CAPS[k]) !== 0);
}

export interface KernelTransport {
  name: string;
  caps: number;
  flags: CapName[];
}

/** The transports registered in /sys/class/iscsi_transport, with decoded caps. */
/** The transport's caps; undefined when its directory (or caps) cannot be read. */
async function readCaps(dir: string, name: string): Promise<number | undefined> {
  const raw = await readAttr(path.join(dir, name, 'caps'));
  if (raw === undefined) return undefined;
  return /^0x[0-9a-f]+$/i.test(raw) ? parseInt(raw, 16) : 0;
}

const describe = (name: string, caps: number): KernelTransport => ({ name, caps, flags: decodeCaps(caps) });

export async function transports(o: SysfsOptions = {}): Promise<KernelTransport[]> {
  checkCommonOptions(o);
  throwIfAborted(o.signal);
  const dir = path.join(root(o), 'class', 'iscsi_transport');
  const names = (await list(dir)).sort();
  return Promise.all(names.map(async (name) => describe(name, (await readCaps(dir, name)) ?? 0)));
}

/** One registered transport with one read (the attach path's check), or undefined when it is not registered. */
export async function transport(name: string, o: SysfsOptions = {}): Promise<KernelTransport | undefined> {
  throwIfAborted(o.signal);
  if (name === '' || name.includes('/') || name.startsWith('.')) return undefined;
  const caps = await readCaps(path.join(root(o), 'class', 'iscsi_transport'), name);
  return caps === undefined ? undefined : describe(name, caps);
}

// ---- hosts ------------------------------------------------------------------------------------------

/** An iscsi_host, as the addon reads it. */
export type IscsiHost = NativeHost;
/** One of a host's iscsi_iface entries (offload HBAs). */
export type HostIfaceEntry = NativeHostIface;

/** Every iscsi_host in /sys/class/iscsi_host, read by the addon (native/usr/host_sysfs.cc, the one reader of a host's attributes, which sessions' ifaces use too). */
export async function hosts(o: SysfsOptions = {}): Promise<IscsiHost[]> {
  checkCommonOptions(o);
  throwIfAborted(o.signal);
  return native().getHosts(path.resolve(root(o)));
}

// ---- PCI functions and network devices (for hardware checks and iface resolution) ---------------------

const PCI_BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** The PCI function directory a device path sits under (its last BDF component), if any. */
export function pciFunctionOf(devicePath: string): string | undefined {
  const parts = devicePath.split('/');
  for (let i = parts.length - 1; i >= 0; i--) if (PCI_BDF.test(parts[i]!)) return parts.slice(0, i + 1).join('/');
  return undefined;
}

/** The PCI device (all functions) a PCI function path belongs to: the path without its `.F`. */
export const pciDeviceOf = (pciPath: string): string => pciPath.replace(/\.[0-7]$/, '');

export interface PciFunction {
  /** e.g. 0000:03:00.4 */
  slot: string;
  path: string;
  vendor?: string;
  device?: string;
  driver?: string;
}

export async function pciFunction(pciPath: string): Promise<PciFunction> {
  const f: PciFunction = { slot: path.basename(pciPath), path: pciPath };
  const vendor = await readAttr(path.join(pciPath, 'vendor'));
  if (vendor) f.vendor = vendor.replace(/^0x/, '').toLowerCase();
  const device = await readAttr(path.join(pciPath, 'device'));
  if (device) f.device = device.replace(/^0x/, '').toLowerCase();
  const driver = await fs.realpath(path.join(pciPath, 'driver')).catch(() => undefined);
  if (driver) f.driver = path.basename(driver);
  return f;
}

export interface NetDevice {
  name: string;
  mac?: string;
  operstate?: string;
  carrier?: boolean;
  /** The PCI function behind it (realpath), when it has one. */
  pciPath?: string;
}

export async function netDevices(o: SysfsOptions = {}): Promise<NetDevice[]> {
  const dir = path.join(root(o), 'class', 'net');
  const out: NetDevice[] = [];
  for (const name of (await list(dir)).sort()) {
    const d: NetDevice = { name };
    const mac = await readAttr(path.join(dir, name, 'address'));
    if (mac) d.mac = mac.toLowerCase();
    const oper = await readAttr(path.join(dir, name, 'operstate'));
    if (oper) d.operstate = oper;
    const carrier = await readAttr(path.join(dir, name, 'carrier'));
    if (carrier !== undefined) d.carrier = carrier === '1';
    const dev = await fs.realpath(path.join(dir, name, 'device')).catch(() => undefined);
    const pci = dev ? pciFunctionOf(dev) : undefined;
    if (pci) d.pciPath = pci;
    out.push(d);
  }
  return out;
}

/** Whether an RDMA device (needed by iSER) is registered. */
export async function hasRdmaDevice(o: SysfsOptions = {}): Promise<boolean> {
  return (await list(path.join(root(o), 'class', 'infiniband'))).length > 0;
}

export interface RdmaPort {
  port: number;
  /** The state's name: ACTIVE, DOWN, INIT, ARMED (from `4: ACTIVE`). */
  state?: string;
  /** Ethernet (RoCE, iWARP) or InfiniBand. */
  linkLayer?: string;
  /** The netdevs of the port's GID table (RoCE: its Ethernet device, and any VLAN on it). */
  netdevs: string[];
}

export interface RdmaDevice {
  name: string;
  /** The netdev a software device (rxe, siw) was made on: its `parent` attribute. */
  parent?: string;
  /** Netdevs on the same PCI function (a RoCE NIC's Ethernet port, or IPoIB's ib0). */
  pciNetdevs: string[];
  ports: RdmaPort[];
}

// GID entries that exist come first in the table; an unused one reads as EINVAL. Enough for the default
// GIDs (RoCE v1/v2, link-local and one address) plus a few VLANs, without walking all 1024.
const GID_SCAN = 16;

/** The RDMA devices in /sys/class/infiniband, each with the netdevs it serves (for iSER's route check). */
export async function rdmaDevices(o: SysfsOptions = {}): Promise<RdmaDevice[]> {
  throwIfAborted(o.signal);
  const dir = path.join(root(o), 'class', 'infiniband');
  const out: RdmaDevice[] = [];
  for (const name of (await list(dir)).sort()) {
    const d = path.join(dir, name);
    const dev: RdmaDevice = { name, pciNetdevs: (await list(path.join(d, 'device', 'net'))).sort(), ports: [] };
    const parent = await readAttr(path.join(d, 'parent'));
    if (parent) dev.parent = parent;
    for (const p of (await list(path.join(d, 'ports'))).filter((x) => /^\d+$/.test(x)).sort((a, b) => Number(a) - Number(b))) {
      const pd = path.join(d, 'ports', p);
      const port: RdmaPort = { port: Number(p), netdevs: [] };
      const state = await readAttr(path.join(pd, 'state'));
      if (state) port.state = state.replace(/^\d+:\s*/, '');
      const ll = await readAttr(path.join(pd, 'link_layer'));
      if (ll) port.linkLayer = ll;
      for (let i = 0; i < GID_SCAN; i++) {
        const n = await readAttr(path.join(pd, 'gid_attrs', 'ndevs', String(i)));
        if (n === undefined) break;
        if (n !== '' && !port.netdevs.includes(n)) port.netdevs.push(n);
      }
      dev.ports.push(port);
    }
    out.push(dev);
  }
  return out;
}

/** Each session's iface name (`/sys/class/iscsi_session/sessionN/ifacename`), by session id. */
export async function sessionIfaceNames(o: SysfsOptions = {}): Promise<Map<number, string>> {
  throwIfAborted(o.signal);
  const dir = path.join(root(o), 'class', 'iscsi_session');
  const out = new Map<number, string>();
  for (const n of await list(dir)) {
    const sid = /^session(\d+)$/.exec(n)?.[1];
    if (sid === undefined) continue;
    out.set(Number(sid), (await readAttr(path.join(dir, n, 'ifacename'))) ?? 'default');
  }
  return out;
}

/** The devices a stacked netdev (VLAN, bond, macvlan) sits on: its `lower_<dev>` links. */
export async function lowerDevices(netdev: string, o: SysfsOptions = {}): Promise<string[]> {
  return (await list(path.join(root(o), 'class', 'net', netdev)))
    .filter((n) => n.startsWith('lower_'))
    .map((n) => n.slice('lower_'.length))
    .sort();
}
