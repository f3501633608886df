# Sourced by the scripts that drive a built page in headless Chromium (bench-first-load.sh,
# soak.sh): sets `root` (this checkout) and `site` (the first argument, another built checkout,
# or this one, built here), and installs the end-to-end tests' node modules. The caller runs
# in `root`.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
site=${1:-$root}
[ "$site" = "$root" ] && bash scripts/build-web.sh
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
