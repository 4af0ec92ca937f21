// checkHardware(): is a transport (or an iface) really usable here? Reads sysfs and /proc only; loads no module
// and changes nothing. Every problem has a code and a sentence a person can act on.
import { isIP } from 'node:net';
import { hosts, lowerDevices, netDevices, pciDeviceOf, pciFunction, pciFunctionOf, rdmaDevices, transport as kernelTransport, type CapName, type IscsiHost, type NetDevice, type PciFunction, type RdmaDevice, type SysfsOptions } from '../read/sysfs';
import { netdevToward } from './resolve';
import { parseTransport, TRANSPORT_INFO, type Transport } from './transport';
import { IscsiValidationError, throwIfAborted } from '../errors';
import { readIfaceFile } from '../files/iface-file';
import { ifacesDirFor } from './ifaces-dir';
import { checkAddress, checkCommonOptions, checkHwaddress, checkNetdev, checkOptions, parsePortal, validateIfaceName } from '../validate';
import { processRunning } from '../read/processes';
import { transportPresence, type TransportPresenceOptions } from '../read/transport-presence';

export type HardwareProblemCode =
  | 'TRANSPORT_NOT_REGISTERED'
  | 'NO_MATCHING_HOST'
  | 'LINK_DOWN'
  | 'ISCSIUIO_NOT_RUNNING'
  | 'NO_RDMA_DEVICE'
  | 'RDMA_NOT_ON_ROUTE'
  | 'IPADDRESS_REQUIRED'
  | 'IPADDRESS_NOT_SUPPORTED'
  | 'NETDEV_NOT_FOUND';

export interface HardwareProblem {
  code: HardwareProblemCode;
  message: string;
}

/** What to match an iscsi_host against: an iface's binding (iscsid's order: hwaddress, else netdev, else ipaddress). */
export interface IfaceBinding {
  name?: string | undefined;
  transport: Transport;
  hwaddress?: string | undefined;
  netdev?: string | undefined;
  ipaddress?: string | undefined;
}

/** A transport name (any host of it), an iface binding, or an iface by name (read from the ifaces directory). */
export type HardwareSubject = Transport | IfaceBinding | { iface: string };

export interface HardwareReport {
  transport: Transport;
  /** The iface checked, when one was named. */
  iface?: string;
  offload: boolean;
  registered: boolean;
  caps?: { value: number; flags: CapName[] };
  host?: {
    hostNo: number;
    hwaddress?: string;
    netdev?: string;
    ipaddress?: string;
    portState?: string;
    portSpeed?: string;
    /** How the host was found: the iface's binding in iscsid's order, or `transport` (any host of it) when none was given. */
    matchedBy: 'hwaddress' | 'netdev' | 'ipaddress' | 'transport';
    ifaces: IscsiHost['ifaces'];
  };
  /** The PCI function the host sits under (its device path's PCI ancestor). */
  pci?: PciFunction;
  /** The NIC behind the host (same PCI function, or another function of the same PCI device), or the iface's own NIC for tcp. */
  nic?: NetDevice;
  iscsiuio?: { required: boolean; running: boolean };
  /** iser with a portal: the RDMA device (and port) serving the netdev that carries traffic to the portal. */
  rdma?: RdmaMatch;
  problems: HardwareProblem[];
  ok: boolean;
}

export interface RdmaMatch {
  device: string;
  port: number;
  /** The netdev toward the portal (or the lower device of a VLAN/bond on it) that the RDMA device serves. */
  netdev: string;
  state?: string;
  /** How the netdev was found to belong to the device: its GID table, a software device's parent, or the PCI function. */
  matchedBy: 'gid-table' | 'parent' | 'pci-function';
  /** Why this netdev: the portal's address is local, or the route to it. */
  route: string;
}

export interface HardwareOptions extends SysfsOptions, Pick<TransportPresenceOptions, 'modulesRoot' | 'kernelRelease'> {
  /**
   * The target portal (address[:port]). For iser, the RDMA device must serve the netdev that carries traffic to
   * this address (when it is an IP address; a host name is not resolved here, and any RDMA device passes).
   */
  portal?: string | undefined;
  /** Seam for tests: the local netdevs' addresses (default os.networkInterfaces), for the portal's netdev. */
  networkInterfaces?: (() => NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>) | undefined;
  /** Where procfs is mounted (for finding iscsiuio, and whether the kernel loads modules). */
  procRoot?: string | undefined;
  /** Where iface files live, for `{ iface: name }` (default: the running iscsid's database, ifaces-dir.ts: /var/lib/iscsi/ifaces on Debian 13+, else /etc/iscsi/ifaces). */
  ifacesDir?: string | undefined;
}

const bound = (v: string | undefined): v is string => !!v && v !== 'default';

/** iscsid's own match (iscsi_sysfs_get_host_no_from_hwinfo): the first bound field decides, over every host. */
export function matchHost(all: IscsiHost[], b: IfaceBinding): { host: IscsiHost; by: 'hwaddress' | 'netdev' | 'ipaddress' } | undefined {
  if (bound(b.hwaddress)) {
    const hw = b.hwaddress.toLowerCase();
    const h = all.find((x) => x.hwaddress?.toLowerCase() === hw);
    return h && { host: h, by: 'hwaddress' };
  }
  if (bound(b.netdev)) {
    const h = all.find((x) => x.netdev === b.netdev);
    return h && { host: h, by: 'netdev' };
  }
  if (bound(b.ipaddress)) {
    // iscsid compares the host's ipaddress; HBAs with iscsi_iface entries carry one address per entry.
    const h = all.find((x) => x.ipaddress === b.ipaddress) ?? all.find((x) => x.ifaces.some((i) => i.ipaddress === b.ipaddress));
    return h && { host: h, by: 'ipaddress' };
  }
  return undefined;
}

export { pciDeviceOf };

/** The RDMA device and port that serve one of `netdevs`, by GID table, software parent, then PCI function. */
export function rdmaFor(devices: RdmaDevice[], netdevs: string[]): Omit<RdmaMatch, 'route'> | undefined {
  for (const d of devices) {
    for (const p of d.ports) {
      const n = netdevs.find((x) => p.netdevs.includes(x));
      if (n) return { device: d.name, port: p.port, netdev: n, ...(p.state ? { state: p.state } : {}), matchedBy: 'gid-table' };
    }
  }
  for (const [by, has] of [['parent', (d: RdmaDevice) => netdevs.find((x) => d.parent === x)], ['pci-function', (d: RdmaDevice) => netdevs.find((x) => d.pciNetdevs.includes(x))]] as const) {
    for (const d of devices) {
      const n = has(d);
      const p = d.ports.find((x) => x.state === 'ACTIVE') ?? d.ports[0];
      if (n && p) return { device: d.name, port: p.port, netdev: n, ...(p.state ? { state: p.state } : {}), matchedBy: by };
    }
  }
  return undefined;
}

const describeRdma = (devices: RdmaDevice[]) =>
  devices.map((d) => `${d.name} (${[...new Set([...d.ports.flatMap((p) => p.netdevs), ...(d.parent ? [d.parent] : []), ...d.pciNetdevs])].join(', ') || 'no netdev'})`).join(', ');

/** iser: the RDMA device for the portal's netdev (or any, without a portal address), its port's state. */
async function checkRdma(report: HardwareReport, problems: HardwareProblem[], o: HardwareOptions): Promise<void> {
  const devices = await rdmaDevices(o);
  if (!devices.length) {
    problems.push({ code: 'NO_RDMA_DEVICE', message: 'no RDMA device is registered (/sys/class/infiniband is empty): iSER needs an RDMA NIC (or soft-RoCE: rdma link add) and a target that speaks iSER' });
    return;
  }
  const host = o.portal === undefined ? undefined : parsePortal(o.portal).host;
  if (host === undefined || isIP(host) === 0) return;
  const toward = await netdevToward(host, { ...o, procRoot: o.procRoot });
  if (!toward) {
    problems.push({ code: 'RDMA_NOT_ON_ROUTE', message: `there is no route to ${host}, so no RDMA device can reach it` });
    return;
  }
  const m = rdmaFor(devices, [toward.netdev, ...(await lowerDevices(toward.netdev, o))]);
  if (!m) {
    problems.push({ code: 'RDMA_NOT_ON_ROUTE', message: `no RDMA device serves ${toward.netdev} (${toward.how}): iSER to ${host} would not go over RDMA; RDMA devices here: ${describeRdma(devices)}` });
    return;
  }
  report.rdma = { ...m, route: toward.how };
  if (m.state !== undefined && m.state !== 'ACTIVE') {
    problems.push({ code: 'LINK_DOWN', message: `RDMA port ${m.device}/${m.port} (on ${m.netdev}) is ${m.state}, not ACTIVE: check the link (rdma link show)` });
  }
}

/**
 * The NIC behind a host, by sysfs parentage: on the host's own PCI function or another function of the same
 * PCI device, preferring the host's netdev, then its MAC; a lone NIC there otherwise. Never a MAC-offset guess.
 */
export function nicBehindHost(h: Pick<IscsiHost, 'netdev' | 'hwaddress'>, pciPath: string | undefined, nics: NetDevice[]): NetDevice | undefined {
  const mine = (l: NetDevice[]) => l.find((n) => h.netdev !== undefined && n.name === h.netdev) ?? l.find((n) => h.hwaddress !== undefined && n.mac === h.hwaddress.toLowerCase());
  if (!pciPath) return nics.find((n) => h.netdev !== undefined && n.name === h.netdev);
  const sameFn = nics.filter((n) => n.pciPath === pciPath);
  const sameDev = nics.filter((n) => n.pciPath !== undefined && pciDeviceOf(n.pciPath) === pciDeviceOf(pciPath));
  return mine(sameFn) ?? mine(sameDev) ?? (sameFn.length === 1 ? sameFn[0] : undefined) ?? (sameFn.length === 0 && sameDev.length === 1 ? sameDev[0] : undefined);
}

const linkDown = (n: NetDevice | undefined) => !!n && (n.carrier === false || n.operstate === 'down' || n.operstate === 'lowerlayerdown' || n.operstate === 'notpresent');

async function bindingOf(what: HardwareSubject, o: HardwareOptions): Promise<IfaceBinding> {
  if (typeof what === 'string') return { transport: what };
  if ('iface' in what) {
    const name = validateIfaceName(what.iface);
    if (name === 'default') return { name, transport: 'tcp' };
    if (name === 'iser') return { name, transport: 'iser' };
    const dir = await ifacesDirFor(o.ifacesDir);
    const f = await readIfaceFile(name, { ifacesDir: dir });
    if (!f) throw new IscsiValidationError('IFACE_NOT_FOUND', `there is no iface ${name} in ${dir}`, { hint: 'create it with createIface(), or name an existing iface' });
    return { name, transport: parseTransport(f.transport), hwaddress: f.hwaddress, netdev: f.netdev, ipaddress: f.ipaddress };
  }
  return what;
}

/** What to check, before anything is read: a transport name, `{ iface }`, or a binding whose values are unset, `default` or valid. */
function checkSubject(what: unknown): void {
  if (typeof what === 'string') return void parseTransport(what);
  checkOptions(what, 'the hardware to check');
  if (what === undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'checkHardware needs a transport, { iface } or an iface binding');
  const w = what as Record<string, unknown>;
  if ('iface' in w) return void validateIfaceName(w.iface);
  parseTransport(w.transport);
  if (w.name !== undefined) validateIfaceName(w.name);
  const unset = (v: unknown) => v === undefined || v === '' || v === 'default';
  if (!unset(w.hwaddress)) checkHwaddress(w.hwaddress);
  if (!unset(w.netdev)) checkNetdev(w.netdev);
  if (!unset(w.ipaddress)) checkAddress(w.ipaddress, 'ipaddress');
}

/** Checks a transport (any host of it), an iface binding, or a named iface (the host iscsid would pick for it). */
export async function checkHardware(what: HardwareSubject, o: HardwareOptions = {}): Promise<HardwareReport> {
  checkSubject(what);
  checkCommonOptions(o, 'checkHardware options');
  if (o.portal !== undefined) parsePortal(o.portal);
  throwIfAborted(o.signal);
  const binding = await bindingOf(what, o);
  const transport = parseTransport(binding.transport);
  const info = TRANSPORT_INFO[transport];
  const problems: HardwareProblem[] = [];
  const kernel = await kernelTransport(transport, o);
  const report: HardwareReport = { transport, offload: info.offload, registered: !!kernel, problems, ok: false };
  if (binding.name !== undefined) report.iface = binding.name;
  if (kernel) report.caps = { value: kernel.caps, flags: kernel.flags };
  const ifaceBound = bound(binding.hwaddress) || bound(binding.netdev) || bound(binding.ipaddress);
  const ifaceLabel = binding.name !== undefined ? `iface ${binding.name}` : 'the iface';

  if (!info.offload) {
    // tcp: iscsid loads iscsi_tcp itself when it is missing, so only a kernel that cannot have it, or an
    // iface's own binding, can be wrong.
    if (transport === 'tcp' && !kernel) {
      const p = await transportPresence('tcp', o);
      if (p.loadable === false) problems.push({ code: 'TRANSPORT_NOT_REGISTERED', message: `the kernel has no tcp iSCSI transport and cannot get one: ${p.why}; load ${p.module} (modprobe ${p.module}) on a kernel that has it` });
    }
    if (transport === 'iser') {
      if (!kernel) problems.push({ code: 'TRANSPORT_NOT_REGISTERED', message: 'the iser transport is not registered: load ib_iser (modprobe ib_iser)' });
      await checkRdma(report, problems, o);
    }
    if (transport === 'tcp' && bound(binding.ipaddress)) {
      problems.push({ code: 'IPADDRESS_NOT_SUPPORTED', message: `iscsid refuses iface.ipaddress with software tcp: bind ${ifaceLabel} with netdev or hwaddress instead` });
    }
    if (bound(binding.netdev) || bound(binding.hwaddress)) {
      const nics = await netDevices(o);
      const nic = bound(binding.hwaddress) ? nics.find((n) => n.mac === binding.hwaddress!.toLowerCase()) : nics.find((n) => n.name === binding.netdev);
      if (!nic) {
        problems.push({ code: 'NETDEV_NOT_FOUND', message: `no network device ${bound(binding.hwaddress) ? `has the hardware address ${binding.hwaddress}` : `is named ${binding.netdev}`}: ${ifaceLabel} is bound to a NIC that is not here` });
      } else {
        report.nic = nic;
        if (nic.pciPath) report.pci = await pciFunction(nic.pciPath);
        if (linkDown(nic)) problems.push({ code: 'LINK_DOWN', message: `the link of ${nic.name} is down: check the cable and the switch port, or bring it up (ip link set ${nic.name} up)` });
      }
    }
  } else {
    if (!kernel) problems.push({ code: 'TRANSPORT_NOT_REGISTERED', message: `the ${transport} transport is not registered: load its driver (modprobe ${info.module}) if the hardware is present` });
    const all = await hosts(o);
    let m: { host: IscsiHost; by: 'hwaddress' | 'netdev' | 'ipaddress' | 'transport' } | undefined;
    if (ifaceBound) {
      const found = matchHost(all, binding);
      const by = bound(binding.hwaddress) ? `hwaddress ${binding.hwaddress}` : bound(binding.netdev) ? `netdev ${binding.netdev}` : `ipaddress ${binding.ipaddress}`;
      if (!found) {
        problems.push({ code: 'NO_MATCHING_HOST', message: `no iSCSI host has ${by}: the ${transport} hardware is absent, its driver is not loaded, or ${ifaceLabel} names the wrong port` });
      } else if (found.host.transport !== transport) {
        problems.push({ code: 'NO_MATCHING_HOST', message: `the iSCSI host with ${by} is host${found.host.hostNo} of transport ${found.host.transport ?? 'unknown'}, not ${transport}: fix the iface's transport_name or its binding` });
      } else {
        m = found;
      }
    } else {
      const candidates = all.filter((h) => h.transport === transport);
      const h = candidates.find((x) => x.portState !== 'LINK DOWN') ?? candidates[0];
      if (h) m = { host: h, by: 'transport' };
      else problems.push({ code: 'NO_MATCHING_HOST', message: `there is no ${transport} iSCSI host: the ${transport} hardware is absent or its driver (${info.module}) is not loaded` });
    }
    if (m) {
      const h = m.host;
      report.host = { hostNo: h.hostNo, matchedBy: m.by, ifaces: h.ifaces };
      for (const k of ['hwaddress', 'netdev', 'ipaddress', 'portState', 'portSpeed'] as const) if (h[k] !== undefined) report.host[k] = h[k];
      const pciPath = pciFunctionOf(h.devicePath);
      if (pciPath) report.pci = await pciFunction(pciPath);
      const nic = nicBehindHost(h, pciPath, await netDevices(o));
      if (nic) report.nic = nic;
      if (h.portState === 'LINK DOWN' || linkDown(nic)) {
        problems.push({ code: 'LINK_DOWN', message: `the link of ${transport} host${h.hostNo}${nic ? ` (${nic.name})` : ''} is down: check the cable and the switch port` });
      }
    }
    if (info.hostIp === 'required' && ifaceBound && !bound(binding.ipaddress)) {
      problems.push({ code: 'IPADDRESS_REQUIRED', message: `${transport} logs in only through an iface with an ipaddress (iscsid pushes it to the host): set one on ${ifaceLabel}` });
    }
    if (info.needsIscsiuio) {
      const running = await processRunning('iscsiuio', o.procRoot);
      report.iscsiuio = { required: true, running };
      if (!running) problems.push({ code: 'ISCSIUIO_NOT_RUNNING', message: `${transport} needs the iscsiuio daemon and it is not running: start it (systemctl start iscsiuio)` });
    }
  }
  report.ok = problems.length === 0;
  return report;
}
