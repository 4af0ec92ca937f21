// checkHardware() on hardware trees: the report, the host it matches, the NIC and PCI function found by
// sysfs parentage, and each problem a person must fix.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkHardware } from '../../lib/hardware';
import { parseTransport, transportForDriver, TRANSPORTS, TRANSPORT_INFO } from '../../lib/transport';
import { IscsiValidationError } from '../../lib/errors';
import { hardwareTree } from '../fixtures/fakehw';

const tree = hardwareTree();
const noProc = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
const withUio = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
fs.mkdirSync(path.join(withUio, '4321'));
fs.writeFileSync(path.join(withUio, '4321', 'comm'), 'iscsiuio\n');
const o = { sysfsRoot: tree.root, procRoot: noProc };
afterAll(() => tree.remove());

describe('transport table', () => {
  it('knows every open-iscsi transport and refuses others', () => {
    expect(TRANSPORTS).toEqual(['tcp', 'iser', 'cxgb3i', 'cxgb4i', 'qla4xxx', 'bnx2i', 'be2iscsi', 'qedi', 'ocs']);
    expect(() => parseTransport('cxgb5i')).toThrow(IscsiValidationError);
    expect(TRANSPORT_INFO.qedi).toMatchObject({ needsIscsiuio: true, hasNetdev: false, hostIp: 'required' });
    expect(TRANSPORT_INFO.iser.needsTargetSupport).toBe(true);
    expect(transportForDriver('bnx2x')).toBe('bnx2i');
    expect(transportForDriver('virtio_net')).toBeUndefined();
  });
});

describe('checkHardware', () => {
  it('cxgb4i by hwaddress: host, PCI function, the NIC on the same card, no problems', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:AA:BB:CC' }, o);
    expect(r).toMatchObject({ transport: 'cxgb4i', offload: true, registered: true, ok: true, problems: [] });
    expect(r.host).toMatchObject({ hostNo: 7, matchedBy: 'hwaddress', netdev: 'eth2', portState: 'LINK UP' });
    expect(r.pci).toMatchObject({ slot: '0000:03:00.4', vendor: '1425', driver: 'cxgb4' });
    expect(r.nic).toMatchObject({ name: 'eth2', mac: '00:07:43:aa:bb:cc', operstate: 'up' });
  });

  it('qla4xxx by the IP of one of its iscsi_iface entries; no netdev', async () => {
    const r = await checkHardware({ transport: 'qla4xxx', ipaddress: '203.0.113.8' }, o);
    expect(r.ok).toBe(true);
    expect(r.host).toMatchObject({ hostNo: 9, matchedBy: 'ipaddress' });
    expect(r.host?.ifaces.map((i) => i.name)).toEqual(['ipv4-iface-9-0', 'ipv4-iface-9-1']);
    expect(r.nic).toBeUndefined();
  });

  it('bnx2i without iscsiuio: ISCSIUIO_NOT_RUNNING; with it: ok', async () => {
    const r = await checkHardware('bnx2i', o);
    expect(r.problems.map((p) => p.code)).toEqual(['ISCSIUIO_NOT_RUNNING']);
    expect(r.iscsiuio).toEqual({ required: true, running: false });
    expect(r.nic?.name).toBe('eth4');
    expect((await checkHardware('bnx2i', { ...o, procRoot: withUio })).ok).toBe(true);
  });

  it('a host with link down', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:dd:ee:ff' }, o);
    expect(r.problems.map((p) => p.code)).toEqual(['LINK_DOWN']);
    expect(r.problems[0]!.message).toMatch(/eth6/);
  });

  it('a transport that is not registered and has no host', async () => {
    const r = await checkHardware('be2iscsi', o);
    expect(r.problems.map((p) => p.code)).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_MATCHING_HOST']);
    expect(r.ok).toBe(false);
  });

  it('an iface whose hwaddress matches no host', async () => {
    const r = await checkHardware({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:01' }, o);
    expect(r.problems.map((p) => p.code)).toEqual(['NO_MATCHING_HOST']);
  });

  it('iser without an RDMA device', async () => {
    expect((await checkHardware('iser', o)).problems.map((p) => p.code)).toEqual(['TRANSPORT_NOT_REGISTERED', 'NO_RDMA_DEVICE']);
  });

  it('tcp needs nothing', async () => {
    expect(await checkHardware('tcp', o)).toMatchObject({ ok: true, offload: false });
  });

  it('an unknown transport is a typed error', async () => {
    await expect(checkHardware('fcoe', o)).rejects.toMatchObject({ code: 'UNKNOWN_TRANSPORT' });
  });
});
