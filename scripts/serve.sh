#!/usr/bin/env bash
# Builds the wasm module (scripts/build-wasm.sh, which installs what is missing) and serves the page in www/,
# with the shipped models, on http://127.0.0.1:PORT (default 8000) with Python's static file server.
# Usage: scripts/serve.sh [PORT] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
# The service worker's manifest is rewritten either way: its version follows the files being served.
if [ "${2:-}" = "--no-build" ]; then node scripts/cache-manifest.mjs www; else scripts/build-wasm.sh; fi
cd www
port="${1:-8000}"
echo "convscope: http://127.0.0.1:$port/  (embed demo: http://127.0.0.1:$port/embed.html)" >&2
exec python3 -m http.server "$port" --bind 127.0.0.1
