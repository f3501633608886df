#!/usr/bin/env bash
# The ten largest items (functions and data) of each of the page's wasm modules, by twiggy,
# read from the cargo artifacts that scripts/build-web.sh keeps in target/web/ (they still hold
# the names; the debug and name sections, which wasm-opt strips from what the page fetches,
# are left out of the list).
#   scripts/wasm-top.sh [N]      (needs `cargo install twiggy`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-10}
command -v twiggy >/dev/null || cargo install twiggy --locked
for m in vae_web vae_web_gpu; do
  echo "== $m (target/web/$m.wasm, before wasm-bindgen and wasm-opt)"
  twiggy top -n 200 "target/web/$m.wasm" | grep -v -e "custom section" -e '"function names"' \
    -e "more\.$" | sed -n "3,$((n + 2))p" | cut -c1-150
done
