#!/usr/bin/env bash
# Training speed, in the page and natively, side by side: builds the page (and www/data/),
# trains the Train panel's default architecture in headless Chromium (tests/e2e/bench-train.js:
# images/s, the first epoch, 5-NN 60 s after Start), then on WebGPU (images/s; headless, that
# is SwiftShader, a software adapter), then the native trainer on the same architecture and
# batch (`trainer bench`, one thread and all cores).
set -euo pipefail
source "$(dirname "$0")/page-driver-setup.sh"
[ -f www/data/mnist.json ] || { echo "www/data/ is empty: MNIST is needed (see scripts/build-data.sh)" >&2; exit 1; }
web=$(node tests/e2e/bench-train.js)
echo "browser (wasm, CPU): $web"
gpu=$(TRAIN_BACKEND=webgpu node tests/e2e/bench-train.js)
echo "browser (wasm, WebGPU): $gpu"
hidden=$(echo "$web" | sed -n 's/.*"hidden":"\([^"]*\)".*/\1/p')
batch=$(echo "$web" | sed -n 's/.*"batch":"\([^"]*\)".*/\1/p')
for threads in 1 "$(nproc)"; do
  echo -n "native, $threads thread(s): "
  cargo run --release -q -p trainer -- bench --data www/data --hidden "$hidden" --batch "$batch" \
    --threads "$threads" --batches 200
done
