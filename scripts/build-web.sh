#!/usr/bin/env bash
# Builds the page's three wasm modules into www/pkg/ and names them in www/pkg/modules.json:
#   cpu     vae_web-<key>.js + _bg.wasm       Burn's CPU backend only: what the first view fetches;
#   webgpu  vae_web_gpu-<key>.js + _bg.wasm   with WebGPU (burn-wgpu) too, and training on either
#                                             backend: fetched only where WebGPU can help (see
#                                             www/worker.js), or to train on WebGPU;
#   train   vae_web_train-<key>.js + _bg.wasm the CPU backend with autodiff and the training loop:
#                                             fetched only when the user opens the Train panel.
# modules.json also holds, under "files", the model files' names as the CPU module gives them
# (scripts/module-names.mjs). Then the training data (scripts/build-data.sh: www/data/, when
# MNIST is on this machine).
# Each: cargo (profile `wasm`: size-optimised, fat LTO), wasm-bindgen --target web (plain ES
# module, no bundler), wasm-opt -Oz (npm's binaryen; Debian's breaks the output).
#
# <key> is a hash of what the output is made from (the cargo artifact, the tools' versions and
# this script): a visitor's cache can never pair one build's JS glue with another's wasm, and an
# unchanged tree skips wasm-bindgen and wasm-opt (the slow part) after cargo's no-op check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pkg=www/pkg
# Nothing that goes into the modules changed since they were built (by modification time, as
# make sees it): done, without even asking cargo.
if [ -f $pkg/modules.json ] \
  && [ -z "$(find crates/vae crates/vae-web Cargo.toml Cargo.lock "$0" scripts/module-names.mjs -newer $pkg/modules.json -print -quit)" ] \
  && all=$(grep -o '"[^"]*\.js"' $pkg/modules.json | tr -d '"') \
  && (cd $pkg && for f in $all; do [ -f "$f" ] && [ -f "${f%.js}_bg.wasm" ] || exit 1; done); then
  echo "$pkg is up to date: $(tr -d '\n' < $pkg/modules.json)"
  bash scripts/build-data.sh
  exit 0
fi
bash scripts/setup-web.sh
mkdir -p "$pkg" target/web
wasm_opt=.tools/node_modules/.bin/wasm-opt
tools="$(wasm-bindgen --version) $( [ -x $wasm_opt ] && $wasm_opt --version || echo no-wasm-opt)"

build_variant() {
  local variant=$1 name features
  case $variant in
    cpu) name=vae_web; features=() ;;
    webgpu) name=vae_web_gpu; features=(--features webgpu,train) ;;
    train) name=vae_web_train; features=(--features train) ;;
    *) echo "unknown variant $variant (cpu, webgpu or train)" >&2; exit 2 ;;
  esac
  cargo build -q -p vae-web --target wasm32-unknown-unknown --profile wasm "${features[@]}"
  # The variants share one artifact path: keep each one's copy.
  cp target/wasm32-unknown-unknown/wasm/vae_web.wasm "target/web/$name.wasm"
  local key
  key=$( (sha256sum "target/web/$name.wasm" | cut -c1-64; echo "$tools"; cat "$0") | sha256sum | cut -c1-12)
  local out="$name-$key"
  if [ -f "$pkg/$out.js" ] && [ -f "$pkg/${out}_bg.wasm" ]; then
    echo "$variant: $pkg/$out (unchanged)"
  else
    wasm-bindgen --target web --no-typescript --out-dir target/web/bindgen --out-name "$out" \
      "target/web/$name.wasm"
    if [ -x $wasm_opt ]; then
      $wasm_opt -Oz --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
        --strip-debug --strip-producers "target/web/bindgen/${out}_bg.wasm" -o "target/web/bindgen/${out}_bg.wasm"
    fi
    # The wasm first, then the glue that names it: a glue file never exists without its wasm.
    mv "target/web/bindgen/${out}_bg.wasm" "$pkg/"
    mv "target/web/bindgen/$out.js" "$pkg/"
    echo "$variant: $pkg/$out ($(stat -c %s "$pkg/${out}_bg.wasm") bytes of wasm)"
  fi
  # Older builds of this variant go once modules.json names the new one (below).
  stale+=($(find "$pkg" -maxdepth 1 -name "$name-*" ! -name "$out.js" ! -name "${out}_bg.wasm"))
  modules+=("\"$variant\": \"$out.js\"")
  [ "$variant" = cpu ] && cpu_glue="$out.js"
  return 0
}

modules=()
stale=()
cpu_glue=
build_variant cpu
build_variant webgpu
build_variant train
# The names of the model files, as the CPU module's exports give them (their one source is the
# Rust crate): the worker starts those downloads from these while the module itself downloads.
modules+=("\"files\": $(node scripts/module-names.mjs "$pkg/$cpu_glue")")
# Written last, once every module is in place (the worker reads it to find them).
(IFS=,; echo "{${modules[*]}}") > "$pkg/modules.json.tmp"
mv "$pkg/modules.json.tmp" "$pkg/modules.json"
rm -f "${stale[@]}"
rm -f "$pkg/vae_web.js" "$pkg/vae_web_bg.wasm"  # unhashed names of older builds
bash scripts/build-data.sh
