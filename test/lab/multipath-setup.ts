// The guest side of dm-multipath for lab tests: device-mapper modules, udevd (multipathd asks libudev for
// processed devices), a writable /etc/multipath and a minimal multipath.conf bind-mounted over the host's
// read-only /etc, multipathd in the foreground of its own process group, and a second tgtd portal so one
// target is reachable on two paths (tgtd derives the WWID from target and LUN: both paths agree).
import type { Lab } from './lab';

export const SECOND_PORTAL = '127.0.0.2:3260';

// uid_attribute "": multipathd reads each path's WWID from sysfs (VPD page 0x83) instead of waiting for udev's
// ID_SERIAL. Under the emulated CPU, with other guests on the machine, udev's rules for a new disk took over a
// minute (lab run 10: "sdb: failed to get path uid", the map made over sda alone); production hosts keep
// udev's default. openiscsi itself reads the WWID from sysfs either way.
const CONF = `defaults {
  user_friendly_names no
  find_multipaths no
  polling_interval 2
  uid_attribute ""
}
overrides {
  no_path_retry fail
}
blacklist {
  devnode "^(ram|loop|fd|md|sr|vd)[0-9]*"
}
`;

/** Starts udevd and multipathd in the guest and adds the second portal; returns when multipathd answers. */
export async function startMultipath(lab: Lab, o: { multipathd?: boolean } = {}): Promise<void> {
  await lab.shOk(
    [
      'set -e',
      // inet_diag/tcp_diag: `ss -K` cuts a path's TCP connection; ext4: a file system on the map
      'modprobe -a -d "$KROOT" dm_mod dm_multipath dm_service_time dm_round_robin scsi_dh_alua inet_diag tcp_diag ext4',
      'export SYSTEMD_IGNORE_CHROOT=1',
      // The guest's /etc is the host's read-only root, without a multipath.conf: multipathd gets an /etc of
      // its own (a tmpfs copy of what it reads, in its own mount namespace), with the config and wwids.
      'mkdir -p /run/mp/etc/multipath',
      'cp -a /etc/ld.so.cache /etc/udev /etc/passwd /etc/group /run/mp/etc/ 2>/dev/null || true',
      `printf '%s' '${CONF}' >/run/mp/etc/multipath.conf`,
      '/lib/systemd/systemd-udevd --daemon',
      'udevadm trigger --action=add >/dev/null 2>&1 || true',
      'udevadm settle -t 30 || true',
      `/usr/sbin/tgtadm --lld iscsi --op new --mode portal --param portal=${SECOND_PORTAL}`,
    ].join('\n'),
    { timeoutMs: 120_000 },
  );
  if (o.multipathd !== false) await startMultipathd(lab);
}

const LISTENING = 'grep -q "@/org/kernel/linux/storage/multipathd" /proc/net/unix';

export async function startMultipathd(lab: Lab): Promise<void> {
  await lab.shOk(
    `export SYSTEMD_IGNORE_CHROOT=1; setsid unshare -m sh -c 'mount --bind /run/mp/etc /etc && exec /sbin/multipathd -d -s' >/run/mp/multipathd.log 2>&1 </dev/null &
     for i in $(seq 1 300); do ${LISTENING} && exit 0; sleep 0.1; done; cat /run/mp/multipathd.log; exit 1`,
    { timeoutMs: 60_000 },
  );
}

export async function stopMultipathd(lab: Lab): Promise<void> {
  await lab.sh(`pkill -KILL -x multipathd; for i in $(seq 1 100); do ${LISTENING} || exit 0; sleep 0.1; done`);
}
