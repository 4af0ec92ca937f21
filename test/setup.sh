#!/usr/bin/env bash
# Everything the tests and the lab demo need on a fresh Debian 12 machine (run as root): Debian packages,
# npm packages, the native build and the TypeScript build. Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

packages=(
  g++ make python3                       # node-gyp
  ccache                                  # the addon's builds reuse earlier compiles (test/compiler-cache.sh)
  libopeniscsiusr-dev                     # the addon links libopeniscsiusr (headers + .so.0)
  open-iscsi                              # iscsid/iscsiadm, run inside the lab guest and by the benchmarks
  tgt libiscsi-bin                        # a real target on loopback, and an independent initiator to compare with
  qemu-system-x86 busybox-static kmod cpio  # the real-kernel lab guest
  valgrind                                # leak check of the native code
  libasan8                                # gcc's AddressSanitizer runtime, preloaded by test/native/asan.sh
  iproute2 util-linux                     # ip, unshare for namespace tests
  multipath-tools udev e2fsprogs          # multipathd and udevd in the lab guest, a file system on the map
)
bash test/ensure-packages.sh setup "${packages[@]}"

nodedir_args=()
[ -f /usr/include/node/node_api.h ] && nodedir_args=(--nodedir=/usr)

lock_stamp=node_modules/.package-lock.json
if [ ! -f "$lock_stamp" ] || [ package-lock.json -nt "$lock_stamp" ]; then
  say "installing npm packages (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

say "building the native addon (node-gyp)"
source test/compiler-cache.sh
node_modules/.bin/node-gyp rebuild "${nodedir_args[@]}" --loglevel=error -j 2 >/dev/null
say "compiling TypeScript (tsc)"
node_modules/.bin/tsc -p tsconfig.json
