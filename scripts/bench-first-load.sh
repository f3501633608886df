#!/usr/bin/env bash
# The first view on a slow network: builds the page, then serves it with gzip and loads it in
# headless Chromium throttled to 10 Mbit/s and 40 ms RTT; prints each file fetched before the
# first interaction (on the wire, raw, gzip -9, brotli) and the time to the first encode, with
# WebGPU on and off.
#   scripts/bench-first-load.sh [SITE_ROOT]   (another built checkout, e.g. an older commit)
set -euo pipefail
source "$(dirname "$0")/page-driver-setup.sh"
node tests/e2e/first-load.js "$site"
WEBGPU=0 node tests/e2e/first-load.js "$site" | tail -2
