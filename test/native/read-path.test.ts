// The whole read path (addon + libopeniscsiusr + sysfs joins) on a fake sysfs mounted over /sys.
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { standardTree } from '../fixtures/fakesys';
import { runInMountNamespace } from './namespace';

const pkg = path.resolve(__dirname, '../../dist/index.js');
const tree = standardTree();
afterAll(() => tree.remove());

function call(expr: string, etcSetup: string[] = []): unknown {
  const script = `require(${JSON.stringify(pkg)}).${expr}.then((r) => console.log(JSON.stringify({ ok: r })), (e) => console.log(JSON.stringify({ err: { name: e.name, code: e.code, errno: e.errno, message: e.message, details: e.details } })))`;
  const out = runInMountNamespace({ sysfsRoot: tree.root, etcSetup, script });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout.trim().split('\n').pop()!);
}

describe('read path through libopeniscsiusr on a fake sysfs', () => {
  it('sessions(): software and offload sessions with their own devices', () => {
    const { ok } = call('sessions()') as { ok: Array<Record<string, any>> };
    expect(ok.map((s) => s.sid)).toEqual([1, 2, 5, 6]);
    const byId = new Map(ok.map((s) => [s.sid, s]));
    expect(byId.get(1)).toMatchObject({ targetName: 'iqn.2026-11.org.example:tcp1', address: '192.0.2.10', port: 3260, tpgt: 1, hostNo: 3, state: 'LOGGED_IN' });
    expect(byId.get(1)!.iface).toMatchObject({ name: 'default', transport: 'tcp', ipaddress: '192.0.2.1' });
    expect(byId.get(1)!.devices.map((d: any) => [d.hctl, d.blockDevice ?? null])).toEqual([['3:0:0:0', null], ['3:0:0:1', 'sdb']]);
    expect(byId.get(1)!.devices[1]).toMatchObject({ blockDevice: 'sdb', sizeBytes: 204800 * 512, wwid: 'naa.60014051234567890', type: 0, vendor: 'IET', state: 'running' });
    expect(byId.get(1)!.devices[0]).toMatchObject({ type: 12, model: 'Controller' });
    expect(byId.get(2)).toMatchObject({ state: 'FAILED', connectionState: 'failed', username: 'chapuser', tpgt: 2, port: 3261 });
    expect(byId.get(2)!.devices[0]).toMatchObject({ state: 'blocked', blockDevice: 'sdc' });
    expect(byId.get(5)).toMatchObject({ hostNo: 7, targetId: 0 });
    expect(byId.get(5)!.devices.map((d: any) => d.blockDevice)).toEqual(['sdd', 'sde']);
    const hba = byId.get(6)!;
    expect(hba.iface).toMatchObject({ name: 'cxgb4i.00:07:43:aa:bb:cc', transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', netdev: 'eth2', portState: 'LINK UP', portSpeed: '10 Gbps' });
    expect(hba.devices.map((d: any) => d.hctl)).toEqual(['7:0:1:0']);
    expect(JSON.stringify(ok)).not.toContain('never-returned-secret');
  });

  it('session(99) is SESSION_NOT_FOUND', () => {
    expect(call('session(99)')).toMatchObject({ err: { code: 'SESSION_NOT_FOUND', errno: 2 } });
  });

  it('transports() and hosts() read the mounted /sys', () => {
    expect((call('transports()') as { ok: Array<{ name: string }> }).ok.map((t) => t.name)).toEqual(['cxgb4i', 'qla4xxx', 'tcp']);
    expect((call('hosts()') as { ok: Array<{ hostNo: number }> }).ok.map((h) => h.hostNo)).toEqual([3, 4, 7, 9]);
  });

  it('ifaces(): one file with an unknown key is skipped and named, the others are listed', () => {
    const r = call('ifaces({ onProblem: (p) => console.log("PROBLEM", p.code, p.details.file) })', [
      'printf "iface.transport_name = tcp\\niface.net_ifacename = eth0\\n" > /etc/iscsi/ifaces/good1',
      'printf "iface.transport_name = tcp\\niface.made_up_key = 1\\n" > /etc/iscsi/ifaces/bad1',
    ]) as { ok: Array<{ name: string; netdev: string }> };
    expect(r.ok.map((i) => i.name)).toEqual(['good1', 'default', 'iser']);
    expect(r.ok[0]!.netdev).toBe('eth0');
  });

  it('setupDefaultIfaces() writes the qla4xxx iface files named after its iscsi_iface entries', () => {
    const r = call('setupDefaultIfaces()') as { ok?: Array<{ name: string; transport: string; hwaddress: string }>; err?: unknown };
    expect(r.err).toBeUndefined();
    const names = r.ok!.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['qla4xxx.00:0e:1e:11:22:33.ipv4.0', 'qla4xxx.00:0e:1e:11:22:33.ipv4.1', 'default', 'iser']));
    expect(r.ok!.find((i) => i.name === 'qla4xxx.00:0e:1e:11:22:33.ipv4.0')).toMatchObject({ transport: 'qla4xxx', hwaddress: '00:0e:1e:11:22:33' });
  });

  it('nodes(): a node file with an unknown key does not hide the others', () => {
    const fixture = path.resolve(__dirname, '../fixtures/etc-iscsi/node_record_eth-bound.txt');
    const r = call('nodes({ onProblem: () => {} })', [
      'mkdir -p "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1" "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1"',
      `cp ${fixture} "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1/eth-bound"`,
      `sed 's/tgt1/tgt2/' ${fixture} > "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/eth-bound"`,
      'echo "node.session.sess_reopen_log_freq = 5" >> "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/eth-bound"',
    ]) as { ok: Array<{ targetName: string }> };
    expect(r.ok.map((n) => n.targetName)).toEqual(['iqn.2003-01.org.example:tgt1']);
  });
});
