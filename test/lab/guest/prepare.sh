#!/usr/bin/env bash
# Prepares the lab guest: Debian's own kernel (downloaded once with apt-get download) and a small busybox
# initramfs that mounts the host's root over 9p and runs test/lab/guest/guest-init.sh inside it.
# Cached in $OPENISCSI_LAB_CACHE (default /var/cache/openiscsi-lab), keyed by the kernel version and a hash
# of the initramfs's init and module list: a second run does nothing. Safe to run concurrently (flock).
# Prints the path of the cache's env file last, on stdout: KERNEL, INITRD, KROOT, KVER.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${OPENISCSI_LAB_CACHE:-/var/cache/openiscsi-lab}
say() { printf '\033[1mlab:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

case "$cache/" in
  /tmp/* | /run/*) die "OPENISCSI_LAB_CACHE=$cache is under /tmp or /run, which the guest covers with tmpfs" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (the lab needs apt-get, and the guest runs iscsid and tgtd)"

# ibverbs-providers: the rxe verbs provider tgtd needs for --lld iser (soft-RoCE); iproute2: `rdma link add`
need=(qemu-system-x86 busybox-static kmod cpio open-iscsi tgt libopeniscsiusr-dev iproute2 ibverbs-providers multipath-tools udev e2fsprogs)
bash "$here/../../ensure-packages.sh" lab "${need[@]}"

# The guest's root is this machine's, read-only: the mount point where a release that keeps its node database
# in /var/lib/iscsi (Debian 13 and later, Red Hat) gets the guest's writable one (test/lab/releases.ts). On
# Debian 12 the directory is unused and empty.
mkdir -p /var/lib/iscsi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
kpkg=$(kernel_package)
if [ -z "$kpkg" ]; then
  apt-get update -qq
  kpkg=$(kernel_package)
fi
[ -n "$kpkg" ] || die "apt-cache depends linux-image-amd64 names no kernel package (is a Debian mirror configured?)"
kver=${kpkg#linux-image-}
kroot=$cache/kernel-$kver
if [ ! -f "$kroot/.ready" ]; then
  say "downloading kernel $kpkg (once; cached in $cache)"
  rm -rf "$kroot" "$cache/dl" && mkdir -p "$kroot" "$cache/dl"
  if ! log=$(cd "$cache/dl" && apt-get download "$kpkg" 2>&1); then
    die "apt-get download $kpkg failed: $log"
  fi
  say "unpacking $kpkg and running depmod"
  dpkg-deb -x "$cache/dl/$kpkg"_*.deb "$kroot"
  rm -rf "$cache/dl"
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

# Loaded by the initramfs before it can mount the host's root (virtio is modular in Debian's kernel), plus
# virtio_console for the agent's virtio-serial port.
early="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p virtio_console"
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
    f=$(find "$kroot/lib/modules/$kver" -name "$m.ko" | head -1)
    [ -n "$f" ] || die "module $m.ko missing from $kpkg"
    cp "$f" "$tmp/lib/modules/"
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
