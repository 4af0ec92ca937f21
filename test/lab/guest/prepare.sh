#!/usr/bin/env bash
# Prepares the lab guest: Debian's own kernel (downloaded once with apt-get download) and a small busybox
# initramfs that mounts the host's root over 9p and runs test/lab/guest/guest-init.sh inside it.
# Cached in $OPENISCSI_LAB_CACHE (default /var/cache/openiscsi-lab); a second run does nothing.
# Prints the cache's env file path last: KERNEL, INITRD, KROOT, KVER.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${OPENISCSI_LAB_CACHE:-/var/cache/openiscsi-lab}
say() { printf '\033[1mlab:\033[0m %s\n' "$*" >&2; }

need=(qemu-system-x86 busybox-static kmod cpio open-iscsi tgt)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$cache"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$kpkg" ]; then
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
kver=${kpkg#linux-image-}
kroot=$cache/kernel-$kver
if [ ! -f "$kroot/.ready" ]; then
  say "downloading kernel package $kpkg (once; cached in $cache)"
  rm -rf "$kroot" && mkdir -p "$kroot"
  (cd "$cache" && rm -f "$kpkg"_*.deb && apt-get download "$kpkg" >/dev/null 2>&1)
  dpkg-deb -x "$cache/$kpkg"_*.deb "$kroot"
  rm -f "$cache/$kpkg"_*.deb
  depmod -b "$kroot" "$kver"
  touch "$kroot/.ready"
fi

# Modules the initramfs loads before it can mount the host's root (virtio is modular in Debian's kernel).
early="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p virtio_console"
stamp=$( (cat "$here/initramfs-init.sh"; echo "$early"; echo "$kver") | sha256sum | cut -c1-16)
initrd=$cache/initrd-$kver-$stamp.gz
if [ ! -f "$initrd" ]; then
  say "building the guest initramfs"
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,lib/modules}
  cp /bin/busybox "$tmp/bin/"
  for a in sh mount insmod chroot poweroff cat echo sleep; do ln -sf busybox "$tmp/bin/$a"; done
  for m in $early; do
    f=$(find "$kroot/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$f" ] || { echo "lab: module $m missing from $kpkg" >&2; exit 1; }
    cp "$f" "$tmp/lib/modules/"
  done
  echo "$early" >"$tmp/modules.order"
  cp "$here/initramfs-init.sh" "$tmp/init" && chmod +x "$tmp/init"
  (cd "$tmp" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$initrd.tmp") && mv "$initrd.tmp" "$initrd"
  rm -rf "$tmp"
fi

env=$cache/lab.env
printf 'KERNEL=%s\nINITRD=%s\nKROOT=%s\nKVER=%s\n' "$kroot/boot/vmlinuz-$kver" "$initrd" "$kroot" "$kver" >"$env.tmp"
mv "$env.tmp" "$env"
echo "$env"
