// A session made by iscsiadm in the guest is reported by the package, loaded inside the guest, through
// libopeniscsiusr: target name, portal, iface, transport, sid, all equal to what the kernel's sysfs says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, startLab, type Lab } from './lab';

interface GuestSession {
  sid: number;
  targetName: string;
  address: string;
  port: number;
  tpgt: number;
  iface: { name: string; transport: string };
}

const targets = ['iqn.2026-11.org.openiscsi:lab.s1', 'iqn.2026-11.org.openiscsi:lab.s2'];

describe('sessions made by iscsiadm, seen by the package', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ targets: targets.map((iqn) => ({ iqn, luns: 2 })) });
    await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} >/dev/null`);
    for (const t of targets) await lab.shOk(`iscsiadm -m node -T ${t} -p ${lab.portal} --login`);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('reports each session with the values sysfs holds', async () => {
    const list = await lab.call<GuestSession[]>(packageEntry, 'sessions');
    expect(list.map((s) => s.targetName).sort()).toEqual(targets);
    for (const s of list) {
      const dir = `/sys/class/iscsi_session/session${s.sid}`;
      const conn = `/sys/class/iscsi_connection/connection${s.sid}:0`;
      const sysfs = await lab.shOk(`cat ${dir}/targetname ${dir}/tpgt ${dir}/ifacename ${conn}/persistent_address ${conn}/persistent_port`);
      const [targetName, tpgt, ifaceName, address, port] = sysfs.trim().split('\n');
      expect(s).toMatchObject({ targetName, tpgt: Number(tpgt), address, port: Number(port) });
      expect(s.iface).toMatchObject({ name: ifaceName, transport: 'tcp' });
      expect(s.iface.name).toBe('default');
    }
  });

  it('agrees with iscsiadm -m session line by line', async () => {
    const list = await lab.call<GuestSession[]>(packageEntry, 'sessions');
    // e.g. "tcp: [1] 127.0.0.1:3260,1 iqn.2026-11.org.openiscsi:lab.s1 (non-flash)"
    const lines = (await lab.shOk('iscsiadm -m session')).trim().split('\n').sort();
    const ours = list
      .map((s) => `${s.iface.transport}: [${s.sid}] ${s.address}:${s.port},${s.tpgt} ${s.targetName} (non-flash)`)
      .sort();
    expect(ours).toEqual(lines);
  });

  it('sees a logout: the session disappears', async () => {
    await lab.shOk(`iscsiadm -m node -T ${targets[1]} -p ${lab.portal} --logout`);
    const list = await lab.call<GuestSession[]>(packageEntry, 'sessions');
    expect(list.map((s) => s.targetName)).toEqual([targets[0]]);
  });
});
