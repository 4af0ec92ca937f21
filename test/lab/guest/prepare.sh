#!/usr/bin/env bash
# usage: prepare.sh [SUITE]
# Prepares the lab guest: Debian's own kernel of SUITE (default bookworm, the host's; trixie gives 6.12),
# downloaded once with apt-get download, and a small busybox initramfs that mounts the host's root over 9p and
# runs test/lab/guest/guest-init.sh inside it. A suite other than the host's is resolved with a private apt state
# (its own sources list and package lists in the cache, as release-root.sh does), looked up again after a week.
# Cached in $OPENISCSI_LAB_CACHE (default /var/cache/openiscsi-lab), keyed by the kernel version and a hash
# of the initramfs's init and module list: a second run does nothing. Safe to run concurrently (flock).
# Prints the path of the cache's env file last, on stdout: KERNEL, INITRD, KROOT, KVER.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${OPENISCSI_LAB_CACHE:-/var/cache/openiscsi-lab}
say() { printf '\033[1mlab:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
suite=${1:-bookworm}
[[ $suite =~ ^[a-z]+$ ]] || die "suite must be a Debian code name, not '$suite'"
mirror=${OPENISCSI_LAB_MIRROR:-http://deb.debian.org/debian}

case "$cache/" in
  /tmp/* | /run/*) die "OPENISCSI_LAB_CACHE=$cache is under /tmp or /run, which the guest covers with tmpfs" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (the lab needs apt-get, and the guest runs iscsid and tgtd)"

# ibverbs-providers: the rxe verbs provider tgtd needs for --lld iser (soft-RoCE); iproute2: `rdma link add`
need=(qemu-system-x86 busybox-static kmod cpio xz-utils debian-archive-keyring open-iscsi tgt libopeniscsiusr-dev iproute2 ibverbs-providers multipath-tools udev e2fsprogs)
bash "$here/../../ensure-packages.sh" lab "${need[@]}"

# The guest's root is this machine's, read-only: the mount point where a release that keeps its node database
# in /var/lib/iscsi (Debian 13 and later, Red Hat) gets the guest's writable one (test/lab/releases.ts). On
# Debian 12 the directory is unused and empty.
mkdir -p /var/lib/iscsi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
apt_opts=()
if [ "$suite" != "$host_suite" ]; then
  # another suite's kernel: a private apt state, so the host's configuration is neither read nor touched
  apt=$cache/apt-$suite
  mkdir -p "$apt"/{lists/partial,archives/partial,etc}
  [ -f "$apt/status" ] || : >"$apt/status"
  echo "deb $mirror $suite main" >"$apt/etc/sources.list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt/etc/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
    -o "Dir::Cache=$apt" -o "Dir::Cache::Archives=$apt/archives" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
  )
fi
kernel_package() { apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
update() {
  local log
  log=$(apt-get "${apt_opts[@]}" -qq update 2>&1) || say "apt-get update for $suite failed: $log"
  [ -z "${apt:-}" ] || touch "$apt/.updated"
}
# the private lists are refreshed once a week (a kernel already unpacked is used whatever the lists say)
[ -z "${apt:-}" ] || [ -n "$(find "$apt/.updated" -mtime -7 2>/dev/null)" ] || { update; rm -f "$apt/.kpkg"; }
if [ -n "${apt:-}" ] && [ -s "$apt/.kpkg" ]; then
  kpkg=$(cat "$apt/.kpkg") # resolved after the last update
else
  kpkg=$(kernel_package)
  [ -z "${apt:-}" ] || [ -z "$kpkg" ] || echo "$kpkg" >"$apt/.kpkg"
fi
if [ -z "$kpkg" ] && [ -z "${apt:-}" ]; then
  update
  kpkg=$(kernel_package)
fi
[ -n "$kpkg" ] || die "apt-cache depends linux-image-amd64 names no kernel package for $suite (is a Debian mirror configured?)"
kver=${kpkg#linux-image-}
kroot=$cache/kernel-$kver
if [ ! -f "$kroot/.ready" ]; then
  say "downloading kernel $kpkg (once; cached in $cache)"
  rm -rf "$kroot" "$cache/dl" && mkdir -p "$kroot" "$cache/dl"
  if ! log=$(cd "$cache/dl" && apt-get "${apt_opts[@]}" download "$kpkg" 2>&1); then
    die "apt-get download $kpkg failed: $log"
  fi
  say "unpacking $kpkg and running depmod"
  dpkg-deb -x "$cache/dl/$kpkg"_*.deb "$kroot"
  rm -rf "$cache/dl"
  # trixie's package is merged-/usr (usr/lib/modules): depmod -b and the guest's modprobe -d look in lib/modules
  [ -e "$kroot/lib" ] || ln -s usr/lib "$kroot/lib"
  depmod -b "$kroot" "$kver"
  [ -f "$kroot/boot/vmlinuz-$kver" ] || die "$kpkg has no boot/vmlinuz-$kver"
  touch "$kroot/.ready"
fi

# The uncompressed kernel, booted straight into its PVH entry point: under software emulation, unpacking
# the compressed vmlinuz costs 2-3 s of every boot. Falls back to vmlinuz when it cannot be extracted.
kernel=$kroot/boot/vmlinuz-$kver
vmlinux=$kroot/boot/vmlinux-$kver
if [ ! -f "$vmlinux" ] && [ ! -f "$vmlinux.none" ]; then
  say "extracting the uncompressed kernel (PVH boot)"
  for magic in $'\xfd7zXZ:xz -dc' $'\x1f\x8b\x08:gzip -dc' $'\x28\xb5\x2f\xfd:zstd -dc'; do
    off=$(LC_ALL=C grep -abo -m1 "${magic%%:*}" "$kernel" | head -1 | cut -d: -f1) || true
    [ -n "$off" ] || continue
    tail -c +$((off + 1)) "$kernel" | ${magic#*:} 2>/dev/null >"$vmlinux.tmp" || true
    # an ELF with the Xen/PVH entry note ("Xen" owner name in a note section)
    if [ "$(head -c4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] && LC_ALL=C grep -aq 'Xen' "$vmlinux.tmp"; then
      mv "$vmlinux.tmp" "$vmlinux"
      break
    fi
  done
  rm -f "$vmlinux.tmp"
  [ -f "$vmlinux" ] || { say "no PVH kernel in vmlinuz-$kver; booting the compressed one"; touch "$vmlinux.none"; }
fi
[ -f "$vmlinux" ] && kernel=$vmlinux

# Loaded by the initramfs before it can mount the host's root (virtio_pci, 9p over virtio), plus virtio_console
# for the agent's virtio-serial port, each after what it needs, as that kernel's modules.dep says: 6.1 has
# virtio itself and fscache as modules, 6.12 builds virtio, virtio_pci and virtio_console in, folds fscache
# into netfs and makes 9pnet need netfs. Compressed modules (.ko.xz in 6.12) go in decompressed, since
# busybox's insmod reads them as they are. A module neither present nor built in stops the build, by name.
wanted="virtio_pci 9pnet_virtio 9p virtio_console"
mdir=$kroot/lib/modules/$kver
declare -A modfile=()
early=
add_module() { # a path as modules.dep names it, after its dependencies
  local rel=$1 name d
  name=${rel##*/} && name=${name%%.ko*}
  [ -z "${modfile[$name]:-}" ] || return 0
  for d in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' "$mdir/modules.dep"); do add_module "$d"; done
  modfile[$name]=$rel
  early="$early $name"
}
for m in $wanted; do
  rel=$(grep -m1 -oE "^[^:]*/$m\.ko(\.xz|\.zst)?:" "$mdir/modules.dep" | tr -d :) || true
  if [ -n "$rel" ]; then
    add_module "$rel"
  elif ! grep -q "/$m\.ko$" "$mdir/modules.builtin"; then
    die "module $m is neither in $kpkg nor built into it"
  fi
done
early=${early# }
applets="sh mount insmod chroot poweroff cat echo sleep mkdir"
stamp=$( (cat "$here/initramfs-init.sh"; echo "$early"; echo "$applets"; echo "$kver") | sha256sum | cut -c1-16)
initrd=$cache/initrd-$kver-$stamp.gz
if [ ! -f "$initrd" ]; then
  say "building the guest initramfs for $kver"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,lib/modules}
  cp /bin/busybox "$tmp/bin/"
  for a in $applets; do ln -sf busybox "$tmp/bin/$a"; done
  for m in $early; do
    f=$mdir/${modfile[$m]}
    case "$f" in
      *.xz) xz -dc "$f" >"$tmp/lib/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" >"$tmp/lib/modules/$m.ko" ;;
      *) cp "$f" "$tmp/lib/modules/" ;;
    esac
  done
  echo "$early" >"$tmp/modules.order"
  cp "$here/initramfs-init.sh" "$tmp/init" && chmod +x "$tmp/init"
  (cd "$tmp" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$initrd.tmp") && mv "$initrd.tmp" "$initrd"
fi
# Another checkout (a worktree on another branch) may be using an older image right now: images unused for a
# day are stale.
touch "$initrd"
find "$cache" -maxdepth 1 \( -name "initrd-$kver-*.gz" -o -name "lab-*.env" \) -mtime +1 -delete

# one env file per initramfs, so that a concurrent run from another checkout cannot swap INITRD under this one
env=$cache/lab-$kver-$stamp.env
printf 'KERNEL=%s\nINITRD=%s\nKROOT=%s\nKVER=%s\n' "$kernel" "$initrd" "$kroot" "$kver" >"$env.tmp"
mv "$env.tmp" "$env"
echo "$env"
