#!/usr/bin/env bash
# Builds the page's wasm module and runs the web tests:
#   1. wasm-pack build --target web --out-dir www/pkg (release, SIMD; see .cargo/config.toml);
#   2. the wasm-bindgen tests of the JS boundary in Node (tests/web.rs) and in headless Chromium
#      (tests/web_browser.rs, same tests);
#   3. unit tests of the page modules in Node (tests/e2e/units.test.mjs) and the end-to-end page test in
#      headless Chromium (tests/e2e/page.test.mjs, playwright-core).
# The npm tools of tests/e2e (playwright-core, binaryen's wasm-opt) are installed with `npm ci` when missing;
# no browser is ever downloaded: the tests drive the system's Chromium and ChromeDriver.
# Usage: scripts/test-web.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

if [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/binaryen ]; then
  step "npm ci (tests/e2e)"
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
# wasm-pack runs the first wasm-opt on PATH: binaryen 132 from npm, not Debian's 108, which mis-numbers the
# externref table that wasm-bindgen 0.2.130 exports (the page then fails with "WebAssembly.Table.set(): ...").
export PATH="$PWD/tests/e2e/node_modules/.bin:$PATH"

if [ "${1:-}" != "--no-build" ]; then
  step "wasm-pack build --target web --out-dir www/pkg"
  wasm-pack build --target web --out-dir www/pkg
fi

step "wasm-bindgen tests in Node"
wasm-pack test --node -- --test web

step "wasm-bindgen tests in headless Chromium"
# Capabilities for ChromeDriver: headless, and no sandbox (CI runs as root).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/e2e/webdriver.json"
wasm-pack test --headless --chrome -- --test web_browser

step "page module unit tests and end-to-end page test (tests/e2e)"
(cd tests/e2e && node --test units.test.mjs page.test.mjs)
