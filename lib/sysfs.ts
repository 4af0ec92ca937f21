// All knowledge of the kernel's sysfs layout for iSCSI lives here. Every function takes the sysfs root so
// unit tests run on fixture trees; the default is the real /sys.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { throwIfAborted } from './errors';

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

async function readInt(file: string): Promise<number | undefined> {
  const v = await readAttr(file);
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
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
export async function transports(o: SysfsOptions = {}): Promise<KernelTransport[]> {
  throwIfAborted(o.signal);
  const dir = path.join(root(o), 'class', 'iscsi_transport');
  const names = (await list(dir)).sort();
  return Promise.all(
    names.map(async (name) => {
      const raw = await readAttr(path.join(dir, name, 'caps'));
      const caps = raw !== undefined && /^0x[0-9a-f]+$/i.test(raw) ? parseInt(raw, 16) : 0;
      return { name, caps, flags: decodeCaps(caps) };
    }),
  );
}

// ---- hosts ------------------------------------------------------------------------------------------

export interface HostIfaceEntry {
  /** e.g. ipv4-iface-3-0 */
  name: string;
  family: 'ipv4' | 'ipv6';
  ifaceNum: number;
  ipaddress?: string;
  enabled?: string;
  vlanId?: number;
  port?: number;
}

export interface IscsiHost {
  hostNo: number;
  /** Kernel driver of the SCSI host (proc_name), without an `iscsi_` prefix: `tcp`, `cxgb4i`, `qla4xxx`, … */
  transport?: string;
  hwaddress?: string;
  ipaddress?: string;
  netdev?: string;
  initiatorName?: string;
  portState?: string;
  portSpeed?: string;
  /** The host's device directory (realpath), e.g. under its PCI function for offload HBAs. */
  devicePath: string;
  ifaces: HostIfaceEntry[];
}

/** Host number from a path containing `/hostN/` (the last such component). */
export function hostNoFromPath(p: string): number | undefined {
  const m = [...p.matchAll(/\/host(\d+)(?=\/|$)/g)].pop();
  return m ? Number(m[1]) : undefined;
}

async function hostIfaces(hostDevice: string): Promise<HostIfaceEntry[]> {
  const dir = path.join(hostDevice, 'iscsi_iface');
  const out: HostIfaceEntry[] = [];
  for (const name of (await list(dir)).sort()) {
    const m = /^(ipv4|ipv6)-iface-\d+-(\d+)$/.exec(name);
    if (!m) continue;
    const d = path.join(dir, name);
    const e: HostIfaceEntry = { name, family: m[1] as 'ipv4' | 'ipv6', ifaceNum: Number(m[2]) };
    const ip = await readAttr(path.join(d, 'ipaddress'));
    if (ip !== undefined) e.ipaddress = ip;
    const enabled = await readAttr(path.join(d, 'enabled'));
    if (enabled !== undefined) e.enabled = enabled;
    const vlan = await readInt(path.join(d, 'vlan_id'));
    if (vlan !== undefined) e.vlanId = vlan;
    const port = await readInt(path.join(d, 'port'));
    if (port !== undefined) e.port = port;
    out.push(e);
  }
  return out;
}

function transportFromProcName(procName: string | undefined): string | undefined {
  return procName?.replace(/^iscsi_/, '');
}

/** One iscsi_host, or undefined when it does not exist. */
export async function host(hostNo: number, o: SysfsOptions = {}): Promise<IscsiHost | undefined> {
  const link = path.join(root(o), 'class', 'iscsi_host', `host${hostNo}`);
  let classDir: string;
  try {
    classDir = await fs.realpath(link);
  } catch {
    return undefined;
  }
  // class dir: <hostdev>/iscsi_host/hostN
  const devicePath = path.dirname(path.dirname(classDir));
  const attr = (n: string) => readAttr(path.join(classDir, n));
  const h: IscsiHost = { hostNo, devicePath, ifaces: await hostIfaces(devicePath) };
  const set = <K extends keyof IscsiHost>(k: K, v: IscsiHost[K] | undefined) => {
    if (v !== undefined && v !== '') h[k] = v;
  };
  set('transport', transportFromProcName(await readAttr(path.join(root(o), 'class', 'scsi_host', `host${hostNo}`, 'proc_name'))));
  set('hwaddress', await attr('hwaddress'));
  set('ipaddress', await attr('ipaddress'));
  set('netdev', await attr('netdev'));
  set('initiatorName', await attr('initiatorname'));
  set('portState', await attr('port_state'));
  set('portSpeed', await attr('port_speed'));
  return h;
}

/** Every iscsi_host in /sys/class/iscsi_host. */
export async function hosts(o: SysfsOptions = {}): Promise<IscsiHost[]> {
  throwIfAborted(o.signal);
  const names = await list(path.join(root(o), 'class', 'iscsi_host'));
  const nums = names.map((n) => /^host(\d+)$/.exec(n)?.[1]).filter((n): n is string => n !== undefined).map(Number).sort((a, b) => a - b);
  const found = await Promise.all(nums.map((n) => host(n, o)));
  return found.filter((h): h is IscsiHost => h !== undefined);
}

// ---- sessions and their devices ----------------------------------------------------------------------

export interface ScsiDevice {
  /** H:C:T:L */
  hctl: string;
  host: number;
  channel: number;
  target: number;
  lun: number;
  /** SCSI device state: running, offline, blocked, … */
  state?: string;
  type?: number;
  vendor?: string;
  model?: string;
  revision?: string;
  /** Block device name (sdX) when the kernel attached one; absent for e.g. the controller LUN. */
  blockDevice?: string;
  /** Size in bytes of the block device. */
  sizeBytes?: number;
  wwid?: string;
}

export interface SessionSysfs {
  sid: number;
  hostNo?: number;
  /** LOGGED_IN, FAILED, FREE */
  state?: string;
  /** Connection state on newer kernels: up, down, failed, bound. */
  connectionState?: string;
  targetId?: number;
  creator?: number;
  /** The iface name the session was logged in with (`ifacename`). */
  ifaceName?: string;
  devices: ScsiDevice[];
}

/** sids present in /sys/class/iscsi_session, ascending. */
export async function sessionIds(o: SysfsOptions = {}): Promise<number[]> {
  const names = await list(path.join(root(o), 'class', 'iscsi_session'));
  return names
    .map((n) => /^session(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

async function scsiDevice(dir: string, hctl: string): Promise<ScsiDevice> {
  const [h, c, t, l] = hctl.split(':').map(Number) as [number, number, number, number];
  const d: ScsiDevice = { hctl, host: h, channel: c, target: t, lun: l };
  const state = await readAttr(path.join(dir, 'state'));
  if (state !== undefined) d.state = state;
  const type = await readInt(path.join(dir, 'type'));
  if (type !== undefined) d.type = type;
  const vendor = await readAttr(path.join(dir, 'vendor'));
  if (vendor !== undefined) d.vendor = vendor;
  const model = await readAttr(path.join(dir, 'model'));
  if (model !== undefined) d.model = model;
  const rev = await readAttr(path.join(dir, 'rev'));
  if (rev !== undefined) d.revision = rev;
  const wwid = await readAttr(path.join(dir, 'wwid'));
  if (wwid !== undefined) d.wwid = wwid;
  const block = (await list(path.join(dir, 'block'))).sort()[0];
  if (block !== undefined) {
    d.blockDevice = block;
    const sectors = await readInt(path.join(dir, 'block', block, 'size'));
    if (sectors !== undefined) d.sizeBytes = sectors * 512;
  }
  return d;
}

/**
 * sysfs facts of one session: state, host, and the SCSI devices under the session's own target directory
 * (`targetH:C:T` below the session device), so several sessions on one offload host stay apart.
 */
export async function sessionSysfs(sid: number, o: SysfsOptions = {}): Promise<SessionSysfs | undefined> {
  const classLink = path.join(root(o), 'class', 'iscsi_session', `session${sid}`);
  let classDir: string;
  try {
    classDir = await fs.realpath(classLink);
  } catch {
    return undefined;
  }
  const s: SessionSysfs = { sid, devices: [] };
  const state = await readAttr(path.join(classDir, 'state'));
  if (state !== undefined) s.state = state;
  const targetId = await readInt(path.join(classDir, 'target_id'));
  if (targetId !== undefined) s.targetId = targetId;
  const creator = await readInt(path.join(classDir, 'creator'));
  if (creator !== undefined) s.creator = creator;
  const ifaceName = await readAttr(path.join(classDir, 'ifacename'));
  if (ifaceName) s.ifaceName = ifaceName;
  const connState = await readAttr(path.join(root(o), 'class', 'iscsi_connection', `connection${sid}:0`, 'state'));
  if (connState !== undefined) s.connectionState = connState;
  // class dir: <hostdev>/sessionS/iscsi_session/sessionS
  const sessionDevice = path.dirname(path.dirname(classDir));
  const hostNo = hostNoFromPath(path.dirname(sessionDevice));
  if (hostNo !== undefined) s.hostNo = hostNo;
  for (const t of (await list(sessionDevice)).filter((n) => /^target\d+:\d+:\d+$/.test(n)).sort()) {
    const tdir = path.join(sessionDevice, t);
    const luns = (await list(tdir)).filter((n) => /^\d+:\d+:\d+:\d+$/.test(n));
    luns.sort((a, b) => Number(a.split(':')[3]) - Number(b.split(':')[3]));
    for (const hctl of luns) s.devices.push(await scsiDevice(path.join(tdir, hctl), hctl));
  }
  return s;
}
