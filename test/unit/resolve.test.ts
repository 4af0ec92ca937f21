// resolveIface(): IP → netdev → MAC → PCI → driver → transport → host → iface, on the hardware tree.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveIface, routeTo } from '../../lib/resolve';
import { hardwareTree } from '../fixtures/fakehw';

const tree = hardwareTree();
afterAll(() => tree.remove());
const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
fs.mkdirSync(path.join(proc, 'net'));
// eth2: 198.51.100.0/24; eth0: default route via 192.0.2.1 (little-endian hex, as the kernel prints it)
fs.writeFileSync(
  path.join(proc, 'net', 'route'),
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
    'eth2\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
);
const nics = () => ({
  eth2: [{ address: '198.51.100.50', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '00:07:43:aa:bb:cc', cidr: null }],
  eth0: [{ address: '192.0.2.9', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '52:54:00:12:34:56', cidr: null }],
}) as never;
const o = { sysfsRoot: tree.root, procRoot: proc, networkInterfaces: nics, ifacesDir: path.join(proc, 'ifaces') };

describe('resolveIface', () => {
  it('routes a target on the Chelsio subnet to cxgb4i through its own card', async () => {
    expect(await routeTo('198.51.100.20', proc)).toEqual({ netdev: 'eth2' });
    const r = await resolveIface({ targetIp: '198.51.100.20' }, o);
    expect(r).toMatchObject({ netdev: 'eth2', hwaddress: '00:07:43:aa:bb:cc', pci: '0000:03:00.0', driver: 'cxgb4', transport: 'cxgb4i', hostNo: 7 });
    expect(r.iface).toEqual({ name: 'cxgb4i.00:07:43:aa:bb:cc', exists: false, wouldCreate: true });
    expect(r.steps.map((s) => s.step)).toEqual(['route', 'netdev', 'hwaddress', 'pci', 'driver', 'transport', 'host', 'iface']);
  });

  it('a target elsewhere goes out of the default route: a plain NIC, software tcp', async () => {
    expect(await routeTo('203.0.113.99', proc)).toEqual({ netdev: 'eth0', gateway: '192.0.2.1' });
    const r = await resolveIface({ targetIp: '203.0.113.99' }, o);
    expect(r).toMatchObject({ netdev: 'eth0', transport: 'tcp', iface: { name: 'default' } });
  });

  it('resolves from a source address too, and says when it is not local', async () => {
    expect((await resolveIface({ sourceIp: '198.51.100.50' }, o)).transport).toBe('cxgb4i');
    await expect(resolveIface({ sourceIp: '198.51.100.77' }, o)).rejects.toMatchObject({ code: 'ADDRESS_NOT_LOCAL' });
    await expect(resolveIface({ targetIp: 'not-an-ip' }, o)).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
  });
});
