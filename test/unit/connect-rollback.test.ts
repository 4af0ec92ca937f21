// connect() after login, with fakes for every call that reaches the kernel or the network: a LUN the target
// does not report is LUN_NOT_FOUND at once, a failed attach undoes only the session it made, and a named
// target is logged in at the caller's portal whatever the discovery answer advertises.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { connect, type ConnectDeps, type ConnectEvent } from '../../lib/attach/connect';
import type { LoginOptions } from '../../lib/iscsid/login';
import type { ScsiDevice, Session } from '../../lib/read/sessions';
import type { IscsiError } from '../../lib/errors';
import type { HardwareReport } from '../../lib/attach/hardware';

const T = 'iqn.2026-11.org.example:t';
const dev = (lun: number, extra: Partial<ScsiDevice> = {}): ScsiDevice => ({ hctl: `3:0:0:${lun}`, host: 3, channel: 0, target: 0, lun, ...extra });
const session = (devices: ScsiDevice[]): Session => ({ sid: 7, targetName: T, hostNo: 3, targetId: 0, devices } as unknown as Session);

function fakes(o: { created: boolean; devices: ScsiDevice[]; afterScan?: ScsiDevice[]; onLogin?: () => void }) {
  const devDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dev-'));
  for (const d of [...o.devices, ...(o.afterScan ?? [])]) if (d.blockDevice) fs.writeFileSync(path.join(devDir, d.blockDevice), '');
  let current = o.devices;
  const events: ConnectEvent[] = [];
  const logins: LoginOptions[] = [];
  const deps = {
    checkHardware: async () => ({ ok: true, problems: [] }) as unknown as HardwareReport,
    discover: vi.fn(async () => ({ targets: [{ name: T, portals: [{ address: '198.51.100.7', port: 3260, tpgt: 1, portal: '198.51.100.7:3260' }] }] })) as unknown as NonNullable<ConnectDeps['discover']>,
    login: vi.fn(async (l: LoginOptions) => {
      logins.push(l);
      if (l.outcome) l.outcome.created = o.created;
      o.onLogin?.();
      return session(current);
    }),
    readSession: vi.fn(async () => session(current)),
    scan: vi.fn(async () => {
      if (o.afterScan) current = o.afterScan;
    }),
    undo: vi.fn(async () => ({ removed: [], loggedOut: true, remaining: [] })),
    devDir,
  } satisfies ConnectDeps;
  return { deps, events, logins, onEvent: (e: ConnectEvent) => events.push(e) };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as IscsiError);
const rollbacks = (events: ConnectEvent[]) => events.filter((e) => e.type === 'rollback');

describe('connect(): a LUN the target does not report', () => {
  it('is LUN_NOT_FOUND with the LUNs it reports, right after one probe, and the session this call made is logged out', async () => {
    const f = fakes({ created: true, devices: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' })] });
    const t0 = Date.now();
    const e = await failure(connect({ target: T, portal: '192.0.2.10:3260', lun: 5, timeoutMs: 60_000, deps: f.deps, onEvent: f.onEvent }));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(e.code).toBe('LUN_NOT_FOUND');
    expect(e.details).toEqual({ sid: 7, target: T, lun: 5, reported: [0, 1] });
    expect(f.deps.scan).toHaveBeenCalledExactlyOnceWith(3, 0, 5);
    expect(f.deps.undo).toHaveBeenCalledExactlyOnceWith(7);
    expect(rollbacks(f.events)).toEqual([{ type: 'rollback', action: 'logout', sid: 7, ok: true, message: expect.stringMatching(/LUN_NOT_FOUND.*session 7, logged in by this call, logged out again/) }]);
  });

  it('a session that existed before is kept', async () => {
    const f = fakes({ created: false, devices: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' })] });
    const e = await failure(connect({ target: T, portal: '192.0.2.10:3260', lun: 5, deps: f.deps, onEvent: f.onEvent }));
    expect(e.code).toBe('LUN_NOT_FOUND');
    expect(f.deps.undo).not.toHaveBeenCalled();
    expect(rollbacks(f.events)).toEqual([{ type: 'rollback', action: 'kept', sid: 7, ok: true, message: expect.stringMatching(/existed before this call: kept/) }]);
  });

  it('a LUN an earlier detach removed from a reused session is probed back and used', async () => {
    const f = fakes({ created: false, devices: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' })], afterScan: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' }), dev(2, { type: 0, blockDevice: 'sdc' })] });
    const r = await connect({ target: T, portal: '192.0.2.10:3260', lun: 2, deps: f.deps, onEvent: f.onEvent });
    expect(r.device).toMatchObject({ lun: 2, blockDevice: 'sdc', path: '/dev/sdc' });
    expect(f.deps.scan).toHaveBeenCalledExactlyOnceWith(3, 0, 2);
    expect(rollbacks(f.events)).toEqual([]);
  });

  it('a LUN that is there needs no probe; the controller LUN is LUN_NOT_A_DISK, not a wait', async () => {
    const f = fakes({ created: true, devices: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' })] });
    expect((await connect({ target: T, portal: '192.0.2.10:3260', lun: 1, deps: f.deps })).device.blockDevice).toBe('sdb');
    const e = await failure(connect({ target: T, portal: '192.0.2.10:3260', lun: 0, deps: f.deps }));
    expect(e.code).toBe('LUN_NOT_A_DISK');
    expect(f.deps.scan).not.toHaveBeenCalled();
    expect(f.deps.undo).toHaveBeenCalledExactlyOnceWith(7);
  });

  it('an abort after login undoes the session this call made', async () => {
    const ac = new AbortController();
    const f = fakes({ created: true, devices: [dev(0, { type: 12 }), dev(1, { type: 0, blockDevice: 'sdb' })], onLogin: () => ac.abort() });
    const e = await failure(connect({ target: T, portal: '192.0.2.10:3260', lun: 1, signal: ac.signal, deps: f.deps, onEvent: f.onEvent }));
    expect(e.code).toBe('ABORTED');
    expect(f.deps.undo).toHaveBeenCalledExactlyOnceWith(7);
    expect(rollbacks(f.events)).toMatchObject([{ action: 'logout', ok: true }]);
  });

  it('an undo that cannot finish is said in the events; the attach error stays the answer', async () => {
    const f = fakes({ created: true, devices: [dev(0, { type: 12 })] });
    f.deps.undo.mockRejectedValueOnce(Object.assign(new Error('session 7: /dev/sdb is mounted on /x'), { code: 'DEVICE_IN_USE' }));
    const e = await failure(connect({ target: T, portal: '192.0.2.10:3260', deps: f.deps, onEvent: f.onEvent }));
    expect(e.code).toBe('LUN_NOT_FOUND');
    expect(e.message).toMatch(/reports no disk LUN \(LUNs: 0\)/);
    expect(rollbacks(f.events)).toMatchObject([{ action: 'logout', ok: false, message: expect.stringMatching(/could not be logged out: session 7: \/dev\/sdb is mounted/) }]);
  });

  it('bad lun and timeoutMs are refused before anything is called', async () => {
    const f = fakes({ created: true, devices: [] });
    for (const lun of [-1, 1.5, 70000]) expect((await failure(connect({ target: T, portal: '192.0.2.10:3260', lun, deps: f.deps }))).code).toBe('INVALID_LUN');
    for (const timeoutMs of [-5, 0, NaN, Infinity]) expect((await failure(connect({ target: T, portal: '192.0.2.10:3260', timeoutMs, deps: f.deps }))).code).toBe('INVALID_TIMEOUT');
    expect(f.deps.login).not.toHaveBeenCalled();
  });
});

describe('connect(): the login portal', () => {
  it('a named target is logged in at the caller\'s portal, not the one the discovery answer advertises', async () => {
    const f = fakes({ created: true, devices: [dev(1, { type: 0, blockDevice: 'sdb' })] });
    await connect({ target: T, portal: '192.0.2.10:3260', discovery: true, deps: f.deps });
    expect(f.deps.discover).toHaveBeenCalledOnce();
    expect(f.logins.map((l) => l.portal)).toEqual(['192.0.2.10:3260']);
  });

  it('with no target named, the answer\'s portal for it (the caller\'s when it is among them)', async () => {
    const f = fakes({ created: true, devices: [dev(1, { type: 0, blockDevice: 'sdb' })] });
    await connect({ portal: '192.0.2.10:3260', deps: f.deps });
    await connect({ portal: '198.51.100.7', deps: f.deps });
    expect(f.logins.map((l) => l.portal)).toEqual(['198.51.100.7:3260,1', '198.51.100.7:3260,1']);
  });
});
