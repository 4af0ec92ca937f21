// The whole read path on a real kernel: three sessions made by iscsiadm in the guest, with three disks each
// (plus tgtd's controller LUN). What the package returns inside the guest must equal what the kernel shows
// in sysfs and what `iscsiadm -m session -P 3`, `-m iface` and `-m node` print there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { packageEntry, repoRoot, startLab, type Lab } from './lab';
import type { Session } from '../../lib/read/sessions';
import { expectSessionEqualsP3, parseP3 } from './iscsiadm-p3';


const targets = ['r1', 'r2', 'r3'].map((t) => `iqn.2026-11.org.openiscsi:lab.${t}`);

describe('read path on a real kernel: sessions, devices, ifaces, nodes, transports, hosts', () => {
  let lab: Lab;
  let list: Session[];

  beforeAll(async () => {
    lab = await startLab({ offloadModules: true, targets: targets.map((iqn) => ({ iqn, luns: 3, lunSizeMiB: 8 })) });
    await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} >/dev/null`);
    for (const t of targets) await lab.shOk(`iscsiadm -m node -T ${t} -p ${lab.portal} --login`);
    await lab.shOk('udevadm settle 2>/dev/null || true');
    list = await lab.call<Session[]>(packageEntry, 'sessions');
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('every session iscsiadm -m session -P 3 prints, with the same target, portals, iface, timeouts and state', async () => {
    const p3 = parseP3(await lab.shOk('iscsiadm -m session -P 3'));
    expect(list.map((s) => s.sid).sort((a, b) => a - b)).toEqual([...p3.keys()].sort((a, b) => a - b));
    expect(list.map((s) => s.targetName).sort()).toEqual(targets);
    for (const s of list) {
      const theirs = p3.get(s.sid)!;
      const f = (k: string) => theirs.fields.get(k);
      expectSessionEqualsP3(s, theirs);
      expect(s.username).toBeUndefined();
      expect(f('username')).toBe('<empty>');
      expect(s.devices).toHaveLength(4);
      expect(s).toMatchObject({ connectionState: expect.any(String), targetId: s.devices[0]!.target });
    }
  });

  it('agrees with iscsiadm -m session line by line', async () => {
    // e.g. "tcp: [1] 127.0.0.1:3260,1 iqn.2026-11.org.openiscsi:lab.r1 (non-flash)"
    const theirs = (await lab.shOk('iscsiadm -m session')).trim().split('\n').sort();
    expect(list.map((s) => `${s.iface.transport}: [${s.sid}] ${s.address}:${s.port},${s.tpgt} ${s.targetName} (non-flash)`).sort()).toEqual(theirs);
  });

  it("each device's size, vendor, model, revision, type, state and WWID equal the kernel's sysfs", async () => {
    const devices = list.flatMap((s) => s.devices);
    // One guest command for all of them: "<hctl>|state|vendor|model|type|wwid|sectors|rev"
    const script = devices
      .map((d) => {
        const dev = `/sys/bus/scsi/devices/${d.hctl}`;
        const attr = (a: string) => `$(head -1 ${dev}/${a} 2>/dev/null | sed 's/ *$//')`;
        const sectors = d.blockDevice ? `$(cat /sys/block/${d.blockDevice}/size)` : '';
        return `echo "${d.hctl}|${attr('state')}|${attr('vendor')}|${attr('model')}|${attr('type')}|${attr('wwid')}|${sectors}|${attr('rev')}"`;
      })
      .join('\n');
    const sysfs = new Map((await lab.shOk(script)).trim().split('\n').map((l) => [l.split('|')[0]!, l.split('|').slice(1)]));
    for (const d of devices) {
      const [state, vendor, model, type, wwid, sectors, revision] = sysfs.get(d.hctl)!;
      expect({ state: d.state, vendor: d.vendor, model: d.model, revision: d.revision, type: d.type, wwid: d.wwid ?? '' }).toEqual({ state, vendor, model, revision, type: Number(type), wwid });
      if (d.blockDevice) {
        expect(d.sizeBytes).toBe(Number(sectors) * 512);
        expect(d.sizeBytes).toBe(8 << 20);
      } else {
        expect(d.lun).toBe(0); // tgtd's controller LUN has no disk
      }
    }
    // tgtd gives every disk an NAA designator, which the kernel shows as wwid
    expect(devices.filter((d) => d.blockDevice).every((d) => /^naa\.|^t10\.|^eui\./.test(d.wwid ?? ''))).toBe(true);
  });

  it('session(sid) returns the same record as sessions(); a missing sid is SESSION_NOT_FOUND', async () => {
    for (const s of list) expect(await lab.call<Session>(packageEntry, 'session', [s.sid])).toEqual(s);
    await expect(lab.call(packageEntry, 'session', [4242])).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });

  it('transports() and hosts() equal /sys/class/iscsi_transport and /sys/class/iscsi_host', async () => {
    const transports = await lab.call<Array<{ name: string; caps: number }>>(packageEntry, 'transports');
    const sysT = (await lab.shOk('for t in /sys/class/iscsi_transport/*; do echo "$(basename $t) $(cat $t/caps)"; done')).trim().split('\n');
    expect(transports.map((t) => `${t.name} 0x${t.caps.toString(16)}`)).toEqual(sysT);
    expect(transports.map((t) => t.name)).toEqual(expect.arrayContaining(['tcp', 'iser', 'cxgb4i', 'qla4xxx']));
    const hosts = await lab.call<Array<{ hostNo: number; transport?: string }>>(packageEntry, 'hosts');
    const sysH = (await lab.shOk('ls /sys/class/iscsi_host')).trim().split(/\s+/).map((h) => Number(h.replace('host', ''))).sort((a, b) => a - b);
    expect(hosts.map((h) => h.hostNo)).toEqual(sysH);
    for (const s of list) expect(hosts.find((h) => h.hostNo === s.hostNo)).toMatchObject({ transport: 'tcp' });
  });

  it('ifaces() and nodes() equal iscsiadm -m iface and iscsiadm -m node', async () => {
    const ifaces = await lab.call<Array<{ name: string; transport: string }>>(packageEntry, 'ifaces');
    // "default tcp,<empty>,<empty>,<empty>,<empty>"
    const theirIfaces = (await lab.shOk('iscsiadm -m iface')).trim().split('\n').map((l) => l.replace(/^(\S+) ([^,]+),.*$/, '$1 $2'));
    expect(ifaces.map((i) => `${i.name} ${i.transport}`).sort()).toEqual(theirIfaces.sort());
    const nodes = await lab.call<Array<{ targetName: string; portal: string; tpgt: number }>>(packageEntry, 'nodes');
    // "127.0.0.1:3260,1 iqn..."
    const theirNodes = (await lab.shOk('iscsiadm -m node')).trim().split('\n').sort();
    expect(nodes.map((n) => `${n.portal},${n.tpgt} ${n.targetName}`).sort()).toEqual(theirNodes);
  });

  it("the addon's sysfs reader and libopeniscsiusr's iscsi_session_get() give the same records", async () => {
    const addon = path.join(repoRoot, 'build', 'Release', 'openiscsi.node');
    const ours = await lab.call<{ sessions: unknown[]; sysfsSessionIds: number[] }>(addon, 'getSessions', []);
    const usr = await lab.call<{ sessions: unknown[]; sysfsSessionIds: number[] }>(addon, 'getSessions', [{ libopeniscsiusr: true }]);
    expect(ours.sessions).toHaveLength(targets.length);
    expect(ours).toEqual(usr);
    expect(await lab.call(packageEntry, 'sessions', [{ source: 'libopeniscsiusr' }])).toEqual(await lab.call(packageEntry, 'sessions'));
  });

  it('kept sysfs descriptors never give stale answers: a changed timeout, a deleted LUN, the LUN rescanned at the same H:C:T:L', async () => {
    const s = (await lab.call<Session[]>(packageEntry, 'sessions')).find((x) => x.targetName === targets[0])!;
    const lun = s.devices.find((d) => d.lun === 2)!;
    const oldTmo = s.timeouts.recovery;
    await lab.shOk(`echo ${oldTmo + 7} > /sys/class/iscsi_session/session${s.sid}/recovery_tmo`);
    const read = async () => (await lab.call<Session>(packageEntry, 'session', [s.sid]));
    expect((await read()).timeouts.recovery).toBe(oldTmo + 7);
    await lab.shOk(`echo ${oldTmo} > /sys/class/iscsi_session/session${s.sid}/recovery_tmo`);

    await lab.shOk(`echo 1 > /sys/class/scsi_device/${lun.hctl}/device/delete`);
    expect((await read()).devices.map((d) => d.hctl)).not.toContain(lun.hctl);

    await lab.shOk(`echo '${lun.channel} ${lun.target} ${lun.lun}' > /sys/class/scsi_host/host${s.hostNo}/scan`);
    await lab.shOk(`for i in $(seq 100); do ls /sys/class/scsi_device/${lun.hctl}/device/block/ 2>/dev/null | grep -q sd && exit 0; sleep 0.1; done; exit 1`);
    const block = (await lab.shOk(`ls /sys/class/scsi_device/${lun.hctl}/device/block/`)).trim();
    const back = (await read()).devices.find((d) => d.hctl === lun.hctl);
    expect(back).toMatchObject({ state: 'running', blockDevice: block, sizeBytes: lun.sizeBytes, wwid: lun.wwid });

    // Again with no read in between: every descriptor kept for that LUN (its attributes, its block
    // directory) now belongs to removed sysfs nodes, and must be noticed as such.
    await lab.shOk(`echo 1 > /sys/class/scsi_device/${lun.hctl}/device/delete`);
    await lab.shOk(`echo '${lun.channel} ${lun.target} ${lun.lun}' > /sys/class/scsi_host/host${s.hostNo}/scan`);
    await lab.shOk(`for i in $(seq 100); do ls /sys/class/scsi_device/${lun.hctl}/device/block/ 2>/dev/null | grep -q sd && exit 0; sleep 0.1; done; exit 1`);
    const block2 = (await lab.shOk(`ls /sys/class/scsi_device/${lun.hctl}/device/block/`)).trim();
    expect((await read()).devices.find((d) => d.hctl === lun.hctl)).toMatchObject({ state: 'running', blockDevice: block2, sizeBytes: lun.sizeBytes, wwid: lun.wwid });
    expect(await lab.call(packageEntry, 'sessions')).toEqual(await lab.call(packageEntry, 'sessions', [{ source: 'libopeniscsiusr' }]));
  });

  it("a LUN replaced at the same H:C:T:L by one of another type shows the new type (the old one's kept type is not reused)", async () => {
    const s = (await lab.call<Session[]>(packageEntry, 'sessions')).find((x) => x.targetName === targets[0])!;
    const lun = s.devices.find((d) => d.lun === 3)!;
    expect(lun.type).toBe(0);
    const read = async () => (await lab.call<Session>(packageEntry, 'session', [s.sid])).devices.find((d) => d.hctl === lun.hctl);
    // From the third read on, the type is kept (session_fds.h).
    for (let i = 0; i < 3; i++) expect((await read())?.type).toBe(0);
    const lastRead = Date.now();
    const adm = '/usr/sbin/tgtadm --lld iscsi';
    const tid = `$(${adm} --op show --mode target | sed -n 's/^Target \\([0-9]*\\): ${targets[0]}$/\\1/p')`;
    const replaceLun = (deviceType: string) =>
      lab.shOk(
        [
          `tid=${tid}`,
          `${adm} --op delete --mode logicalunit --tid $tid --lun 3`,
          `${adm} --op new --mode logicalunit --tid $tid --lun 3 -b /tmp/tgt/t$tid-lun3.img --device-type ${deviceType}`,
          `echo 1 > /sys/class/scsi_device/${lun.hctl}/device/delete`,
          `echo '${lun.channel} ${lun.target} ${lun.lun}' > /sys/class/scsi_host/host${s.hostNo}/scan`,
          `for i in $(seq 100); do [ -e /sys/class/scsi_device/${lun.hctl}/device/type ] && exit 0; sleep 0.1; done; exit 1`,
        ].join(' && '),
      );
    try {
      // tgtd gives LUN 3 to a CD-ROM (type 5); the guest drops its disk and scans it again, with no read in between.
      await replaceLun('cd');
      expect((await lab.shOk(`cat /sys/class/scsi_device/${lun.hctl}/device/type`)).trim()).toBe('5');
      // The descriptors are released 10 s after the last read; past that this would test nothing.
      expect(Date.now() - lastRead).toBeLessThan(9_000);
      expect(await read()).toMatchObject({ hctl: lun.hctl, type: 5, state: 'running' });
    } finally {
      await replaceLun('disk');
      await lab.shOk(`for i in $(seq 100); do ls /sys/class/scsi_device/${lun.hctl}/device/block/ 2>/dev/null | grep -q sd && exit 0; sleep 0.1; done; exit 1`);
    }
    expect(await read()).toMatchObject({ hctl: lun.hctl, type: 0, blockDevice: expect.stringMatching(/^sd/) });
  });

  it('a disk unbound from sd (its LUN stays) has no block device; bound again, it has one', async () => {
    const s = (await lab.call<Session[]>(packageEntry, 'sessions')).find((x) => x.targetName === targets[0])!;
    const lun = s.devices.find((d) => d.lun === 1)!;
    expect(lun.blockDevice).toMatch(/^sd/);
    const read = async () => (await lab.call<Session>(packageEntry, 'session', [s.sid])).devices.find((d) => d.hctl === lun.hctl);
    await lab.shOk(`echo ${lun.hctl} > /sys/bus/scsi/drivers/sd/unbind`);
    const unbound = await read();
    expect(unbound).toMatchObject({ hctl: lun.hctl, state: 'running' });
    expect(unbound!.blockDevice).toBeUndefined();
    expect(unbound!.sizeBytes).toBeUndefined();
    await lab.shOk(`echo ${lun.hctl} > /sys/bus/scsi/drivers/sd/bind`);
    await lab.shOk(`for i in $(seq 100); do ls /sys/class/scsi_device/${lun.hctl}/device/block/ 2>/dev/null | grep -q sd && exit 0; sleep 0.1; done; exit 1`);
    const block = (await lab.shOk(`ls /sys/class/scsi_device/${lun.hctl}/device/block/`)).trim();
    expect(await read()).toMatchObject({ blockDevice: block, sizeBytes: lun.sizeBytes });
  });

  it('follows the kernel: a logged-out session and its disks are gone', async () => {
    await lab.shOk(`iscsiadm -m node -T ${targets[1]} -p ${lab.portal} --logout`);
    const after = await lab.call<Session[]>(packageEntry, 'sessions');
    expect(after.map((s) => s.targetName).sort()).toEqual([targets[0], targets[2]]);
    const disks = after.flatMap((s) => s.devices.map((d) => d.blockDevice).filter(Boolean));
    const sysDisks = (await lab.shOk('ls /sys/class/iscsi_session/*/device/target*/*/block/')).split(/\s+/).filter((x) => /^sd/.test(x));
    expect(disks.sort()).toEqual(sysDisks.sort());
  });
});
