// The read API against a fake binding and a fake sysfs: joins, the permission trap, bad files, deadlines.
import { describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { session, sessions } from '../../lib/read/sessions';
import { ifaces } from '../../lib/read/ifaces';
import { nodes } from '../../lib/read/nodes';
import { IscsiAbortError, IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiValidationError } from '../../lib/errors';
import type { NativeIface, NativeNode, NativeSessionRow } from '../../lib/native';
import { sessionRow, type FakeSession } from '../fixtures/session-rows';

const iface = (name: string, transport = 'tcp'): NativeIface => ({
  name, transport, hwaddress: '', ipaddress: '', netdev: '', initiatorName: 'iqn.2026-11.org.openiscsi:fixture', portState: '', portSpeed: '', isDefault: name === 'default',
});
const nativeSession = (sid: number, targetName: string, username = '', sysfs: Partial<FakeSession['sysfs']> = {}): NativeSessionRow => sessionRow({
  sid, targetName, address: '192.0.2.10', port: 3260, persistentAddress: '192.0.2.10', persistentPort: 3260, tpgt: 1,
  username, usernameIn: '', recoveryTmo: 120, luResetTmo: 30, tgtResetTmo: 30, abortTmo: 15, iface: iface('default'),
  sysfs: { present: true, devices: [], ...sysfs },
});
const usrError = (code: string, errno: number, message: string) => Object.assign(new Error(message), { code, errno });

const status = (capEff: string) => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-status-')), 'status');
  fs.writeFileSync(f, `Name:\tnode\nCapEff:\t${capEff}\n`);
  return f;
};
const ROOT_CAPS = status('000001ffffffffff');
const NO_CAPS = status('0000000000000000');

describe('sessions()', () => {
  const dev = { hctl: '7:0:1:0', host: 7, channel: 0, target: 1, lun: 0, blockDevice: 'sdf' };
  const all = [
    nativeSession(1, 'iqn.2026-11.org.example:tcp1'),
    nativeSession(2, 'iqn.2026-11.org.example:tcp2', 'chapuser', { state: 'FAILED', connectionState: 'failed', hostNo: 4 }),
    nativeSession(6, 'b', '', { hostNo: 7, targetId: 1, ifaceName: 'cxgb4i.00:07:43:aa:bb:cc', devices: [dev] }),
  ];
  const listing = (sessions: NativeSessionRow[], ids = [1, 2, 6]) => async () => ({ sessions, sysfsSessionIds: ids });
  const binding = { getSessions: listing(all), getSession: async (sid: number) => all.find((s) => s[0] === sid)! };

  it('the same rows from the addon, even frozen ones, give each call its own objects', async () => {
    const deepFreeze = (x: unknown): unknown => (Array.isArray(x) && x.forEach(deepFreeze), Object.freeze(x));
    const frozen = all.map((r) => deepFreeze(structuredClone(r)) as NativeSessionRow);
    const reused = { ...binding, getSessions: listing(frozen) };
    const first = await sessions({ binding: reused, procStatusPath: ROOT_CAPS });
    const second = await sessions({ binding: reused, procStatusPath: ROOT_CAPS });
    expect(second).toEqual(first);
    expect(second[2]!.devices[0]).toMatchObject({ hctl: '7:0:1:0', blockDevice: 'sdf' });
    for (const [i, s] of first.entries()) {
      expect(s).not.toBe(second[i]);
      expect(s.iface).not.toBe(second[i]!.iface);
      expect(s.devices).not.toBe(second[i]!.devices);
    }
    first[2]!.devices[0]!.state = 'changed by a caller';
    first[0]!.timeouts.recovery = -5;
    const third = await sessions({ binding: reused, procStatusPath: ROOT_CAPS });
    expect(third).toEqual(second);
  });

  it("passes target and source to the addon; closes the kept sysfs descriptors 10 s after the last read, not before", async () => {
    vi.useFakeTimers();
    try {
      const calls: unknown[] = [];
      let released = 0;
      const spy = { ...binding, getSessions: async (o?: unknown) => (calls.push(o), { sessions: all, sysfsSessionIds: [1, 2, 6] }), releaseSysfsFds: () => ++released };
      await sessions({ binding: spy, target: 'iqn.2026-11.org.example:tcp2', procStatusPath: ROOT_CAPS });
      expect(calls).toEqual([{ target: 'iqn.2026-11.org.example:tcp2' }]);
      await vi.advanceTimersByTimeAsync(9_000);
      await sessions({ binding: spy, source: 'libopeniscsiusr', procStatusPath: ROOT_CAPS });
      expect(calls[1]).toEqual({ libopeniscsiusr: true });
      await vi.advanceTimersByTimeAsync(9_000);
      expect(released).toBe(0);
      await vi.advanceTimersByTimeAsync(1_500);
      expect(released).toBe(1);
      await expect(sessions({ binding: spy, source: 'sysfs-ish' as 'sysfs' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('keepOpenMs sets how long the descriptors outlive a read; a shorter one never cuts a longer one short; a bad value fails before any read', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      let released = 0;
      const spy = { ...binding, getSessions: async () => (++calls, { sessions: all, sysfsSessionIds: [1, 2, 6] }), getSession: async () => (++calls, all[0]!), releaseSysfsFds: () => ++released };
      await sessions({ binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: 30_000 });
      await vi.advanceTimersByTimeAsync(29_500);
      expect(released).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(released).toBe(1);
      // A loop's 60 s is not cut short by a read with a shorter time (an attach path's default 10 s, or 1 s).
      await sessions({ binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: 60_000 });
      await session(1, { binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: 1_000 });
      await sessions({ binding: spy, procStatusPath: ROOT_CAPS });
      await vi.advanceTimersByTimeAsync(59_000);
      expect(released).toBe(1);
      await vi.advanceTimersByTimeAsync(1_100);
      expect(released).toBe(2);
      // 0 asks for nothing beyond the read itself.
      await sessions({ binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: 0 });
      await vi.advanceTimersByTimeAsync(1);
      expect(released).toBe(3);
      const before = calls;
      for (const bad of [-1, 1.5, 2 ** 31, Number.NaN, '5' as unknown as number]) {
        await expect(sessions({ binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: bad })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('keepOpenMs') });
        await expect(session(1, { binding: spy, procStatusPath: ROOT_CAPS, keepOpenMs: bad })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      }
      expect(calls).toBe(before);
      expect(released).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sessions({ target }) keeps only that target even when the addon returns more', async () => {
    expect((await sessions({ binding, target: 'iqn.2026-11.org.example:tcp2', procStatusPath: ROOT_CAPS })).map((s) => s.sid)).toEqual([2]);
    await expect(sessions({ binding, target: 'not an iqn' })).rejects.toMatchObject({ code: 'INVALID_IQN' });
  });

  it('shapes sessions: sysfs state, host, target id, devices, the kernel iface name; never secrets', async () => {
    const list = await sessions({ binding, procStatusPath: ROOT_CAPS });
    expect(list.map((s) => s.sid)).toEqual([1, 2, 6]);
    expect(list[1]).toMatchObject({ state: 'FAILED', connectionState: 'failed', hostNo: 4, username: 'chapuser' });
    expect(list[2]).toMatchObject({ hostNo: 7, targetId: 1, devices: [dev], iface: { name: 'cxgb4i.00:07:43:aa:bb:cc' } });
    expect(list[0]).not.toHaveProperty('username');
    expect(JSON.stringify(list)).not.toMatch(/password/);
  });

  it('raises SESSIONS_PERMISSION_DENIED when libopeniscsiusr dropped sessions and CAP_SYS_ADMIN is missing', async () => {
    const dropped = { getSessions: listing([]), getSession: binding.getSession };
    const err = await sessions({ binding: dropped, procStatusPath: NO_CAPS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IscsiPermissionError);
    expect(err).toMatchObject({ code: 'SESSIONS_PERMISSION_DENIED', details: { missing: [1, 2, 6] } });
  });

  it('does not cry permission when the caller has CAP_SYS_ADMIN (a session just went away)', async () => {
    const partial = { getSessions: listing(all.slice(0, 2)), getSession: binding.getSession };
    const list = await sessions({ binding: partial, procStatusPath: ROOT_CAPS });
    expect(list.map((s) => s.sid)).toEqual([1, 2]);
  });

  it('session(sid) finds one, and a missing sid is SESSION_NOT_FOUND with errno 2', async () => {
    expect((await session(6, { binding })).devices).toEqual([dev]);
    const missing = { ...binding, getSession: async () => Promise.reject(usrError('USR_SESS_NOT_FOUND', 2, 'reading session 77: not found')) };
    await expect(session(77, { binding: missing })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND', errno: 2 });
  });

  it.each([-1, 1.5, NaN, '3', null, 2 ** 32])('session(%j) is an IscsiValidationError before anything runs', async (bad) => {
    let called = false;
    const spy = { ...binding, getSession: async () => ((called = true), all[0]!) };
    await expect(session(bad as number, { binding: spy })).rejects.toBeInstanceOf(IscsiValidationError);
    expect(called).toBe(false);
  });

  it('honours a deadline and an AbortSignal while libopeniscsiusr waits for its lock', async () => {
    const stuck = { getSessions: () => new Promise<never>(() => {}), getSession: binding.getSession };
    await expect(sessions({ binding: stuck, timeoutMs: 50 })).rejects.toBeInstanceOf(IscsiTimeoutError);
    const ac = new AbortController();
    const p = sessions({ binding: stuck, signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(IscsiAbortError);
  });
});

describe('ifaces() with a file libopeniscsiusr refuses', () => {
  it('returns the good ifaces and names each bad file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-ifaces-'));
    for (const n of ['good1', 'bad1', 'good2', 'iface.example']) fs.writeFileSync(path.join(dir, n), '');
    const binding = {
      getIfaces: async () => Promise.reject(usrError('USR_INVAL', 7, 'listing ifaces: Invalid argument; config file /etc/iscsi/ifaces/bad1 invalid.')),
      getIface: async (name: string) => (name === 'bad1' ? Promise.reject(usrError('USR_INVAL', 7, 'bad')) : iface(name)),
    };
    const problems: IscsiError[] = [];
    const list = await ifaces({ binding, ifacesDir: dir, lockDir: dir, onProblem: (p) => problems.push(p) });
    expect(list.map((i) => i.name)).toEqual(['good1', 'good2', 'default', 'iser']);
    expect(problems.map((p) => [p.code, p.details?.file])).toEqual([['IFACE_FILE_INVALID', path.join(dir, 'bad1')]]);
  });

  it('passes other errors through as typed errors', async () => {
    const binding = { getIfaces: async () => Promise.reject(usrError('USR_ACCESS', 13, 'denied')), getIface: async () => iface('x') };
    await expect(ifaces({ binding, lockDir: os.tmpdir() })).rejects.toBeInstanceOf(IscsiPermissionError);
  });
});

describe('nodes() with a file libopeniscsiusr refuses', () => {
  it('reads the rest of the tree itself and names the refused file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-nodes-'));
    const fixture = fs.readFileSync(path.resolve(__dirname, '../fixtures/etc-iscsi/node_record_eth-bound.txt'), 'utf8');
    const good = path.join(dir, 'iqn.2003-01.org.example:tgt1', '192.0.2.10,3260,1');
    fs.mkdirSync(good, { recursive: true });
    fs.writeFileSync(path.join(good, 'eth-bound'), fixture);
    const badDir = path.join(dir, 'iqn.2003-01.org.example:tgt2', '192.0.2.11,3260,1');
    fs.mkdirSync(badDir, { recursive: true });
    const bad = path.join(badDir, 'default');
    fs.writeFileSync(bad, fixture.replace('tgt1', 'tgt2') + 'node.session.sess_reopen_log_freq = 5\n');
    const binding = { getNodes: async (): Promise<NativeNode[]> => Promise.reject(usrError('USR_INVAL', 7, `Invalid argument; Unknown parameter name node.session.sess_reopen_log_freq; config file ${bad} invalid.`)) };
    const problems: IscsiError[] = [];
    const list = await nodes({ binding, nodesDir: dir, lockDir: dir, onProblem: (p) => problems.push(p) });
    expect(list).toEqual([{ targetName: 'iqn.2003-01.org.example:tgt1', address: '192.0.2.10', port: 3260, tpgt: 1, portal: '192.0.2.10:3260', ifaceName: 'eth-bound' }]);
    expect(problems[0]).toMatchObject({ code: 'NODE_FILE_INVALID', details: { file: bad } });
  });
});
