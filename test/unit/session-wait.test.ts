// waitForSession(): every waiter in the process shares one read per poll.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitForSession } from '../../lib/read/session-wait';
import type { NativeSessionRow } from '../../lib/native';
import { sessionRow } from '../fixtures/session-rows';

const nativeSession = (sid: number, disks: number): NativeSessionRow => sessionRow({
  sid, targetName: `iqn.2026-11.org.example:w${sid}`, address: '192.0.2.10', port: 3260, persistentAddress: '192.0.2.10', persistentPort: 3260, tpgt: 1,
  username: '', usernameIn: '', recoveryTmo: 120, luResetTmo: 30, tgtResetTmo: 30, abortTmo: 15,
  iface: { name: 'default', transport: 'tcp', hwaddress: '', ipaddress: '', netdev: '', initiatorName: '', portState: '', portSpeed: '', isDefault: true },
  sysfs: { present: true, devices: Array.from({ length: disks }, (_, i) => ({ hctl: `${sid}:0:0:${i}`, host: sid, channel: 0, target: 0, lun: i, type: 0, blockDevice: `sd${sid}x${i}` })) },
});

/** Sessions 1..n; session k gets its disk on poll k; session 99 never exists. */
function fakeBinding(n: number) {
  const calls: Array<number[] | undefined> = [];
  const binding = {
    getSessions: async (o?: { sids?: number[] }) => {
      calls.push(o?.sids);
      const poll = calls.length;
      const all = Array.from({ length: n }, (_, i) => nativeSession(i + 1, poll >= i + 1 ? 1 : 0));
      const sessions = all.filter((s) => !o?.sids || o.sids.includes(s[0]));
      return { sessions, sysfsSessionIds: sessions.map((s) => s[0]) };
    },
    getSession: async () => Promise.reject(new Error('not used')),
  };
  return { binding, calls };
}

const hasDisk = (s: { devices: Array<{ blockDevice?: string }> }) => s.devices.some((d) => d.blockDevice);

// A directory nobody writes to, so only the timer drives these polls (as with a static /dev).
const quiet = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-wait-'));

describe('waitForSession', () => {
  it('a new node in the watched directory wakes the poll at once (the timer alone would take 10 s)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dev-'));
    let attached = false;
    const reads: number[] = [];
    const binding = {
      getSessions: async () => {
        reads.push(Date.now());
        const sessions = [nativeSession(7, attached ? 1 : 0)];
        return { sessions, sysfsSessionIds: [7] };
      },
      getSession: async () => Promise.reject(new Error('not used')),
    };
    const t0 = Date.now();
    setTimeout(() => {
      attached = true;
      fs.writeFileSync(path.join(dir, 'sdq'), '');
    }, 50);
    const r = await waitForSession(7, hasDisk, { until: Date.now() + 20_000, binding, watchDir: dir, fallbackMs: 10_000 });
    expect(r.ready).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });

  it('ten concurrent waiters share one read per poll, and each resolves when its own session is ready', async () => {
    const { binding, calls } = fakeBinding(10);
    const until = Date.now() + 5_000;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => waitForSession(i + 1, hasDisk, { until, binding, watchDir: quiet })));
    expect(results.map((r) => [r.ready, r.session?.sid, r.session ? hasDisk(r.session) : null])).toEqual(Array.from({ length: 10 }, (_, i) => [true, i + 1, true]));
    expect(results.map((r) => r.session!.sid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(calls.length).toBeLessThanOrEqual(11); // not 10 waiters × polls
    expect(calls[1]).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]); // those that joined during the first read, together
    expect(calls[9]).toEqual([10]); // only the sessions still waited for are read
  });

  it('a session that does not exist resolves without a session; a deadline resolves with ready: false', async () => {
    const { binding } = fakeBinding(3);
    expect(await waitForSession(99, hasDisk, { until: Date.now() + 1_000, binding, watchDir: quiet })).toEqual({ ready: false });
    const late = await waitForSession(3, () => false, { until: Date.now() + 60, binding, watchDir: quiet, fallbackMs: 10 });
    expect(late.ready).toBe(false);
    expect(late.session?.sid).toBe(3);
  });

  it('an abort rejects the waiter; a read error rejects every waiter', async () => {
    const { binding } = fakeBinding(2);
    const ac = new AbortController();
    const p = waitForSession(1, () => false, { until: Date.now() + 5_000, binding, signal: ac.signal, watchDir: quiet, fallbackMs: 10 });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(p).rejects.toThrow('stop');
    const failing = { ...binding, getSessions: async () => Promise.reject(Object.assign(new Error('boom'), { code: 'USR_BUG', errno: 1 })) };
    await expect(Promise.all([waitForSession(1, () => false, { until: Date.now() + 1_000, binding: failing, watchDir: quiet }), waitForSession(2, () => false, { until: Date.now() + 1_000, binding: failing, watchDir: quiet })])).rejects.toMatchObject({ code: 'USR_BUG' });
  });
});
