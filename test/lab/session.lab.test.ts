// A session made by iscsiadm in the guest is reported by the package, loaded inside the guest, through
// libopeniscsiusr: target name, portal, iface, transport, sid, all equal to what the kernel's sysfs says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, startLab, type Lab } from './lab';

interface GuestDevice {
  hctl: string;
  blockDevice?: string;
  state?: string;
  sizeBytes?: number;
  vendor?: string;
}

interface GuestSession {
  sid: number;
  hostNo?: number;
  state?: string;
  devices: GuestDevice[];
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

  it('reports each LUN with H:C:T:L, disk and state exactly as iscsiadm -m session -P 3 does', async () => {
    const list = await lab.call<GuestSession[]>(packageEntry, 'sessions');
    const p3 = await lab.shOk('iscsiadm -m session -P 3');
    // Per target: "scsiH Channel CC Id T Lun: L" lines, each optionally followed by "Attached scsi disk sdX State: S".
    const fromIscsiadm = new Map<string, string[]>();
    let target = '';
    let host = '';
    for (const line of p3.split('\n')) {
      const t = /^Target: (\S+)/.exec(line);
      if (t) target = t[1]!;
      const h = /Host Number: (\d+)/.exec(line);
      if (h) host = h[1]!;
      const l = /scsi(\d+) Channel (\d+) Id (\d+) Lun: (\d+)/.exec(line);
      if (l) fromIscsiadm.set(target, [...(fromIscsiadm.get(target) ?? []), `${Number(l[1])}:${Number(l[2])}:${l[3]}:${l[4]}`]);
      const d = /Attached scsi disk (\S+)\s+State: (\S+)/.exec(line);
      if (d) {
        const luns = fromIscsiadm.get(target)!;
        luns[luns.length - 1] += ` ${d[1]} ${d[2]}`;
      }
    }
    expect(host).not.toBe('');
    for (const s of list) {
      const ours = s.devices.map((d) => (d.blockDevice ? `${d.hctl} ${d.blockDevice} ${d.state}` : d.hctl));
      expect(ours).toEqual(fromIscsiadm.get(s.targetName));
      // tgtd: LUN 0 is its controller, LUNs 1 and 2 are 16 MiB disks
      expect(s.devices.map((d) => d.sizeBytes ?? 0)).toEqual([0, 16 << 20, 16 << 20]);
      expect(s).toMatchObject({ state: 'LOGGED_IN' });
    }
  });

  it('sees a logout: the session disappears', async () => {
    await lab.shOk(`iscsiadm -m node -T ${targets[1]} -p ${lab.portal} --logout`);
    const list = await lab.call<GuestSession[]>(packageEntry, 'sessions');
    expect(list.map((s) => s.targetName)).toEqual([targets[0]]);
  });
});
