#!/usr/bin/env bash
# Runs every test of convscope on a fresh machine, installing what is missing first (scripts/setup.sh):
# formatting, the size limits (scripts/check-sizes.py), lints (native and wasm32), the native unit and
# integration tests (layers, network, parsers, deconvnet, attribution, monitor, shipped model accuracy), then
# the wasm build, the wasm-bindgen tests in Node and headless Chromium, and the end-to-end page test
# (scripts/test-web.sh); last, the shipped MNIST model is retrained at HEAD from the command its manifest
# records and must reach its t10k accuracy within 0.1 point (scripts/reproduce-models.sh --head; fetches the
# training data first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "setup"
scripts/setup.sh --browser

step "cargo fmt --check"
cargo fmt --check

step "size limits (scripts/check-sizes.py: Rust functions in src/ <= 80 lines, panel factories <= 120)"
python3 scripts/check-sizes.py

step "cargo clippy (native and wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

step "native tests"
cargo test --all-targets

step "wasm build, wasm-bindgen tests, page tests"
scripts/test-web.sh

step "the shipped MNIST model retrained at HEAD"
scripts/reproduce-models.sh --head lenet5-mnist
