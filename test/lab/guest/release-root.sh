#!/usr/bin/env bash
# usage: release-root.sh SUITE VERSION
# A file-system root holding another Debian release's open-iscsi VERSION (iscsid, iscsiadm), the libraries it
# links, and libstdc++6 for the host's node, for the lab guest to run chrooted (test/lab/releases.ts). Built
# from Debian's archive with apt-get itself: a private apt state for SUITE (its own sources list, package lists
# and an empty dpkg status, so the host's configuration is neither read nor touched), `apt-get install
# --download-only` of open-iscsi=VERSION and its dependency closure, each package unpacked with dpkg-deb -x (no
# maintainer scripts run), and the directories merged into /usr as Debian 12 and later lay them out. Cached in
# $OPENISCSI_LAB_CACHE/roots, keyed by suite, version and this script's hash; a second run does nothing. Safe to
# run concurrently (flock).
# Prints the root's path last, on stdout.
set -euo pipefail
suite=${1:?usage: release-root.sh SUITE VERSION}
version=${2:?usage: release-root.sh SUITE VERSION}
cache=${OPENISCSI_LAB_CACHE:-/var/cache/openiscsi-lab}
mirror=${OPENISCSI_LAB_MIRROR:-http://deb.debian.org/debian}
say() { printf '\033[1mlab:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[[ $suite =~ ^[a-z]+$ ]] || die "suite must be a Debian code name, not '$suite'"
[[ $version =~ ^[0-9][0-9A-Za-z.+~:-]*$ ]] || die "version must be a Debian package version, not '$version'"
[ "$(id -u)" = 0 ] || die "run as root (apt-get)"
bash "$(dirname "${BASH_SOURCE[0]}")/../../ensure-packages.sh" lab apt dpkg debian-archive-keyring

stamp=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
root=$cache/roots/$suite-${version//[:~]/_}-$stamp
mkdir -p "$cache/roots"
exec 9>"$cache/roots/.lock"
flock 9
if [ -f "$root/.ready" ]; then
  echo "$root"
  exit 0
fi

say "building the $suite root with open-iscsi $version (once; cached in $cache/roots)"
work=$(mktemp -d "$cache/roots/.build-$suite.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt=$work/apt
mkdir -p "$apt"/{lists/partial,archives/partial,etc} "$work/root"
: >"$apt/status"
echo "deb $mirror $suite main" >"$apt/etc/sources.list"
opts=(
  -o "Dir::Etc::SourceList=$apt/etc/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
  -o "Dir::Cache=$apt" -o "Dir::Cache::Archives=$apt/archives"
  -o Debug::NoLocking=1 -o APT::Install-Recommends=false -o APT::Sandbox::User=root
)
log=$work/apt.log
apt-get "${opts[@]}" -qq update >"$log" 2>&1 || die "apt-get update for $suite failed: $(tail -5 "$log")"
# libstdc++6: what the host's node needs besides glibc, so that node runs on this release's libraries
# (releases.ts readInRoot: the read path on that release's libopeniscsiusr)
apt-get "${opts[@]}" -qq -y install --download-only "open-iscsi=$version" libstdc++6 >"$log" 2>&1 ||
  die "apt-get cannot fetch open-iscsi=$version from $suite (is it still in the archive? apt-cache policy open-iscsi says: $(apt-cache "${opts[@]}" policy open-iscsi 2>/dev/null | sed -n 3p)): $(tail -5 "$log")"
debs=("$apt"/archives/*.deb)
[ -e "${debs[0]}" ] || die "apt-get downloaded nothing for $suite"
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$work/root"; done

# One layout whatever the release: /bin, /sbin, /lib, /lib64 merged into /usr (bullseye ships them apart).
cd "$work/root"
for d in bin sbin lib lib64; do
  mkdir -p "usr/$d"
  if [ -d "$d" ] && [ ! -L "$d" ]; then
    cp -a "$d/." "usr/$d/"
    rm -rf "$d"
  fi
  ln -sfn "usr/$d" "$d"
done
[ -x usr/sbin/iscsid ] && [ -x usr/sbin/iscsiadm ] || die "the $suite root has no iscsid/iscsiadm"
# (bullseye's loader is an absolute symlink: it resolves inside the root, not here)
[ -e usr/lib64/ld-linux-x86-64.so.2 ] || [ -L usr/lib64/ld-linux-x86-64.so.2 ] || die "the $suite root has no dynamic loader"
# iscsid before 2.1.4 or so checks a client by name (getpwuid of its SO_PEERCRED uid must be "root"): the
# passwd entry every real system has, which no package in the closure ships.
[ -s etc/passwd ] || echo 'root:x:0:0:root:/root:/bin/sh' >etc/passwd
[ -s etc/group ] || echo 'root:x:0:' >etc/group
# Mount points for what the guest shares with the chrooted daemon (releases.ts bind-mounts them), and host
# for the guest's own root (node, the checkout) when node runs in here.
mkdir -p proc sys dev run tmp etc/iscsi var/lib/iscsi host
dpkg-deb -f "$apt"/archives/open-iscsi_*.deb Version >.version
ls "$apt/archives" >.packages
cd /
rm -rf "$root"
mv "$work/root" "$root"
touch "$root/.ready"
# older roots of this suite (another version or script) are stale
find "$cache/roots" -mindepth 1 -maxdepth 1 -name "$suite-*" ! -path "$root" -exec rm -rf {} +
echo "$root"
