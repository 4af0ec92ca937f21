// checkHardware() on hardware trees: the report, the host it matches, the NIC and PCI function found by sysfs
// parentage, and each problem a person must fix.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkHardware } from '../../lib/attach/hardware';
import { processRunning } from '../../lib/read/processes';
import { fakeProc, hardwareTree, MAC } from '../fixtures/fakehw';

const tree = hardwareTree();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-hw-'));
const noProc = fakeProc(path.join(tmp, 'proc-none'), { comm: { 1: 'systemd', 812: 'iscsid' } });
const withUio = fakeProc(path.join(tmp, 'proc-uio'), { comm: { 1: 'systemd', 812: 'iscsid', 4321: 'iscsiuio' } });
const ifacesDir = path.join(tmp, 'ifaces');
fs.mkdirSync(ifacesDir);
fs.writeFileSync(path.join(ifacesDir, 'cxgb4i.port2'), `# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = cxgb4i.port2\niface.hwaddress = ${MAC.eth3.toUpperCase()}\niface.transport_name = cxgb4i\n# END RECORD\n`);
fs.writeFileSync(path.join(ifacesDir, 'eth-bound'), fs.readFileSync('/work/shared/fixtures/etc-iscsi/iface_eth-bound.txt'));
const o = { sysfsRoot: tree.root, procRoot: noProc, ifacesDir };
afterAll(() => {
  tree.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});
const codes = (r: { problems: Array<{ code: string }> }) => r.problems.map((p) => p.code);

describe('checkHardware: offload', () => {
  it('cxgb4i by hwaddress: host, PCI function, the NIC on the same function, no problems', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:AA:BB:CC' }, o);
    expect(r).toMatchObject({ transport: 'cxgb4i', offload: true, registered: true, ok: true, problems: [] });
    expect(r.caps).toEqual({ value: 0x30b9, flags: ['recoveryL0', 'multiR2T', 'headerDigest', 'dataDigest', 'textNegotiation', 'digestOffload', 'paddingOffload'] });
    expect(r.host).toMatchObject({ hostNo: 7, matchedBy: 'hwaddress', hwaddress: MAC.eth2, netdev: 'eth2', portState: 'LINK UP', portSpeed: '10 Gbps' });
    expect(r.pci).toMatchObject({ slot: '0000:03:00.4', vendor: '1425', device: '5401', driver: 'cxgb4' });
    expect(r.nic).toMatchObject({ name: 'eth2', mac: MAC.eth2, operstate: 'up', carrier: true });
    expect(r.iscsiuio).toBeUndefined();
  });

  it('the second port of the same card: its own host and its own NIC, on the same PCI function', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: MAC.eth3 }, o);
    expect(r.host).toMatchObject({ hostNo: 8, matchedBy: 'hwaddress' });
    expect(r.nic?.name).toBe('eth3');
    expect(r.pci?.slot).toBe('0000:03:00.4');
    expect((await checkHardware({ transport: 'cxgb4i', netdev: 'eth3' }, o)).host).toMatchObject({ hostNo: 8, matchedBy: 'netdev' });
  });

  it('a named iface is read from its file (hwaddress in upper case)', async () => {
    const r = await checkHardware({ iface: 'cxgb4i.port2' }, o);
    expect(r).toMatchObject({ iface: 'cxgb4i.port2', transport: 'cxgb4i', ok: true, host: { hostNo: 8 } });
    await expect(checkHardware({ iface: 'nope' }, o)).rejects.toMatchObject({ code: 'IFACE_NOT_FOUND' });
    await expect(checkHardware({ iface: '../x' }, o)).rejects.toMatchObject({ code: 'INVALID_IFACE_NAME' });
    expect(await checkHardware({ iface: 'default' }, o)).toMatchObject({ iface: 'default', transport: 'tcp', ok: true });
  });

  it('qla4xxx by the IP of one of its iscsi_iface entries; no netdev; its NIC is the card\'s other function', async () => {
    const r = await checkHardware({ transport: 'qla4xxx', ipaddress: '203.0.113.8' }, o);
    expect(r.ok).toBe(true);
    expect(r.host).toMatchObject({ hostNo: 9, matchedBy: 'ipaddress' });
    expect(r.host?.netdev).toBeUndefined();
    expect(r.host?.ifaces.map((i) => [i.name, i.ipaddress])).toEqual([['ipv4-iface-9-0', '203.0.113.7'], ['ipv4-iface-9-1', '203.0.113.8']]);
    expect(r.pci).toMatchObject({ slot: '0000:05:00.1', vendor: '1077', driver: 'qla4xxx' });
    expect(r.nic).toMatchObject({ name: 'eth5', mac: MAC.eth5 });
    expect((await checkHardware({ transport: 'qla4xxx', hwaddress: MAC.qla }, o)).host?.matchedBy).toBe('hwaddress');
  });

  it('bnx2i without iscsiuio: ISCSIUIO_NOT_RUNNING; with it: ok', async () => {
    const r = await checkHardware('bnx2i', o);
    expect(codes(r)).toEqual(['ISCSIUIO_NOT_RUNNING']);
    expect(r.problems[0]!.message).toMatch(/systemctl start iscsiuio/);
    expect(r.iscsiuio).toEqual({ required: true, running: false });
    expect(r.host).toMatchObject({ hostNo: 11, matchedBy: 'transport' });
    expect(r.nic?.name).toBe('eth4');
    expect(r.pci).toMatchObject({ vendor: '14e4', driver: 'bnx2x' });
    const ok = await checkHardware('bnx2i', { ...o, procRoot: withUio });
    expect(ok).toMatchObject({ ok: true, iscsiuio: { required: true, running: true } });
  });

  it('a bnx2i iface without an ipaddress: IPADDRESS_REQUIRED (iscsid must push one to the host)', async () => {
    const r = await checkHardware({ transport: 'bnx2i', hwaddress: MAC.eth4 }, { ...o, procRoot: withUio });
    expect(codes(r)).toEqual(['IPADDRESS_REQUIRED']);
    expect((await checkHardware({ transport: 'bnx2i', hwaddress: MAC.eth4, ipaddress: '192.0.2.44' }, { ...o, procRoot: withUio })).ok).toBe(true);
  });

  it('a host with link down', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: MAC.eth6 }, o);
    expect(codes(r)).toEqual(['LINK_DOWN']);
    expect(r.problems[0]!.message).toMatch(/host12 \(eth6\) is down: check the cable/);
    expect(r.nic).toMatchObject({ name: 'eth6', operstate: 'down', carrier: false });
  });

  it('by transport alone, a host whose link is up is preferred', async () => {
    const r = await checkHardware('cxgb4i', o);
    expect(r).toMatchObject({ ok: true, host: { hostNo: 7, matchedBy: 'transport' } });
  });

  it('a transport that is not registered and has no host', async () => {
    const r = await checkHardware('be2iscsi', o);
    expect(codes(r)).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_MATCHING_HOST']);
    expect(r.problems[0]!.message).toMatch(/modprobe be2iscsi/);
    expect(r).toMatchObject({ registered: false, ok: false });
    expect(r.caps).toBeUndefined();
  });

  it('qedi: not registered, no host, iscsiuio missing', async () => {
    expect(codes(await checkHardware('qedi', o))).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_MATCHING_HOST', 'ISCSIUIO_NOT_RUNNING']);
  });

  it('an iface whose hwaddress matches no host; or the host of another transport (iscsid would pick it)', async () => {
    expect(codes(await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:01' }, o))).toEqual(['NO_MATCHING_HOST']);
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: MAC.eth4 }, o);
    expect(codes(r)).toEqual(['NO_MATCHING_HOST']);
    expect(r.problems[0]!.message).toMatch(/host11 of transport bnx2i, not cxgb4i/);
  });

  it('hwaddress first: a wrong hwaddress is not rescued by a right netdev (iscsid\'s order)', async () => {
    expect(codes(await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:01', netdev: 'eth2' }, o))).toEqual(['NO_MATCHING_HOST']);
  });
});

describe('checkHardware: software', () => {
  it('tcp needs nothing', async () => {
    expect(await checkHardware('tcp', o)).toMatchObject({ ok: true, offload: false, registered: true });
  });

  it('a tcp iface bound to a netdev: the NIC, its PCI function and its link', async () => {
    const r = await checkHardware({ transport: 'tcp', netdev: 'eth0' }, o);
    expect(r).toMatchObject({ ok: true, nic: { name: 'eth0' }, pci: { slot: '0000:00:02.0', driver: 'virtio-pci' } });
    expect(codes(await checkHardware({ transport: 'tcp', netdev: 'eth6' }, o))).toEqual(['LINK_DOWN']);
    expect(codes(await checkHardware({ transport: 'tcp', hwaddress: MAC.eth0.toUpperCase() }, o))).toEqual([]);
  });

  it('iscsiadm\'s eth-bound iface: bound to eth1, which is not here', async () => {
    const r = await checkHardware({ iface: 'eth-bound' }, o);
    expect(codes(r)).toEqual(['NETDEV_NOT_FOUND']);
    expect(r.problems[0]!.message).toMatch(/named eth1/);
  });

  it('a tcp binding with an ipaddress is what iscsid refuses', async () => {
    expect(codes(await checkHardware({ transport: 'tcp', ipaddress: '192.0.2.9' }, o))).toEqual(['IPADDRESS_NOT_SUPPORTED']);
  });

  it('iser without the module or an RDMA device', async () => {
    const r = await checkHardware('iser', o);
    expect(codes(r)).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_RDMA_DEVICE']);
    expect(r.problems[1]!.message).toMatch(/\/sys\/class\/infiniband/);
  });

  it('an unknown transport is a typed error', async () => {
    // An untyped (JavaScript) caller: the type refuses 'fcoe', the function must too.
    await expect(checkHardware('fcoe' as never, o)).rejects.toMatchObject({ code: 'UNKNOWN_TRANSPORT' });
  });
});

describe('no side effects', () => {
  it('reads only: the tree is byte-identical afterwards, and an empty sysfs is simply "nothing here"', async () => {
    const snapshot = (d: string): string[] => fs.readdirSync(d, { recursive: true, withFileTypes: true }).map((e) => path.join(e.parentPath, e.name)).sort();
    const before = snapshot(tree.root);
    for (const t of ['tcp', 'iser', 'cxgb4i', 'qla4xxx', 'bnx2i', 'qedi'] as const) await checkHardware(t, o);
    expect(snapshot(tree.root)).toEqual(before);
    const empty = fs.mkdtempSync(path.join(tmp, 'sys-'));
    expect(codes(await checkHardware('cxgb4i', { sysfsRoot: empty, procRoot: noProc }))).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_MATCHING_HOST']);
  });

  it('processRunning reads /proc/<pid>/comm', async () => {
    expect(await processRunning('iscsiuio', withUio)).toBe(true);
    expect(await processRunning('iscsiuio', noProc)).toBe(false);
    expect(await processRunning('iscsiuio', path.join(tmp, 'missing'))).toBe(false);
  });
});
