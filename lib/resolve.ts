// resolveIface(): from an IP address (ours, or the target's via the routing table) to the iface to use,
// step by step by sysfs parentage: netdev → MAC → PCI function → driver → transport → iscsi_host → iface.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { isIPv4 } from 'node:net';
import { IscsiError, IscsiValidationError } from './errors';
import { hosts, netDevices, pciFunction, type SysfsOptions } from './sysfs';
import { transportForDriver, type Transport } from './transport';

export interface ResolveStep {
  step: 'route' | 'netdev' | 'hwaddress' | 'pci' | 'driver' | 'transport' | 'host' | 'iface';
  value: string;
  how: string;
}

export interface ResolvedIface {
  steps: ResolveStep[];
  netdev: string;
  hwaddress?: string;
  pci?: string;
  driver?: string;
  transport: Transport;
  hostNo?: number;
  iface: { name: string; exists: boolean; wouldCreate: boolean };
}

export interface ResolveOptions extends SysfsOptions {
  procRoot?: string;
  ifacesDir?: string;
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;

/** Longest-prefix match in /proc/net/route (IPv4). */
export async function routeTo(targetIp: string, procRoot = '/proc'): Promise<{ netdev: string; gateway?: string } | undefined> {
  const text = await fs.readFile(`${procRoot}/net/route`, 'utf8').catch(() => '');
  const target = ipToInt(targetIp);
  let best: { netdev: string; gateway?: string; len: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // The kernel prints each address as a host-order u32 of network-order bytes: little-endian here.
    const addr = (h: string) => Buffer.from(h, 'hex').readUInt32LE(0) >>> 0;
    const [iface, dest, gw, , , , , mask] = f as [string, string, string, string, string, string, string, string];
    const dn = addr(dest);
    const mn = addr(mask);
    if (((target & mn) >>> 0) !== dn) continue;
    const len = mn.toString(2).replace(/0/g, '').length;
    if (!best || len > best.len) best = { netdev: iface, len, ...(gw !== '00000000' ? { gateway: [...Buffer.from(gw, 'hex')].reverse().join('.') } : {}) };
  }
  return best && { netdev: best.netdev, ...(best.gateway ? { gateway: best.gateway } : {}) };
}

export async function resolveIface(by: { sourceIp: string } | { targetIp: string }, o: ResolveOptions = {}): Promise<ResolvedIface> {
  const steps: ResolveStep[] = [];
  let netdev: string | undefined;
  if ('targetIp' in by) {
    if (!isIPv4(by.targetIp)) throw new IscsiValidationError('INVALID_ADDRESS', `targetIp ${JSON.stringify(by.targetIp)} must be an IPv4 address (IPv6 routes are not resolved yet)`);
    const r = await routeTo(by.targetIp, o.procRoot);
    if (!r) throw new IscsiError('NO_ROUTE', `no route to ${by.targetIp}`);
    netdev = r.netdev;
    steps.push({ step: 'route', value: r.gateway ? `via ${r.gateway}` : 'directly connected', how: `longest prefix match for ${by.targetIp} in /proc/net/route` });
    steps.push({ step: 'netdev', value: netdev, how: 'the route goes out of this device' });
  } else {
    if (!isIPv4(by.sourceIp) && !by.sourceIp.includes(':')) throw new IscsiValidationError('INVALID_ADDRESS', `sourceIp ${JSON.stringify(by.sourceIp)} is not an IP address`);
    const nics = (o.networkInterfaces ?? os.networkInterfaces)();
    netdev = Object.keys(nics).find((n) => nics[n]?.some((a) => a.address === by.sourceIp));
    if (!netdev) throw new IscsiError('ADDRESS_NOT_LOCAL', `no local network device has ${by.sourceIp}`);
    steps.push({ step: 'netdev', value: netdev, how: `${by.sourceIp} is configured on it` });
  }
  const nic = (await netDevices(o)).find((n) => n.name === netdev);
  const out: ResolvedIface = { steps, netdev, transport: 'tcp', iface: { name: 'default', exists: true, wouldCreate: false } };
  if (nic?.mac) {
    out.hwaddress = nic.mac;
    steps.push({ step: 'hwaddress', value: nic.mac, how: `/sys/class/net/${netdev}/address` });
  }
  if (nic?.pciPath) {
    const pci = await pciFunction(nic.pciPath);
    out.pci = pci.slot;
    steps.push({ step: 'pci', value: pci.slot, how: `/sys/class/net/${netdev}/device` });
    if (pci.driver) {
      out.driver = pci.driver;
      steps.push({ step: 'driver', value: pci.driver, how: `driver of ${pci.slot}` });
    }
  }
  const offload = transportForDriver(out.driver);
  if (offload) {
    // The iscsi_host of that transport on the same card: same PCI slot (any function) or same MAC/netdev.
    const slot = out.pci?.replace(/\.\d$/, '');
    const h = (await hosts(o)).find((x) => x.transport === offload && ((slot && x.devicePath.includes(`/${slot}.`)) || x.netdev === netdev || (out.hwaddress && x.hwaddress?.toLowerCase() === out.hwaddress)));
    steps.push({ step: 'transport', value: offload, how: `${out.driver} carries ${offload}` });
    if (h) {
      out.transport = offload;
      out.hostNo = h.hostNo;
      const hw = (h.hwaddress ?? out.hwaddress ?? '').toLowerCase();
      steps.push({ step: 'host', value: `host${h.hostNo}`, how: `iscsi_host of ${offload} on the same card` });
      const entry = h.ifaces[0];
      const name = entry ? `${offload}.${hw}.${entry.family}.${entry.ifaceNum}` : `${offload}.${hw}`;
      const exists = await fs.access(`${o.ifacesDir ?? '/etc/iscsi/ifaces'}/${name}`).then(() => true, () => false);
      out.iface = { name, exists, wouldCreate: !exists };
    } else {
      steps.push({ step: 'host', value: 'none', how: `no ${offload} iscsi_host on this card: software tcp` });
    }
  } else {
    steps.push({ step: 'transport', value: 'tcp', how: out.driver ? `${out.driver} has no iSCSI offload` : 'no PCI function: a virtual device' });
  }
  steps.push({ step: 'iface', value: out.iface.name, how: out.iface.name === 'default' ? 'software iSCSI through the built-in default iface' : out.iface.exists ? 'existing iface file' : 'would be created by createIface()' });
  return out;
}
