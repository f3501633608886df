#!/usr/bin/env bash
# Builds the wasm (installing the tools it needs when they are missing) and serves the page.
#   scripts/serve.sh [PORT]      (default 8000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-8000}
bash "$root/scripts/build-web.sh"
echo
echo "Latent Canvas: http://localhost:$port/"
echo
cd "$root" && exec python3 -m http.server "$port" --bind 127.0.0.1
