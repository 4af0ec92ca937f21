#!/usr/bin/env bash
# The native project again, against an AddressSanitizer build of the addon (`OPENISCSI_TEST_ASAN=1 bash
# test/run.sh` runs it after the plain pass; `bash test/native/asan.sh FILE...` runs only those files). The ASan build goes to build-asan/, a copy of the checkout's code
# (lib, dist, test) with its own build/, so the plain build/Release/openiscsi.node is left as it is and every
# test's own path to the addon (../../build/Release) finds the instrumented one.
#
# The runtime is gcc's libasan (Debian's libasan8, the one -fsanitize=address links), preloaded into every
# process the tests start, since node itself is not instrumented. Leaks are checked in node processes only
# (asan/node.options, picked by the binary's name): bash, python3 and the other tools the tests run are not
# ours, and their own at-exit leaks are no finding. Any report (an error in any process, a leak in a node
# process), written under a per-run log directory, fails the pass. Leaks are found in processes that end
# normally: every child the tests start (the drivers run every native entry point), not vitest's own workers,
# which are ended by SIGTERM; memory errors (use after free, overflows) are caught in every process.
#
# Not run here: package.test.ts (it packs and builds a separate plain addon in a scratch project: nothing of
# it would be instrumented, and it is the slowest file); usr-traps.test.ts (its children end with
# process.exit(), which skips V8's heap teardown, so LeakSanitizer reports V8's own page bookkeeping from
# every one of them). The valgrind files run their drivers bare, checked by LeakSanitizer (leak-checker.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=$repo/build-asan
say() { printf '\033[1masan:\033[0m %s\n' "$*"; }
started=$(date +%s)

runtime=$(readlink -f "$(gcc -print-file-name=libasan.so)")
[ -f "$runtime" ] || { echo "asan: gcc's libasan runtime is missing (test/setup.sh installs libasan8)" >&2; exit 1; }

# The copy: the code the tests load, fresh each run (small); native/ and node_modules/ are links.
mkdir -p "$out"
rm -rf "$out/lib" "$out/dist" "$out/test"
cp -a lib dist test package.json tsconfig.json binding.gyp "$out/"
ln -sfn ../native "$out/native"
ln -sfn ../node_modules "$out/node_modules"

nodedir_args=()
[ -f /usr/include/node/node_api.h ] && nodedir_args=(--nodedir=/usr)
source test/compiler-cache.sh
cd "$out"
# Configured every run (about a second: binding.gyp lists native/*.cc when configured, so a new source file
# needs it, and so do new npm packages); make then rebuilds only what changed since the last run.
node_modules/.bin/node-gyp configure "${nodedir_args[@]}" --loglevel=error -- -DOPENISCSI_ASAN=1 >/dev/null
say "building the addon with -fsanitize=address (build-asan/)"
node_modules/.bin/node-gyp build --loglevel=error -j 2 >/dev/null
ldd build/Release/openiscsi.node | grep -q libasan || { echo "asan: build-asan/build/Release/openiscsi.node is not instrumented" >&2; exit 1; }

logs=$(mktemp -d /tmp/openiscsi-asan.XXXXXX)
# Arguments: the test files to run (default every native file but package.test.ts).
files=("$@")
if ((${#files[@]} == 0)); then
  for f in test/native/*.test.ts; do
    case "$f" in test/native/package.test.ts | test/native/usr-traps.test.ts) ;; *) files+=("$f") ;; esac
  done
fi
say "native tests under AddressSanitizer (${#files[@]} files)"
set +e
LD_PRELOAD=$runtime \
  ASAN_OPTIONS="detect_leaks=0:log_path=$logs/report:include_if_exists=$repo/test/native/asan/%b.options" \
  LSAN_OPTIONS="suppressions=$repo/test/native/asan/lsan.supp:print_suppressions=0" \
  node_modules/.bin/vitest run --config test/vitest.config.mts --project native "${files[@]}"
rc=$?
set -e
reports=("$logs"/report.*)
if [ -e "${reports[0]}" ]; then
  for r in "${reports[@]}"; do
    echo "== AddressSanitizer report ${r##*/} ($(cat "/proc/${r##*.}/comm" 2>/dev/null || echo exited))"
    cat "$r"
  done
  echo "asan: ${#reports[@]} report(s): failed" >&2
  rc=1
fi
rm -rf "$logs"
say "AddressSanitizer pass: $(( $(date +%s) - started )) s"
exit $rc
