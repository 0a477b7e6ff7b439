// Exports (issue 14, scope 6): a panel's PNG at a chosen scale, wide enough for its caption and legend; its
// numbers as JSON in the CLI's `--json` shape; and the CLI command that reproduces the view. The command the
// page shows is run through the CLI (`cargo run --bin convscope`, from the repository's root) and must print
// the numbers the page downloads: for a test image (attribution, integrated gradients; deconvnet, one unit
// and all 22; filters; runtime monitor) and for a drawing (prediction, with the drawing saved by the page as
// the command asks). The PNGs of the other panels are decoded: slide-sized, their title and colour scale drawn,
// the filters compact (not a 688×1484 page of background), the input scaled up.
//
// Run: `cd tests/e2e && node --test export.test.mjs` after scripts/build-wasm.sh (cargo builds the CLI).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inflateSync } from 'node:zlib';
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

/** The pixels of an 8-bit RGBA PNG (what canvas.toBlob writes): `{ width, height, rgba }`. */
function decodePng(file) {
  const bytes = readFileSync(file);
  const [width, height] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  assert.deepEqual([bytes[24], bytes[25]], [8, 6], 'an 8-bit RGBA PNG');
  const idat = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const rgba = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      rgba[y * stride + x] = (v + [0, a, b, (a + b) >> 1, paeth][filter]) & 255;
    }
  }
  return { width, height, rgba };
}

/** Fraction of the pixels of rows [top, bottom) that differ from the PNG's top-left (background) pixel. */
function inked({ width, rgba }, top, bottom) {
  let n = 0;
  for (let i = top * width * 4; i < bottom * width * 4; i += 4) if (rgba[i] !== rgba[0] || rgba[i + 1] !== rgba[1] || rgba[i + 2] !== rgba[2]) n++;
  return n / ((bottom - top) * width);
}

/** The distinct colours of rows [top, bottom) of a PNG. */
function colours({ width, rgba }, top, bottom) {
  const seen = new Set();
  for (let i = top * width * 4; i < bottom * width * 4; i += 4) seen.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return seen.size;
}

/** Downloads panel `id`'s PNG at 1× and decodes it. */
async function panelPng(page, id) {
  await page.locator(`#panel-${id}`).scrollIntoViewIfNeeded();
  await settle(page);
  await page.selectOption(`#panel-${id} .export-scale`, '1');
  return decodePng(await download(page, `#panel-${id} button[aria-label$="as a PNG image"]`));
}

/** Downloads panel `id`'s JSON. */
async function panelJson(page, id) {
  return JSON.parse(readFileSync(await download(page, `#panel-${id} button[aria-label^="Download the numbers"]`), 'utf8'));
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

test('the deconvnet, filters, monitor and input panels export slide-ready PNGs and JSON the CLI reproduces', async () => {
  const { page, problems } = await openPage('index.html#sample=5&dlayer=conv2&dchannel=3&unit=max');
  await ready(page);

  // Deconvnet, the strongest unit of conv2 channel 3: the command's JSON is the page's, value for value.
  await page.locator('#panel-deconv').scrollIntoViewIfNeeded();
  await settle(page);
  const one = await panelJson(page, 'deconv');
  const cli = runCli(await shownCommand(page, 'deconv'));
  assert.deepEqual([one.shape, one.strength, one.position], [cli.shape, cli.strength, cli.position]);
  assert.ok(sameF32(one.data, cli.data), 'the page and the CLI give the same reconstruction');
  const deconvPng = await panelPng(page, 'deconv');
  assert.ok(deconvPng.width >= 400 && deconvPng.height >= 250, `deconvnet PNG ${deconvPng.width}×${deconvPng.height}`);
  assert.ok(inked(deconvPng, 24, 48) > 0.01, 'the title line is drawn');
  assert.ok(colours(deconvPng, deconvPng.height - 64, deconvPng.height - 24) > 16, 'the colour scale is drawn at the bottom');
  // All 22: the --all command, and its 22 reconstructions.
  await page.click('#panel-deconv .toggle-all');
  await settle(page);
  assert.equal(await page.textContent('#panel-deconv .toggle-all'), 'Hide the 22');
  const all = await panelJson(page, 'deconv');
  const cliAll = runCli(await shownCommand(page, 'deconv'));
  assert.equal(all.length, 22);
  assert.deepEqual(all.map((r) => [r.layer, r.channel, r.strength]), cliAll.map((r) => [r.layer, r.channel, r.strength]));
  assert.ok(all.every((r, i) => sameF32(r.data, cliAll[i].data)), 'every reconstruction agrees');

  // Filters: both banks' weights as `filters --json` prints them; a compact PNG with a scale per bank.
  const filters = await panelJson(page, 'filters');
  await page.click('#panel-filters button[aria-label^="The convscope command"]');
  const text = await page.textContent('[data-testid="command-filters"] .command-text');
  const lines = text.split(' && ').map((command) => runCli(command.split(' ')));
  assert.deepEqual(filters.map((f) => [f.layer, f.shape]), lines.map((f) => [f.layer, f.shape]));
  assert.ok(filters.every((f, i) => sameF32(f.data, lines[i].data)), 'the page and the CLI give the same weights');
  const filtersPng = await panelPng(page, 'filters');
  assert.ok(filtersPng.width <= 900 && filtersPng.height <= 800, `filters PNG ${filtersPng.width}×${filtersPng.height} (was 688×1484)`);
  assert.ok(inked(filtersPng, 0, filtersPng.height) > 0.3, `the filters PNG is mostly kernels and scales, ${(100 * inked(filtersPng, 0, filtersPng.height)).toFixed(0)} % drawn`);

  // Monitor: `monitor check --json`'s line.
  await page.locator('#panel-monitor').scrollIntoViewIfNeeded();
  await settle(page);
  const monitor = await panelJson(page, 'monitor');
  assert.deepEqual(monitor, runCli(await shownCommand(page, 'monitor')));
  const monitorPng = await panelPng(page, 'monitor');
  assert.ok(monitorPng.width >= 400 && inked(monitorPng, 24, 48) > 0.01, `monitor PNG ${monitorPng.width}×${monitorPng.height}`);

  // Input: scaled up without smoothing (no longer 28×28), titled, with its scale; the JSON is the model input.
  const inputPng = await panelPng(page, 'input');
  assert.ok(inputPng.width >= 280 + 48 && inputPng.height >= 280 + 60, `input PNG ${inputPng.width}×${inputPng.height}`);
  assert.ok(inked(inputPng, 24, 48) > 0.01, 'the title line is drawn');
  const input = await panelJson(page, 'input');
  assert.deepEqual(input.shape, [1, 28, 28]);
  const expected = await page.evaluate(async () => Array.from((await import('./js/main.js')).viewer.app.gallery.image(5)));
  assert.ok(sameF32(input.data, expected), 'the input JSON is test image 5');
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('the layer explorer exports the shown layer as `activations --layer NAME --json` prints it', async () => {
  const { page, problems } = await openPage('index.html#sample=5&layer=5');
  await ready(page);
  await page.locator('#panel-layers').scrollIntoViewIfNeeded();
  await settle(page);
  for (const [number, name, shape] of [[5, 'relu2', [16, 10, 10]], [12, 'fc3', [10]]]) {
    if (number !== 5) {
      await page.click(`#panel-layers .layer-chip[data-layer="${number}"]`);
      await settle(page);
    }
    const words = await shownCommand(page, 'layers');
    assert.deepEqual(words, ['convscope', 'activations', '--model', 'www/models/lenet5-mnist.json', '--idx', 'www/data/mnist-gallery-images.idx3.gz', '--index', '5', '--layer', name, '--json']);
    const shown = await panelJson(page, 'layers');
    const cli = runCli(words);
    assert.deepEqual([shown.layer, shown.shape], [name, shape]);
    assert.deepEqual([cli.layer, cli.shape], [name, shape]);
    assert.ok(sameF32(shown.data, cli.data), `${name}: the page and the CLI give the same values`);
    // The JSON holds what the page paints: the wasm's activations of that layer for test image 5.
    const painted = await page.evaluate(async (n) => Array.from((await import('./js/main.js')).viewer.app.activation(n).data), number);
    assert.ok(sameF32(shown.data, painted), `${name}: the JSON is the layer's activations`);
    await page.click('#panel-layers button[aria-label^="The convscope command"]'); // closes the command box
    await page.waitForSelector('[data-testid="command-layers"]', { state: 'hidden' });
  }
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('the prediction PNG shows the input beside the bars, pixel for pixel', async () => {
  const { page, problems } = await openPage('index.html#sample=5');
  await ready(page);
  const png = await panelPng(page, 'prediction');
  const { box, pixels } = await page.evaluate(async () => {
    const { app } = (await import('./js/main.js')).viewer;
    const { SNAPSHOT_INPUT } = await import('./js/panels/prediction.js');
    const { paintMap } = await import('./js/render.js');
    const canvas = paintMap(document.createElement('canvas'), app.image, { height: 28, width: 28, colormap: 'gray', range: [0, 1] });
    return { box: SNAPSHOT_INPUT, pixels: Array.from(canvas.getContext('2d').getImageData(0, 0, 28, 28).data) };
  });
  assert.ok(png.width >= box.x + 28 * box.zoom && png.height >= box.y + 28 * box.zoom, `prediction PNG ${png.width}×${png.height} holds the input`);
  let worst = 0;
  let inked = 0;
  for (let row = 0; row < 28; row++) {
    for (let column = 0; column < 28; column++) {
      for (const [dy, dx] of [[0, 0], [box.zoom - 1, box.zoom - 1], [box.zoom >> 1, box.zoom >> 1]]) {
        const at = ((box.y + row * box.zoom + dy) * png.width + box.x + column * box.zoom + dx) * 4;
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(png.rgba[at + c] - pixels[(row * 28 + column) * 4 + c]));
      }
      if (pixels[(row * 28 + column) * 4] > 128) inked++;
    }
  }
  assert.ok(inked > 20, `test image 5 has ink (${inked} bright pixels)`);
  assert.ok(worst <= 1, `every input pixel is a ${box.zoom}×${box.zoom} square of its grey (largest difference ${worst})`);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});
