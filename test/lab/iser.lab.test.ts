// iSER carries data: soft-RoCE (rdma_rxe on a veth pair) in the guest, LIO (ib_isert) and tgtd (--lld iser)
// as iSER targets, the library's connect({ transport: 'iser' }) finding the RDMA device on the portal's netdev,
// 64 MiB of random data through the disk, and the real login-level fallback to tcp when the portal has no
// RDMA listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestError, LIO_PORTALS, packageEntry, RDMA_NET, startLab, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:iser.${n}`;

interface Result {
  session: { sid: number; targetName: string; address: string; port: number; iface: { name: string; transport: string } };
  device: { blockDevice: string; path: string; lun: number; sizeBytes: number; vendor?: string };
  transport: { requested: string; used: string; iface: string; fallbackReason?: string; rdma?: { device: string; netdev: string } };
  timings: { loginMs: number; totalMs: number };
}

interface Hw {
  ok: boolean;
  problems: Array<{ code: string; message: string }>;
  rdma?: { device: string; port: number; netdev: string; state: string; matchedBy: string; route: string };
}

describe('iSER over soft-RoCE (real kernel, LIO and tgtd)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);
  const sessionCount = async () => Number((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim());
  /** Packets rxe1 (veth1, the LIO portal's device) and rxe0 have received so far. */
  const rdmaPackets = async () => (await lab.shOk('cat /sys/class/infiniband/rxe*/ports/1/hw_counters/rcvd_pkts')).trim().split('\n').map(Number).reduce((a, b) => a + b, 0);

  /** `mib` MiB of random data written through the disk and read back with the page cache dropped: same sha256. */
  async function roundTrip(dev: string, mib: 64 | 16): Promise<void> {
    const read = await lab.shOk(
      [
        'set -e',
        `dd if=/tmp/pattern${mib} of=${dev} bs=1M oflag=direct status=none`,
        'echo 3 > /proc/sys/vm/drop_caches',
        `dd if=${dev} bs=1M count=${mib} iflag=direct status=none | sha256sum`,
      ].join('\n'),
      { timeoutMs: 120_000 },
    );
    expect(read.split(' ')[0]).toBe(patternSha[mib]);
  }
  const patternSha: Record<number, string> = {};

  const iscsidConf = (retryMax: number) =>
    lab.shOk(
      `sed -i -e 's/^node.conn\\[0\\].timeo.login_timeout.*/node.conn[0].timeo.login_timeout = 5/' -e 's/^node.session.initial_login_retry_max.*/node.session.initial_login_retry_max = ${retryMax}/' /etc/iscsi/iscsid.conf`,
    );
  beforeAll(async () => {
    lab = await startLab({
      rdma: true,
      lio: true,
      // the RDMA and LIO modules take tens of seconds to load under emulation on a busy machine
      bootTimeoutMs: 240_000,
      targets: [
        { iqn: T('lio'), luns: 1, lunSizeMiB: 64, kind: 'lio', iser: true },
        { iqn: T('tgtd'), luns: 1, lunSizeMiB: 64, iser: true },
        { iqn: T('lio-tcp'), luns: 1, kind: 'lio' },
        { iqn: T('lio-acl'), luns: 1, kind: 'lio', iser: true, initiators: ['iqn.2026-11.org.openiscsi:someone-else'] },
      ],
    });
    // Login attempts of 5 s; iscsid retries a failing login until initial_login_retry_max x login_timeout = 100 s
    await iscsidConf(20);
    const shas = await lab.shOk('head -c 67108864 /dev/urandom > /tmp/pattern64 && head -c 16777216 /tmp/pattern64 > /tmp/pattern16 && sha256sum /tmp/pattern64 /tmp/pattern16');
    const [sha64, sha16] = shas.trim().split('\n').map((l) => l.split(' ')[0]);
    patternSha[64] = sha64 ?? '';
    patternSha[16] = sha16 ?? '';
  }, 360_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('soft-RoCE is up: rxe0 and rxe1 ACTIVE on the veth pair; the hardware check finds the device toward each portal', async () => {
    const links = await lab.shOk('rdma link show');
    expect(links).toMatch(/rxe0\/1 state ACTIVE .*netdev veth0/);
    expect(links).toMatch(/rxe1\/1 state ACTIVE .*netdev veth1/);
    const toLio = await call<Hw>('checkHardware', 'iser', { portal: LIO_PORTALS.rdma });
    expect(toLio).toMatchObject({ ok: true, rdma: { device: 'rxe1', port: 1, netdev: 'veth1', state: 'ACTIVE', matchedBy: 'gid-table' } });
    expect(toLio.rdma?.route).toMatch(/10\.99\.0\.2 is configured on veth1/);
    expect((await call<Hw>('checkHardware', 'iser', { portal: RDMA_NET.tgtdIser })).rdma).toMatchObject({ device: 'rxe0', netdev: 'veth0' });
    // loopback carries no RDMA: the check says which netdev and which devices there are
    const toLo = await call<Hw>('checkHardware', 'iser', { portal: '127.0.0.1:3260' });
    expect(toLo.ok).toBe(false);
    expect(toLo.problems.map((p) => p.code)).toEqual(['RDMA_NOT_ON_ROUTE']);
    expect(toLo.problems[0]?.message).toMatch(/no RDMA device serves lo .*rxe0 \(veth0\), rxe1 \(veth1\)/);
  });

  it('connect({ transport: iser }) to LIO (ib_isert): an iser session in sessions() and sysfs, 64 MiB round-trip over RDMA, logout', async () => {
    const before = await rdmaPackets();
    const r = await call<Result>('connect', { target: T('lio'), portal: LIO_PORTALS.rdma, transport: 'iser', fallback: false });
    expect(r.transport).toEqual({ requested: 'iser', used: 'iser', iface: 'iser', rdma: { device: 'rxe1', netdev: 'veth1' } });
    expect(r.device).toMatchObject({ lun: 0, sizeBytes: 64 << 20, vendor: 'LIO-ORG' });
    const listed = (await call<Result['session'][]>('sessions')).find((s) => s.sid === r.session.sid);
    expect(listed).toMatchObject({ targetName: T('lio'), address: '10.99.0.2', port: 3261, iface: { name: 'iser', transport: 'iser' } });
    const sid = r.session.sid;
    expect(await lab.shOk(`cat /sys/class/iscsi_session/session${sid}/ifacename; cat /sys/class/iscsi_session/session${sid}/device/../scsi_host/host*/proc_name`)).toBe('iser\niscsi_iser\n');
    await roundTrip(r.device.path, 64);
    // the data went over the RDMA device (RoCE MTU 1024 here: ~1 packet per KiB of the 128 MiB moved; tcp adds none)
    expect((await rdmaPackets()) - before).toBeGreaterThan(64 * 1024);
    expect(await call('disconnect', { sid })).toMatchObject({ loggedOut: true });
    expect(await sessionCount()).toBe(0);
  });

  it('connect({ transport: iser }) to tgtd (--lld iser): 16 MiB round-trip, logout', async () => {
    const r = await call<Result>('connect', { target: T('tgtd'), portal: RDMA_NET.tgtdIser, transport: 'iser', fallback: false, lun: 1 });
    expect(r.transport).toEqual({ requested: 'iser', used: 'iser', iface: 'iser', rdma: { device: 'rxe0', netdev: 'veth0' } });
    expect(r.device).toMatchObject({ lun: 1, sizeBytes: 64 << 20, vendor: 'IET' });
    expect(await lab.shOk(`cat /sys/class/iscsi_session/session${r.session.sid}/ifacename`)).toBe('iser\n');
    await roundTrip(r.device.path, 16);
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
  });

  it('discovery toward an iSER portal: SendTargets over TCP to the same portal (as open-iscsi discovers for iser), then the login over iSER', async () => {
    const found = await call<{ iface: string; targets: Array<{ name: string; portals: Array<{ address: string; port: number }> }> }>('discover', { portal: LIO_PORTALS.rdma, iface: 'iser' });
    expect(found.iface).toBe('iser');
    expect(found.targets.find((t) => t.name === T('lio'))?.portals).toContainEqual(expect.objectContaining({ address: '10.99.0.2', port: 3261 }));
    const r = await call<Result>('connect', { target: T('lio'), portal: LIO_PORTALS.rdma, transport: 'iser', discovery: true, fallback: false });
    expect(r.transport).toMatchObject({ requested: 'iser', used: 'iser', iface: 'iser' });
    expect(await lab.shOk(`cat /sys/class/iscsi_session/session${r.session.sid}/ifacename`)).toBe('iser\n');
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
  });

  it('a portal without iSER: the iser login fails in iscsid, connect falls back to tcp with the reason, and the disk works', async () => {
    const t0 = Date.now();
    const r = await call<Result>('connect', { target: T('lio-tcp'), portal: LIO_PORTALS.rdmaTcpOnly, transport: 'iser' });
    // one iser attempt (5 s at most) before the fallback, not iscsid's 100 s of retries
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.transport).toMatchObject({ requested: 'iser', used: 'tcp', iface: 'default' });
    expect(r.transport.fallbackReason).toMatch(/^login over iser failed: .*iscsid error 8/);
    expect(r.transport.rdma).toBeUndefined();
    await lab.shOk(`echo fell-back-to-tcp | dd of=${r.device.path} bs=512 conv=sync oflag=direct status=none && dd if=${r.device.path} bs=512 count=1 iflag=direct status=none | grep -q fell-back-to-tcp`);
    expect(await lab.shOk(`cat /sys/class/iscsi_session/session${r.session.sid}/ifacename`)).toBe('default\n');
    expect(await call('disconnect', { sid: r.session.sid })).toMatchObject({ loggedOut: true });
  });

  it('an initiator outside the ACL, over iSER: the auth error (24), never a fallback to tcp', async () => {
    const e = await err(call('connect', { target: T('lio-acl'), portal: LIO_PORTALS.rdma, transport: 'iser' }));
    expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED', errno: 24, details: { authRelated: true } });
    expect(await sessionCount()).toBe(0);
  });

  it('with fallback: false the iscsid error is the answer, and nothing is left', async () => {
    await iscsidConf(0); // iscsid's own retries (kept without a fallback) would take 100 s here
    const e = await err(call('connect', { target: T('lio-tcp'), portal: LIO_PORTALS.rdmaTcpOnly, transport: 'iser', fallback: false }));
    expect(e).toMatchObject({ name: 'IscsiError', code: 'ISCSID_ERR_TRANS_TIMEOUT', errno: 8, details: { transportRelated: true } });
    expect(e?.message).toMatch(/iscsid error 8/);
    expect(await sessionCount()).toBe(0);
  });
});
