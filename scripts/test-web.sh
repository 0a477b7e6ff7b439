#!/usr/bin/env bash
# Builds the page's wasm module and runs the web tests:
#   1. scripts/build-wasm.sh (wasm-pack release build with SIMD, then binaryen 132's wasm-opt);
#   2. the wasm-bindgen tests of the JS boundary in Node (tests/web.rs) and in headless Chromium
#      (tests/web_browser.rs, same tests);
#   3. unit tests of the page modules in Node (tests/e2e/units.test.mjs) and the end-to-end page tests in
#      headless Chromium (every other tests/e2e/*.test.mjs, on the shared harness tests/e2e/harness.mjs,
#      playwright-core), one file at a time.
# scripts/setup.sh installs what is missing (the npm tools of tests/e2e included);
# no browser is ever downloaded: the tests drive the system's Chromium and ChromeDriver.
# Usage: scripts/test-web.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

scripts/setup.sh --browser
if [ "${1:-}" != "--no-build" ]; then
  step "build the wasm module into www/pkg"
  scripts/build-wasm.sh
fi

step "wasm-bindgen tests in Node"
wasm-pack test --node -- --test web

step "wasm-bindgen tests in headless Chromium"
# Capabilities for ChromeDriver: headless, and no sandbox (CI runs as root).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/e2e/webdriver.json"
wasm-pack test --headless --chrome -- --test web_browser

step "page module unit tests and end-to-end page test (tests/e2e)"
(cd tests/e2e && node --test --test-concurrency=1 ./*.test.mjs)
