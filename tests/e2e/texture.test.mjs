// End-to-end test of the "Texture & style" panel in headless Chromium (the shared harness of harness.mjs): a
// short texture synthesized in the page (its own worker, step by step) equals, pixel for pixel, what the same
// wasm module computes in Node for the same options and bundled texture; a style transfer of the input and the
// Gram matrix view work; Stop ends a long synthesis at once; the options and the texture live in the URL hash
// and come back from it; list options (size, layers) reach the module as arrays. Screenshots at desktop and
// phone width go to tests/e2e/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { setup, teardown, wasm, modelFiles, screenshots, trainedModel, openPage, ready, www } from './harness.mjs';
import { techniqueOptions, optionFields } from '../../www/js/controls.js';

before(setup);
after(teardown);

const PANEL = '#panel-texture';
const STATUS = `${PANEL} [data-testid="texture-status"]`;
const IMAGE = `${PANEL} [data-testid="texture-image"]`;

/** The RGBA bytes of a canvas. */
async function pixels(page, selector) {
  return page.$eval(selector, (canvas) => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data));
}

/** What the page paints for a `[C, H, W]` result: RGBA bytes, each value clamped to [0, 1] and rounded. */
function expectedPixels({ shape: [channels, height, width], data }) {
  const plane = height * width;
  const byte = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  const out = [];
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out.push(byte(data[(channels === 3 ? c : 0) * plane + i]));
    out.push(255);
  }
  return out;
}

async function openPanel(hash, width = 1280) {
  const opened = await openPage(`index.html${hash}`);
  await opened.page.setViewportSize({ width, height: 900 });
  await ready(opened.page);
  await opened.page.locator(PANEL).scrollIntoViewIfNeeded();
  return opened;
}

const finished = (page, text = 'done') => page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent.includes(t), [STATUS, text], { timeout: 120000 });
/** Gallery image `i` as the page holds it: a Float32Array of 784 raw pixels (bytes / 255). */
function galleryImage(i) {
  const { data } = wasm.decodeIdx(new Uint8Array(readFileSync(path.join(www, 'data/mnist-gallery-images.idx3.gz'))));
  return Float32Array.from(data.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
}
const texture = (name, channels) => wasm.decodeImage(new Uint8Array(readFileSync(path.join(www, `data/textures/${name}.png`))), channels);

test('list options are typed with commas and reach the module as arrays', () => {
  const catalogue = wasm.catalogue();
  const synthesis = catalogue.find((t) => t.id === 'texture');
  const app = { labels: [], layers: [] };
  const fields = optionFields([synthesis], app);
  assert.ok(fields['texture.size'].valid('32, 24') && fields['texture.size'].valid(''));
  assert.ok(!fields['texture.size'].valid('32') && !fields['texture.size'].valid('0,4') && !fields['texture.size'].valid('2000,4'));
  assert.ok(fields['texture.layers'].valid('relu1, pool1') && !fields['texture.layers'].valid('relu1,'));
  assert.deepEqual(techniqueOptions(synthesis, { ...Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.default])), 'texture.size': '32, 24', 'texture.layers': 'random' }).size, [32, 24]);
});

test('a texture synthesized in the page is the Node wasm result, and its options round-trip through the hash', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&tx=texture&txstyle=brick&texture.size=20%2C16&steps=12&seed=3');
  await page.click(`${PANEL} [data-testid="texture-run"]`);
  await finished(page);
  const expected = modelFiles.texture(texture('brick', 3), { size: [20, 16], steps: 12, seed: 3 });
  assert.deepEqual(expected.shape, [3, 20, 16]);
  assert.deepEqual(await pixels(page, IMAGE), expectedPixels(expected));
  assert.match(await page.textContent(STATUS), /style loss/);
  await page.screenshot({ path: path.join(screenshots, 'texture-desktop.png'), fullPage: false });

  // A value typed in goes to the hash; a reload shows it and synthesizes with it.
  const steps = page.locator(`${PANEL} .option[data-key="steps"]`);
  await steps.fill('8');
  await steps.dispatchEvent('change');
  await page.waitForFunction(() => location.hash.includes('steps=8'));
  await page.reload();
  await ready(page);
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  assert.equal(await steps.inputValue(), '8');
  assert.equal(await page.locator(`${PANEL} .option[data-key="texture.size"]`).inputValue(), '20,16');
  assert.equal(await page.locator(`${PANEL} .tx-style`).inputValue(), 'brick');
  await page.click(`${PANEL} [data-testid="texture-run"]`);
  await finished(page);
  const short = modelFiles.texture(texture('brick', 3), { size: [20, 16], steps: 8, seed: 3 });
  assert.deepEqual(await pixels(page, IMAGE), expectedPixels(short));
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('Stop ends a long synthesis at once; a style transfer of the input and the Gram matrix view work', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&sample=3&tx=texture&txstyle=fur&steps=200');
  await page.click(`${PANEL} [data-testid="texture-run"]`);
  await page.waitForFunction((s) => /step \d+ of 200/.test(document.querySelector(s)?.textContent ?? ''), STATUS, { timeout: 120000 });
  await page.click(`${PANEL} [data-testid="texture-stop"]`);
  assert.equal(await page.textContent(STATUS), 'stopped');
  const stopped = await pixels(page, IMAGE);
  await page.waitForTimeout(1500);
  assert.deepEqual(await pixels(page, IMAGE), stopped, 'nothing is painted after Stop');
  assert.equal(await page.textContent(STATUS), 'stopped');

  // Style transfer of the input digit through the model, in the style of a bundled texture's luminance.
  await page.selectOption(`${PANEL} .tx-mode`, 'style-transfer');
  await page.selectOption(`${PANEL} .option[data-key="net"]`, 'model');
  const steps = page.locator(`${PANEL} .option[data-key="steps"]`);
  await steps.fill('10');
  await steps.dispatchEvent('change');
  await page.click(`${PANEL} [data-testid="texture-run"]`);
  await finished(page);
  assert.match(await page.textContent(STATUS), /content error/);
  const transfer = modelFiles.styleTransfer({ shape: [1, 28, 28], data: galleryImage(3) }, texture('fur', 1), { net: 'model', steps: 10 });
  assert.deepEqual(await pixels(page, IMAGE), expectedPixels(transfer));
  // The Gram matrix of relu1 for the input: a 6 × 6 heatmap and the style distance from the texture.
  await page.selectOption(`${PANEL} .tx-mode`, 'gram');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('Gram matrix'), STATUS);
  await page.selectOption(`${PANEL} .option[data-key="gram.layer"]`, 'relu1');
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.startsWith('relu1'), STATUS);
  const distance = Number((await page.textContent(STATUS)).match(/style image ([\d.e+-]+)$/)[1]);
  const reference = modelFiles.gram(galleryImage(3), { layer: 'relu1' }, texture('fur', 1));
  assert.equal(distance.toPrecision(3), reference.styleDistance.toPrecision(3));
  assert.deepEqual(await page.$eval(IMAGE, (c) => [c.width, c.height]), [6, 6]);
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the panel at phone width', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&tx=texture&txstyle=wood&texture.size=24%2C24&steps=20', 390);
  await page.click(`${PANEL} [data-testid="texture-run"]`);
  await finished(page);
  await page.locator(PANEL).screenshot({ path: path.join(screenshots, 'texture-phone.png') });
  const width = await page.$eval(PANEL, (p) => p.scrollWidth <= p.clientWidth + 1);
  assert.ok(width, 'nothing overflows the panel at 390 px');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
