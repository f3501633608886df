#!/usr/bin/env bash
# Side-by-side training speed: this trainer (Burn) and the paper's Keras VAE
# (../shared/bench/keras_vae.py), same files, same architecture, batch 128, 2 threads.
#
#   scripts/bench-vs-keras.sh [--no-avx512] [MNIST_DIR] [KERAS_PYTHON]
#
# --no-avx512 measures both sides as on a CPU without AVX-512: the trainer built without its
# `avx512` feature (gemm's and the host loops' kernels stop at AVX2; own target dir, a cold
# build), and Keras with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2; TensorFlow's other
# kernels are built for AVX at most anyway).
# KERAS_PYTHON is a Python with tensorflow-cpu installed (default: python3). Both sides vary
# from one epoch to the next on a shared machine (Keras's epochs here: 3.1 to 5.2 s, even
# within one run), so each is measured several times and the medians compared: the trainer's
# `bench` three times, Keras over four epochs of which the last three count (the first traces
# its graph).
# Prints one JSON line per measurement and a summary of seconds per epoch and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
isa=native
if [[ ${1:-} == --no-avx512 ]]; then isa=avx2; shift; fi
data=${1:-$root/../shared/data/mnist}
py=${2:-python3}
keras=$root/../shared/bench/keras_vae.py
if [[ $isa == avx2 ]]; then
  target=$root/target/no-avx512
  cargo build --release -p trainer --quiet --manifest-path "$root/Cargo.toml" \
    --no-default-features --features wgpu --target-dir "$target"
  export ONEDNN_MAX_CPU_ISA=AVX2
else
  target=$root/target
  cargo build --release -p trainer --quiet --manifest-path "$root/Cargo.toml"
fi
trainer=$target/release/trainer
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(grep -m1 -o avx512f /proc/cpuinfo || echo 'no avx512f'); measured as: $isa"
export RAYON_NUM_THREADS=2

# The Keras MLP: 784-512-2 encoder, 2-512-784 decoder, ReLU.
ours=()
for _ in 1 2 3; do
  line=$("$trainer" bench --data "$data" --batches 200 --batch 128 --hidden 512 --activation relu)
  echo "burn  mlp: $line"
  if [[ $isa == avx2 && $line == *'"simd":"avx512"'* ]]; then
    echo "bench-vs-keras: the trainer ran AVX-512 kernels in a --no-avx512 run" >&2
    exit 1
  fi
  ours+=("$line")
done
theirs=$("$py" "$keras" --data "$data" --arch mlp --epochs 4 --threads 2)
echo "$theirs" | sed 's/^/keras mlp: /'
"$py" - "$isa" "$theirs" "${ours[@]}" <<'PY'
import json, statistics, sys
isa = sys.argv[1]
lines = [json.loads(l) for l in sys.argv[2].splitlines() if l.startswith("{")]
keras = [l["seconds"] for l in lines if "epoch" in l and l["epoch"] > 1]
burn = [60000 / json.loads(l)["train_images_per_s"] for l in sys.argv[3:]]
k, b = statistics.median(keras), statistics.median(burn)
span = lambda v: f"{min(v):.2f}-{max(v):.2f}"
print(f"mlp ({isa}): burn {b:.2f} s/epoch (median of {len(burn)}: {span(burn)}), "
      f"keras {k:.2f} s/epoch (median of epochs 2-{len(keras) + 1}: {span(keras)}) "
      f"-> burn is {k / b:.2f}x faster")
PY
