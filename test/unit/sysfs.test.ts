// lib/read/sysfs.ts on a fake tree: transports and caps, hosts with iscsi_iface entries
// (sessions and their devices are walked by the addon: test/native/read-path.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCaps, hosts, transports } from '../../lib/read/sysfs';
import { standardTree } from '../fixtures/fakesys';

const tree = standardTree();
const o = { sysfsRoot: tree.root };
afterAll(() => tree.remove());

describe('sysfs reader', () => {
  it('decodes transport caps', async () => {
    const t = await transports(o);
    expect(t.map((x) => x.name)).toEqual(['cxgb4i', 'qla4xxx', 'tcp']);
    const tcp = t.find((x) => x.name === 'tcp')!;
    expect(tcp.caps).toBe(0x39);
    expect(tcp.flags).toEqual(['recoveryL0', 'multiR2T', 'headerDigest', 'dataDigest']);
    expect(t.find((x) => x.name === 'qla4xxx')!.flags).toContain('loginOffload');
    expect(decodeCaps(0x400)).toEqual(['sendTargetsOffload']);
  });

  it('lists hosts with transport, addresses, link state and iscsi_iface entries', async () => {
    const h = await hosts(o);
    expect(h.map((x) => x.hostNo)).toEqual([3, 4, 7, 9]);
    const cx = h.find((x) => x.hostNo === 7)!;
    expect(cx).toMatchObject({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', netdev: 'eth2', portState: 'LINK UP', portSpeed: '10 Gbps' });
    expect(cx.devicePath).toMatch(/0000:03:00\.4\/host7$/);
    const qla = h.find((x) => x.hostNo === 9)!;
    expect(qla.netdev).toBeUndefined();
    expect(qla.ifaces).toEqual([
      { name: 'ipv4-iface-9-0', family: 'ipv4', ifaceNum: 0, ipaddress: '203.0.113.7', enabled: 'enabled', vlanId: 0, port: 3260 },
      { name: 'ipv4-iface-9-1', family: 'ipv4', ifaceNum: 1, ipaddress: '203.0.113.8', enabled: 'disabled', vlanId: 0, port: 3260 },
    ]);
    const tcp = h.find((x) => x.hostNo === 3)!;
    expect(tcp.transport).toBe('tcp');
    expect(tcp.hwaddress).toBeUndefined(); // "(null)" in sysfs
  });
});
