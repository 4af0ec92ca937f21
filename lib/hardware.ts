// checkHardware(): is a transport really usable here? Reads sysfs and /proc only; loads nothing, changes
// nothing. Every problem has a code and a sentence a person can act on.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { hasRdmaDevice, hosts, netDevices, pciFunction, pciFunctionOf, transports, type CapName, type IscsiHost, type NetDevice, type PciFunction, type SysfsOptions } from './sysfs';
import { parseTransport, TRANSPORT_INFO, type Transport } from './transport';
import { throwIfAborted } from './errors';

export interface HardwareProblem {
  code: 'TRANSPORT_NOT_REGISTERED' | 'NO_MATCHING_HOST' | 'LINK_DOWN' | 'ISCSIUIO_NOT_RUNNING' | 'NO_RDMA_DEVICE' | 'HOST_WITHOUT_IP';
  message: string;
}

/** What to match an iscsi_host against: the iface's binding (iscsid's order: hwaddress, netdev, ipaddress). */
export interface IfaceBinding {
  name?: string | undefined;
  transport: string;
  hwaddress?: string | undefined;
  netdev?: string | undefined;
  ipaddress?: string | undefined;
}

export interface HardwareReport {
  transport: Transport;
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
    matchedBy: 'hwaddress' | 'netdev' | 'ipaddress' | 'transport';
    ifaces: IscsiHost['ifaces'];
  };
  pci?: PciFunction;
  nic?: NetDevice;
  iscsiuio?: { required: boolean; running: boolean };
  problems: HardwareProblem[];
  ok: boolean;
}

export interface HardwareOptions extends SysfsOptions {
  procRoot?: string | undefined;
}

const bound = (v: string | undefined): v is string => !!v && v !== 'default';

export async function processRunning(comm: string, procRoot = '/proc'): Promise<boolean> {
  for (const e of await fs.readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    if ((await fs.readFile(path.join(procRoot, e, 'comm'), 'utf8').catch(() => '')).trim() === comm) return true;
  }
  return false;
}

function matchHost(candidates: IscsiHost[], b: IfaceBinding): { host: IscsiHost; by: 'hwaddress' | 'netdev' | 'ipaddress' | 'transport' } | undefined {
  if (bound(b.hwaddress)) {
    const h = candidates.find((x) => x.hwaddress?.toLowerCase() === b.hwaddress!.toLowerCase());
    return h ? { host: h, by: 'hwaddress' } : undefined;
  }
  if (bound(b.netdev)) {
    const h = candidates.find((x) => x.netdev === b.netdev);
    return h ? { host: h, by: 'netdev' } : undefined;
  }
  if (bound(b.ipaddress)) {
    const h = candidates.find((x) => x.ipaddress === b.ipaddress || x.ifaces.some((i) => i.ipaddress === b.ipaddress));
    return h ? { host: h, by: 'ipaddress' } : undefined;
  }
  return candidates[0] ? { host: candidates[0], by: 'transport' } : undefined;
}

/** Checks a transport (any host of it) or an iface binding (the host iscsid would pick for it). */
export async function checkHardware(what: string | IfaceBinding, o: HardwareOptions = {}): Promise<HardwareReport> {
  throwIfAborted(o.signal);
  const binding: IfaceBinding = typeof what === 'string' ? { transport: what } : what;
  const transport = parseTransport(binding.transport);
  const info = TRANSPORT_INFO[transport];
  const problems: HardwareProblem[] = [];
  const registered = (await transports(o)).find((x) => x.name === transport);
  const report: HardwareReport = { transport, offload: info.offload, registered: !!registered, problems, ok: false };
  if (registered) report.caps = { value: registered.caps, flags: registered.flags };

  if (transport === 'tcp') {
    // iscsid loads iscsi_tcp itself when it is missing: nothing to check.
  } else if (transport === 'iser') {
    if (!registered) problems.push({ code: 'TRANSPORT_NOT_REGISTERED', message: 'the iser transport is not registered: load ib_iser (modprobe ib_iser)' });
    if (!(await hasRdmaDevice(o))) problems.push({ code: 'NO_RDMA_DEVICE', message: 'no RDMA device is registered (/sys/class/infiniband is empty): iSER needs an RDMA NIC or soft-RoCE' });
  } else {
    if (!registered) problems.push({ code: 'TRANSPORT_NOT_REGISTERED', message: `the ${transport} transport is not registered: load its driver (modprobe ${info.module}) if the hardware is present` });
    const candidates = (await hosts(o)).filter((h) => h.transport === transport);
    const m = matchHost(candidates, binding);
    if (!m) {
      const by = bound(binding.hwaddress) ? `hwaddress ${binding.hwaddress}` : bound(binding.netdev) ? `netdev ${binding.netdev}` : bound(binding.ipaddress) ? `ipaddress ${binding.ipaddress}` : 'any binding';
      problems.push({ code: 'NO_MATCHING_HOST', message: `no ${transport} iSCSI host matches ${by}: the offload hardware is absent or not bound to this iface` });
    } else {
      const h = m.host;
      report.host = { hostNo: h.hostNo, matchedBy: m.by, ifaces: h.ifaces };
      for (const k of ['hwaddress', 'netdev', 'ipaddress', 'portState', 'portSpeed'] as const) if (h[k] !== undefined) report.host[k] = h[k];
      const pciPath = pciFunctionOf(h.devicePath);
      if (pciPath) {
        report.pci = await pciFunction(pciPath);
        const nics = await netDevices(o);
        // The NIC behind the offload function: same PCI function, else the same slot's other function with the host's MAC.
        const slotOf = (p: string) => path.basename(p).replace(/\.\d$/, '');
        const nic =
          nics.find((n) => n.pciPath === pciPath) ??
          nics.find((n) => n.pciPath && slotOf(n.pciPath) === slotOf(pciPath) && (n.mac === h.hwaddress?.toLowerCase() || n.name === h.netdev)) ??
          nics.find((n) => h.netdev !== undefined && n.name === h.netdev);
        if (nic) report.nic = nic;
      }
      if (h.portState === 'LINK DOWN' || report.nic?.operstate === 'down' || report.nic?.carrier === false) {
        problems.push({ code: 'LINK_DOWN', message: `the link of ${transport} host${h.hostNo}${report.nic ? ` (${report.nic.name})` : ''} is down: check the cable and the switch port` });
      }
      if (info.hostIp === 'required' && !h.ipaddress && !h.ifaces.some((i) => i.ipaddress) && !bound(binding.ipaddress)) {
        problems.push({ code: 'HOST_WITHOUT_IP', message: `${transport} needs an IP address on the host: set iface.ipaddress` });
      }
    }
    if (info.needsIscsiuio) {
      const running = await processRunning('iscsiuio', o.procRoot);
      report.iscsiuio = { required: true, running };
      if (!running) problems.push({ code: 'ISCSIUIO_NOT_RUNNING', message: `${transport} needs iscsiuio: start it (systemctl start iscsiuio)` });
    }
  }
  report.ok = problems.length === 0;
  return report;
}
