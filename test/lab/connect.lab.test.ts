// connect()/disconnect() on the real kernel with the offload transports registered but no hardware:
// the hardware check fails, the attach falls back to software TCP and says why, the disk works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, startLab, type GuestError, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:connect.${n}`;
const CHAP = { user: 'bob', secret: 'bob-secret-0001' };

interface Result {
  session: { sid: number; targetName: string };
  device: { blockDevice: string; path: string; lun: number; sizeBytes: number };
  transport: { requested: string; used: string; iface: string; fallbackReason?: string };
  timings: Record<string, number> & { iscsidMs: number; loginMs: number; deviceWaitMs: number; totalMs: number };
}

describe('connect() with fallback (real kernel, offload modules without hardware)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);
  const sessionCount = async () => Number((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim());

  beforeAll(async () => {
    lab = await startLab({ offloadModules: true, targets: [{ iqn: T('a'), luns: 2 }, { iqn: T('chap'), luns: 1, chap: CHAP }] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('cxgb4i is registered but has no host: falls back to tcp with the reason, and the disk works', async () => {
    const r = await call<Result>('connect', { target: T('a'), portal: lab.portal, transport: 'cxgb4i', lun: 2 });
    expect(r.transport).toMatchObject({ requested: 'cxgb4i', used: 'tcp', iface: 'default' });
    expect(r.transport.fallbackReason).toMatch(/NO_MATCHING_HOST/);
    expect(r.device).toMatchObject({ lun: 2, sizeBytes: 16 << 20, path: `/dev/${r.device.blockDevice}` });
    await lab.shOk(`echo hello-openiscsi | dd of=${r.device.path} bs=512 conv=sync oflag=direct 2>/dev/null && dd if=${r.device.path} bs=512 count=1 iflag=direct 2>/dev/null | grep -q hello-openiscsi`);
    expect(Object.keys(r.timings).sort()).toEqual(['checkMs', 'deviceMs', 'deviceWaitMs', 'discoverMs', 'iscsidMs', 'loginMs', 'resolveMs', 'totalMs']);
    expect(r.timings.iscsidMs + r.timings.deviceWaitMs).toBeLessThanOrEqual(r.timings.totalMs);
    expect(r.timings.iscsidMs).toBeGreaterThan(0);
    expect(r.timings.iscsidMs).toBeLessThanOrEqual(r.timings.loginMs);
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
    expect(await sessionCount()).toBe(0);
    expect(await call('disconnect', { sid: r.session.sid })).toEqual({ removed: [], loggedOut: false, remaining: [] });
  });

  // every offload transport whose real module loads here (no card behind it): the same fallback, each with its reason
  it.each(['cxgb3i', 'qla4xxx', 'bnx2i', 'be2iscsi', 'qedi'] as const)('%s without its hardware: connect falls back to tcp naming why, and the disk works', async (transport) => {
    const r = await call<Result>('connect', { target: T('a'), portal: lab.portal, transport, lun: 1 });
    expect(r.transport).toMatchObject({ requested: transport, used: 'tcp', iface: 'default' });
    expect(r.transport.fallbackReason).toMatch(/NO_MATCHING_HOST/);
    await lab.shOk(`echo ${transport}-fell-back | dd of=${r.device.path} bs=512 conv=sync oflag=direct 2>/dev/null && dd if=${r.device.path} bs=512 count=1 iflag=direct 2>/dev/null | grep -q ${transport}-fell-back`);
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
    expect(await sessionCount()).toBe(0);
  });

  it('with fallback: false the hardware error is the answer and nothing logs in', async () => {
    const e = await err(call('connect', { target: T('a'), portal: lab.portal, transport: 'cxgb4i', fallback: false }));
    expect(e).toMatchObject({ name: 'IscsiUnsupportedError', code: 'TRANSPORT_UNAVAILABLE' });
    expect(e?.message).toMatch(/no cxgb4i iSCSI host/);
    expect(await sessionCount()).toBe(0);
  });

  it('iser without an RDMA device falls back too', async () => {
    const r = await call<Result>('connect', { target: T('a'), portal: lab.portal, transport: 'iser' });
    expect(r.transport).toMatchObject({ requested: 'iser', used: 'tcp' });
    expect(r.transport.fallbackReason).toMatch(/NO_RDMA_DEVICE/);
    await call('disconnect', { sid: r.session.sid });
  });

  it('discovers the target when none is named (through the software iface for an offload request)', async () => {
    const e = await err(call('connect', { portal: lab.portal }));
    expect(e).toMatchObject({ code: 'TARGET_AMBIGUOUS', details: { offered: expect.arrayContaining([T('a'), T('chap')]) } });
    const r = await call<Result>('connect', { target: T('a'), portal: lab.portal, discovery: true });
    expect(r.session.targetName).toBe(T('a'));
    await call('disconnect', { sid: r.session.sid });
  });

  it('a wrong CHAP secret is an authentication error, not a reason to fall back or retry', async () => {
    const t0 = Date.now();
    const e = await err(call('connect', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: 'not-bobs-secret' } }));
    expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED' });
    expect(Date.now() - t0).toBeLessThan(15_000);
    const r = await call<Result>('connect', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: CHAP.secret } });
    expect(r.transport.used).toBe('tcp');
    await call('disconnect', { sid: r.session.sid });
  });

  it('disconnect() of one LUN keeps the session while the caller still uses another', async () => {
    const a = await call<Result>('connect', { target: T('a'), portal: lab.portal, lun: 1 });
    const b = await call<Result>('connect', { target: T('a'), portal: lab.portal, lun: 2 });
    expect(b.session.sid).toBe(a.session.sid);
    expect(await call('disconnect', { sid: a.session.sid, lun: 1 })).toMatchObject({ loggedOut: false });
    expect(await sessionCount()).toBe(1);
    expect((await lab.sh(`test -b ${a.device.path}`)).code).not.toBe(0); // LUN 1's disk was removed
    expect(await call('disconnect', { sid: a.session.sid, lun: 2 })).toMatchObject({ loggedOut: true });
    expect(await sessionCount()).toBe(0);
  });

  it('bad input fails before anything is written or sent', async () => {
    expect(await err(call('connect', { target: T('a'), portal: lab.portal, transport: 'cxgb9i' }))).toMatchObject({ code: 'UNKNOWN_TRANSPORT' });
    expect(await err(call('createIface', { transport: 'cxgb4i', hwaddress: '00:07:43:zz:00:01' }))).toMatchObject({ code: 'INVALID_HWADDRESS' });
    expect(await err(call('createIface', { transport: 'cxgb4i', hwaddress: '00:07:43:aa:00:01', name: '../evil' }))).toMatchObject({ code: 'INVALID_IFACE_NAME' });
    expect(await err(call('connect', { target: T('a'), portal: lab.portal, iface: '../evil' }))).toMatchObject({ code: 'INVALID_IFACE_NAME' });
    expect((await lab.sh('find /etc/iscsi/ifaces /etc/iscsi/nodes -mindepth 1 2>/dev/null')).stdout).toBe('');
    expect(await sessionCount()).toBe(0);
  });

  it('checkHardware and transports() see what the kernel registered', async () => {
    const names = (await call<Array<{ name: string }>>('transports')).map((t) => t.name);
    expect(names).toEqual(['be2iscsi', 'bnx2i', 'cxgb3i', 'cxgb4i', 'iser', 'qedi', 'qla4xxx', 'tcp']);
    const r = await call<{ registered: boolean; problems: Array<{ code: string }> }>('checkHardware', 'qedi');
    expect(r.registered).toBe(true);
    expect(r.problems.map((p) => p.code)).toEqual(['NO_MATCHING_HOST', 'ISCSIUIO_NOT_RUNNING']);
  });
});
