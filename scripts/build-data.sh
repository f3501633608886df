#!/usr/bin/env bash
# Puts the MNIST files that the page's Train panel fetches into www/data/ (not in git): the four
# gzipped IDX files as the trainer reads them, and www/data/mnist.json naming each with its size
# and SHA-256, which the page checks before it trains. The files come from $MNIST_DIR, else
# ../shared/data/mnist beside the checkout, else the trainer's download cache
# (~/.cache/latent-canvas/mnist: `cargo run --release -p trainer -- download` fills it).
# Without them the page works as before and its Train panel says how to get them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=www/data
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/latent-canvas/mnist
src=
for dir in ${MNIST_DIR:-} ../shared/data/mnist "$cache"; do
  if [ -n "$dir" ] && [ -f "$dir/${files[0]}" ]; then src=$dir; break; fi
done
if [ -z "$src" ]; then
  echo "build-data: no MNIST files (set MNIST_DIR, or run: cargo run --release -p trainer -- download);" \
    "the page's Train panel will say so" >&2
  rm -rf "$out"
  exit 0
fi
mkdir -p "$out"
entries=()
for f in "${files[@]}"; do
  [ -f "$src/$f" ] || { echo "build-data: $src/$f is missing" >&2; exit 1; }
  if ! cmp -s "$src/$f" "$out/$f"; then cp "$src/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"; fi
  entries+=("{\"name\":\"$f\",\"bytes\":$(stat -c %s "$out/$f"),\"sha256\":\"$(sha256sum "$out/$f" | cut -d' ' -f1)\"}")
done
(IFS=,; echo "{\"files\":[${entries[*]}]}") > "$out/mnist.json.tmp"
mv "$out/mnist.json.tmp" "$out/mnist.json"
echo "build-data: $out/ from $src ($(du -sh "$out" | cut -f1))"
