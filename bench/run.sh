#!/usr/bin/env bash
# npm run bench: sets up like the tests, compiles the bench and the lab harness, runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
bash test/lab/guest/prepare.sh >/dev/null
bash test/ensure-packages.sh bench fio  # BENCH=iser drives fio in the guest
out=$(mktemp -d /var/tmp/openiscsi-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
node_modules/.bin/tsc --outDir "$out" --rootDir . --module commonjs --target es2022 --strict --esModuleInterop \
  --skipLibCheck --types node bench/run.ts
OPENISCSI_REPO=$PWD node "$out/bench/run.js"
