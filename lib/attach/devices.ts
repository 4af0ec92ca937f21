// The devices a detach may remove, decided from the kernel's state only (never from what this process
// remembers): which LUNs of a session keep it logged in, whether a block device is in use, and flushing
// and deleting SCSI devices. Every path takes a root, so unit tests run on fixture trees.
import { promises as fs, constants as fsc } from 'node:fs';
import * as path from 'node:path';
import { IscsiError } from '../errors';
import type { ScsiDevice } from '../read/sessions';
import { devOf, findOpeners, parentComm, type Opener } from '../read/processes';
export { makedev } from '../read/processes';

/** SCSI peripheral device type 0x0c: a storage array controller (tgtd's LUN 0). It carries no data. */
export const SCSI_TYPE_CONTROLLER = 12;

/**
 * Whether a LUN keeps its session logged in: every SCSI device of the session does, except a controller
 * LUN without a block device. A LUN whose type cannot be read counts (the cautious answer).
 */
export function keepsSession(d: ScsiDevice): boolean {
  return !(d.type === SCSI_TYPE_CONTROLLER && d.blockDevice === undefined);
}

/** A handle on a block device node; a seam so unit tests need no block devices. */
export interface DeviceHandle {
  sync(): Promise<void>;
  close(): Promise<void>;
  stat(): Promise<{ isBlockDevice(): boolean; rdev: number }>;
}

export interface DeviceEnv {
  /** Where sysfs is mounted (default /sys). */
  sysfsRoot?: string | undefined;
  /** Where procfs is mounted (default /proc): `<procRoot>/self/mountinfo`, `<procRoot>/<pid>/fd`. */
  procRoot?: string | undefined;
  /** Where the device nodes are (default /dev). */
  devDir?: string | undefined;
  /** Opens a device node (default fs.promises.open). */
  open?: ((file: string, flags: number) => Promise<DeviceHandle>) | undefined;
}

const sysfs = (e: DeviceEnv) => e.sysfsRoot ?? '/sys';
const proc = (e: DeviceEnv) => e.procRoot ?? '/proc';
const devDir = (e: DeviceEnv) => e.devDir ?? '/dev';

/** A block device and its partitions, as sysfs has them: names and `major:minor`. */
export interface BlockNode {
  name: string;
  dev: string;
}

export interface BlockDeviceInfo extends BlockNode {
  partitions: BlockNode[];
  /** What sits on the disk or one of its partitions (dm-0, md127): /sys/class/block/<dev>/holders. */
  holders: string[];
}

async function readTrim(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch {
    return [];
  }
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** The disk's dev number, partitions and holders; undefined when sysfs has no such block device. */
export async function blockDeviceInfo(name: string, env: DeviceEnv = {}): Promise<BlockDeviceInfo | undefined> {
  if (!NAME.test(name)) return undefined;
  const dir = path.join(sysfs(env), 'class', 'block', name);
  const dev = await readTrim(path.join(dir, 'dev'));
  if (dev === undefined) return undefined;
  const partitions: BlockNode[] = [];
  const holders = await listDir(path.join(dir, 'holders'));
  // A partition's name is its disk's and a number (sdb1, nvme0n1p1): only those entries are read.
  for (const entry of (await listDir(dir)).filter((e) => e.startsWith(name) && e !== name)) {
    if ((await readTrim(path.join(dir, entry, 'partition'))) === undefined) continue;
    const pdev = await readTrim(path.join(dir, entry, 'dev'));
    if (pdev === undefined) continue;
    partitions.push({ name: entry, dev: pdev });
    for (const h of await listDir(path.join(dir, entry, 'holders'))) holders.push(`${h} (on ${entry})`);
  }
  return { name, dev, partitions, holders };
}

/** Mount points by `major:minor`, from the mountinfo of this process's mount namespace. */
export function parseMountinfo(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options ... - fstype source superoptions
    const f = line.split(' ');
    if (f.length < 5 || !/^\d+:\d+$/.test(f[2]!)) continue;
    const point = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const list = out.get(f[2]!) ?? [];
    list.push(point);
    out.set(f[2]!, list);
  }
  return out;
}

export async function readMounts(env: DeviceEnv = {}): Promise<Map<string, string[]>> {
  return parseMountinfo(await fs.readFile(path.join(proc(env), 'self', 'mountinfo'), 'utf8'));
}

/**
 * udev's workers open a disk for a moment to probe it, and so do the programs its rules run (blkid,
 * `multipath -u`: children of a worker); such opens are waited out, up to 5 s, and count as in use after.
 */
const UDEV = /udev/;
const UDEV_WAIT_MS = 5_000;
const UDEV_POLL_MS = 250;

export type InUseReason = 'mounted' | 'holders' | 'open' | 'busy';

export interface InUse {
  lun: number;
  hctl: string;
  device: string;
  reason: InUseReason;
  /** mounted: the mount points; holders: the devices stacked on it; open: the processes; busy: the errno. */
  mountPoints?: string[];
  holders?: string[];
  openers?: Opener[];
  errno?: string;
}

/** A device that passed the checks, held with an exclusive open (when not forced) until it is deleted. */
export interface Claim {
  device: ScsiDevice;
  handle?: DeviceHandle;
  /**
   * The kernel has taken the device offline (`offline`, `transport-offline`: its session failed past the
   * replacement timeout, or error handling gave up): it cannot be opened, so it is deleted without a flush.
   */
  offline?: string;
}

/** SCSI device states in which the kernel refuses every open and every command (scsi_device_online()). */
const OFFLINE_STATES = new Set(['offline', 'transport-offline']);

/** The SCSI device's state as the kernel has it now (`running`, `blocked`, `offline`, ...). */
export async function scsiDeviceState(hctl: string, env: DeviceEnv = {}): Promise<string | undefined> {
  if (!/^\d+:\d+:\d+:\d+$/.test(hctl)) return undefined;
  return readTrim(path.join(sysfs(env), 'bus', 'scsi', 'devices', hctl, 'state'));
}

const defaultOpen = (file: string, flags: number): Promise<DeviceHandle> => fs.open(file, flags);

async function openNode(d: ScsiDevice & { blockDevice: string }, info: BlockDeviceInfo, exclusive: boolean, env: DeviceEnv): Promise<DeviceHandle> {
  const h = await (env.open ?? defaultOpen)(path.join(devDir(env), d.blockDevice), fsc.O_RDONLY | (exclusive ? fsc.O_EXCL : 0));
  // The node must be this very device, not a reused name: its rdev against sysfs' dev.
  const st = await h.stat().catch((e: unknown) => {
    void h.close().catch(() => {});
    throw e;
  });
  if (!st.isBlockDevice() || st.rdev !== devOf(info.dev)) {
    await h.close().catch(() => {});
    throw new IscsiError('DEVICE_NODE_MISMATCH', `${path.join(devDir(env), d.blockDevice)} is not the block device ${info.dev} that sysfs names for ${d.hctl}`, {
      details: { device: d.blockDevice, hctl: d.hctl, dev: info.dev },
    });
  }
  return h;
}

export async function releaseClaims(claims: Claim[]): Promise<void> {
  await Promise.all(claims.map((c) => c.handle?.close().catch(() => {})));
}

/** Why a device is in use, without the LUN it belongs to. */
export type InUseCheck = Omit<InUse, 'lun' | 'hctl' | 'device'>;

/** The first of mounted (the disk or a partition), holders, open by a process, from what was read once. */
function inUseBy(info: BlockDeviceInfo, mounts: Map<string, string[]>, openers: Map<string, Opener[]>): InUseCheck | undefined {
  const nodes = [info, ...info.partitions];
  const points = nodes.flatMap((n) => (mounts.get(n.dev) ?? []).map((m) => (n === info ? m : `${m} (${n.name})`)));
  if (points.length > 0) return { reason: 'mounted', mountPoints: points };
  if (info.holders.length > 0) return { reason: 'holders', holders: info.holders };
  const by = [...new Map(nodes.flatMap((n) => openers.get(n.dev) ?? []).map((x) => [x.pid, x] as const)).values()];
  if (by.length > 0) return { reason: 'open', openers: by };
  return undefined;
}

async function isUdevProbe(x: Opener, env: DeviceEnv): Promise<boolean> {
  if (UDEV.test(x.comm)) return true;
  const parent = await parentComm(x.pid, proc(env));
  // gone since the scan: the next scan shows what still holds the device
  return parent === undefined || UDEV.test(parent);
}

/** Processes holding these nodes open; while only udev's probes do, they are waited out (up to 5 s). */
async function openersOf(nodes: BlockNode[], env: DeviceEnv): Promise<Map<string, Opener[]>> {
  const devs = nodes.map((n) => n.dev);
  let openers = await findOpeners(devs, proc(env));
  // udev probes in bursts (after a map goes, every path is probed again): wait while only udev has them open
  for (let waited = 0; waited < UDEV_WAIT_MS; waited += UDEV_POLL_MS) {
    const all = [...openers.values()].flat();
    if (all.length === 0) break;
    const probes = await Promise.all(all.map((x) => isUdevProbe(x, env)));
    if (!probes.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, UDEV_POLL_MS));
    openers = await findOpeners(devs, proc(env));
  }
  return openers;
}

/**
 * The same checks as claimDevices, for one block device that is not a SCSI LUN (a dm map): mounted,
 * holders, open by a process, busy (an O_EXCL open fails with EBUSY; the probe is closed at once).
 * Undefined when it is not in use, or not there.
 */
export async function blockDeviceInUse(name: string, env: DeviceEnv = {}): Promise<InUseCheck | undefined> {
  const info = await blockDeviceInfo(name, env);
  if (!info) return undefined;
  const found = inUseBy(info, await readMounts(env), await openersOf([info, ...info.partitions], env));
  if (found) return found;
  const h = await (env.open ?? defaultOpen)(path.join(devDir(env), name), fsc.O_RDONLY | fsc.O_EXCL).catch((e: NodeJS.ErrnoException) => e);
  if (h instanceof Error) return h.code === 'EBUSY' ? { reason: 'busy', errno: 'EBUSY' } : undefined;
  await h.close().catch(() => {});
  return undefined;
}

/**
 * Checks every device before anything is removed, in this order for each: mounted (mountinfo, also its
 * partitions), holders (dm, md; also on partitions), open by a process (/proc/<pid>/fd), busy (an exclusive
 * open fails with EBUSY: a mount in another namespace, swap, an exclusive opener). The first reason found
 * is the device's. Devices that pass stay open exclusively (so nothing can mount or claim them between the
 * check and the delete); the caller must `releaseClaims` them. With `force`, nothing is checked and the
 * devices are opened shared, for the flush only.
 */
export async function claimDevices(devices: ScsiDevice[], o: { force: boolean; env?: DeviceEnv | undefined }): Promise<{ claims: Claim[]; inUse: InUse[] }> {
  const env = o.env ?? {};
  const claims: Claim[] = [];
  const inUse: InUse[] = [];
  try {
    const mounts = o.force ? new Map<string, string[]>() : await readMounts(env);
    const infos = new Map<ScsiDevice, BlockDeviceInfo | undefined>();
    for (const d of devices) if (d.blockDevice !== undefined) infos.set(d, await blockDeviceInfo(d.blockDevice, env));
    const allNodes = [...infos.values()].flatMap((i) => (i ? [i, ...i.partitions] : []));
    const openers = o.force ? new Map<string, Opener[]>() : await openersOf(allNodes, env);
    for (const d of devices) {
      if (d.blockDevice === undefined) {
        claims.push({ device: d });
        continue;
      }
      const bd = d as ScsiDevice & { blockDevice: string };
      const info = infos.get(d);
      if (!info) {
        claims.push({ device: d }); // gone from sysfs already: nothing to flush
        continue;
      }
      const base = { lun: d.lun, hctl: d.hctl, device: bd.blockDevice };
      const found = o.force ? undefined : inUseBy(info, mounts, openers);
      if (found) {
        inUse.push({ ...base, ...found });
        continue;
      }
      try {
        claims.push({ device: d, handle: await openNode(bd, info, !o.force, env) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EBUSY' && !o.force) {
          inUse.push({ ...base, reason: 'busy', errno: code });
          continue;
        }
        if (code === 'ENOENT' && o.force) {
          claims.push({ device: d }); // no node in this mount namespace: nothing of ours to flush
          continue;
        }
        if (code === 'ENXIO') {
          // An offline device refuses opens: nothing can reach the target through it, so there is nothing
          // to flush. The mount, holder and opener checks above still applied; only the flush is skipped.
          const state = await scsiDeviceState(d.hctl, env);
          if (state !== undefined && OFFLINE_STATES.has(state)) {
            claims.push({ device: d, offline: state });
            continue;
          }
        }
        if (e instanceof IscsiError) throw e;
        throw new IscsiError('DEVICE_OPEN_FAILED', `cannot open /dev/${bd.blockDevice} (${d.hctl}) to check and flush it: ${(e as Error).message}`, {
          cause: e,
          details: { device: bd.blockDevice, hctl: d.hctl, errno: code },
          hint: code === 'ENOENT' ? 'there is no device node for it in this mount namespace; force: true skips the flush' : 'run as root',
        });
      }
    }
  } catch (e) {
    await releaseClaims(claims);
    throw e;
  }
  if (inUse.length > 0) {
    await releaseClaims(claims);
    return { claims: [], inUse };
  }
  return { claims, inUse };
}

/** fsync of every claimed device; the first failure is DEVICE_FLUSH_FAILED and nothing is deleted. */
export async function flushClaims(claims: Claim[]): Promise<void> {
  for (const c of claims) {
    if (!c.handle) continue;
    try {
      await c.handle.sync();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new IscsiError('DEVICE_FLUSH_FAILED', `flushing /dev/${c.device.blockDevice} (${c.device.hctl}) failed: ${(e as Error).message}; nothing was removed`, {
        cause: e,
        details: { device: c.device.blockDevice, hctl: c.device.hctl, lun: c.device.lun, errno: code },
        hint: 'its data may not be on the target; check the session (a dead target fails every flush), or log the session out with logout()',
      });
    }
  }
}

/** Asks the SCSI layer to delete the device (synchronous in the kernel); a device already gone is fine. */
export async function deleteScsiDevice(d: ScsiDevice, env: DeviceEnv = {}): Promise<boolean> {
  if (!/^\d+:\d+:\d+:\d+$/.test(d.hctl)) throw new IscsiError('INVALID_HCTL', `not a SCSI address: ${JSON.stringify(d.hctl)}`);
  try {
    await fs.writeFile(path.join(sysfs(env), 'class', 'scsi_device', d.hctl, 'device', 'delete'), '1');
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new IscsiError('DEVICE_DELETE_FAILED', `deleting SCSI device ${d.hctl} failed: ${(e as Error).message}`, { cause: e, details: { hctl: d.hctl } });
  }
}

/**
 * Asks the kernel to probe one LUN (or, with lun undefined, every LUN the target reports) of a session's
 * SCSI target: "<channel> <target> <lun>" into /sys/class/scsi_host/host<H>/scan. The write returns once
 * the probe is done, so what sysfs shows afterwards is the target's answer.
 */
export async function scanLun(hostNo: number, targetId: number | undefined, lun: number | undefined, env: DeviceEnv = {}): Promise<void> {
  const file = path.join(sysfs(env), 'class', 'scsi_host', `host${hostNo}`, 'scan');
  await fs.writeFile(file, `0 ${targetId ?? '-'} ${lun ?? '-'}`);
}
