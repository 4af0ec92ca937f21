#!/bin/bash
# Runs inside the guest (chrooted into the host's read-only root): loads the iSCSI modules, gives iscsid
# and tgtd writable state on tmpfs, starts both, then hands over to the agent that serves the host.
# Kernel command line options: lab.offload=1 (load the offload transports and ib_iser), lab.agent=PATH.
set -u
say() { echo "LAB: $*"; }
opt() { tr ' ' '\n' </proc/cmdline | sed -n "s/^lab\.$1=//p" | tail -1; }
M="modprobe -d $KROOT"

for m in crc32c_generic libcrc32c iscsi_tcp sd_mod; do $M "$m" || say "modprobe $m failed"; done
if [ "$(opt offload)" = 1 ]; then
  for m in cxgb4i bnx2i be2iscsi qla4xxx qedi cxgb3i ib_iser; do $M "$m" 2>/dev/null || say "modprobe $m failed"; done
fi

ip link set lo up
mkdir -p /run/lock /tmp/etc-iscsi /tmp/tgt
cp -a /etc/iscsi/. /tmp/etc-iscsi/ 2>/dev/null
mount --bind /tmp/etc-iscsi /etc/iscsi
rm -rf /etc/iscsi/nodes/* /etc/iscsi/send_targets/* /etc/iscsi/ifaces/* 2>/dev/null
echo "InitiatorName=iqn.2026-11.org.openiscsi:lab-guest" >/etc/iscsi/initiatorname.iscsi
# Never let iscsiadm try to start a service manager in here.
sed -i 's|^iscsid.startup.*|iscsid.startup = /bin/true|' /etc/iscsi/iscsid.conf
mkdir -p /run/tgtd /run/lock/iscsi

tgtd --iscsi portal=127.0.0.1:3260 || say "tgtd failed to start"
iscsid || say "iscsid failed to start"
for _ in $(seq 50); do [ -S /var/run/tgtd/socket.0 ] && break; sleep 0.1; done
say "services up"

port=$(ls /dev/vport*p1 2>/dev/null | head -1)
[ -n "$port" ] || { say "no virtio-serial port"; exit 1; }
exec node "$(opt agent)" "$port"
