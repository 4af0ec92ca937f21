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
node -e '
  const r = require(process.argv[1]);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
echo "test suite: $(( $(date +%s) - started )) s"
rm -f "$report"
exit $rc
