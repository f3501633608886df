#!/usr/bin/env bash
# The long soak: builds the page, then drives 10,000 interactions in headless Chromium and
# prints the JS heap (after GC), the wasm memory and the renderer's resident memory every 1,000,
# the growth after the first 1,000 and the footprint over a blank page.
#   scripts/soak.sh [SITE_ROOT]     (STEPS=n EVERY=m to change the length)
set -euo pipefail
source "$(dirname "$0")/page-driver-setup.sh"
node tests/e2e/soak.js "$site"
