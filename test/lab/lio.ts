// The guest shell script that creates LIO targets (the kernel's own target) through configfs, without
// targetcli or rtslib: fileio backstores on the guest's tmpfs with a unit serial, LUNs, network portals (TCP,
// and iSER on the soft-RoCE portal), an ACL or demo mode, one-way and mutual CHAP, discovery CHAP.
// Facts it relies on (Debian 12's kernel 6.1):
// - a backstore's wwn/vpd_unit_serial must be written before a LUN links it (else no NAA designator, no VPD 0x80);
// - attrib/authentication defaults to 1 and demo_mode_write_protect to 1: both set explicitly;
// - CHAP values are written without a newline (LIO keeps it, and every login then fails "CHAP_N values do not match");
// - iSER is a property of a network portal: `echo 1 > np/<ip>:<port>/iser` adds an RDMA listener beside the TCP one.
import type { ChapSpec, TargetSpec } from './targets';

export const LIO_ROOT = '/sys/kernel/config/target';

/** Where LIO listens in the lab: tgtd has 127.0.0.1:3260 (and RDMA port 3260 on every address). */
export const LIO_PORTALS = {
  /** TCP, every LIO target. */
  tcp: '127.0.0.2:3260',
  /** TCP and, for targets with `iser: true`, iSER (on veth1 / rxe1); only with startLab({ rdma: true }). */
  rdma: '10.99.0.2:3261',
  /** TCP only on the RDMA network: an iSER login here reaches no RDMA listener (the fallback case). */
  rdmaTcpOnly: '10.99.0.2:3262',
} as const;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Writes a value without a trailing newline (printf, not echo: LIO keeps the newline in CHAP names). */
const put = (value: string | number, file: string) => `printf '%s' ${q(String(value))} > "${file}"`;

function chapLines(dir: string, chap: ChapSpec): string[] {
  const lines = [put(chap.user, `${dir}/userid`), put(chap.secret, `${dir}/password`)];
  if (chap.mutualUser !== undefined && chap.mutualSecret !== undefined) {
    lines.push(put(chap.mutualUser, `${dir}/userid_mutual`), put(chap.mutualSecret, `${dir}/password_mutual`));
  }
  return lines;
}

/** LIO's state that outlives one script: backstore names are global to target_core_mod. */
export class LioBook {
  private nextStore = 0;
  private readonly iqns = new Set<string>();

  constructor(private readonly rdma: boolean) {}

  /**
   * Targets: LUNs numbered 0..luns-1 (LIO has no controller LUN; tgtd's disks start at 1), 16 MiB sparse files
   * unless lunSizeMiB; `initiators` makes ACLs (CHAP then belongs to each ACL), else demo mode (any initiator;
   * CHAP then on the portal group).
   */
  script(targets: TargetSpec[]): string {
    const lines = ['set -e', `C=${LIO_ROOT}`];
    for (const t of targets) {
      if (this.iqns.has(t.iqn)) throw new Error(`lab: LIO target ${t.iqn} already exists`);
      if (!Number.isInteger(t.luns) || t.luns < 0) throw new Error(`lab: ${t.iqn}: luns must be a count, not ${t.luns}`);
      if (t.iser && !this.rdma) throw new Error(`lab: ${t.iqn}: iser needs startLab({ rdma: true })`);
      this.iqns.add(t.iqn);
      const tpg = `$C/iscsi/${t.iqn}/tpgt_1`;
      lines.push(`mkdir -p ${q(`${LIO_ROOT}/iscsi/${t.iqn}/tpgt_1`)}`);
      for (let lun = 0; lun < t.luns; lun++) {
        const n = this.nextStore++;
        const store = `$C/core/fileio_${n}/lab${n}`;
        const file = `/tmp/lio/lab${n}.img`;
        const bytes = (t.lunSizeMiB ?? 16) * 1024 * 1024;
        lines.push(`truncate -s ${bytes} ${file}`, `mkdir -p ${store}`);
        lines.push(put(`fd_dev_name=${file},fd_dev_size=${bytes}`, `${store}/control`));
        // 32 hex digits at most become the NAA's vendor-specific part: unique per backstore
        lines.push(put(`5ab${n.toString(16).padStart(5, '0')}`, `${store}/wwn/vpd_unit_serial`));
        lines.push(`echo 1 > ${store}/enable`, `mkdir ${tpg}/lun/lun_${lun}`, `ln -s ${store} ${tpg}/lun/lun_${lun}/lab${n}`);
      }
      const portals: Array<[string, boolean]> = [[LIO_PORTALS.tcp, false]];
      if (this.rdma) portals.push([LIO_PORTALS.rdma, !!t.iser], [LIO_PORTALS.rdmaTcpOnly, false]);
      for (const [p, iser] of portals) {
        lines.push(`mkdir ${tpg}/np/${p}`);
        if (iser) lines.push(`echo 1 > ${tpg}/np/${p}/iser`);
      }
      if (t.initiators) {
        for (const i of t.initiators) {
          const acl = `${tpg}/acls/${i}`;
          lines.push(`mkdir ${q(`${LIO_ROOT}/iscsi/${t.iqn}/tpgt_1/acls/${i}`)}`);
          for (let lun = 0; lun < t.luns; lun++) lines.push(`mkdir ${acl}/lun_${lun}`, `ln -s ${tpg}/lun/lun_${lun} ${acl}/lun_${lun}/map`);
          if (t.chap) lines.push(...chapLines(`${acl}/auth`, t.chap));
        }
        lines.push(`echo 0 > ${tpg}/attrib/generate_node_acls`);
      } else {
        lines.push(`echo 1 > ${tpg}/attrib/generate_node_acls`, `echo 1 > ${tpg}/attrib/cache_dynamic_acls`, `echo 0 > ${tpg}/attrib/demo_mode_write_protect`);
        if (t.chap) lines.push(...chapLines(`${tpg}/auth`, t.chap));
      }
      lines.push(`echo ${t.chap ? 1 : 0} > ${tpg}/attrib/authentication`, `echo 1 > ${tpg}/enable`);
    }
    return lines.join('\n');
  }

  /** Discovery CHAP (enforced) for every LIO target, or none. */
  discoveryAuthScript(chap: ChapSpec | undefined): string {
    const d = `${LIO_ROOT}/iscsi/discovery_auth`;
    if (!chap) return `set -e\necho 0 > ${d}/enforce_discovery_auth`;
    return ['set -e', ...chapLines(d, chap), `echo 1 > ${d}/enforce_discovery_auth`].join('\n');
  }
}
