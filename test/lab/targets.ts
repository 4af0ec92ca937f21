// The guest shell script that creates iSCSI targets in the guest's tgtd: LUNs backed by sparse files on the
// guest's tmpfs, optional CHAP (incoming, and outgoing for mutual CHAP).

export interface ChapSpec {
  user: string;
  secret: string;
  mutualUser?: string;
  mutualSecret?: string;
}

export interface TargetSpec {
  iqn: string;
  /** How many LUNs (numbered 1..luns; tgtd adds its controller as LUN 0). */
  luns: number;
  lunSizeMiB?: number;
  chap?: ChapSpec;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** tgtd's state that outlives one addTargets() call: target ids and accounts are global to the daemon. */
export class TargetBook {
  private nextTid = 1;
  private readonly accounts = new Map<string, string>();
  private readonly iqns = new Set<string>();

  script(targets: TargetSpec[]): string {
    const adm = '/usr/sbin/tgtadm --lld iscsi';
    const lines = ['set -e'];
    for (const t of targets) {
      if (this.iqns.has(t.iqn)) throw new Error(`lab: target ${t.iqn} already exists`);
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
