// Detach and rollback on the real kernel, with sessions made by iscsiadm (another tool) and devices held
// by other processes: disconnect() decides from the kernel's state (mounts, holders, open descriptors,
// exclusive claims, the LUNs left), never from what a process remembers; a failed connect() leaves
// nothing it made. One guest for the file.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, repoRoot, startLab, type GuestError, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:detach.${n}`;
const fresh = path.join(repoRoot, 'test', 'lab', 'guest', 'fresh-call.js');

interface Fresh<R> {
  result?: R;
  error?: { name: string; code: string; message: string; details?: Record<string, unknown> };
  events: unknown[];
  pid: number;
}
interface Detached {
  removed: string[];
  loggedOut: boolean;
  remaining: number[];
}

describe('detach from the kernel state; a failed attach undoes what it made (real kernel)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as GuestError);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  /** One call in a new node process (not the agent): nothing is shared with earlier calls. */
  const inFreshProcess = async <R>(fn: string, ...args: unknown[]): Promise<Fresh<R>> => {
    const out = await lab.shOk(`node ${fresh} ${packageEntry} ${fn} ${q(JSON.stringify(args))}`, { timeoutMs: 120_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as Fresh<R>;
  };
  const sids = async () => (await lab.shOk('ls /sys/class/iscsi_session')).split(/\s+/).filter(Boolean).map((n) => Number(n.replace('session', ''))).sort();
  /** The block device of a LUN of a session, from sysfs ('' when the LUN has none). */
  const blockOf = async (sid: number, lun: number) =>
    (await lab.sh(`ls /sys/class/iscsi_session/session${sid}/device/target*/*:*:*:${lun}/block 2>/dev/null`)).stdout.trim();
  const lunsOf = async (sid: number) =>
    (await lab.shOk(`ls -d /sys/class/iscsi_session/session${sid}/device/target*/*:*:*:* | sed 's/.*://'`)).split(/\s+/).filter(Boolean).map(Number).sort();
  const iscsiadmLogin = async (t: string) => {
    await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} >/dev/null && iscsiadm -m node -T ${t} -p ${lab.portal} --login >/dev/null`);
    const all = await sids();
    expect(all).toHaveLength(1);
    return all[0]!;
  };

  beforeAll(async () => {
    lab = await startLab({ targets: [{ iqn: T('a'), luns: 2 }, { iqn: T('b'), luns: 2 }] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  let sid = -1;
  let lun1 = '';

  it('one LUN of a session iscsiadm made, while another LUN is mounted: only that LUN goes, the session stays', async () => {
    sid = await iscsiadmLogin(T('a'));
    expect(await lunsOf(sid)).toEqual([0, 1, 2]); // tgtd's controller LUN 0 and two disks
    lun1 = await blockOf(sid, 1);
    const lun2 = await blockOf(sid, 2);
    expect(lun1).toMatch(/^sd[a-z]+$/);
    await lab.shOk(`modprobe -d "$KROOT" ext4 && mkfs.ext4 -q /dev/${lun1} && mkdir -p /tmp/l1 && mount /dev/${lun1} /tmp/l1`);
    const r = await call<Detached>('disconnect', { sid, lun: 2 });
    expect(r).toEqual({ removed: [expect.stringMatching(/:2$/)], loggedOut: false, remaining: [1] });
    expect(await sids()).toEqual([sid]);
    expect(await lunsOf(sid)).toEqual([0, 1]);
    expect((await lab.sh(`test -b /dev/${lun2}`)).code).not.toBe(0);
    expect((await lab.sh(`test -b /dev/${lun1}`)).code).toBe(0);
  });

  it('the held LUN is refused with DEVICE_IN_USE and nothing is removed: mounted, open by a process, mounted in another namespace', async () => {
    const check = async (reason: string) => {
      for (const args of [{ sid, lun: 1 }, { sid }]) {
        const e = await err(call('disconnect', args));
        expect(e).toMatchObject({ code: 'DEVICE_IN_USE', details: { sid, devices: [{ lun: 1, device: lun1, reason }] } });
        expect(await lunsOf(sid)).toEqual([0, 1]);
        expect(await sids()).toEqual([sid]);
      }
    };
    await check('mounted');
    await lab.shOk('umount /tmp/l1');
    // a plain descriptor (no exclusive claim): sleep with the disk on its stdin
    await lab.shOk(`setsid sleep 600 </dev/${lun1} >/dev/null 2>&1 & echo $! >/tmp/holder.pid`);
    await check('open');
    expect((await err(call('disconnect', { sid, lun: 1 }))).details).toMatchObject({ devices: [{ openers: [{ comm: 'sleep' }] }] });
    await lab.shOk('kill $(cat /tmp/holder.pid); while kill -0 $(cat /tmp/holder.pid) 2>/dev/null; do sleep 0.05; done');
    // a mount this mount namespace does not see (a container's): only the exclusive open tells
    await lab.shOk(`mkdir -p /tmp/ns; setsid unshare -m --propagation private sh -c 'mount /dev/${lun1} /tmp/ns && exec sleep 600' </dev/null >/dev/null 2>&1 & p=$!; echo $p >/tmp/holder.pid; for i in $(seq 200); do grep -q ' /tmp/ns ' /proc/$p/mountinfo 2>/dev/null && break; sleep 0.05; done; grep -q ' /tmp/ns ' /proc/$p/mountinfo`);
    await check('busy');
  });

  it('once the holder is gone, disconnect() in a fresh process logs out when nothing is left; again: nothing to do', async () => {
    // the namespace (and its mount) goes with its last process; wait until the disk can be claimed again
    await lab.shOk(`kill $(cat /tmp/holder.pid); python3 -c "
import os, time
for i in range(200):
    try:
        os.close(os.open('/dev/${lun1}', os.O_RDONLY | os.O_EXCL)); break
    except OSError: time.sleep(0.05)
else: raise SystemExit('still claimed')"`);
    const r = await inFreshProcess<Detached>('disconnect', { sid, lun: 1 });
    expect(r.result).toEqual({ removed: [expect.stringMatching(/:1$/)], loggedOut: true, remaining: [] });
    expect(await sids()).toEqual([]);
    expect(await call<Detached>('disconnect', { sid, lun: 1 })).toEqual({ removed: [], loggedOut: false, remaining: [] });
  });

  it('a LUN the target does not have is LUN_NOT_FOUND as soon as the scan is done, and the session connect() made is gone', async () => {
    const t0 = Date.now();
    const e = await err(call('connect', { target: T('b'), portal: lab.portal, lun: 9, timeoutMs: 120_000 }));
    expect(e).toMatchObject({ code: 'LUN_NOT_FOUND', details: { lun: 9, reported: [0, 1, 2] } });
    // login (~8 s under emulation) and the undo, not a wait for the device deadline (30 s) or the call's (120 s)
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(await sids()).toEqual([]);
  });

  it('a connect that fails after login (the controller LUN named) leaves no session either', async () => {
    const e = await err(call('connect', { target: T('b'), portal: lab.portal, lun: 0 }));
    expect(e).toMatchObject({ code: 'LUN_NOT_A_DISK', details: { lun: 0, type: 12 } });
    expect(await sids()).toEqual([]);
  });

  it('a session that existed before is kept when connect() fails; a LUN an earlier detach removed is probed back', async () => {
    const pre = await iscsiadmLogin(T('b'));
    expect(await err(call('connect', { target: T('b'), portal: lab.portal, lun: 9 }))).toMatchObject({ code: 'LUN_NOT_FOUND' });
    expect(await sids()).toEqual([pre]);
    expect(await lunsOf(pre)).toEqual([0, 1, 2]);
    expect(await call<Detached>('disconnect', { sid: pre, lun: 2 })).toMatchObject({ loggedOut: false, remaining: [1] });
    const c = await call<{ session: { sid: number }; device: { lun: number; path: string } }>('connect', { target: T('b'), portal: lab.portal, lun: 2 });
    expect(c.session.sid).toBe(pre);
    expect(c.device.lun).toBe(2);
    await lab.shOk(`test -b ${c.device.path}`);
    expect(await call<Detached>('disconnect', { sid: pre })).toMatchObject({ loggedOut: true, remaining: [] });
    expect(await sids()).toEqual([]);
  });
});
