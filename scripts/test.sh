#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (model, trainer, shipped-model guard).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
