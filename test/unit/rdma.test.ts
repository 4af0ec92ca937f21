// iser's hardware check on RDMA trees laid out as the kernel does: the RDMA device that serves the netdev
// toward the portal (GID table for RoCE, a software device's parent, the PCI function for IPoIB), its port
// state, and the problems when traffic to the portal would not go over RDMA.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkHardware, rdmaFor } from '../../lib/attach/hardware';
import { rdmaDevices } from '../../lib/read/sysfs';
import { FakeSys } from '../fixtures/fakesys';
import { fakeProc } from '../fixtures/fakehw';

const MLX5_PCI = 'devices/pci0000:00/0000:00:07.0/0000:0a:00.0';
const MLX4_PCI = 'devices/pci0000:00/0000:00:08.0/0000:0b:00.0';

const t = new FakeSys()
  .transport('tcp', 0x39)
  .transport('iser', 0x89)
  .pci(MLX5_PCI, { vendor: '15b3', device: '1017', driver: 'mlx5_core' })
  .netdev('ens1f0', { mac: 'b8:ce:f6:00:00:01', pciPath: MLX5_PCI })
  .netdev('ens1f0.200', { mac: 'b8:ce:f6:00:00:01' })
  .netdev('eth0', { mac: '52:54:00:12:34:56' })
  .netdev('lo', { mac: '00:00:00:00:00:00' })
  .pci(MLX4_PCI, { vendor: '15b3', device: '1003', driver: 'mlx4_core' })
  .netdev('ib0', { mac: '80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:00:00:01', pciPath: MLX4_PCI });

const put = (rel: string, v: string) => {
  const p = path.join(t.root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `${v}\n`);
};
/** An RDMA device: class link, ports with state, link layer and the GID table's netdevs (empty entries unreadable). */
function ibDevice(name: string, devdir: string, ports: Array<{ state: string; linkLayer: string; ndevs: string[] }>, parent?: string): void {
  for (const [i, p] of ports.entries()) {
    const pd = `${devdir}/ports/${i + 1}`;
    put(`${pd}/state`, p.state);
    put(`${pd}/link_layer`, p.linkLayer);
    p.ndevs.forEach((n, g) => put(`${pd}/gid_attrs/ndevs/${g}`, n));
    // an unused GID entry: the kernel answers EINVAL; a directory reads as EISDIR here, just as unreadable
    fs.mkdirSync(path.join(t.root, pd, 'gid_attrs/ndevs', String(p.ndevs.length)), { recursive: true });
  }
  if (parent) put(`${devdir}/parent`, parent);
  fs.mkdirSync(path.join(t.root, 'class/infiniband'), { recursive: true });
  fs.symlinkSync(`../../${devdir}`, path.join(t.root, 'class/infiniband', name));
}
ibDevice('mlx5_0', `${MLX5_PCI}/infiniband/mlx5_0`, [{ state: '4: ACTIVE', linkLayer: 'Ethernet', ndevs: ['ens1f0', 'ens1f0', 'ens1f0.200'] }]);
fs.symlinkSync('../../../0000:0a:00.0', path.join(t.root, MLX5_PCI, 'infiniband/mlx5_0/device'));
ibDevice('rxe0', 'devices/virtual/infiniband/rxe0', [{ state: '4: ACTIVE', linkLayer: 'Ethernet', ndevs: ['eth0', 'eth0'] }], 'eth0');
ibDevice('mlx4_0', `${MLX4_PCI}/infiniband/mlx4_0`, [{ state: '1: DOWN', linkLayer: 'InfiniBand', ndevs: [] }]);
fs.symlinkSync('../../../0000:0b:00.0', path.join(t.root, MLX4_PCI, 'infiniband/mlx4_0/device'));

// Iface Destination Gateway Flags RefCnt Use Metric Mask (host-order hex of network-order addresses, x86)
const route = [
  'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT',
  'ens1f0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 192.0.2.0/24
  'ens1f0.200\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 198.18.0.0/24
  'eth0\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 198.51.100.0/24
  'ib0\t007100CB\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 203.0.113.0/24
  '',
].join('\n');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-rdma-'));
const procRoot = fakeProc(path.join(tmp, 'proc'), { route });
const networkInterfaces = () => ({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '198.51.100.7', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:12:34:56', internal: false, cidr: '198.51.100.7/24' }],
}) as unknown as NodeJS.Dict<os.NetworkInterfaceInfo[]>;
const o = { sysfsRoot: t.root, procRoot, networkInterfaces };
afterAll(() => {
  t.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});
const codes = (r: { problems: Array<{ code: string }> }) => r.problems.map((p) => p.code);

describe('rdmaDevices', () => {
  it('reads each device: a software parent, the netdevs on its PCI function, each port with its GID table netdevs', async () => {
    const d = await rdmaDevices({ sysfsRoot: t.root });
    expect(d.map((x) => x.name)).toEqual(['mlx4_0', 'mlx5_0', 'rxe0']);
    expect(d[1]).toEqual({ name: 'mlx5_0', pciNetdevs: ['ens1f0'], ports: [{ port: 1, state: 'ACTIVE', linkLayer: 'Ethernet', netdevs: ['ens1f0', 'ens1f0.200'] }] });
    expect(d[2]).toMatchObject({ name: 'rxe0', parent: 'eth0', pciNetdevs: [] });
    expect(d[0]).toMatchObject({ pciNetdevs: ['ib0'], ports: [{ state: 'DOWN', linkLayer: 'InfiniBand', netdevs: [] }] });
  });

  it('rdmaFor prefers the GID table, then a parent, then the PCI function', async () => {
    const d = await rdmaDevices({ sysfsRoot: t.root });
    expect(rdmaFor(d, ['ens1f0.200'])).toMatchObject({ device: 'mlx5_0', netdev: 'ens1f0.200', matchedBy: 'gid-table' });
    expect(rdmaFor(d, ['ib0'])).toMatchObject({ device: 'mlx4_0', port: 1, matchedBy: 'pci-function', state: 'DOWN' });
    const noGids = d.map((x) => ({ ...x, ports: x.ports.map((p) => ({ ...p, netdevs: [] })) }));
    expect(rdmaFor(noGids, ['eth0'])).toMatchObject({ device: 'rxe0', matchedBy: 'parent' });
    expect(rdmaFor(d, ['lo'])).toBeUndefined();
  });
});

describe('checkHardware: iser toward a portal', () => {
  it('RoCE: the route to the portal goes out of ens1f0, which mlx5_0 serves', async () => {
    const r = await checkHardware('iser', { ...o, portal: '192.0.2.10:3260' });
    expect(r).toMatchObject({ ok: true, problems: [], rdma: { device: 'mlx5_0', port: 1, netdev: 'ens1f0', state: 'ACTIVE', matchedBy: 'gid-table' } });
    expect(r.rdma?.route).toMatch(/route to 192\.0\.2\.10 \(\/24\) goes out of ens1f0/);
    expect((await checkHardware('iser', { ...o, portal: '198.18.0.9' })).rdma).toMatchObject({ device: 'mlx5_0', netdev: 'ens1f0.200' });
  });

  it('soft-RoCE on a local address: the netdev that has the address, then rxe0 on it', async () => {
    const r = await checkHardware('iser', { ...o, portal: '198.51.100.7:3261' });
    expect(r.rdma).toMatchObject({ device: 'rxe0', netdev: 'eth0', route: '198.51.100.7 is configured on eth0' });
  });

  it('an RDMA port that is down is LINK_DOWN', async () => {
    const r = await checkHardware('iser', { ...o, portal: '203.0.113.5' });
    expect(codes(r)).toEqual(['LINK_DOWN']);
    expect(r.problems[0]?.message).toMatch(/mlx4_0\/1 \(on ib0\) is DOWN/);
  });

  it('no RDMA device on the way, or no route: RDMA_NOT_ON_ROUTE, naming the devices there are', async () => {
    const lo = await checkHardware('iser', { ...o, portal: '127.0.0.1:3260' });
    expect(codes(lo)).toEqual(['RDMA_NOT_ON_ROUTE']);
    expect(lo.problems[0]?.message).toMatch(/no RDMA device serves lo .* mlx4_0 \(ib0\), mlx5_0 \(ens1f0, ens1f0\.200\), rxe0 \(eth0\)$/);
    const none = await checkHardware('iser', { ...o, portal: '10.1.1.1' });
    expect(codes(none)).toEqual(['RDMA_NOT_ON_ROUTE']);
    expect(none.problems[0]?.message).toMatch(/no route to 10\.1\.1\.1/);
  });

  it('without a portal (or with a host name) any RDMA device passes, as before', async () => {
    expect(await checkHardware('iser', o)).toMatchObject({ ok: true, problems: [] });
    expect((await checkHardware('iser', { ...o, portal: 'san.example:3260' })).rdma).toBeUndefined();
  });
});
