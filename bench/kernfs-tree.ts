// A session-shaped sysfs tree whose attribute files are the host's own kernfs files, for measuring the
// read path on a real CPU and a real kernfs (the host has no iSCSI, and under the lab's emulation every
// syscall and thread hand-off is many times dearer than here).
//
// The layout is test/fixtures/fakesys.ts's (sessions on software tcp hosts, LUNs with block devices):
// directories and symlinks on tmpfs, and on every regular file a bind mount of a distinct, readable,
// unchanging attribute of the host's /sys. So every open, pread and close the reader makes goes to kernfs,
// as on a machine with sessions; only the directory listings (about two per session) are tmpfs's. Values
// are the host's, not an iSCSI session's, chosen where the reader branches on them: a LUN's `type` reads
// "0" (a disk: its block/ is looked in) and its `inquiry` has at least 36 bytes (one read for vendor,
// model and revision), as a real disk's do. The reader's syscalls are then a real listing's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeSys, type LunSpec } from '../test/fixtures/fakesys';

export interface KernfsTree {
  /** The tmpfs-side tree; mount it over /sys (with its submounts: `mount --rbind`). */
  root: string;
  /** Shell lines that bind-mount the real attribute files onto the tree's (run them in the namespace). */
  mounts: string[];
  /** How many attribute files were bound. */
  files: number;
  remove(): void;
}

/** Regular files under `dir` (not following symlinks), depth-first, in name order. */
function walk(dir: string, out: string[], limit: number): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (out.length >= limit) return;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, limit);
    else if (e.isFile()) out.push(p);
  }
}

// Attributes whose reading does something or whose value moves (counters, clocks, power state).
const AVOID = /\/(power|statistics|stat|queues|trace|debug|firmware_node)\/|\/(rom|config|resource\d*|vpd|remove|rescan|reset|new_id|remove_id|bind|unbind|descriptors|stat|inflight|uevent_seqnum|energy_uj|.*_time.*|.*jiffies.*|.*count.*|.*_ms)$/;

/** Readable, non-empty, unchanging attributes of the host's sysfs (two reads give the same bytes). */
function realAttributes(want: number): { any: string[]; zero: string[]; long: string[] } {
  const candidates: string[] = [];
  for (const top of ['/sys/devices', '/sys/module', '/sys/kernel/mm', '/sys/bus']) walk(top, candidates, 40_000);
  const any: string[] = [];
  const zero: string[] = [];
  const long: string[] = [];
  for (const p of candidates) {
    if (AVOID.test(p)) continue;
    let a: Buffer, b: Buffer;
    try {
      a = fs.readFileSync(p);
      b = fs.readFileSync(p);
    } catch {
      continue;
    }
    if (a.length === 0 || a.length > 4000 || !a.equals(b)) continue;
    const text = a.toString('latin1').trim();
    if (text === '0') zero.push(p);
    else if (a.length >= 40) long.push(p);
    else any.push(p);
    if (any.length + zero.length + long.length >= want * 3 && zero.length >= want / 8 && long.length >= want / 8) break;
  }
  return { any, zero, long };
}

/** `sessions` software sessions, one host each, with `lunsPerSession` disks each. */
export function kernfsTree(sessions: number, lunsPerSession: number): KernfsTree {
  const tree = new FakeSys().transport('tcp', 0x39);
  let disk = 0;
  for (let i = 1; i <= sessions; i++) {
    const luns = Array.from({ length: lunsPerSession }, (_, lun): LunSpec => {
      const n = disk++;
      return { lun, wwid: `naa.6001405000000000000000000000${n.toString(16).padStart(4, '0')}`, block: { name: `sd${String.fromCharCode(97 + Math.floor(n / 26))}${String.fromCharCode(97 + (n % 26))}`, dev: `8:${n * 16}` } };
    });
    tree.host({ hostNo: i + 1, procName: 'iscsi_tcp', ipaddress: '192.0.2.1' });
    tree.session({ hostNo: i + 1, sid: i, targetName: `iqn.2026-12.org.openiscsi:bench${i}`, address: '192.0.2.10', port: 3260, luns });
  }
  const files: string[] = [];
  walk(tree.root, files, Infinity);
  const real = realAttributes(files.length);
  if (real.any.length + real.zero.length + real.long.length < files.length) throw new Error(`only ${real.any.length + real.zero.length + real.long.length} usable sysfs attributes for ${files.length} files`);
  const pools = { any: [...real.any], zero: [...real.zero], long: [...real.long] };
  const take = (first: keyof typeof pools): string => {
    for (const k of [first, 'any', 'long', 'zero'] as const) {
      const p = pools[k].shift();
      if (p !== undefined) return p;
    }
    throw new Error('ran out of sysfs attributes');
  };
  const mounts = files.map((f) => {
    const name = path.basename(f);
    const src = take(name === 'type' ? 'zero' : name === 'inquiry' ? 'long' : 'any');
    return `mount --bind ${JSON.stringify(src)} ${JSON.stringify(f)}`;
  });
  return { root: tree.root, mounts, files: files.length, remove: () => tree.remove() };
}
