// Every fact about iSCSI transports lives here: what each needs from the hardware and the host, and which
// PCI vendors and kernel drivers provide it. Runtime facts (registered, caps) come from sysfs (sysfs.ts).
import { IscsiValidationError } from '../errors';
import { describeValue } from '../validate';

export const TRANSPORTS = ['tcp', 'iser', 'cxgb3i', 'cxgb4i', 'qla4xxx', 'bnx2i', 'be2iscsi', 'qedi', 'ocs'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface TransportInfo {
  name: Transport;
  /**
   * The data path runs on an HBA/NIC offload engine instead of the kernel's TCP stack. iscsiadm's rule: every
   * transport but tcp and iser; offload ifaces must be bound (hwaddress, netdev or ipaddress) to an iscsi_host.
   */
  offload: boolean;
  /** iscsid's set_host_ip: the iface's ipaddress must (REQ: bnx2i, qedi) or may (OPT: cxgb3i) be pushed to the host. */
  hostIp: 'required' | 'optional' | 'no';
  /** The userspace uIP helper iscsiuio must be running (bnx2i, qedi). */
  needsIscsiuio: boolean;
  /** The offload function exposes a Linux netdev (qedi does not: iscsid's no_netdev). */
  hasNetdev: boolean;
  /** Works only if the target speaks it too (iSER needs an RDMA-capable target). */
  needsTargetSupport: boolean;
  /** Needs an RDMA device (/sys/class/infiniband). */
  rdma: boolean;
  /** Kernel module that registers the transport (iscsid/iscsiadm load it; this library never does). */
  module: string;
  /** PCI vendor ids (lower-case hex, no 0x) of hardware that provides it. */
  pciVendors: readonly string[];
  /** Drivers of the PCI function the transport's iscsi_host sits under. */
  hbaDrivers: readonly string[];
  /** Drivers of the NIC functions of the same adapters (the same function, or another function of the card). */
  nicDrivers: readonly string[];
}

const t = (name: Transport, o: Omit<TransportInfo, 'name' | 'offload' | 'rdma' | 'needsTargetSupport'> & Partial<Pick<TransportInfo, 'rdma' | 'needsTargetSupport'>>): TransportInfo => ({
  name,
  offload: name !== 'tcp' && name !== 'iser',
  rdma: false,
  needsTargetSupport: false,
  ...o,
});

export const TRANSPORT_INFO: Readonly<Record<Transport, Readonly<TransportInfo>>> = {
  tcp: t('tcp', { hostIp: 'no', needsIscsiuio: false, hasNetdev: true, module: 'iscsi_tcp', pciVendors: [], hbaDrivers: [], nicDrivers: [] }),
  iser: t('iser', { hostIp: 'no', needsIscsiuio: false, hasNetdev: true, rdma: true, needsTargetSupport: true, module: 'ib_iser', pciVendors: [], hbaDrivers: [], nicDrivers: [] }),
  // Chelsio T3: the host sits under the NIC's own function.
  cxgb3i: t('cxgb3i', { hostIp: 'optional', needsIscsiuio: false, hasNetdev: true, module: 'cxgb3i', pciVendors: ['1425'], hbaDrivers: ['cxgb3'], nicDrivers: ['cxgb3'] }),
  // Chelsio T4/T5/T6: hosts and netdevs (one per port) under the same unified-wire function.
  cxgb4i: t('cxgb4i', { hostIp: 'no', needsIscsiuio: false, hasNetdev: true, module: 'cxgb4i', pciVendors: ['1425'], hbaDrivers: ['cxgb4'], nicDrivers: ['cxgb4'] }),
  // QLogic iSCSI HBAs and 82xx/83xx/84xx CNAs (whose NIC functions run qlcnic); no netdev of its own.
  qla4xxx: t('qla4xxx', { hostIp: 'no', needsIscsiuio: false, hasNetdev: false, module: 'qla4xxx', pciVendors: ['1077'], hbaDrivers: ['qla4xxx'], nicDrivers: ['qlcnic'] }),
  // Broadcom/QLogic NetXtreme II: the host sits under the NIC's function; iscsiuio does ARP/DHCP for it.
  bnx2i: t('bnx2i', { hostIp: 'required', needsIscsiuio: true, hasNetdev: true, module: 'bnx2i', pciVendors: ['14e4', '1077'], hbaDrivers: ['bnx2', 'bnx2x'], nicDrivers: ['bnx2', 'bnx2x'] }),
  // Emulex/ServerEngines OneConnect: iSCSI functions next to be2net NIC functions.
  be2iscsi: t('be2iscsi', { hostIp: 'no', needsIscsiuio: false, hasNetdev: true, module: 'be2iscsi', pciVendors: ['19a2', '10df'], hbaDrivers: ['be2iscsi'], nicDrivers: ['be2net'] }),
  // QLogic FastLinQ 41xxx/45xxx: iSCSI functions next to qede NIC functions; no netdev, iscsiuio required.
  qedi: t('qedi', { hostIp: 'required', needsIscsiuio: true, hasNetdev: false, module: 'qedi', pciVendors: ['1077'], hbaDrivers: ['qedi'], nicDrivers: ['qede'] }),
  // Emulex "ocs" (out-of-tree driver): known to iscsid (bind_ep_required), no in-tree module or driver facts.
  ocs: t('ocs', { hostIp: 'no', needsIscsiuio: false, hasNetdev: true, module: 'ocs', pciVendors: ['10df'], hbaDrivers: [], nicDrivers: [] }),
};

export function isTransport(x: unknown): x is Transport {
  return typeof x === 'string' && (TRANSPORTS as readonly string[]).includes(x);
}

/** A transport name from user input; anything else is an IscsiValidationError UNKNOWN_TRANSPORT naming the valid ones. */
export function parseTransport(x: unknown): Transport {
  if (isTransport(x)) return x;
  throw new IscsiValidationError('UNKNOWN_TRANSPORT', `unknown transport ${describeValue(x)}; use one of ${TRANSPORTS.join(', ')}`, {
    details: { valid: [...TRANSPORTS] },
    ...(x === 'default' ? { hint: '"default" is the software tcp iface; the transport is "tcp"' } : {}),
  });
}

/** The offload transport a PCI function's driver (an HBA's or a NIC's) belongs to, if any. */
export function transportForDriver(driver: string | undefined): Transport | undefined {
  if (!driver) return undefined;
  return TRANSPORTS.find((n) => TRANSPORT_INFO[n].offload && (TRANSPORT_INFO[n].hbaDrivers.includes(driver) || TRANSPORT_INFO[n].nicDrivers.includes(driver)));
}
