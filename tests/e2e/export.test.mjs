// Exports (issue 14, scope 6): a panel's PNG at a chosen scale, wide enough for its caption and legend; its
// numbers as JSON in the CLI's `--json` shape; and the CLI command that reproduces the view. The command the
// page shows is run through the CLI (`cargo run --bin convscope`, from the repository's root) and must print
// the numbers the page downloads: for a test image (attribution, integrated gradients) and for a drawing
// (prediction, with the drawing saved by the page as the command asks).
//
// Run: `cd tests/e2e && node --test export.test.mjs` after scripts/build-wasm.sh (cargo builds the CLI).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setup, teardown, repo, openAttribution, attributionShown, openPage, ready, draw, settle } from './harness.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'convscope-export-'));
before(setup);
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await teardown();
});

/** Clicks `selector` and saves the download it starts into the temporary folder; returns its path. */
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const target = path.join(dir, file.suggestedFilename());
  await file.saveAs(target);
  return target;
}

/** The command the panel shows under its CLI button, split into words (the page quotes none of these). */
async function shownCommand(page, panel) {
  await page.click(`#panel-${panel} button[aria-label^="The convscope command"]`);
  const text = await page.textContent(`[data-testid="command-${panel}"] .command-text`);
  assert.ok(!/['"]/.test(text), `no quoting needed: ${text}`);
  return text.split(' ');
}

/** Runs a shown command (its first word `convscope`) through the CLI from the repository root; parsed JSON. */
function runCli(words, replace = {}) {
  assert.equal(words[0], 'convscope');
  const args = words.slice(1).map((word) => replace[word] ?? word);
  const out = execFileSync(process.env.CARGO ?? 'cargo', ['run', '--quiet', '--bin', 'convscope', '--', ...args], { cwd: repo, encoding: 'utf8' });
  return JSON.parse(out);
}

/** Whether two lists hold the same float32 values (−0 and 0 alike: JSON writes −0 as 0). */
const sameF32 = (a, b) => a.length === b.length && a.every((v, i) => Math.fround(v) === Math.fround(b[i]));

/** Width and height of a PNG file (its IHDR chunk). */
function pngSize(file) {
  const bytes = readFileSync(file);
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test('the attribution panel exports a scaled PNG, its JSON, and a command the CLI reproduces exactly', async () => {
  const { page, problems } = await openAttribution('#sample=5&method=integrated-gradients');
  await attributionShown(page, 'integrated-gradients');
  const words = await shownCommand(page, 'attribution');
  assert.deepEqual(words.slice(0, 8), ['convscope', 'attribute', '--model', 'www/models/lenet5-mnist.json', '--idx', 'www/data/mnist-gallery-images.idx3.gz', '--index', '5']);
  const cli = runCli(words);
  const shown = JSON.parse(readFileSync(await download(page, '#panel-attribution button[aria-label^="Download the numbers"]'), 'utf8'));
  for (const key of ['method', 'target', 'output', 'signed', 'shape']) assert.deepEqual(shown[key], cli[key], key);
  for (const key of ['score', 'completeness_gap', 'baseline_score']) assert.equal(shown[key], cli[key], key);
  assert.equal(shown.data.length, 784);
  assert.ok(sameF32(shown.data, cli.data), 'the page and the CLI give the same map, value for value');

  // PNG: at 1× as wide as its caption and legend; at 2× exactly twice the size.
  await page.selectOption('#panel-attribution .export-scale', '1');
  const one = pngSize(await download(page, '#panel-attribution button[aria-label$="as a PNG image"]'));
  await page.selectOption('#panel-attribution .export-scale', '2');
  const two = pngSize(await download(page, '#panel-attribution button[aria-label$="as a PNG image"]'));
  assert.deepEqual(two, [one[0] * 2, one[1] * 2]);
  const caption = await page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    return ctx.measureText(document.querySelector('#panel-attribution .attribution-caption').textContent).width;
  });
  assert.ok(one[0] >= caption + 48, `the 1× PNG (${one[0]} px) holds the caption (${Math.ceil(caption)} px) and its margins`);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('a drawing: the prediction command reads the drawing the page saves and prints the page\'s numbers', async (t) => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await page.click('[data-testid="clear"]');
  await draw(page, [[[0.3, 0.25], [0.7, 0.25], [0.5, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  await settle(page);
  await page.locator('#panel-prediction').scrollIntoViewIfNeeded();
  const words = await shownCommand(page, 'prediction');
  assert.deepEqual(words, ['convscope', 'predict', '--model', 'www/models/lenet5-mnist.json', '--image', 'convscope-input.png', '--json']);
  const saved = await download(page, '[data-testid="command-prediction"] button:has-text("Save convscope-input.png")');
  const cli = runCli(words, { 'convscope-input.png': saved });
  const shown = JSON.parse(readFileSync(await download(page, '#panel-prediction button[aria-label^="Download the numbers"]'), 'utf8'));
  assert.equal(shown.label, cli.label);
  assert.ok(sameF32(shown.logits, cli.logits), `the CLI, preprocessing the saved drawing, gives the page's logits: ${shown.logits} vs ${cli.logits}`);
  // The softmax's exp is the platform's (glibc natively, Rust's libm in wasm): probabilities may differ in
  // their last bits, never more than 1e-6 relative.
  const worst = Math.max(...shown.probs.map((p, k) => Math.abs(p - cli.probs[k]) / Math.max(cli.probs[k], 1e-30)));
  t.diagnostic(`probabilities: largest relative difference page vs CLI ${worst}`);
  assert.ok(worst <= 1e-6, `probabilities agree to ${worst} relative`);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});
