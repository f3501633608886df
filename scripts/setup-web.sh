#!/usr/bin/env bash
# Installs what building and testing the page needs, when it is missing: the wasm32 target,
# wasm-bindgen-cli (the exact version of wasm-bindgen in Cargo.lock), wasm-pack, and a working
# wasm-opt (npm's binaryen; Debian's breaks the output). Nothing is downloaded at build time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Without --locked: its lockfile pins a crate version the index no longer has.
  cargo install wasm-bindgen-cli --version "$want"
fi

if ! command -v wasm-pack >/dev/null; then
  cargo install wasm-pack --locked
fi

# binaryen from npm (version 132 is known good), installed under .tools/.
if [ ! -x .tools/node_modules/.bin/wasm-opt ] && command -v npm >/dev/null; then
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --silent binaryen@132
fi
