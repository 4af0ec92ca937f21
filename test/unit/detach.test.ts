// Detach decisions on fixture trees (sysfs, procfs, /dev) and fakes: which LUNs keep a session, the order
// of the in-use checks, nothing removed when any device is in use or a flush fails, and no memory of what
// this process attached (a fresh module decides the same).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { blockDeviceInfo, claimDevices, keepsSession, makedev, parseMountinfo, releaseClaims, type DeviceHandle } from '../../lib/attach/devices';
import { disconnect } from '../../lib/attach/disconnect';
import type { ScsiDevice, Session } from '../../lib/read/sessions';
import { IscsiError } from '../../lib/errors';

/** A real block device node for the "open by a process" check: stat through a /proc fd link must reach one. */
function someBlockDevice(): { file: string; dev: string } {
  for (const n of fs.readdirSync('/dev').sort()) {
    const st = fs.statSync(path.join('/dev', n), { throwIfNoEntry: false });
    if (st?.isBlockDevice()) return { file: path.join('/dev', n), dev: `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >>> 12) & ~0xff)}` };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-blk-'));
  const r = spawnSync('mknod', [path.join(dir, 'blk'), 'b', '7', '200']);
  if (r.status !== 0) throw new Error('no block device in /dev and mknod failed: this test needs one (or root)');
  return { file: path.join(dir, 'blk'), dev: '7:200' };
}

interface Disk {
  name: string;
  dev: string;
  holders?: string[];
  partitions?: Array<{ name: string; dev: string; holders?: string[] }>;
}

/** sysfs, procfs and /dev under one temporary root. */
function tree(disks: Disk[], o: { mountinfo?: string; openers?: Array<{ pid: number; comm: string; target: string; ppid?: number }>; processes?: Array<{ pid: number; comm: string }> } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-detach-'));
  const sys = path.join(root, 'sys');
  const proc = path.join(root, 'proc');
  const dev = path.join(root, 'dev');
  for (const d of disks) {
    const dir = path.join(sys, 'class', 'block', d.name);
    fs.mkdirSync(path.join(dir, 'holders'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dev'), `${d.dev}\n`);
    for (const h of d.holders ?? []) fs.mkdirSync(path.join(dir, 'holders', h));
    for (const p of d.partitions ?? []) {
      fs.mkdirSync(path.join(dir, p.name, 'holders'), { recursive: true });
      fs.writeFileSync(path.join(dir, p.name, 'dev'), `${p.dev}\n`);
      fs.writeFileSync(path.join(dir, p.name, 'partition'), '1\n');
      for (const h of p.holders ?? []) fs.mkdirSync(path.join(dir, p.name, 'holders', h));
    }
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, d.name), '');
  }
  fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
  fs.writeFileSync(path.join(proc, 'self', 'mountinfo'), o.mountinfo ?? '22 1 0:21 / / rw,relatime - tmpfs tmpfs rw\n');
  for (const x of o.openers ?? []) {
    fs.mkdirSync(path.join(proc, String(x.pid), 'fd'), { recursive: true });
    fs.writeFileSync(path.join(proc, String(x.pid), 'comm'), `${x.comm}\n`);
    fs.symlinkSync('socket:[1234]', path.join(proc, String(x.pid), 'fd', '0'));
    fs.symlinkSync(x.target, path.join(proc, String(x.pid), 'fd', '3'));
    fs.writeFileSync(path.join(proc, String(x.pid), 'stat'), `${x.pid} (${x.comm}) S ${x.ppid ?? 1} ${x.pid} ${x.pid} 0 -1\n`);
  }
  for (const x of o.processes ?? []) {
    fs.mkdirSync(path.join(proc, String(x.pid)), { recursive: true });
    fs.writeFileSync(path.join(proc, String(x.pid), 'comm'), `${x.comm}\n`);
  }
  return { root, sys, proc, dev };
}

/** A fake open(2) on the tree's /dev: EBUSY for `busy`, rdev from the tree's sysfs, a log of what happened. */
function fakeOpen(t: ReturnType<typeof tree>, o: { busy?: string[]; failSync?: string[]; log: string[] }) {
  return async (file: string, flags: number): Promise<DeviceHandle> => {
    const name = path.basename(file);
    const excl = (flags & fs.constants.O_EXCL) !== 0;
    o.log.push(`open ${name}${excl ? ' excl' : ''}`);
    if (excl && o.busy?.includes(name)) throw Object.assign(new Error(`EBUSY: ${name}`), { code: 'EBUSY' });
    const [ma, mi] = fs.readFileSync(path.join(t.sys, 'class', 'block', name, 'dev'), 'utf8').trim().split(':').map(Number);
    return {
      sync: async () => {
        o.log.push(`sync ${name}`);
        if (o.failSync?.includes(name)) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
      close: async () => void o.log.push(`close ${name}`),
      stat: async () => ({ isBlockDevice: () => true, rdev: makedev(ma!, mi!) }),
    };
  };
}

const dev = (lun: number, extra: Partial<ScsiDevice> = {}): ScsiDevice => ({ hctl: `3:0:0:${lun}`, host: 3, channel: 0, target: 0, lun, ...extra });

/** tgtd's shape: LUN 0 the controller (type 12, no block device), LUNs 1 and 2 disks sdb and sdc. */
const LUNS = [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' }), dev(2, { type: 0, blockDevice: 'sdc' })];
const DISKS: Disk[] = [{ name: 'sdb', dev: '8:16' }, { name: 'sdc', dev: '8:32' }];

/** A kernel made of the tree: a LUN is on the session until its sysfs delete file says 1; logout ends it. */
function kernel(t: ReturnType<typeof tree>, log: string[], luns = LUNS) {
  let loggedIn = true;
  for (const d of luns) {
    fs.mkdirSync(path.join(t.sys, 'class', 'scsi_device', d.hctl, 'device'), { recursive: true });
    fs.writeFileSync(path.join(t.sys, 'class', 'scsi_device', d.hctl, 'device', 'delete'), '');
  }
  const deleted = (d: ScsiDevice) => fs.readFileSync(path.join(t.sys, 'class', 'scsi_device', d.hctl, 'device', 'delete'), 'utf8') === '1';
  const readSession = vi.fn(async (sid: number): Promise<Session | undefined> => {
    if (sid !== 1 || !loggedIn) return undefined;
    return { sid: 1, targetName: 'iqn.2026-11.org.example:t', address: '192.0.2.10', port: 3260, persistentAddress: '192.0.2.10', persistentPort: 3260, iface: { name: 'default' }, hostNo: 3, targetId: 0, devices: luns.filter((d) => !deleted(d)) } as unknown as Session;
  });
  const logout = vi.fn(async (sid: number) => {
    log.push(`logout ${sid}`);
    loggedIn = false;
  });
  return { readSession, logout, deletedHctls: () => luns.filter(deleted).map((d) => d.hctl) };
}

function setup(o: { busy?: string[]; failSync?: string[]; mountinfo?: string; disks?: Disk[]; openers?: Array<{ pid: number; comm: string; target: string }> } = {}) {
  const t = tree(o.disks ?? DISKS, o);
  const log: string[] = [];
  const k = kernel(t, log);
  // the session lock is a no-op here (test/native/disconnect-lock.test.ts takes the real one across processes)
  const deps = { readSession: k.readSession, logout: k.logout, lock: <T>(_s: Session, fn: () => Promise<T>) => fn(), env: { sysfsRoot: t.sys, procRoot: t.proc, devDir: t.dev, open: fakeOpen(t, { ...o, log }) } };
  return { t, log, k, deps };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as IscsiError);

describe('which LUNs keep a session', () => {
  it('every SCSI device but a controller without a block device; an unknown type counts', () => {
    expect(keepsSession(dev(0, { type: 12 }))).toBe(false);
    expect(keepsSession(dev(0, { type: 12, blockDevice: 'sdz' }))).toBe(true);
    expect(keepsSession(dev(1, { type: 0, blockDevice: 'sdb' }))).toBe(true);
    expect(keepsSession(dev(1, { type: 0 }))).toBe(true); // a disk whose block device is not bound yet
    expect(keepsSession(dev(4))).toBe(true);
    expect(keepsSession(dev(5, { type: 1 }))).toBe(true); // a tape
  });
});

describe('in-use checks', () => {
  it('mountinfo: mount points by major:minor, octal escapes decoded', () => {
    const m = parseMountinfo('36 35 8:16 / /mnt/my\\040disk rw - ext4 /dev/sdb rw\n37 35 8:33 / /srv rw - xfs /dev/sdc1 rw\n37 35 8:16 / /again rw - ext4 /dev/sdb rw\n');
    expect(m.get('8:16')).toEqual(['/mnt/my disk', '/again']);
    expect(m.get('8:33')).toEqual(['/srv']);
  });

  it('a disk, its partitions and their holders come from sysfs', async () => {
    const t = tree([{ name: 'sdb', dev: '8:16', holders: ['dm-0'], partitions: [{ name: 'sdb1', dev: '8:17', holders: ['md127'] }, { name: 'sdb2', dev: '8:18' }] }]);
    expect(await blockDeviceInfo('sdb', { sysfsRoot: t.sys })).toEqual({
      name: 'sdb', dev: '8:16', holders: ['dm-0', 'md127 (on sdb1)'],
      partitions: [{ name: 'sdb1', dev: '8:17' }, { name: 'sdb2', dev: '8:18' }],
    });
    expect(await blockDeviceInfo('../sdb', { sysfsRoot: t.sys })).toBeUndefined();
  });

  it('order: mounted, then holders, then open by a process, then busy (EBUSY on an exclusive open)', async () => {
    const blk = someBlockDevice();
    const mountinfo = '40 1 8:17 / /data rw - ext4 /dev/sdb1 rw\n';
    // sdb: all four apply -> mounted (through its partition); sdc: holders, open, busy -> holders;
    // sdd: open (a process's fd reaches the device) and busy -> open; sde: busy only; sdf: free.
    const disks: Disk[] = [
      { name: 'sdb', dev: '8:16', holders: ['dm-1'], partitions: [{ name: 'sdb1', dev: '8:17' }] },
      { name: 'sdc', dev: '8:32', holders: ['dm-2'] },
      { name: 'sdd', dev: blk.dev },
      { name: 'sde', dev: '8:64' },
      { name: 'sdf', dev: '8:80' },
    ];
    const t = tree(disks, { mountinfo, openers: [{ pid: 4242, comm: 'qemu-system-x86', target: blk.file }] });
    const log: string[] = [];
    const open = fakeOpen(t, { busy: ['sdb', 'sdc', 'sdd', 'sde'], log });
    const devices = disks.map((d, i) => dev(i + 1, { type: 0, blockDevice: d.name }));
    const r = await claimDevices(devices, { force: false, env: { sysfsRoot: t.sys, procRoot: t.proc, devDir: t.dev, open } });
    expect(r.claims).toEqual([]);
    expect(r.inUse).toEqual([
      { lun: 1, hctl: '3:0:0:1', device: 'sdb', reason: 'mounted', mountPoints: ['/data (sdb1)'] },
      { lun: 2, hctl: '3:0:0:2', device: 'sdc', reason: 'holders', holders: ['dm-2'] },
      { lun: 3, hctl: '3:0:0:3', device: 'sdd', reason: 'open', openers: [{ pid: 4242, comm: 'qemu-system-x86' }] },
      { lun: 4, hctl: '3:0:0:4', device: 'sde', reason: 'busy', errno: 'EBUSY' },
    ]);
    // Only sde and sdf were opened (exclusively), and sdf's claim was let go because others are in use.
    expect(log).toEqual(['open sde excl', 'open sdf excl', 'close sdf']);
  });

  describe("udev's probes are waited out, up to 5 s; nothing else is", () => {
    // an opener that lets go of the device after `ms` (its fd link removed, as when the process closes it)
    const closesAfter = (t: ReturnType<typeof tree>, pid: number, ms: number) => setTimeout(() => fs.rmSync(path.join(t.proc, String(pid), 'fd', '3')), ms);
    const check = async (openers: Array<{ pid: number; comm: string; ppid?: number }>, closeMs: number | undefined) => {
      const blk = someBlockDevice();
      const t = tree([{ name: 'sdb', dev: blk.dev }], { openers: openers.map((o) => ({ ...o, target: blk.file })), processes: [{ pid: 700, comm: '(udev-worker)' }, { pid: 900, comm: 'bash' }] });
      const timers = closeMs === undefined ? [] : openers.map((o) => closesAfter(t, o.pid, closeMs));
      const open = fakeOpen(t, { log: [] });
      const started = Date.now();
      try {
        const r = await claimDevices([dev(1, { type: 0, blockDevice: 'sdb' })], { force: false, env: { sysfsRoot: t.sys, procRoot: t.proc, devDir: t.dev, open } });
        await releaseClaims(r.claims);
        return { inUse: r.inUse.map((u) => `${u.device} ${u.reason} ${u.openers?.map((x) => x.comm).join(',') ?? ''}`), ms: Date.now() - started };
      } finally {
        timers.forEach(clearTimeout);
      }
    };

    it('a udev worker that closes the disk within the wait: not in use', async () => {
      expect((await check([{ pid: 717, comm: '(udev-worker)' }], 600)).inUse).toEqual([]);
    });

    it("a program a udev rule runs (multipath -u, a worker's child) is a probe too: waited out", async () => {
      expect((await check([{ pid: 735, comm: 'multipath', ppid: 700 }, { pid: 717, comm: '(udev-worker)' }], 600)).inUse).toEqual([]);
    });

    it('the same program started by anything else is in use at once, without the wait', async () => {
      const r = await check([{ pid: 735, comm: 'multipath', ppid: 900 }], 600);
      expect(r.inUse).toEqual(['sdb open multipath']);
      expect(r.ms).toBeLessThan(500);
    });

    it("a name with spaces and parentheses does not fool the parent lookup (stat is read after the last ')')", async () => {
      // "735 (a) S 900 () S 700 ...": read from the first ')' the parent would be 900 (bash)
      expect((await check([{ pid: 735, comm: 'a) S 900 (', ppid: 700 }], 600)).inUse).toEqual([]);
    });

    it('an opener that exits between the scan and the parent lookup is not reported: the next scan decides', async () => {
      const blk = someBlockDevice();
      const t = tree([{ name: 'sdb', dev: blk.dev }], { openers: [{ pid: 740, comm: 'blkid', target: blk.file }] });
      fs.rmSync(path.join(t.proc, '740', 'stat')); // exiting: its stat is gone first
      const gone = setTimeout(() => fs.rmSync(path.join(t.proc, '740'), { recursive: true }), 300);
      try {
        const r = await claimDevices([dev(1, { type: 0, blockDevice: 'sdb' })], { force: false, env: { sysfsRoot: t.sys, procRoot: t.proc, devDir: t.dev, open: fakeOpen(t, { log: [] }) } });
        await releaseClaims(r.claims);
        expect(r.inUse).toEqual([]);
      } finally {
        clearTimeout(gone);
      }
    });

    it('a probe that keeps the disk open past the wait counts as in use', async () => {
      const r = await check([{ pid: 735, comm: 'blkid', ppid: 700 }], undefined);
      expect(r.inUse).toEqual(['sdb open blkid']);
      expect(r.ms).toBeGreaterThanOrEqual(4_900);
    }, 15_000);
  });

  it('a node that is not the device sysfs names is refused', async () => {
    const t = tree([{ name: 'sdb', dev: '8:16' }]);
    const open = async (): Promise<DeviceHandle> => ({ sync: async () => {}, close: async () => {}, stat: async () => ({ isBlockDevice: () => true, rdev: makedev(8, 48) }) });
    const e = await failure(claimDevices([dev(1, { type: 0, blockDevice: 'sdb' })], { force: false, env: { sysfsRoot: t.sys, procRoot: t.proc, devDir: t.dev, open } }));
    expect(e.code).toBe('DEVICE_NODE_MISMATCH');
  });

  it('makedev matches the kernel encoding stat reports', () => {
    expect(makedev(8, 16)).toBe(0x810);
    expect(makedev(259, 3)).toBe(0x10303);
    expect(makedev(8, 256)).toBe(0x100800);
  });
});

describe('disconnect() decides from the kernel, not from memory', () => {
  it('one LUN of a session another tool made: only that device goes, the session stays while LUN 1 has a device', async () => {
    const { deps, log, k } = setup();
    expect(await disconnect({ sid: 1, lun: 2, deps })).toEqual({ removed: ['3:0:0:2'], loggedOut: false, remaining: [1] });
    expect(k.deletedHctls()).toEqual(['3:0:0:2']);
    expect(log).toEqual(['open sdc excl', 'sync sdc', 'close sdc']);
    expect(k.logout).not.toHaveBeenCalled();
  });

  it('the last LUN with a device logs out: the controller LUN does not count', async () => {
    const { deps, log, k } = setup();
    await disconnect({ sid: 1, lun: 2, deps });
    expect(await disconnect({ sid: 1, lun: 1, deps })).toEqual({ removed: ['3:0:0:1'], loggedOut: true, remaining: [] });
    expect(k.deletedHctls()).toEqual(['3:0:0:1', '3:0:0:2']);
    expect(log.slice(-4)).toEqual(['open sdb excl', 'sync sdb', 'close sdb', 'logout 1']);
  });

  it('a fresh module (a new process) gives the same answer: nothing is kept in memory', async () => {
    const { deps, k } = setup({ mountinfo: '40 1 8:16 / /srv rw - ext4 /dev/sdb rw\n' });
    vi.resetModules();
    const fresh = (await import('../../lib/attach/disconnect')).disconnect;
    expect(fresh).not.toBe(disconnect);
    expect(await fresh({ sid: 1, lun: 2, deps })).toEqual({ removed: ['3:0:0:2'], loggedOut: false, remaining: [1] });
    const e = await failure(fresh({ sid: 1, lun: 1, deps }));
    expect(e.code).toBe('DEVICE_IN_USE');
    expect(k.logout).not.toHaveBeenCalled();
  });

  it('the whole session with one device in use: DEVICE_IN_USE, which and why, nothing flushed, removed or logged out', async () => {
    const { deps, log, k } = setup({ mountinfo: '40 1 8:16 / /srv/db rw - ext4 /dev/sdb rw\n' });
    const e = await failure(disconnect({ sid: 1, deps }));
    expect(e).toBeInstanceOf(IscsiError);
    expect(e.code).toBe('DEVICE_IN_USE');
    expect(e.details).toEqual({ sid: 1, devices: [{ lun: 1, hctl: '3:0:0:1', device: 'sdb', reason: 'mounted', mountPoints: ['/srv/db'] }] });
    expect(e.message).toMatch(/\/dev\/sdb \(LUN 1, 3:0:0:1\) is mounted on \/srv\/db; nothing was removed/);
    expect(k.deletedHctls()).toEqual([]);
    expect(log).toEqual(['open sdc excl', 'close sdc']); // sdc passed, was held, then let go: no sync, no delete
    expect(k.logout).not.toHaveBeenCalled();
  });

  it('holders and busy refuse the same way; force removes anyway (and still flushes, shared open)', async () => {
    const held = setup({ disks: [{ name: 'sdb', dev: '8:16', partitions: [{ name: 'sdb1', dev: '8:17', holders: ['dm-3'] }] }, { name: 'sdc', dev: '8:32' }], busy: ['sdc'] });
    const e = await failure(disconnect({ sid: 1, deps: held.deps }));
    expect((e.details as { devices: Array<{ reason: string }> }).devices.map((d) => d.reason)).toEqual(['holders', 'busy']);
    expect(held.k.deletedHctls()).toEqual([]);
    expect(await disconnect({ sid: 1, force: true, deps: held.deps })).toEqual({ removed: ['3:0:0:1', '3:0:0:2'], loggedOut: true, remaining: [] });
    expect(held.log.slice(-7)).toEqual(['open sdb', 'open sdc', 'sync sdb', 'sync sdc', 'close sdb', 'close sdc', 'logout 1']);
  });

  it('a failed flush is DEVICE_FLUSH_FAILED: no device is deleted and the session stays', async () => {
    const { deps, k } = setup({ failSync: ['sdc'] });
    const e = await failure(disconnect({ sid: 1, deps }));
    expect(e.code).toBe('DEVICE_FLUSH_FAILED');
    expect(e.details).toMatchObject({ device: 'sdc', hctl: '3:0:0:2', errno: 'EIO' });
    expect(k.deletedHctls()).toEqual([]);
    expect(k.logout).not.toHaveBeenCalled();
  });

  it('idempotent: a LUN already gone, then a session already gone, is nothing to do', async () => {
    const { deps, k } = setup();
    await disconnect({ sid: 1, lun: 2, deps });
    expect(await disconnect({ sid: 1, lun: 2, deps })).toEqual({ removed: [], loggedOut: false, remaining: [1] });
    expect(await disconnect({ sid: 1, deps })).toEqual({ removed: ['3:0:0:1'], loggedOut: true, remaining: [] });
    expect(await disconnect({ sid: 1, deps })).toEqual({ removed: [], loggedOut: false, remaining: [] });
    expect(k.logout).toHaveBeenCalledTimes(1);
  });

  it('bad input is refused before the kernel is read', async () => {
    const { deps, k } = setup();
    for (const lun of [-1, 1.5, 70000, NaN, '1']) expect((await failure(disconnect({ sid: 1, lun: lun as number, deps }))).code).toBe('INVALID_LUN');
    expect((await failure(disconnect({ sid: -1, deps }))).code).toBe('INVALID_SID');
    expect((await failure(disconnect({ sid: 1, timeoutMs: -5, deps }))).code).toBe('INVALID_TIMEOUT');
    expect((await failure(disconnect({ sid: 1, force: 'yes' as unknown as boolean, deps }))).code).toBe('INVALID_OPTION');
    expect(k.readSession).not.toHaveBeenCalled();
  });
});
