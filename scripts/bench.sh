#!/usr/bin/env bash
# Benchmarks: builds the release wasm into www/pkg and runs bench/wasm.mjs (Node, 1 thread), then the native
# harness (cargo bench --bench native). Results are quoted in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
wasm-pack build --release --target web --out-dir www/pkg
node bench/wasm.mjs "$@"
cargo bench --bench native -- "$@"
