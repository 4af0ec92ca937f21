// dm-multipath on the real kernel: one tgtd target on two portals (127.0.0.1 and 127.0.0.2), udevd and
// multipathd in the guest. connect({ portals, multipath }) logs in on both, multipathd makes the map; I/O
// through the map survives one path being cut (its portal removed and its TCP connection killed) and the
// map shows that path failed, then active again once it is restored; disconnectMultipath() refuses a map
// in use and otherwise leaves no map, no path device and no session, also with one path dead (cut and not
// restored: its device offline, deleted without a flush) and with multipathd gone (the map removed through
// device-mapper's ioctl). Each test makes what it needs (a map, its data
// file) when an earlier one did not leave it, and a cut portal is restored in a finally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, startLab, type GuestError, type Lab } from './lab';
import { SECOND_PORTAL, startMultipath, startMultipathd, stopMultipathd } from './multipath-setup';

const T = 'iqn.2026-12.org.openiscsi:multipath.a';

interface Path { portal: string; sid: number; blockDevice: string; state: string; transport: { used: string } }
interface Result {
  session: { sid: number };
  device: { blockDevice: string; lun: number; wwid?: string };
  multipath?: { requested: string; map?: { dm: string; path: string; name: string; wwid: string }; paths: Path[]; reason?: string };
}

describe('multipath (real kernel, udevd and multipathd in the guest)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args, { timeoutMs: 240_000 });
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);
  const count = async (glob: string) => Number((await lab.shOk(`ls -d ${glob} 2>/dev/null | wc -l`)).trim());
  const STATES = 'multipathd show paths raw format "%d %t %T"';
  /** connect() of both paths; a failure carries what multipathd had (its paths, maps and log). */
  const attach = () =>
    call<Result>('connect', { target: T, portals: [lab.portal, SECOND_PORTAL], multipath: 'required', lun: 1 }).catch(async (e: unknown) => {
      const mpd = await lab.sh('multipathd show paths; multipathd show maps; ls /sys/block; tail -n 60 /run/mp/multipathd.log');
      throw new Error(`${(e as Error).message}\n--- multipathd ---\n${mpd.stdout}${mpd.stderr}`);
    });
  /** The map an earlier test left, or a new one. */
  const ensureMap = async (): Promise<string> => {
    const have = (await lab.shOk('ls /sys/block | grep ^dm- | head -1 || true')).trim();
    return have || (await attach()).multipath!.map!.dm;
  };
  /** Waits until multipathd reports both paths active and checked ready. */
  const bothReady = (seconds = 120) =>
    lab.shOk(`for i in $(seq ${seconds}); do s=$(${STATES}); [ "$(echo "$s" | grep -c 'active ready')" = 2 ] && { echo "$s"; exit 0; }; sleep 1; done; echo "not both active ready: $s"; exit 1`, {
      timeoutMs: seconds * 1000 + 60_000,
    });
  const writeRead = (dev: string) =>
    lab.shOk(`head -c 4194304 /dev/urandom >/tmp/mp.in && dd if=/tmp/mp.in of=${dev} bs=1M oflag=direct status=none && dd if=${dev} of=/tmp/mp.out bs=1M count=4 iflag=direct status=none && cmp /tmp/mp.in /tmp/mp.out`, { timeoutMs: 60_000 });
  /** Cuts the second path: its portal goes and its TCP connection is killed, so the session cannot come back. */
  const cutSecond = () =>
    lab.shOk(`/usr/sbin/tgtadm --lld iscsi --op delete --mode portal --param portal=${SECOND_PORTAL}; ss -K dst 127.0.0.2 dport = 3260 | grep -q ESTAB || { echo "no connection to 127.0.0.2 was cut"; exit 1; }`);
  const restoreSecond = () =>
    lab.sh(`/usr/sbin/tgtadm --lld iscsi --op show --mode portal | grep -q '${SECOND_PORTAL}' || /usr/sbin/tgtadm --lld iscsi --op new --mode portal --param portal=${SECOND_PORTAL}`);
  /** The SCSI device (hctl, block device) of the session on the second portal. */
  const secondPath = async () => {
    const all = await call<Array<{ sid: number; address: string; devices: Array<{ hctl: string; blockDevice?: string }> }>>('sessions');
    const s = all.find((x) => x.address === SECOND_PORTAL.split(':')[0]);
    const d = s?.devices.find((x) => x.blockDevice !== undefined);
    if (!s || !d) throw new Error(`no session with a disk on ${SECOND_PORTAL}: ${JSON.stringify(all)}`);
    return { sid: s.sid, hctl: d.hctl, blockDevice: d.blockDevice! };
  };

  beforeAll(async () => {
    lab = await startLab({ targets: [{ iqn: T, luns: 1, lunSizeMiB: 64 }] });
    // a path that is cut must fail within seconds, not after the default 120 s replacement timeout
    await lab.shOk("sed -i 's/^node.session.timeo.replacement_timeout.*/node.session.timeo.replacement_timeout = 5/' /etc/iscsi/iscsid.conf");
    await startMultipath(lab);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('required: both paths log in, multipathd makes one map over them, data goes through it', async () => {
    const r = await attach();
    const m = r.multipath!;
    expect(m.map?.dm).toMatch(/^dm-\d+$/);
    expect(m.map?.path).toBe(`/dev/${m.map!.dm}`);
    expect(m.paths.map((p) => p.portal)).toEqual([lab.portal, SECOND_PORTAL]);
    // multipathd lists both paths in the map, dm has them active; the checker has answered ready, or its
    // first asynchronous check is still running (i/o pending), or it has not run yet (undef). Not "up" (no
    // multipathd state read) nor "unreported" (multipathd never listed the path) nor faulty.
    for (const p of m.paths) expect(p.state).toMatch(/^active\/(ready|i\/o pending|undef)$/);
    expect(m.paths.every((p) => p.transport.used === 'tcp')).toBe(true);
    expect(new Set(m.paths.map((p) => p.sid)).size).toBe(2);
    const slaves = (await lab.shOk(`ls /sys/block/${m.map!.dm}/slaves`)).trim().split(/\s+/).sort();
    expect(slaves).toEqual(m.paths.map((p) => p.blockDevice).sort());
    expect((await lab.shOk(`cat /sys/block/${m.map!.dm}/dm/uuid`)).trim()).toBe(`mpath-${m.map!.wwid}`);
    // and the checker settles on ready for both
    await bothReady(60);
    // sessions() shows which map holds each path
    const sessions = await call<Array<{ sid: number; devices: Array<{ blockDevice?: string; holders?: string[] }> }>>('sessions');
    for (const p of m.paths) expect(sessions.find((s) => s.sid === p.sid)!.devices.find((d) => d.blockDevice === p.blockDevice)!.holders).toEqual([m.map!.dm]);
    await writeRead(m.map!.path);
  });

  it('I/O through the map keeps working while one path is cut; the map shows it failed, then active again', async () => {
    const map = await ensureMap();
    await bothReady();
    await lab.shOk(`head -c 4194304 /dev/urandom >/tmp/mp.in`);
    try {
      // with a 5 s replacement timeout the cut path's I/O fails and dm-multipath fails the path; reads go on
      await cutSecond();
      const cut = await lab.shOk(
        `for i in $(seq 90); do
           dd if=/dev/${map} of=/dev/null bs=1M count=4 iflag=direct status=none || { echo READ-FAILED; exit 1; }
           s=$(${STATES}); case "$s" in *failed*) echo "$s"; exit 0;; esac
           sleep 1
         done; echo "never failed: $s"; exit 1`,
        { timeoutMs: 200_000 },
      );
      expect(cut).toMatch(/failed/);
      expect(cut).toMatch(/active/);
      await writeRead(`/dev/${map}`);
    } finally {
      await restoreSecond();
    }
    // Restored: iscsid reconnects and multipathd's checker reinstates the path.
    const back = await bothReady();
    expect(back.split('\n').filter((l) => /active ready/.test(l))).toHaveLength(2);
  }, 480_000);

  it('disconnectMultipath refuses a mounted map, then removes the map, both path devices and both sessions', async () => {
    const map = await ensureMap();
    await bothReady();
    await lab.shOk(`mkfs.ext4 -q -F /dev/${map} && mkdir -p /tmp/mp-mnt && mount /dev/${map} /tmp/mp-mnt`);
    try {
      const e = await err(call('disconnectMultipath', { map }));
      expect(e?.code).toBe('DEVICE_IN_USE');
      expect(await count(`/sys/block/${map}`)).toBe(1);
      expect(await count('/sys/class/iscsi_session/session*')).toBe(2);
    } finally {
      await lab.sh('umount /tmp/mp-mnt');
    }
    const r = await call<{ map: string; removed: string[]; unflushed?: string[]; loggedOut: number[] }>('disconnectMultipath', { map });
    expect(r.map).toBe(map);
    expect(r.removed).toHaveLength(2);
    expect(r.unflushed).toBeUndefined();
    expect(r.loggedOut).toHaveLength(2);
    expect(await count('/sys/block/dm-*')).toBe(0);
    expect(await count('/sys/block/sd*')).toBe(0);
    expect(await count('/sys/class/iscsi_session/session*')).toBe(0);
    // idempotent
    expect(await call('disconnectMultipath', { map })).toEqual({ removed: [], loggedOut: [] });
  }, 300_000);

  it('disconnectMultipath with one path dead (cut, not restored): the offline path is deleted unflushed, nothing is left', async () => {
    const map = await ensureMap();
    await bothReady();
    const dead = await secondPath();
    try {
      await cutSecond();
      // past the 5 s replacement timeout the kernel takes the dead path's device offline: it refuses opens
      await lab.shOk(`for i in $(seq 120); do [ "$(cat /sys/block/${dead.blockDevice}/device/state)" = transport-offline ] && exit 0; sleep 1; done; cat /sys/block/${dead.blockDevice}/device/state; exit 1`, { timeoutMs: 180_000 });
      const r = await call<{ map: string; removed: string[]; unflushed?: string[]; loggedOut: number[] }>('disconnectMultipath', { map });
      expect(r.map).toBe(map);
      expect(r.removed).toHaveLength(2);
      expect(r.unflushed).toEqual([dead.hctl]);
      expect(r.loggedOut).toHaveLength(2);
      expect(await count('/sys/block/dm-*')).toBe(0);
      expect(await count('/sys/block/sd*')).toBe(0);
      expect(await count('/sys/class/iscsi_session/session*')).toBe(0);
    } finally {
      await restoreSecond();
    }
  }, 420_000);

  it('disconnectMultipath with multipathd gone removes the map through device-mapper (DM_DEV_REMOVE), then the paths', async () => {
    const map = await ensureMap();
    await bothReady();
    await stopMultipathd(lab);
    try {
      const r = await call<{ map: string; removedBy: string; removed: string[]; loggedOut: number[] }>('disconnectMultipath', { map });
      expect(r).toMatchObject({ map, removedBy: 'device-mapper' });
      expect(r.removed).toHaveLength(2);
      expect(r.loggedOut).toHaveLength(2);
      expect(await count('/sys/block/dm-*')).toBe(0);
      expect(await count('/sys/block/sd*')).toBe(0);
      expect(await count('/sys/class/iscsi_session/session*')).toBe(0);
    } finally {
      await startMultipathd(lab);
    }
  }, 300_000);

  it('without multipathd: required fails before any login; preferred attaches one path and says why', async () => {
    // whatever an earlier test left (this one needs a clean slate)
    await lab.sh('umount /tmp/mp-mnt 2>/dev/null; dmsetup remove_all -f; iscsiadm -m session -u >/dev/null 2>&1; true');
    await stopMultipathd(lab);
    try {
      const e = await err(call('connect', { target: T, portals: [lab.portal, SECOND_PORTAL], multipath: 'required', lun: 1 }));
      expect(e?.code).toBe('MULTIPATHD_NOT_RUNNING');
      expect(await count('/sys/class/iscsi_session/session*')).toBe(0);
      const r = await call<Result>('connect', { target: T, portals: [lab.portal, SECOND_PORTAL], multipath: 'preferred', lun: 1 });
      expect(r.multipath?.map).toBeUndefined();
      expect(r.multipath?.reason).toMatch(/multipathd is not running/);
      expect(r.multipath?.paths).toHaveLength(1);
      expect(await count('/sys/class/iscsi_session/session*')).toBe(1);
      await call('disconnect', { sid: r.session.sid });
      expect(await count('/sys/class/iscsi_session/session*')).toBe(0);
    } finally {
      await startMultipathd(lab);
    }
  });
});
