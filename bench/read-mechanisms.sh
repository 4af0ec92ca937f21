#!/usr/bin/env bash
# npm run bench:read: the read path's mechanisms A/B on this host (bench/read-mechanisms.ts). Root (a
# private mount namespace); builds the addon of each commit compared.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /var/tmp/openiscsi-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
node_modules/.bin/tsc --outDir "$out" --rootDir . --module commonjs --target es2022 --strict --esModuleInterop \
  --skipLibCheck --types node bench/read-mechanisms.ts
OPENISCSI_REPO=$PWD node "$out/bench/read-mechanisms.js"
