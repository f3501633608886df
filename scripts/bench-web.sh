#!/usr/bin/env bash
# Browser benchmark: builds the page, then prints median encode / decode / 30×30 grid latency
# on each backend in headless Chromium and the time until the page is ready; then the same
# decodes natively (`trainer bench-decode`). Transfers: scripts/bench-first-load.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/build-web.sh
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
node tests/e2e/bench.js
cargo run --release -q -p trainer -- bench-decode --model www/model
