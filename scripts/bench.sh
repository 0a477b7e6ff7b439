#!/usr/bin/env bash
# Benchmarks: builds the release wasm into www/pkg and runs bench/wasm.mjs (Node, 1 thread), the dataset views'
# feature visualization's and the response map's wasm figures (bench/dataset-wasm.mjs, bench/featureviz-wasm.mjs,
# bench/nrm-wasm.mjs), bench/draw.mjs
# (the page's drawing in headless Chromium), then the PyTorch
# eager peer of bench/wasm.mjs, bench/pytorch.py (same methods, model, input and timing; when /usr/bin/python3 has torch), then the
# native harness (cargo bench --bench native). Results are quoted in bench/README.md; on the shared VM compare
# convscope and its peer only within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-wasm.sh
node bench/wasm.mjs "$@"
node bench/dataset-wasm.mjs "$@"
node bench/featureviz-wasm.mjs "$@"
node bench/nrm-wasm.mjs "$@"
node bench/draw.mjs # the page's main thread per pointer event, headless Chromium (issue 14)
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 bench/pytorch.py "$@"
fi
# A target directory of its own: sharing target/release with LTO release builds of the cdylib can leave the
# benchmark linking against a bitcode-only copy of the library.
CARGO_TARGET_DIR=target/bench cargo bench --bench native -- "$@"
