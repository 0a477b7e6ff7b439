#!/usr/bin/env node
// Writes www/pkg/cache-manifest.js, what the service worker (www/sw.js) caches for offline use: the app shell
// (every page, script, stylesheet and the wasm module; the models and sample sets are cached when the user
// opens them) and a version, the SHA-256 of every shipped file's path and bytes. A new deploy changes the
// version, so the browser installs the new worker, which fills a new cache and deletes the old one.
// Run by scripts/build-wasm.sh (and the e2e harness); usage: node scripts/cache-manifest.mjs [WWW_DIR]

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFEST = 'pkg/cache-manifest.js';
/** Not shipped: wasm-pack's package files (and this manifest). */
const SKIP = new Set([MANIFEST, 'pkg/.gitignore', 'pkg/package.json', 'pkg/README.md', 'pkg/LICENSE']);
/** Not in the shell: the worker's own script (the browser keeps it), and what is cached when opened. */
const NOT_SHELL = /^(sw\.js$|models\/|data\/)/;

function walk(root, dir = '') {
  return readdirSync(path.join(root, dir))
    .sort()
    .flatMap((name) => {
      const file = path.posix.join(dir, name);
      return statSync(path.join(root, file)).isDirectory() ? walk(root, file) : [file];
    });
}

/** `{ version, shell, bytes }` of the site in `www`; `version` can be forced (tests simulating a deploy). */
export function cacheManifest(www, { version = null } = {}) {
  const files = walk(www).filter((file) => !SKIP.has(file) && !file.endsWith('.d.ts'));
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(path.join(www, file))).update('\0');
  const shell = files.filter((file) => !NOT_SHELL.test(file));
  const bytes = shell.reduce((sum, file) => sum + statSync(path.join(www, file)).size, 0);
  return { version: version ?? hash.digest('hex').slice(0, 16), shell: ['./', ...shell], bytes };
}

/** Writes `www/pkg/cache-manifest.js`; returns the manifest. */
export function writeCacheManifest(www, options) {
  const manifest = cacheManifest(www, options);
  const text =
    `// Written by scripts/cache-manifest.mjs: what www/sw.js caches (the shell, ${manifest.bytes} bytes) and its version.\n` +
    `self.CONVSCOPE_CACHE = ${JSON.stringify({ version: manifest.version, shell: manifest.shell }, null, 1)};\n`;
  writeFileSync(path.join(www, MANIFEST), text);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const www = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../www'));
  const { version, shell, bytes } = writeCacheManifest(www);
  console.error(`cache-manifest: ${MANIFEST} version ${version}, ${shell.length} shell files, ${bytes} bytes`);
}
