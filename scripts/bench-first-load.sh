#!/usr/bin/env bash
# The first view on a slow network: builds the page, then serves it with gzip and loads it in
# headless Chromium throttled to 10 Mbit/s and 40 ms RTT; prints each file fetched before the
# first interaction (on the wire, raw, gzip -9, brotli) and the time to the first encode, with
# WebGPU on and off.
#   scripts/bench-first-load.sh [SITE_ROOT]   (another built checkout, e.g. an older commit)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
site=${1:-$root}
[ "$site" = "$root" ] && bash scripts/build-web.sh
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
node tests/e2e/first-load.js "$site"
WEBGPU=0 node tests/e2e/first-load.js "$site" | tail -2
