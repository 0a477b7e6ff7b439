#!/usr/bin/env bash
# Builds the release wasm module and its JS glue into www/pkg (or OUT_DIR), installing what is missing:
#   1. wasm-pack build --release --target web (wasm-pack's own wasm-opt step is off in Cargo.toml: Debian's
#      binaryen 108 corrupts the externref table wasm-bindgen 0.2.130 exports, so a plain `wasm-pack build`
#      gives a working, unoptimised module wherever it runs);
#   2. wasm-opt -O3 from binaryen 132 (npm package `binaryen`, installed with the page tests' npm tools);
#   3. www/pkg/cache-manifest.js (scripts/cache-manifest.mjs): the service worker's file list and the build's
#      version, a hash of every shipped file, so a new deploy replaces the offline copy.
# Usage: scripts/build-wasm.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
out="${1:-www/pkg}"

scripts/setup.sh
wasm-pack build --release --target web --out-dir "$out"
wasm="$out/convscope_bg.wasm"
before=$(wc -c < "$wasm")
tests/e2e/node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue "$wasm" -o "$wasm"
echo "build-wasm: $wasm $before → $(wc -c < "$wasm") bytes ($(gzip -9c "$wasm" | wc -c) gzipped)" >&2
if [ "$out" = www/pkg ]; then node scripts/cache-manifest.mjs www; fi
