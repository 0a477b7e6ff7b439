#!/usr/bin/env bash
# Installs what building and testing convscope needs, and only what is missing:
#   the wasm32 Rust target, wasm-pack, wasm-bindgen-cli at the version Cargo.lock pins, Chromium and its
#   driver (Debian packages), and the npm packages of the page tests (playwright-core, binaryen's wasm-opt).
# Usage: scripts/setup.sh [--browser]   (--browser also installs Chromium and ChromeDriver, for the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (matches Cargo.lock; ~2 min)"
  # --locked can fail when a locked dependency was yanked from the index; the unlocked build is the fallback.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked --force ||
    cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (~3 min)"
  cargo install wasm-pack --version 0.15.1 --locked
fi

apt_missing=()

if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null || apt_missing+=(chromium)
  command -v chromedriver >/dev/null || apt_missing+=(chromium-driver)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/binaryen ]; then
  say "installing the npm tools of tests/e2e (binaryen's wasm-opt, playwright-core; no browser download)"
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
