#!/bin/bash
# Runs inside the guest (chrooted into the host's read-only root): starts the agent that serves the host
# (node takes seconds to start under emulation, so it starts first and in parallel), loads the iSCSI
# modules, gives iscsid and tgtd writable state on tmpfs, starts both, then tells the agent it may report
# ready. Kernel command line options (set by lab.ts): lab.agent=PATH lab.node=PATH, lab.offload=1 (load the
# offload transports), lab.iser=1 (load ib_iser), lab.rdma=1 (soft-RoCE: rxe0 on veth0 10.99.0.1, rxe1 on
# veth1 10.99.0.2, and tgtd's iSER driver), lab.lio=1 (LIO, the kernel's target, with configfs), lab.trace=1.
set -u
say() { echo "LAB: $*"; }
# every process start costs tens of milliseconds under emulation: shell builtins where possible
declare -A opt=()
read -r -a cmdline </proc/cmdline
for a in "${cmdline[@]}"; do [[ $a == lab.*=* ]] && opt[${a%%=*}]=${a#*=}; done
uptime() { local up _; read -r up _ </proc/uptime; echo "$up"; }
ready=/run/openiscsi-lab/ready
# lab.trace=1 (OPENISCSI_LAB_TRACE=1 on the host): every command on the console with the guest's clock
[ "${opt[lab.trace]:-}" = 1 ] && { PS4='+ ${EPOCHREALTIME} '; set -x; }

ports=(/dev/vport*p1)
port=${ports[0]}
[ -e "$port" ] || { say "no virtio-serial port (virtio_console not loaded?)"; exit 1; }
node=${opt[lab.node]:-}
[ -x "$node" ] || node=$(command -v node) || { say "no node in the guest"; exit 1; }
mkdir -p /run/openiscsi-lab
LAB_READY_FILE=$ready "$node" "${opt[lab.agent]:-}" "$port" &
agent=$!

# The offload transports and iser register without hardware; loading them takes seconds, so in parallel.
extra=()
[ "${opt[lab.offload]:-}" = 1 ] && extra+=(cxgb4i bnx2i be2iscsi qla4xxx qedi cxgb3i)
[ "${opt[lab.iser]:-}" = 1 ] && extra+=(ib_iser)
[ "${opt[lab.lio]:-}" = 1 ] && extra+=(target_core_mod target_core_file iscsi_target_mod)
[ "${opt[lab.lio]:-}" = 1 ] && [ "${opt[lab.rdma]:-}" = 1 ] && extra+=(ib_isert)
if ((${#extra[@]})); then
  modprobe -a -d "$KROOT" "${extra[@]}" || say "modprobe failed for some of: ${extra[*]}" &
  extra_pid=$!
fi
# Soft-RoCE: one rxe device on each end of a veth pair, both ends in this (the only) namespace: rxe in 6.1
# has no netns support, 127.0.0.1 cannot carry RDMA, and rxe refuses dummy devices. crc32_generic: without
# it `rdma link add` fails with ENOENT. tgtd's iSER driver opens the RDMA devices when it starts: after this.
rdma_up() {
  modprobe -a -d "$KROOT" crc32_generic rdma_rxe ib_uverbs rdma_ucm veth ib_iser || say "modprobe failed for the RDMA modules"
  ip link add veth0 type veth peer name veth1 &&
    ip addr add 10.99.0.1/24 dev veth0 && ip addr add 10.99.0.2/24 dev veth1 &&
    ip link set veth0 up && ip link set veth1 up &&
    rdma link add rxe0 type rxe netdev veth0 && rdma link add rxe1 type rxe netdev veth1 || say "soft-RoCE setup failed"
}
if [ "${opt[lab.rdma]:-}" = 1 ]; then
  rdma_up &
  rdma_pid=$!
fi
# crc32c is required: without it the login fails ("crc32c loading error")
mods=(crc32c_generic libcrc32c iscsi_tcp sd_mod)
modprobe -a -d "$KROOT" "${mods[@]}" || say "modprobe failed for some of: ${mods[*]}"

ip link set lo up
mkdir -p /run/lock/iscsi /run/tgtd /tmp/etc-iscsi /tmp/tgt
cp -a /etc/iscsi/. /tmp/etc-iscsi/ 2>/dev/null
mount --bind /tmp/etc-iscsi /etc/iscsi
rm -rf /etc/iscsi/nodes/* /etc/iscsi/send_targets/* /etc/iscsi/ifaces/* 2>/dev/null
echo "InitiatorName=iqn.2026-11.org.openiscsi:lab-guest" >/etc/iscsi/initiatorname.iscsi
# Never let iscsiadm try to start a service manager in here.
sed -i 's|^iscsid.startup.*|iscsid.startup = /bin/true|' /etc/iscsi/iscsid.conf

tgtd_args=(--iscsi portal=127.0.0.1:3260)
if [ -n "${rdma_pid:-}" ]; then
  wait "$rdma_pid"
  # iSER listens on port 3260 of every address (tgt 1.0.85 has no portal option for it: `port=` misparses);
  # pool_sz_mb=128: the default pins 1 GiB per RDMA device
  tgtd_args+=(--iser pool_sz_mb=128)
fi
tgtd "${tgtd_args[@]}" || say "tgtd failed to start"
iscsid || say "iscsid failed to start"
# both listen before they are useful: tgtd's control socket, iscsid's abstract management socket
for ((i = 0; i < 100; i++)); do
  [ -S /run/tgtd/socket.0 ] && grep -q '@ISCSIADM_ABSTRACT_NAMESPACE' /proc/net/unix && break
  sleep 0.05
done
[ -n "${extra_pid:-}" ] && wait "$extra_pid"
if [ "${opt[lab.lio]:-}" = 1 ]; then
  # LIO is configured through configfs (test/lab/lio.ts writes the script); target_core_mod made target/
  mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config || say "configfs mount failed"
  [ -d /sys/kernel/config/target/iscsi ] || mkdir /sys/kernel/config/target/iscsi || say "LIO's iscsi fabric did not load"
  mkdir -p /tmp/lio
fi
say "services up at $(uptime) s"
touch "$ready"

wait "$agent"
say "agent exited with $?"
