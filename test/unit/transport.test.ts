// The transport table: the facts of open-iscsi 2.1.8's usr/transport.c and of the drivers behind each transport.
import { describe, expect, it } from 'vitest';
import { IscsiValidationError } from '../../lib/errors';
import { isTransport, parseTransport, transportForDriver, TRANSPORTS, TRANSPORT_INFO } from '../../lib/attach/transport';

describe('transport table', () => {
  it('knows every open-iscsi transport, in one entry each', () => {
    expect(TRANSPORTS).toEqual(['tcp', 'iser', 'cxgb3i', 'cxgb4i', 'qla4xxx', 'bnx2i', 'be2iscsi', 'qedi', 'ocs']);
    for (const t of TRANSPORTS) expect(TRANSPORT_INFO[t].name).toBe(t);
  });

  it('offload is every transport but tcp and iser (iscsiadm\'s rule)', () => {
    expect(TRANSPORTS.filter((t) => !TRANSPORT_INFO[t].offload)).toEqual(['tcp', 'iser']);
  });

  it('host IP: required by bnx2i and qedi, optional for cxgb3i, not used elsewhere', () => {
    const by = (v: string) => TRANSPORTS.filter((t) => TRANSPORT_INFO[t].hostIp === v);
    expect(by('required')).toEqual(['bnx2i', 'qedi']);
    expect(by('optional')).toEqual(['cxgb3i']);
  });

  it('iscsiuio for bnx2i and qedi; no netdev for qla4xxx and qedi; iser needs RDMA and the target', () => {
    expect(TRANSPORTS.filter((t) => TRANSPORT_INFO[t].needsIscsiuio)).toEqual(['bnx2i', 'qedi']);
    expect(TRANSPORTS.filter((t) => !TRANSPORT_INFO[t].hasNetdev)).toEqual(['qla4xxx', 'qedi']);
    expect(TRANSPORTS.filter((t) => TRANSPORT_INFO[t].needsTargetSupport)).toEqual(['iser']);
    expect(TRANSPORTS.filter((t) => TRANSPORT_INFO[t].rdma)).toEqual(['iser']);
  });

  it('modules, PCI vendors and drivers', () => {
    expect(TRANSPORT_INFO.tcp.module).toBe('iscsi_tcp');
    expect(TRANSPORT_INFO.iser.module).toBe('ib_iser');
    expect(TRANSPORT_INFO.cxgb4i.pciVendors).toEqual(['1425']);
    expect(TRANSPORT_INFO.be2iscsi.pciVendors).toEqual(['19a2', '10df']);
    for (const t of TRANSPORTS) for (const v of TRANSPORT_INFO[t].pciVendors) expect(v).toMatch(/^[0-9a-f]{4}$/);
    expect(transportForDriver('cxgb3')).toBe('cxgb3i');
    expect(transportForDriver('cxgb4')).toBe('cxgb4i');
    expect(transportForDriver('bnx2')).toBe('bnx2i');
    expect(transportForDriver('bnx2x')).toBe('bnx2i');
    expect(transportForDriver('be2net')).toBe('be2iscsi');
    expect(transportForDriver('qede')).toBe('qedi');
    expect(transportForDriver('qlcnic')).toBe('qla4xxx');
    expect(transportForDriver('qla4xxx')).toBe('qla4xxx');
    expect(transportForDriver('virtio-pci')).toBeUndefined();
    expect(transportForDriver('e1000e')).toBeUndefined();
    expect(transportForDriver(undefined)).toBeUndefined();
  });
});

describe('parseTransport', () => {
  it('accepts the names', () => {
    for (const t of TRANSPORTS) expect(parseTransport(t)).toBe(t);
    expect(isTransport('cxgb4i')).toBe(true);
    expect(isTransport('CXGB4I')).toBe(false);
  });

  it.each([['cxgb5i'], [''], ['TCP'], [undefined], [42], ['default']])('refuses %j with UNKNOWN_TRANSPORT naming the valid ones', (x) => {
    let err: unknown;
    try {
      parseTransport(x);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IscsiValidationError);
    expect(err).toMatchObject({ code: 'UNKNOWN_TRANSPORT', details: { valid: [...TRANSPORTS] } });
    expect((err as Error).message).toContain('tcp, iser, cxgb3i, cxgb4i, qla4xxx, bnx2i, be2iscsi, qedi, ocs');
  });

  it('explains that default is an iface, not a transport', () => {
    expect(() => parseTransport('default')).toThrow(/software tcp iface/);
  });
});
