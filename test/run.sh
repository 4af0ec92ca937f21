#!/usr/bin/env bash
# The README's test command: set up everything, then run every test project (unit, native, host, lab).
# Extra arguments go to vitest, e.g. `bash test/run.sh --project unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash test/setup.sh
bash test/lab/guest/prepare.sh
# The tests are TypeScript with the library's strictness; vitest strips their types without checking them.
node_modules/.bin/tsc -p test/tsconfig.json
report=$(mktemp /tmp/openiscsi-vitest.XXXXXX.json)
set +e
node_modules/.bin/vitest run --config test/vitest.config.mts --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
set -e
# The native project once more against an AddressSanitizer build (test/native/asan.sh) when the run includes
# it; OPENISCSI_TEST_ASAN=0 leaves it out. Any report fails the run, and the closing line says so.
checks=()
if [ "${OPENISCSI_TEST_ASAN:-1}" = 1 ]; then
  case " $* " in
    "  " | *" native "* | *"=native "*)
      asan_started=$(date +%s)
      if bash test/native/asan.sh; then checks+=("AddressSanitizer pass=ok"); else checks+=("AddressSanitizer pass=failed"); fi
      echo "AddressSanitizer pass: $(( $(date +%s) - asan_started )) s"
      ;;
  esac
fi
summary_rc=0
# The closing line counts files that failed outside a test (beforeAll, imports) as failed: see the script.
node test/tools/vitest-summary.js "$report" "${checks[@]}" || summary_rc=$?
echo "test suite: $(( $(date +%s) - started )) s"
rm -f "$report"
# vitest's own code, or 1 when the summary found a failure vitest did not report in its exit code
if [ "$rc" -eq 0 ] && [ "${summary_rc:-0}" -ne 0 ]; then rc=1; fi
exit $rc
