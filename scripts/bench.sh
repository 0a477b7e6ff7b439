#!/usr/bin/env bash
# Benchmarks: builds the release wasm into www/pkg and runs bench/wasm.mjs (Node, 1 thread), then the native
# harness (cargo bench --bench native). Results are quoted in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-wasm.sh
node bench/wasm.mjs "$@"
node bench/dataset-wasm.mjs "$@"
# A target directory of its own: sharing target/release with LTO release builds of the cdylib can leave the
# benchmark linking against a bitcode-only copy of the library.
CARGO_TARGET_DIR=target/bench cargo bench --bench native -- "$@"
