// The read path on a second kernel: the guest boots Debian 13's kernel (6.12, from trixie's archive; prepare.sh
// trixie) instead of Debian 12's 6.1, with the same userspace (the host's iscsid and iscsiadm). sessions(), from
// both sources (the addon's sysfs reader and libopeniscsiusr's iscsi_session_get()), must equal what that kernel
// shows in sysfs and what `iscsiadm -m session` and `-m session -P 3` print there. One guest for the file.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_KERNELS, packageEntry, repoRoot, startLab, type Lab } from './lab';
import type { Session } from '../../lib/read/sessions';
import { expectSessionEqualsP3, parseP3 } from './iscsiadm-p3';

const targets = ['k1', 'k2'].map((t) => `iqn.2026-11.org.openiscsi:kernel.${t}`);

describe(`read path on Debian 13's kernel (${LAB_KERNELS.trixie})`, () => {
  let lab: Lab;
  let list: Session[];

  beforeAll(async () => {
    lab = await startLab({ kernel: 'trixie', targets: targets.map((iqn) => ({ iqn, luns: 2, lunSizeMiB: 8 })) });
    // one guest command: discovery, a login to each target, udev settled
    await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} --login >/dev/null && (udevadm settle 2>/dev/null || true)`);
    list = await lab.call<Session[]>(packageEntry, 'sessions');
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('boots trixie\'s kernel, which loads the iSCSI modules from its own tree', async () => {
    expect(lab.kernelVersion).toMatch(/^6\.12\.\d+\+deb13-amd64$/);
    expect(await lab.shOk('uname -r')).toBe(`${lab.kernelVersion}\n`);
    // loaded from the trixie tree (xz-compressed modules), not built in: each has its /sys/module/*/initstate
    expect(await lab.shOk('cat /sys/module/{iscsi_tcp,libiscsi,scsi_transport_iscsi,sd_mod}/initstate')).toBe('live\n'.repeat(4));
    expect((await lab.shOk('ls /sys/class/iscsi_transport')).trim()).toBe('tcp');
  });

  it('sessions() equals iscsiadm -m session -P 3: target, portals, iface, state, host, timeouts, LUNs and disks', async () => {
    const p3 = parseP3(await lab.shOk('iscsiadm -m session -P 3'));
    expect(list.map((s) => s.sid).sort((a, b) => a - b)).toEqual([...p3.keys()].sort((a, b) => a - b));
    expect(list.map((s) => s.targetName).sort()).toEqual(targets);
    for (const s of list) {
      // tgtd's controller LUN 0 and the two disks, in iscsiadm's order
      expectSessionEqualsP3(s, p3.get(s.sid)!);
      expect(s.devices.filter((d) => d.blockDevice)).toHaveLength(2);
    }
  });

  it('sessions() equals iscsiadm -m session line by line', async () => {
    const theirs = (await lab.shOk('iscsiadm -m session')).trim().split('\n').sort();
    expect(list.map((s) => `${s.iface.transport}: [${s.sid}] ${s.address}:${s.port},${s.tpgt} ${s.targetName} (non-flash)`).sort()).toEqual(theirs);
  });

  it("each session's and device's values equal that kernel's sysfs", async () => {
    const devices = list.flatMap((s) => s.devices);
    // one guest command: "sid|targetname|ifacename|address|port|state|recovery_tmo" per session
    const sysfs = await lab.shOk(`for s in /sys/class/iscsi_session/session*; do
        sid=\${s##*session}; c=/sys/class/iscsi_connection/connection\$sid:0; line=\$sid
        for f in \$s/targetname \$s/ifacename \$c/address \$c/port \$s/state \$s/recovery_tmo; do read -r v < \$f; line="\$line|\$v"; done
        echo "\$line"
      done`);
    expect(list.map((s) => `${s.sid}|${s.targetName}|${s.iface.name}|${s.address}|${s.port}|${s.state}|${s.timeouts.recovery}`).sort()).toEqual(sysfs.trim().split('\n').sort());
    // read builtins, not head/sed: dozens of process starts cost seconds under emulation (read drops the padding)
    const script = `for d in ${devices.map((d) => d.hctl).join(' ')}; do
      p=/sys/bus/scsi/devices/$d; line=$d
      for a in state vendor model type wwid; do v=; read -r v < $p/$a 2>/dev/null; line="$line|$v"; done
      bs=($p/block/*); n=; [ ! -e "\${bs[0]}" ] || read -r n < "\${bs[0]}/size"
      echo "$line|$n"
    done`;
    const theirs = (await lab.shOk(script)).trim().split('\n').sort();
    expect(devices.map((d) => `${d.hctl}|${d.state}|${d.vendor}|${d.model}|${d.type}|${d.wwid ?? ''}|${d.blockDevice ? (d.sizeBytes ?? 0) / 512 : ''}`).sort()).toEqual(theirs);
    expect(devices.filter((d) => d.blockDevice).map((d) => d.sizeBytes)).toEqual([8 << 20, 8 << 20, 8 << 20, 8 << 20]);
  });

  it("libopeniscsiusr's iscsi_session_get() on this kernel gives the same records as the addon's sysfs reader", async () => {
    const addon = path.join(repoRoot, 'build', 'Release', 'openiscsi.node');
    const ours = await lab.call<{ sessions: unknown[]; sysfsSessionIds: number[] }>(addon, 'getSessions', []);
    const usr = await lab.call<{ sessions: unknown[]; sysfsSessionIds: number[] }>(addon, 'getSessions', [{ libopeniscsiusr: true }]);
    expect(ours.sessions).toHaveLength(targets.length);
    expect(usr).toEqual(ours);
    expect(await lab.call(packageEntry, 'sessions', [{ source: 'libopeniscsiusr' }])).toEqual(list);
  });

  it('follows the kernel: a session logged out is gone from both sources', async () => {
    await lab.shOk(`iscsiadm -m node -T ${targets[1]} -p ${lab.portal} --logout`);
    const sysfs = await lab.call<Session[]>(packageEntry, 'sessions');
    expect(sysfs.map((s) => s.targetName)).toEqual([targets[0]]);
    expect(await lab.call(packageEntry, 'sessions', [{ source: 'libopeniscsiusr' }])).toEqual(sysfs);
  });
});
