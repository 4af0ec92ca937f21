#!/usr/bin/env bash
# The README's first command: sets everything up, boots the lab guest and shows what openiscsi sees.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/setup.sh
bash test/lab/guest/prepare.sh >/dev/null
out=$(mktemp -d /tmp/openiscsi-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "demo: compiling the lab harness"
node_modules/.bin/tsc --outDir "$out" --rootDir test/lab --module commonjs --target es2022 --strict --esModuleInterop \
  --skipLibCheck --types node test/lab/demo.ts test/lab/lab.ts
OPENISCSI_REPO=$PWD node "$out/demo.js"
