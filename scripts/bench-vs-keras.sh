#!/usr/bin/env bash
# Side-by-side training speed: this trainer (Burn) and the paper's Keras VAE
# (../shared/bench/keras_vae.py), same files, same architecture family, batch 128, 2 threads.
#
#   scripts/bench-vs-keras.sh [MNIST_DIR] [KERAS_PYTHON]
#
# KERAS_PYTHON is a Python with tensorflow-cpu installed (default: python3). Prints one JSON
# line per measurement and a summary of seconds per epoch and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/mnist}
py=${2:-python3}
keras=$root/../shared/bench/keras_vae.py
cargo build --release -p trainer --quiet --manifest-path "$root/Cargo.toml"
trainer=$root/target/release/trainer
export RAYON_NUM_THREADS=2

summary=()
for arch in mlp; do
  # The Keras MLP: 784-512-2 encoder, 2-512-784 decoder, ReLU.
  ours=$("$trainer" bench --data "$data" --batches 200 --batch 128 --hidden 512 --activation relu)
  echo "burn  $arch: $ours"
  theirs=$("$py" "$keras" --data "$data" --arch "$arch" --epochs 2 --threads 2 | tail -n 1)
  echo "keras $arch: $theirs"
  summary+=("$("$py" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# Keras's epoch 1 includes graph tracing; its final (2nd) epoch is the steady state.
k = theirs["final"]["seconds"]
b = ours["epoch_seconds"]
print(f'{theirs["arch"]}: burn {b:.1f} s/epoch ({ours["train_images_per_s"]:.0f} img/s, eval {ours["eval_images_per_s"]:.0f} img/s), '
      f'keras {k:.1f} s/epoch -> burn is {k / b:.2f}x faster')
PY
)")
done
printf '%s\n' "${summary[@]}"
