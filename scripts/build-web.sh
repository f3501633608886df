#!/usr/bin/env bash
# Builds the page's wasm into www/pkg/: the `wasm` profile (size-optimised, LTO), wasm-bindgen
# for `--target web` (plain ES module, no bundler), then wasm-opt -Oz when available.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup-web.sh
cargo build -p vae-web --target wasm32-unknown-unknown --profile wasm
wasm-bindgen --target web --no-typescript --out-dir www/pkg \
  target/wasm32-unknown-unknown/wasm/vae_web.wasm
if [ -x .tools/node_modules/.bin/wasm-opt ]; then
  .tools/node_modules/.bin/wasm-opt -Oz --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers www/pkg/vae_web_bg.wasm -o www/pkg/vae_web_bg.wasm.opt
  mv www/pkg/vae_web_bg.wasm.opt www/pkg/vae_web_bg.wasm
fi
ls -l www/pkg/vae_web_bg.wasm
