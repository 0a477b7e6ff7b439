#!/usr/bin/env bash
# Serves the page in www/ on http://127.0.0.1:PORT (default 8000) with Python's static file server.
# Build the wasm module first: scripts/test-web.sh does, or `wasm-pack build --target web --out-dir www/pkg`.
# Usage: scripts/serve.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/../www"
if [ ! -f pkg/convscope_bg.wasm ]; then
  echo "serve: www/pkg/ is missing; build it with: wasm-pack build --target web --out-dir www/pkg" >&2
  exit 1
fi
port="${1:-8000}"
echo "convscope: http://127.0.0.1:$port/  (embed demo: http://127.0.0.1:$port/embed.html)" >&2
exec python3 -m http.server "$port" --bind 127.0.0.1
