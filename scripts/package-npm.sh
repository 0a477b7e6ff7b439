#!/usr/bin/env bash
# Builds the npm package of the wasm module in pkg/: scripts/build-wasm.sh, then the metadata of
# pkg-config/package.json (name, description, files, keywords, licence, repository, ...) merged over the
# package.json wasm-pack wrote (which keeps the version from Cargo.toml), plus README.md and LICENSE.
# Publish with: (cd pkg && npm publish)
# Usage: scripts/package-npm.sh [OUT_DIR]   (default: pkg)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
out="${1:-pkg}"

scripts/build-wasm.sh "$out"

node --input-type=module - "$out/package.json" pkg-config/package.json <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
const [built, config] = process.argv.slice(2);
const merged = { ...JSON.parse(readFileSync(built, 'utf8')), ...JSON.parse(readFileSync(config, 'utf8')) };
writeFileSync(built, `${JSON.stringify(merged, null, 2)}\n`);
console.log(`${merged.name}@${merged.version}: ${merged.files.join(', ')}`);
JS
for file in README.md LICENSE; do
  [ -f "$file" ] && cp "$file" "$out/"
done
rm -f "$out/.gitignore"
(cd "$out" && npm pack --dry-run --loglevel=warn)
