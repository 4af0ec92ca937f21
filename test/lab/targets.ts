// The guest shell script that creates iSCSI targets in the guest's tgtd: LUNs backed by sparse files on the
// guest's tmpfs, optional CHAP (incoming, and outgoing for mutual CHAP), iSER targets (`--lld iser`).
// TargetSpec is shared with LIO (lio.ts): `kind` chooses the target.

export interface ChapSpec {
  user: string;
  secret: string;
  mutualUser?: string;
  mutualSecret?: string;
}

/** The lab guest's initiator name (guest-init.sh writes it). */
export const LAB_INITIATOR = 'iqn.2026-11.org.openiscsi:lab-guest';

export interface TargetSpec {
  iqn: string;
  /** How many LUNs: tgtd numbers them 1..luns (its controller is LUN 0); LIO 0..luns-1 (no controller LUN). */
  luns: number;
  lunSizeMiB?: number;
  chap?: ChapSpec;
  /** Which target serves it: tgtd (user space, default) or LIO (the kernel's target, through configfs). */
  kind?: 'tgtd' | 'lio';
  /**
   * Serve it over iSER (needs startLab({ rdma: true })). tgtd: an `--lld iser` target, reachable over RDMA
   * only, on port 3260 of every address; LIO: iSER beside TCP on LIO_PORTALS.rdma.
   */
  iser?: boolean;
  /** LIO only: initiator names allowed in (ACLs); default every initiator (demo mode; tgtd: ALL). */
  initiators?: string[];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** tgtd's state that outlives one addTargets() call: target ids and accounts are global to the daemon. */
export class TargetBook {
  private nextTid = 1;
  private readonly accounts = new Map<string, string>();
  private readonly iqns = new Set<string>();

  script(targets: TargetSpec[]): string {
    const lines = ['set -e'];
    for (const t of targets) {
      // tgt 1.0.85 serves a target over one driver; an iSER target refuses logins unless an initiator-name
      // ACL (-Q) is bound besides the address ACL (fixed upstream in 1.0.95): the old "error 19"
      const adm = `/usr/sbin/tgtadm --lld ${t.iser ? 'iser' : 'iscsi'}`;
      if (this.iqns.has(t.iqn)) throw new Error(`lab: target ${t.iqn} already exists`);
      if (t.initiators) throw new Error(`lab: ${t.iqn}: initiator ACLs are made for LIO targets only (kind: 'lio')`);
      if (!Number.isInteger(t.luns) || t.luns < 0) throw new Error(`lab: ${t.iqn}: luns must be a count, not ${t.luns}`);
      this.iqns.add(t.iqn);
      const tid = this.nextTid++;
      lines.push(`${adm} --op new --mode target --tid ${tid} -T ${quote(t.iqn)}`);
      for (let lun = 1; lun <= t.luns; lun++) {
        const file = `/tmp/tgt/t${tid}-lun${lun}.img`;
        lines.push(`truncate -s ${t.lunSizeMiB ?? 16}M ${file}`);
        lines.push(`${adm} --op new --mode logicalunit --tid ${tid} --lun ${lun} -b ${file}`);
      }
      if (t.chap) {
        lines.push(...this.account(t.chap.user, t.chap.secret));
        lines.push(`${adm} --op bind --mode account --tid ${tid} --user ${quote(t.chap.user)}`);
        if (t.chap.mutualUser !== undefined && t.chap.mutualSecret !== undefined) {
          lines.push(...this.account(t.chap.mutualUser, t.chap.mutualSecret));
          lines.push(`${adm} --op bind --mode account --tid ${tid} --user ${quote(t.chap.mutualUser)} --outgoing`);
        }
      }
      lines.push(`${adm} --op bind --mode target --tid ${tid} -I ALL`);
      if (t.iser) lines.push(`${adm} --op bind --mode target --tid ${tid} -Q ${quote(LAB_INITIATOR)}`);
    }
    return lines.join('\n');
  }

  /** An account is created once and bound to every target that uses it; one user name, one secret. */
  private account(user: string, secret: string): string[] {
    const known = this.accounts.get(user);
    if (known === secret) return [];
    if (known !== undefined) throw new Error(`lab: CHAP user ${user} already exists with another secret`);
    this.accounts.set(user, secret);
    return [`/usr/sbin/tgtadm --lld iscsi --op new --mode account --user ${quote(user)} --password ${quote(secret)}`];
  }
}
