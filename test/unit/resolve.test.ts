// resolveIface(): IP → netdev → MAC → PCI → driver → transport → host → iface, on the hardware tree; then the
// decision for each case (resolve, then check the hardware of the iface it names).
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveIface, routeTo } from '../../lib/attach/resolve';
import { checkHardware } from '../../lib/attach/hardware';
import { createIface } from '../../lib/attach/iface-admin';
import { FakeSys } from '../fixtures/fakesys';
import { fakeProc, hardwareTree, MAC } from '../fixtures/fakehw';

const tree = hardwareTree();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-resolve-'));
afterAll(() => {
  tree.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A /proc/net/route line as a little-endian kernel prints it. */
const le = (ip: string) => Buffer.from(ip.split('.').map(Number)).reverse().toString('hex').toUpperCase();
const v4 = (dev: string, cidr: string, gw = '0.0.0.0', metric = 0, flags = gw === '0.0.0.0' ? 1 : 3) => {
  const [net, len] = cidr.split('/') as [string, string];
  const mask = Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
  const maskIp = [24, 16, 8, 0].map((s) => (mask >>> s) & 0xff).join('.');
  return `${dev}\t${le(net)}\t${le(gw)}\t${flags.toString(16).padStart(4, '0')}\t0\t0\t${metric}\t${le(maskIp)}\t0\t0\t0`;
};
const ROUTE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  v4('eth4', '0.0.0.0/0', '192.0.2.1', 600), // a worse default route
  v4('eth0', '0.0.0.0/0', '192.0.2.129', 100),
  v4('eth2', '198.51.100.0/24'),
  v4('eth3', '10.3.0.0/16'),
  v4('eth4', '192.0.2.0/26'),
  v4('eth5', '10.5.0.0/16'),
  v4('eth6', '10.6.0.0/16'),
  v4('eth2.100', '10.100.0.0/16'),
  v4('eth0', '192.0.2.128/26'),
  v4('eth0', '10.3.9.9/32', '192.0.2.129'), // a host route beats the /16
  v4('eth3', '10.66.0.0/16', '0.0.0.0', 0, 0x201), // a reject route is never used
  '',
].join('\n');
const z = '00000000000000000000000000000000';
const v6 = (dest: string, plen: number, hop: string, dev: string, flags = 1, metric = 256) =>
  `${dest} ${plen.toString(16).padStart(2, '0')} ${z} 00 ${hop} ${metric.toString(16).padStart(8, '0')} 00000001 00000000 ${flags.toString(16).padStart(8, '0')} ${dev.padStart(8)}`;
const IPV6_ROUTE = [
  v6('20010db8000200000000000000000000', 64, z, 'eth2'),
  v6('20010db8000200000000000000000050', 128, z, 'lo', 0x80200001), // the local address lives on lo
  v6(z, 0, 'fe800000000000000000000000000001', 'eth0', 3, 1024),
  v6(z, 0, z, 'lo', 0x200, 0xffffffff), // the kernel's reject-everything route
  '',
].join('\n');
const proc = fakeProc(path.join(tmp, 'proc'), { route: ROUTE, ipv6Route: IPV6_ROUTE, ifInet6: `20010db8000300000000000000000005 04 40 00 80     eth3\n` });
const addr = (address: string, family: 'IPv4' | 'IPv6') => ({ address, family, internal: false, netmask: '', mac: '', cidr: null });
const nics = () =>
  ({
    eth0: [addr('192.0.2.130', 'IPv4')],
    eth2: [addr('198.51.100.50', 'IPv4'), addr('2001:db8:2::50', 'IPv6')],
    eth3: [addr('10.3.0.5', 'IPv4')],
    eth4: [addr('192.0.2.9', 'IPv4')],
    eth5: [addr('10.5.0.5', 'IPv4')],
    eth6: [addr('10.6.0.5', 'IPv4')],
    'eth2.100': [addr('10.100.0.5', 'IPv4')],
  }) as never;
const ifacesDir = path.join(tmp, 'ifaces');
const o = { sysfsRoot: tree.root, procRoot: proc, networkInterfaces: nics, ifacesDir };

describe('routes', () => {
  it('longest prefix, then lowest metric; reject routes skipped; gateways decoded', async () => {
    expect(await routeTo('198.51.100.20', proc)).toEqual({ netdev: 'eth2' });
    expect(await routeTo('203.0.113.99', proc)).toEqual({ netdev: 'eth0', gateway: '192.0.2.129' });
    expect(await routeTo('10.3.9.9', proc)).toEqual({ netdev: 'eth0', gateway: '192.0.2.129' });
    expect(await routeTo('10.3.9.10', proc)).toEqual({ netdev: 'eth3' });
    expect(await routeTo('10.66.1.1', proc)).toEqual({ netdev: 'eth0', gateway: '192.0.2.129' });
  });

  it('IPv6 from /proc/net/ipv6_route, skipping reject routes; a local address goes out of lo', async () => {
    expect(await routeTo('2001:db8:2::20', proc)).toEqual({ netdev: 'eth2' });
    // The local table comes first (test/unit/resolve-local.test.ts): this machine's own address is lo's.
    expect(await routeTo('2001:db8:2::50', proc)).toEqual({ netdev: 'lo', local: true });
    expect(await routeTo('2001:db8:9::1', proc)).toEqual({ netdev: 'eth0', gateway: 'fe80::1' });
    expect(await routeTo('::ffff:198.51.100.20', proc)).toEqual({ netdev: 'eth2' }); // IPv4-mapped: the IPv4 table
  });
});

describe('resolveIface', () => {
  it('cxgb4i: the route to the target → eth2 → its card → host7 (same MAC) → cxgb4i.<hw>', async () => {
    const r = await resolveIface({ targetIp: '198.51.100.20' }, o);
    expect(r).toMatchObject({ netdev: 'eth2', hwaddress: MAC.eth2, pci: '0000:03:00.4', driver: 'cxgb4', transport: 'cxgb4i', hostNo: 7 });
    expect(r.host).toEqual({ hostNo: 7, transport: 'cxgb4i', hwaddress: MAC.eth2, netdev: 'eth2', ipaddress: '198.51.100.50', matchedBy: 'hwaddress' });
    expect(r.iface).toEqual({ name: `cxgb4i.${MAC.eth2}`, exists: false, wouldCreate: true });
    expect(r.steps.map((s) => s.step)).toEqual(['route', 'netdev', 'hwaddress', 'pci', 'driver', 'transport', 'host', 'iface']);
    expect(r.steps[0]).toEqual({ step: 'route', value: 'directly connected', how: 'longest prefix (/24) matching 198.51.100.20 in /proc/net/route' });
    expect(r.steps[3]!.how).toMatch(/vendor 1425, device 5401/);
  });

  it('the second port of the same card resolves to its own host, not the first one on the function', async () => {
    const r = await resolveIface({ sourceIp: '10.3.0.5' }, o);
    expect(r).toMatchObject({ netdev: 'eth3', pci: '0000:03:00.4', transport: 'cxgb4i', host: { hostNo: 8, matchedBy: 'hwaddress' }, iface: { name: `cxgb4i.${MAC.eth3}` } });
  });

  it('qla4xxx from the address of one of its iscsi_iface entries (no netdev): <t>.<hw>.ipv4.1', async () => {
    const r = await resolveIface({ sourceIp: '203.0.113.8' }, o);
    expect(r.netdev).toBeUndefined();
    expect(r).toMatchObject({ pci: '0000:05:00.1', driver: 'qla4xxx', transport: 'qla4xxx', host: { hostNo: 9, matchedBy: 'ipaddress' }, hwaddress: MAC.qla });
    expect(r.iface).toEqual({ name: `qla4xxx.${MAC.qla}.ipv4.1`, exists: false, wouldCreate: true });
    expect(r.steps.map((s) => s.step)).toEqual(['address', 'pci', 'driver', 'transport', 'host', 'iface']);
  });

  it('qla4xxx from the card\'s qlcnic NIC: another function of the same PCI device, no MAC arithmetic', async () => {
    const r = await resolveIface({ sourceIp: '10.5.0.5' }, o);
    expect(r).toMatchObject({ netdev: 'eth5', hwaddress: MAC.eth5, pci: '0000:05:00.0', driver: 'qlcnic', transport: 'qla4xxx', host: { hostNo: 9, matchedBy: 'pci-device' } });
    expect(r.iface.name).toBe(`qla4xxx.${MAC.qla}.ipv4.0`);
  });

  it('bnx2i on the NIC\'s own function', async () => {
    const r = await resolveIface({ targetIp: '192.0.2.20' }, o);
    expect(r).toMatchObject({ netdev: 'eth4', driver: 'bnx2x', transport: 'bnx2i', host: { hostNo: 11 }, iface: { name: `bnx2i.${MAC.eth4}` } });
  });

  it('a VLAN resolves through the device it sits on', async () => {
    const r = await resolveIface({ targetIp: '10.100.3.3' }, o);
    expect(r).toMatchObject({ netdev: 'eth2.100', hwaddress: MAC.eth2, transport: 'cxgb4i', hostNo: 7 });
    expect(r.steps.filter((s) => s.step === 'netdev').map((s) => s.value)).toEqual(['eth2.100', 'eth2']);
  });

  it('a software NIC (virtio) is tcp through the default iface', async () => {
    const r = await resolveIface({ targetIp: '203.0.113.99' }, o);
    expect(r).toMatchObject({ netdev: 'eth0', pci: '0000:00:02.0', driver: 'virtio-pci', transport: 'tcp', iface: { name: 'default', exists: true, wouldCreate: false } });
    expect(r.host).toBeUndefined();
    expect(r.steps.find((s) => s.step === 'transport')).toEqual({ step: 'transport', value: 'tcp', how: 'virtio-pci has no iSCSI offload' });
  });

  it('IPv6: by route, and a source address known only to /proc/net/if_inet6', async () => {
    expect(await resolveIface({ targetIp: '2001:db8:2::20' }, o)).toMatchObject({ netdev: 'eth2', transport: 'cxgb4i' });
    expect(await resolveIface({ sourceIp: '2001:db8:2::50' }, o)).toMatchObject({ netdev: 'eth2', transport: 'cxgb4i' });
    expect(await resolveIface({ sourceIp: '2001:db8:3::5' }, o)).toMatchObject({ netdev: 'eth3', host: { hostNo: 8 } });
    expect(await resolveIface({ targetIp: '2001:db8:9::1' }, o)).toMatchObject({ netdev: 'eth0', transport: 'tcp' });
  });

  it('finds an existing iface file bound to the host, whatever its name', async () => {
    const dir = path.join(tmp, 'ifaces-existing');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'chelsio-a'), `iface.transport_name = cxgb4i\niface.hwaddress = ${MAC.eth2.toUpperCase()}\n`);
    const r = await resolveIface({ targetIp: '198.51.100.20' }, { ...o, ifacesDir: dir });
    expect(r.iface).toEqual({ name: 'chelsio-a', exists: true, wouldCreate: false });
    // createIface writes the name resolveIface promised; after that, it exists.
    const d2 = path.join(tmp, 'ifaces-created');
    const before = await resolveIface({ sourceIp: '203.0.113.8' }, { ...o, ifacesDir: d2 });
    const c = await createIface({ transport: before.transport, hwaddress: before.hwaddress, ipaddress: '203.0.113.8', ifacesDir: d2, lockDir: path.join(tmp, 'lock'), sysfsRoot: tree.root, procRoot: proc });
    expect(c.name).toBe(before.iface.name);
    expect((await resolveIface({ sourceIp: '203.0.113.8' }, { ...o, ifacesDir: d2 })).iface).toEqual({ name: c.name, exists: true, wouldCreate: false });
  });

  it('several offload hosts on the NIC\'s card, none naming it: no guess, tcp', async () => {
    const be = 'devices/pci0000:00/0000:00:07.0/0000:0a:00';
    const t = new FakeSys()
      .transport('be2iscsi', 0x48b8)
      .pci(`${be}.0`, { vendor: '19a2', device: '0710', driver: 'be2net' })
      .netdev('eth8', { mac: '00:00:c9:00:00:10', pciPath: `${be}.0` })
      .pci(`${be}.2`, { vendor: '19a2', device: '0712', driver: 'be2iscsi' })
      .pci(`${be}.3`, { vendor: '19a2', device: '0712', driver: 'be2iscsi' })
      .host({ hostNo: 20, procName: 'be2iscsi', parent: `${be}.2`, hwaddress: '00:00:c9:00:00:12' })
      .host({ hostNo: 21, procName: 'be2iscsi', parent: `${be}.3`, hwaddress: '00:00:c9:00:00:13' });
    try {
      const r = await resolveIface({ sourceIp: '10.8.0.1' }, { sysfsRoot: t.root, procRoot: proc, ifacesDir, networkInterfaces: () => ({ eth8: [addr('10.8.0.1', 'IPv4')] }) as never });
      expect(r).toMatchObject({ netdev: 'eth8', driver: 'be2net', transport: 'tcp', iface: { name: 'default' } });
      expect(r.steps.find((s) => s.step === 'transport')?.how).toMatch(/host20, host21 share the card and none names eth8/);
    } finally {
      t.remove();
    }
  });

  it('errors: no route, an address that is not local, not an address', async () => {
    const bare = fakeProc(path.join(tmp, 'proc-bare'), { route: `${ROUTE.split('\n')[0]}\n${v4('eth2', '198.51.100.0/24')}\n` });
    await expect(resolveIface({ targetIp: '203.0.113.99' }, { ...o, procRoot: bare })).rejects.toMatchObject({ code: 'NO_ROUTE' });
    await expect(resolveIface({ sourceIp: '198.51.100.77' }, o)).rejects.toMatchObject({ code: 'ADDRESS_NOT_LOCAL' });
    await expect(resolveIface({ targetIp: 'not-an-ip' }, o)).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    await expect(resolveIface({ sourceIp: '1.2.3' }, o)).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
  });
});

describe('the decision for each case (resolve, then check the iface it names)', () => {
  const uio = fakeProc(path.join(tmp, 'proc-uio'), { route: ROUTE, comm: { 9: 'iscsiuio' } });
  it.each([
    ['cxgb4i port, link up', { targetIp: '198.51.100.20' }, proc, `cxgb4i.${MAC.eth2}`, 'cxgb4i', []],
    ['qla4xxx entry address', { sourceIp: '203.0.113.8' }, proc, `qla4xxx.${MAC.qla}.ipv4.1`, 'qla4xxx', []],
    ['bnx2i without iscsiuio', { targetIp: '192.0.2.20' }, proc, `bnx2i.${MAC.eth4}`, 'tcp', ['ISCSIUIO_NOT_RUNNING']],
    ['bnx2i with iscsiuio', { targetIp: '192.0.2.20' }, uio, `bnx2i.${MAC.eth4}`, 'bnx2i', []],
    ['cxgb4i port, link down', { targetIp: '10.6.1.1' }, proc, `cxgb4i.${MAC.eth6}`, 'tcp', ['LINK_DOWN']],
    ['software NIC', { targetIp: '203.0.113.99' }, proc, 'default', 'tcp', []],
  ] as const)('%s → iface %s', async (_label, by, procRoot, name, use, problems) => {
    const r = await resolveIface(by, { ...o, procRoot: procRoot === uio ? uio : proc });
    expect(r.iface.name).toBe(name);
    const h = await checkHardware(
      r.host ? { transport: r.transport, hwaddress: r.host.hwaddress, ...('sourceIp' in by ? { ipaddress: by.sourceIp } : r.host.ipaddress ? { ipaddress: r.host.ipaddress } : {}) } : r.transport,
      { sysfsRoot: tree.root, procRoot },
    );
    expect(h.problems.map((p) => p.code)).toEqual(problems);
    expect(h.ok ? r.transport : 'tcp').toBe(use);
  });
});
