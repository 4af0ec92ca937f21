// LIO, the kernel's own target, as the second target of the login, CHAP, discovery and connect suites (over
// tcp): targets made through configfs by the lab's own helper (lio.ts). Where LIO answers differently from
// tgtd the test says so: LUNs from 0 with no controller LUN, LIO-ORG/FILEIO, WWIDs naa.6001405… from the
// backstore's unit serial, an initiator outside the ACL refused like a wrong secret (error 24), demo mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestError, LAB_INITIATOR, packageEntry, startLab, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:lio.${n}`;
const CHAP = { user: 'dave', secret: 'dave-secret-001' };
const MUTUAL = { ...CHAP, mutualUser: 'lio-target', mutualSecret: 'lio-target-sec1' };
const DISCOVERY = { user: 'disco', secret: 'disco-secret-01' };

interface S {
  sid: number;
  targetName: string;
  state?: string;
  devices: Array<{ hctl: string; lun: number; type: number; blockDevice?: string; sizeBytes?: number; vendor?: string; model?: string; wwid?: string }>;
}
interface Discovered {
  targets: Array<{ name: string; portals: Array<{ address: string; port: number; portal: string; tpgt: number }> }>;
}

describe('LIO as the target (real kernel, configfs, tcp)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);
  const sessionCount = async () => Number((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim());

  beforeAll(async () => {
    lab = await startLab({
      lio: true,
      targets: [
        { iqn: T('plain'), luns: 1, kind: 'lio' },
        { iqn: T('chap'), luns: 1, kind: 'lio', chap: CHAP, initiators: [LAB_INITIATOR] },
        { iqn: T('mutual'), luns: 1, kind: 'lio', chap: MUTUAL, initiators: [LAB_INITIATOR] },
        { iqn: T('demo-chap'), luns: 1, kind: 'lio', chap: CHAP },
        { iqn: T('acl'), luns: 1, kind: 'lio', initiators: ['iqn.2026-11.org.openiscsi:someone-else'] },
        { iqn: T('three'), luns: 3, kind: 'lio', lunSizeMiB: 8 },
      ],
    });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('logs in (demo mode): LUN 0 is the disk, LIO-ORG FILEIO with a WWID from the unit serial; data round-trips; logout', async () => {
    const s = await call<S>('login', { target: T('plain'), portal: lab.lioPortal });
    expect(s).toMatchObject({ targetName: T('plain'), state: 'LOGGED_IN' });
    expect(s.devices).toHaveLength(1);
    expect(s.devices[0]).toMatchObject({ lun: 0, type: 0, vendor: 'LIO-ORG', model: 'FILEIO', sizeBytes: 16 << 20 });
    expect(s.devices[0]?.wwid).toMatch(/^naa\.6001405/);
    const disk = `/dev/${s.devices[0]?.blockDevice}`;
    await lab.shOk(`head -c 1048576 /dev/urandom > /tmp/pattern && dd if=/tmp/pattern of=${disk} bs=1M oflag=direct status=none`);
    await lab.shOk(`echo 3 > /proc/sys/vm/drop_caches; dd if=${disk} bs=1M count=1 iflag=direct status=none | cmp - /tmp/pattern`);
    expect(await call<number[]>('logout', { sid: s.sid })).toEqual([s.sid]);
    expect(await sessionCount()).toBe(0);
  });

  it('one-way CHAP on an ACL: a wrong secret is the auth error (24), quickly; the right one logs in', async () => {
    const t0 = Date.now();
    const e = await err(call('login', { target: T('chap'), portal: lab.lioPortal, auth: { username: CHAP.user, password: 'wrong-secret-00' } }));
    expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED', errno: 24 });
    expect(e?.message).not.toContain('wrong-secret-00');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await sessionCount()).toBe(0);
    const s = await call<S>('login', { target: T('chap'), portal: lab.lioPortal, auth: { username: CHAP.user, password: CHAP.secret } });
    expect(s.state).toBe('LOGGED_IN');
    await call('logout', { sid: s.sid });
  });

  it('CHAP in demo mode (on the portal group, no ACL): no credentials and wrong ones fail, the right ones log in', async () => {
    expect(await err(call('login', { target: T('demo-chap'), portal: lab.lioPortal }))).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED' });
    expect(await err(call('login', { target: T('demo-chap'), portal: lab.lioPortal, auth: { username: CHAP.user, password: 'wrong-secret-00' } }))).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED' });
    const s = await call<S>('login', { target: T('demo-chap'), portal: lab.lioPortal, auth: { username: CHAP.user, password: CHAP.secret } });
    expect(s.state).toBe('LOGGED_IN');
    await call('logout', { sid: s.sid });
  });

  it('mutual CHAP: a wrong target secret fails, the right pair logs in', async () => {
    const good = { username: CHAP.user, password: CHAP.secret, usernameIn: MUTUAL.mutualUser, passwordIn: MUTUAL.mutualSecret };
    const e = await err(call('login', { target: T('mutual'), portal: lab.lioPortal, auth: { ...good, passwordIn: 'not-the-target1' } }));
    expect(e?.code).toMatch(/^ISCSID_ERR_(LOGIN_AUTH_FAILED|FATAL_LOGIN|LOGIN)$/);
    expect(await sessionCount()).toBe(0);
    const s = await call<S>('login', { target: T('mutual'), portal: lab.lioPortal, auth: good });
    expect(s.state).toBe('LOGGED_IN');
    await call('logout', { sid: s.sid });
  });

  it('an initiator outside the ACL: LIO answers like a wrong secret (error 24); connect() says so and never falls back', async () => {
    const e = await err(call('connect', { target: T('acl'), portal: lab.lioPortal }));
    expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED', errno: 24, details: { authRelated: true, transportRelated: false } });
    expect(await sessionCount()).toBe(0);
  });

  it('discovery without CHAP lists every target with LIO’s portal; with discovery CHAP enforced only the right account gets the list', async () => {
    const open = await call<Discovered>('discover', { portal: lab.lioPortal });
    expect(open.targets.map((t) => t.name).sort()).toEqual([T('acl'), T('chap'), T('demo-chap'), T('mutual'), T('plain'), T('three')].sort());
    expect(open.targets.find((t) => t.name === T('plain'))?.portals).toEqual([{ address: '127.0.0.2', port: 3260, tpgt: 1, portal: '127.0.0.2:3260' }]);
    await lab.setLioDiscoveryAuth(DISCOVERY);
    try {
      // LIO closes the connection where tgtd answers "authentication required"
      expect(await err(call('discover', { portal: lab.lioPortal }))).toMatchObject({ code: 'DISCOVERY_CONNECTION_CLOSED', details: { phase: 'login' } });
      const wrong = await err(call('discover', { portal: lab.lioPortal, auth: { username: DISCOVERY.user, password: 'wrong-secret-00' } }));
      expect(wrong?.code).toMatch(/^DISCOVERY_(AUTH_FAILED|CONNECTION_CLOSED)$/);
      expect(wrong?.message).not.toContain('wrong-secret-00');
      const r = await call<Discovered>('discover', { portal: lab.lioPortal, auth: { username: DISCOVERY.user, password: DISCOVERY.secret } });
      expect(r.targets.map((t) => t.name)).toContain(T('plain'));
    } finally {
      await lab.setLioDiscoveryAuth(undefined);
    }
    expect((await call<Discovered>('discover', { portal: lab.lioPortal })).targets).toHaveLength(6);
  });

  it('several LUNs: 0, 1 and 2, each a disk with its own WWID; connect() picks one, disconnect() logs out', async () => {
    const r = await call<{ session: S; device: { lun: number; path: string; wwid?: string }; transport: { used: string } }>('connect', { target: T('three'), portal: lab.lioPortal, lun: 2 });
    expect(r.transport.used).toBe('tcp');
    expect(r.device.lun).toBe(2);
    const luns = r.session.devices.map((d) => [d.lun, d.type]).sort();
    expect(luns).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    expect(new Set(r.session.devices.map((d) => d.wwid)).size).toBe(3);
    await lab.shOk(`echo lun-two | dd of=${r.device.path} bs=512 conv=sync oflag=direct status=none && dd if=${r.device.path} bs=512 count=1 iflag=direct status=none | grep -q lun-two`);
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
    expect(await sessionCount()).toBe(0);
  });

  it('connect() without a target discovers through LIO and names the choice when there are several', async () => {
    const e = await err(call('connect', { portal: lab.lioPortal }));
    expect(e).toMatchObject({ code: 'TARGET_AMBIGUOUS', details: { offered: expect.arrayContaining([T('plain'), T('three')]) } });
    const r = await call<{ session: S; device: { lun: number } }>('connect', { target: T('plain'), portal: lab.lioPortal, discovery: true });
    expect(r.session.targetName).toBe(T('plain'));
    expect(r.device.lun).toBe(0); // the first disk LUN: tgtd's would be 1, after its controller
    await call('disconnect', { sid: r.session.sid });
  });
});
