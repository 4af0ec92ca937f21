#!/bin/sh
# PID 1 of the lab guest: mount the host's root read-only over 9p and run the guest setup in a chroot.
# Options come from the kernel command line: lab.script=PATH lab.kroot=PATH, lab.9p=OPTIONS (extra 9p mount
# options), lab.share=TAG:PATH (repeatable: a read-only 9p share mounted at PATH after the tmpfs mounts, so a
# checkout under /tmp or /run stays visible), and whatever the script reads.
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m.ko || echo "LAB: insmod $m failed"; done
script=; kroot=; opts=; shares=
for arg in $(cat /proc/cmdline); do
  case "$arg" in lab.script=*) script=${arg#lab.script=};; lab.kroot=*) kroot=${arg#lab.kroot=};; lab.9p=?*) opts=,${arg#lab.9p=};; lab.share=*) shares="$shares ${arg#lab.share=}";; esac
done
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000$opts hostroot /mnt; then
  mount -t proc proc /mnt/proc; mount -t sysfs sys /mnt/sys; mount -t devtmpfs dev /mnt/dev
  mount -t tmpfs tmp /mnt/tmp; mount -t tmpfs run /mnt/run
  for share in $shares; do
    tag=${share%%:*}; dir=${share#*:}
    mkdir -p "/mnt$dir" && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000$opts "$tag" "/mnt$dir" ||
      echo "LAB: could not mount the share $tag at $dir"
  done
  read -r up _ </proc/uptime; echo "LAB: root mounted at $up s"
  [ -f "/mnt$script" ] || echo "LAB: the guest script $script is not visible in the guest (a directory the guest covers, not shared?)"
  chroot /mnt /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp KROOT="$kroot" /bin/bash "$script"
  echo "LAB: guest script exited with $?"
else
  echo "LAB: could not mount the host root over 9p"
fi
poweroff -f
