#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with cargo-fuzz (libFuzzer, nightly): the IDX reader
# (images, labels), the model card, the weights loader, the latents reader and the drawing
# preprocessing. Each target runs SECONDS (default 600) from the seeds in fuzz/corpus/; a crash
# is saved under fuzz/artifacts/ — copy it to fuzz/regressions/<target>/ so that the test
# command's short run (crates/vae-fuzz) replays it for ever.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} = 0 ] && targets=(idx_images idx_labels card weights latents preprocess)
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# The corpus starts from the short run's seeds (valid files of each kind).
WRITE_FUZZ_SEEDS=1 cargo test -q -p vae-fuzz --test short_run >/dev/null
cargo +nightly fuzz build --fuzz-dir fuzz -O
for t in "${targets[@]}"; do
  echo "== $t ($seconds s)"
  # -rss_limit_mb: an input that makes a parser allocate without bound is a failure.
  cargo +nightly fuzz run --fuzz-dir fuzz -O "$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|Done )" || true
done
