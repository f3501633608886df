#!/usr/bin/env bash
# Runs every test of the project:
#   1. cargo test --workspace --features vae-web/train: model, training loop, trainer (training
#      steps on wgpu against the CPU, SIGKILL at random moments among them), web crate logic
#      (natively, training in the page's code included), shipped-model guard, and the fuzz
#      targets' short run (crates/vae-fuzz: corpus, regressions, seeded mutations);
#   2. wasm-pack test --headless --chrome crates/vae-web: the web crate in headless Chromium,
#      on the CPU backend and on WebGPU, against the trainer's golden values, and three training
#      steps against the native run's losses;
#   3. unit tests of the page's pure JS modules (node's test runner);
#   4. the end-to-end tests: the built page, served, driven in headless Chromium (drawing and
#      exploring, faults, a new deploy under a returning visitor, accessibility, training in the
#      page, a short soak).
# Installs the wasm tools when missing (scripts/setup-web.sh); Chromium and ChromeDriver come
# from Debian (installed here when running as root with apt-get).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The browser tests need Chromium and ChromeDriver (CHROMIUM and CHROMEDRIVER may name others,
# e.g. a hosted runner's Chrome); the trainer's wgpu test needs a Vulkan driver (Mesa's software
# one, lavapipe, where there is no GPU).
export CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver || true)}
if [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ] || ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver mesa-vulkan-drivers
    CHROMIUM=$(command -v chromium)
    CHROMEDRIVER=$(command -v chromedriver)
  else
    echo "error: the tests need chromium, chromedriver and a Vulkan driver (apt-get install chromium chromium-driver mesa-vulkan-drivers)" >&2
    exit 1
  fi
fi
bash scripts/setup-web.sh

echo "== cargo test --workspace --features vae-web/train"
cargo test --workspace --features vae-web/train

echo "== wasm-pack test --headless --chrome crates/vae-web --features webgpu,train"
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
wasm-pack test --headless --chrome crates/vae-web --features webgpu,train

echo "== unit tests of the page's JS modules (tests/unit)"
node --test tests/unit/

echo "== end-to-end tests (tests/e2e)"
bash scripts/build-web.sh
cd tests/e2e
npm ci --no-audit --no-fund --silent
npm test
