#!/usr/bin/env bash
# The README's test command: set up everything, then run every test project (unit, native, host, lab) and the
# native project again under AddressSanitizer. Extra arguments go to vitest, e.g. `bash test/run.sh --project unit`.
#
# Without arguments the work runs as two streams at once. The lab boots one guest at a time (two at once made
# every lab file 2-4x slower) and a guest keeps about one of the two cores busy, so the other core runs unit,
# native and host, then the AddressSanitizer pass, beside it: their output goes to a log printed at the end.
# One vitest process cannot do this: it runs a project that is one file at a time after all the others.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash test/setup.sh
bash test/lab/guest/prepare.sh
# The tests are TypeScript with the library's strictness; vitest strips their types without checking them.
node_modules/.bin/tsc -p test/tsconfig.json

tmp=$(mktemp -d /tmp/openiscsi-run.XXXXXX)
side_pid=
# An interrupted run takes the side stream down with it: that stream is a process group of its own (set -m
# below), so a Ctrl-C, which reaches only the foreground group, ends here and the group is killed whole.
trap 'exit 130' INT TERM
trap '[ -z "$side_pid" ] || kill -TERM -- "-$side_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
vitest() { node_modules/.bin/vitest run --config test/vitest.config.mts --reporter=default --reporter=json --outputFile.json="$1" "${@:2}"; }

# The AddressSanitizer pass (test/native/asan.sh) runs when the run includes the native project;
# OPENISCSI_TEST_ASAN=0 leaves it out. asan_pass prints NAME=ok|NAME=failed for the closing line.
asan_wanted() {
  [ "${OPENISCSI_TEST_ASAN:-1}" = 1 ] || return 1
  case " $* " in "  " | *" native "* | *"=native "*) return 0 ;; *) return 1 ;; esac
}
asan_pass() {
  local t0
  t0=$(date +%s)
  if bash test/native/asan.sh >&2; then echo "AddressSanitizer pass=ok"; else echo "AddressSanitizer pass=failed"; fi
  echo "AddressSanitizer pass: $(( $(date +%s) - t0 )) s" >&2
}

set +e
if [ $# -eq 0 ]; then
  side="$tmp/side.log"
  echo "unit, native, host and the AddressSanitizer pass run beside the lab; their output follows the lab's"
  # niced: the lab is the longer stream, and its guest should not wait for a compile or a valgrind run
  set -m
  (
    renice -n 10 -p $BASHPID >/dev/null
    vitest "$tmp/side.json" --project unit --project native --project host > "$side" 2>&1
    vrc=$?
    ! asan_wanted || asan_pass >> "$tmp/checks" 2>> "$side"
    exit $vrc
  ) &
  side_pid=$!
  set +m
  reports=("$tmp/lab.json" "$tmp/side.json")
  vitest "$tmp/lab.json" --project lab
  rc=$?
  wait "$side_pid"
  side_rc=$?
  side_pid=
  echo
  echo "──── unit, native, host and the AddressSanitizer pass (ran beside the lab) ────"
  cat "$side"
  [ "$side_rc" -eq 0 ] || rc=$side_rc
else
  reports=("$tmp/run.json")
  vitest "$tmp/run.json" "$@"
  rc=$?
  ! asan_wanted "$@" || asan_pass >> "$tmp/checks"
fi
set -e
# a pass that was due and said nothing (its stream died first) is a failed one
if asan_wanted "$@" && ! grep -q '^AddressSanitizer pass=' "$tmp/checks" 2>/dev/null; then
  echo "AddressSanitizer pass=failed" >> "$tmp/checks"
fi

checks=()
[ -f "$tmp/checks" ] && mapfile -t checks < "$tmp/checks"
summary_rc=0
# The closing line counts files that failed outside a test (beforeAll, imports) as failed: see the script.
node test/tools/vitest-summary.js "${reports[@]}" "${checks[@]}" || summary_rc=$?
echo "test suite: $(( $(date +%s) - started )) s"
# vitest's own code, or 1 when the summary found a failure vitest did not report in its exit code
if [ "$rc" -eq 0 ] && [ "${summary_rc:-0}" -ne 0 ]; then rc=1; fi
exit $rc
