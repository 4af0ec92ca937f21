// Every fact about iSCSI transports lives here: what each needs from the hardware and the host, and which
// PCI vendors and kernel drivers provide it. Runtime facts (registered, caps) come from sysfs.
import { IscsiValidationError } from './errors';

export const TRANSPORTS = ['tcp', 'iser', 'cxgb3i', 'cxgb4i', 'qla4xxx', 'bnx2i', 'be2iscsi', 'qedi', 'ocs'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface TransportInfo {
  name: Transport;
  /** The data path runs on an HBA/NIC offload engine instead of the kernel's TCP stack. */
  offload: boolean;
  /** iscsid must push an IP address to the host (bnx2i, qedi) or may (cxgb3i). */
  hostIp: 'required' | 'optional' | 'no';
  /** The userspace uIP helper iscsiuio must run (bnx2i, qedi). */
  needsIscsiuio: boolean;
  /** The offload function exposes a Linux netdev (qedi does not). */
  hasNetdev: boolean;
  /** Works only if the target speaks it too (iSER needs an RDMA-capable target). */
  needsTargetSupport: boolean;
  /** Kernel module that registers the transport. */
  module: string;
  /** PCI vendor ids (lower-case hex, no 0x) of hardware that provides it. */
  pciVendors: string[];
  /** Kernel drivers of the PCI function (NIC or HBA) that carry it. */
  drivers: string[];
}

const t = (name: Transport, o: Omit<TransportInfo, 'name'>): TransportInfo => ({ name, ...o });

export const TRANSPORT_INFO: Readonly<Record<Transport, TransportInfo>> = {
  tcp: t('tcp', { offload: false, hostIp: 'no', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: false, module: 'iscsi_tcp', pciVendors: [], drivers: [] }),
  iser: t('iser', { offload: false, hostIp: 'no', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: true, module: 'ib_iser', pciVendors: [], drivers: [] }),
  cxgb3i: t('cxgb3i', { offload: true, hostIp: 'optional', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: false, module: 'cxgb3i', pciVendors: ['1425'], drivers: ['cxgb3'] }),
  cxgb4i: t('cxgb4i', { offload: true, hostIp: 'no', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: false, module: 'cxgb4i', pciVendors: ['1425'], drivers: ['cxgb4'] }),
  qla4xxx: t('qla4xxx', { offload: true, hostIp: 'no', needsIscsiuio: false, hasNetdev: false, needsTargetSupport: false, module: 'qla4xxx', pciVendors: ['1077'], drivers: ['qla4xxx'] }),
  bnx2i: t('bnx2i', { offload: true, hostIp: 'required', needsIscsiuio: true, hasNetdev: true, needsTargetSupport: false, module: 'bnx2i', pciVendors: ['14e4', '1077'], drivers: ['bnx2', 'bnx2x'] }),
  be2iscsi: t('be2iscsi', { offload: true, hostIp: 'no', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: false, module: 'be2iscsi', pciVendors: ['19a2', '10df'], drivers: ['be2iscsi', 'be2net'] }),
  qedi: t('qedi', { offload: true, hostIp: 'required', needsIscsiuio: true, hasNetdev: false, needsTargetSupport: false, module: 'qedi', pciVendors: ['1077'], drivers: ['qede', 'qedi'] }),
  // Emulex OneConnect iSCSI (out-of-tree driver): known to iscsid, no in-tree kernel module.
  ocs: t('ocs', { offload: true, hostIp: 'no', needsIscsiuio: false, hasNetdev: true, needsTargetSupport: false, module: 'ocs', pciVendors: ['10df'], drivers: ['ocs'] }),
};

export function isTransport(x: unknown): x is Transport {
  return typeof x === 'string' && (TRANSPORTS as readonly string[]).includes(x);
}

export function parseTransport(x: unknown): Transport {
  if (isTransport(x)) return x;
  throw new IscsiValidationError('UNKNOWN_TRANSPORT', `unknown transport ${JSON.stringify(x)}; use one of ${TRANSPORTS.join(', ')}`);
}

/** The offload transport a NIC/HBA driver carries, if any. */
export function transportForDriver(driver: string | undefined): Transport | undefined {
  if (!driver) return undefined;
  return TRANSPORTS.find((n) => TRANSPORT_INFO[n].offload && TRANSPORT_INFO[n].drivers.includes(driver));
}
