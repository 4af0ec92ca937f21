// Finding processes in /proc (no spawning, no signals), by name or by the block devices they hold open: the
// one /proc scanner. A process's
// `comm` can be set by any user, so this only answers "is something called X running"; it never decides
// whom to trust (iscsid is identified by SO_PEERCRED on its socket instead).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The pid of the first process whose /proc/<pid>/comm is `comm`, or undefined. */
export async function findProcess(comm: string, procRoot = '/proc'): Promise<number | undefined> {
  for (const e of await fs.readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    if ((await fs.readFile(path.join(procRoot, e, 'comm'), 'utf8').catch(() => '')).trim() === comm) return Number(e);
  }
  return undefined;
}

/** Whether a process whose /proc/<pid>/comm is `comm` runs. */
export async function processRunning(comm: string, procRoot = '/proc'): Promise<boolean> {
  return (await findProcess(comm, procRoot)) !== undefined;
}

/**
 * The `comm` of `pid`'s parent, or undefined when `pid` is gone (it exited after it was seen). A program a udev
 * rule runs (blkid, `multipath -u`, scsi_id) is a child of the udev worker and carries its own name. For
 * deciding what to wait for, never whom to trust: any user can name a process.
 */
export async function parentComm(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'
  const stat = await fs.readFile(path.join(procRoot, String(pid), 'stat'), 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  if (!Number.isInteger(ppid) || ppid <= 0) return '';
  return fs.readFile(path.join(procRoot, String(ppid), 'comm'), 'utf8').then((c) => c.trim(), () => '');
}

/** Linux's dev_t encoding (glibc's makedev), as stat's rdev reports it. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) + (major & 0xfff) * 0x100 + Math.floor(minor / 0x100) * 0x100000 + Math.floor(major / 0x1000) * 0x100000000;
}

/** `major:minor` (sysfs' dev attribute) as a dev_t. */
export const devOf = (mm: string): number => {
  const [ma, mi] = mm.split(':').map(Number);
  return makedev(ma!, mi!);
};

export interface Opener {
  pid: number;
  comm: string;
}

/**
 * Processes with an open descriptor on any of these devices (`major:minor`), by device, found through
 * /proc/<pid>/fd: each descriptor's link is read, and only those naming a path (not a socket or pipe) are
 * stat'ed, which follows them to the device whatever mount namespace opened it. One pass for all devices;
 * processes that exit meanwhile are skipped.
 */
export async function findOpeners(devs: string[], procRoot = '/proc'): Promise<Map<string, Opener[]>> {
  const wanted = new Map(devs.map((d) => [devOf(d), d] as const));
  const out = new Map<string, Opener[]>();
  if (wanted.size === 0) return out;
  const list = (dir: string) => fs.readdir(dir).catch(() => [] as string[]);
  // 32 processes at a time (each one's descriptors in turn): the pool works in parallel, and a host with
  // thousands of processes does not queue thousands of calls ahead of the application's own.
  const scan = async (p: string): Promise<{ who: Opener; hits: Set<string> } | undefined> => {
    const fdDir = path.join(procRoot, p, 'fd');
    const hits = new Set<string>();
    for (const fd of await list(fdDir)) {
      const link = await fs.readlink(path.join(fdDir, fd)).catch(() => '');
      if (!link.startsWith('/')) continue;
      const st = await fs.stat(path.join(fdDir, fd)).catch(() => undefined);
      const dev = st?.isBlockDevice() ? wanted.get(st.rdev) : undefined;
      if (dev !== undefined) hits.add(dev);
    }
    if (hits.size === 0) return undefined;
    return { who: { pid: Number(p), comm: (await fs.readFile(path.join(procRoot, p, 'comm'), 'utf8').catch(() => '?')).trim() }, hits };
  };
  const pids = (await list(procRoot)).filter((p) => /^\d+$/.test(p));
  const found: Array<Awaited<ReturnType<typeof scan>>> = [];
  for (let i = 0; i < pids.length; i += 32) found.push(...(await Promise.all(pids.slice(i, i + 32).map(scan))));
  for (const f of found) if (f) for (const dev of f.hits) out.set(dev, [...(out.get(dev) ?? []), f.who]);
  return out;
}

