#!/usr/bin/env bash
# usage: ensure-packages.sh PREFIX PACKAGE...  installs, with apt-get, the Debian packages that are missing.
set -euo pipefail
prefix=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  printf '\033[1m%s:\033[0m installing Debian packages: %s\n' "$prefix" "${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
