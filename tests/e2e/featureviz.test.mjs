// End-to-end test of the feature-visualization panel in headless Chromium (the shared harness of
// harness.mjs): the class image the page draws equals, pixel for pixel, what the same wasm module computes in
// Node for the same options and seed; the run happens in the worker with progress and can be stopped; the
// options live in the URL hash and come back from it; the atlas fills cell by cell; a feature map clicked in
// another panel is visualized; an atlas runs on the panel's own lane (a redraw does not restart it, the
// attribution panel computes meanwhile without cancelling it); with "Visualize what I click" on, an fc unit
// clicked (or picked by keyboard) in the layer explorer and a class bar of the prediction panel start a run of
// their objective; DeepDream of a drawing changes it and is the Node result; the inversion strip gives one
// image per layer, the pool1 one close to the input. Screenshots of the panel at desktop and phone width go to
// tests/e2e/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, modelFiles, manifest, screenshots, trainedModel, openPage, ready, settle, attributionShown, draw } from './harness.mjs';

before(setup);
after(teardown);

const STATUS = '#panel-featureviz [data-testid="featureviz-status"]';

/** The gray pixels (red channel) of a canvas. */
async function grayPixels(page, selector) {
  return page.$eval(selector, (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return Array.from({ length: data.length / 4 }, (_, i) => data[i * 4]);
  });
}

async function openPanel(hash, width = 1280) {
  const opened = await openPage(`index.html${hash}`);
  await opened.page.setViewportSize({ width, height: 900 });
  await ready(opened.page);
  await opened.page.locator('#panel-featureviz').scrollIntoViewIfNeeded();
  return opened;
}

const done = (page, timeout = 60000) => page.waitForFunction((selector) => document.querySelector(selector)?.textContent.includes('done'), STATUS, { timeout });

/** The gray canvas values a picture `{ data }` in [0, 1] paints. */
const painted = (data) => Array.from(data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

/** The objective the URL hash asks the panel to visualize (null when it names none). */
const hashObjective = (page) => page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('visualize.objective'));

/** Waits until the hash asks for `objective` (and the visualize technique), then for the run to finish there. */
async function visualized(page, objective) {
  await page.waitForFunction((wanted) => {
    const hash = new URLSearchParams(location.hash.slice(1));
    return hash.get('visualize.objective') === wanted && (hash.get('fv') ?? 'visualize') === 'visualize';
  }, objective);
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded();
  await page.waitForFunction(([selector, wanted]) => document.querySelector(selector)?.textContent.startsWith(`${wanted} · done`), [STATUS, objective], { timeout: 60000 });
  const drawn = await grayPixels(page, '#panel-featureviz [data-testid="featureviz-image"]');
  assert.deepEqual(drawn, painted(modelFiles.visualize({ objective }).images[0].data), `the page's ${objective} is the Node result`);
}

/** The page's current input (raw pixels in [0, 1]). */
const inputOf = (page) => page.evaluate(async () => Array.from((await import('./js/main.js')).viewer.app.image));

/** Pearson correlation of two equally long arrays. */
function correlation(a, b) {
  const mean = (x) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [ab, aa, bb] = [0, 0, 0];
  a.forEach((v, i) => ((ab += (v - ma) * (b[i] - mb)), (aa += (v - ma) ** 2), (bb += (b[i] - mb) ** 2)));
  return ab / Math.sqrt(aa * bb);
}

/** A seven, drawn with the mouse. */
const SEVEN = [[[0.25, 0.25], [0.72, 0.25], [0.45, 0.8]]];

/** Draws the seven, then picks `technique` in the panel (so its run starts on the drawing); the drawn input. */
async function drawThenRun(page, technique) {
  await page.locator('[data-testid="draw-canvas"]').scrollIntoViewIfNeeded();
  await draw(page, SEVEN);
  const input = await inputOf(page);
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded();
  await page.selectOption('#panel-featureviz .fv-mode', technique);
  return input;
}

test('the class image drawn in the page is the Node wasm result, and the options round-trip through the hash', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=visualize&visualize.objective=class%3A3&visualize.seed=5');
  await done(page);
  const drawn = await grayPixels(page, '#panel-featureviz [data-testid="featureviz-image"]');
  const expected = modelFiles.visualize({ objective: 'class:3', seed: 5 }).images[0];
  assert.deepEqual(drawn, Array.from(expected.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
  assert.ok(modelFiles.predict(expected.data).probs[3] >= 0.99);
  await page.locator('#panel-featureviz').screenshot({ path: path.join(screenshots, 'featureviz-desktop.png') });

  // An option typed in goes to the hash; a reload shows it and computes with it.
  const steps = page.locator('#panel-featureviz .option[data-key="visualize.steps"]');
  await steps.fill('40');
  await steps.dispatchEvent('change');
  await page.waitForFunction(() => location.hash.includes('visualize.steps=40'));
  await done(page);
  await page.reload();
  await ready(page);
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded();
  assert.equal(await steps.inputValue(), '40');
  await done(page);
  const again = await grayPixels(page, '#panel-featureviz [data-testid="featureviz-image"]');
  const short = modelFiles.visualize({ objective: 'class:3', seed: 5, steps: 40 }).images[0];
  assert.deepEqual(again, Array.from(short.data, (v) => Math.round(v * 255)));
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('an atlas fills in cell by cell and Stop cancels it', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=atlas&atlas.layer=conv2');
  const cells = '#panel-featureviz .fv-cell';
  await page.waitForFunction((s) => document.querySelectorAll(`${s}.filled`).length >= 2, cells, { timeout: 60000 });
  await page.click('#panel-featureviz [data-testid="featureviz-stop"]');
  await settle(page);
  const stopped = await page.locator(`${cells}.filled`).count();
  assert.ok(stopped >= 2 && stopped < 16, `${stopped} cells when stopped`);
  await page.waitForTimeout(1500);
  assert.equal(await page.locator(`${cells}.filled`).count(), stopped, 'no cell after Stop');
  // The worker is free again: with "follow" on, a feature map clicked in the layer explorer is visualized.
  await page.locator('#panel-featureviz .fv-follow').check();
  // That redraw (a view change) does not start the stopped atlas again.
  await settle(page);
  await page.waitForTimeout(500);
  assert.equal(await page.locator(`${cells}.filled`).count(), stopped, 'no cell after the redraw');
  assert.match(await page.textContent(STATUS), /^Atlas of conv2 · stopped$/);
  await page.locator('#panel-layers [data-testid="feature-map"]').first().click();
  await page.waitForFunction(() => !location.hash.includes('fv=atlas'));
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded(); // panels draw only while on screen
  await page.waitForFunction(() => document.querySelector('#panel-featureviz .option[data-key="visualize.objective"]'));
  await done(page);
  assert.match(await page.locator('#panel-featureviz .option[data-key="visualize.objective"]').inputValue(), /^\w+:0$/);
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('an atlas runs on its own lane: a redraw leaves it running, the attribution panel computes meanwhile', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=atlas&atlas.layer=conv2');
  const cells = '#panel-featureviz .fv-cell';
  const filled = () => page.locator(`${cells}.filled`).count();
  const progress = () => page.$eval('#panel-featureviz .fv-progress', (bar) => bar.value);
  await page.waitForFunction((s) => document.querySelectorAll(`${s}.filled`).length >= 3, cells, { timeout: 60000 });
  // A change of another panel's view redraws this one: the same atlas is asked for again and goes on (a
  // restart would bring its progress back to the first cell).
  const before = await progress();
  await page.evaluate(async () => {
    const { viewer } = await import('./js/main.js');
    viewer.app.setView({ opacity: 40 });
  });
  await settle(page);
  await page.waitForTimeout(300);
  assert.ok((await progress()) >= before, `progress ${await progress()} after the redraw, ${before} before`);
  // The attribution panel computes on its lane while the atlas runs, and does not cancel it.
  await page.locator('#panel-attribution').scrollIntoViewIfNeeded();
  await page.selectOption('#panel-attribution .method', 'occlusion');
  await attributionShown(page, 'occlusion');
  const meanwhile = await filled();
  assert.ok(meanwhile < 16, 'the atlas was still running when the occlusion map arrived');
  // ... and is still running now, off screen (a cancelled one would stand still until its panel redraws).
  const then = await progress();
  await page.waitForFunction((value) => document.querySelector('#panel-featureviz .fv-progress').value > value, then, { timeout: 5000 });
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded();
  await done(page);
  assert.equal(await filled(), 16);
  await page.locator('#panel-featureviz').screenshot({ path: path.join(screenshots, 'featureviz-atlas-desktop.png') });
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the panel at phone width, with the class atlas', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=atlas&atlas.steps=32', 390);
  await done(page);
  assert.equal(await page.locator('#panel-featureviz .fv-cell.filled').count(), 10);
  await page.locator('#panel-featureviz').screenshot({ path: path.join(screenshots, 'featureviz-phone.png') });
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('an fc unit clicked or picked by keyboard in the layer explorer is visualized', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fvfollow=1&layer=8'); // layer 8: fc1, 120 units in 11 × 11
  const layers = page.locator('#panel-layers');
  await layers.scrollIntoViewIfNeeded();
  const canvas = layers.locator('.vector-tile canvas');
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  // The centre of row 2, column 3 of the grid: unit 2 · 11 + 3 = 25.
  await canvas.click({ position: { x: (3.5 / 11) * box.width, y: (2.5 / 11) * box.height } });
  await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('channel') === '25');
  await visualized(page, 'fc1:25');
  // From the keyboard: down a row is unit 36, Enter visualizes it; the marker and the label follow.
  await layers.scrollIntoViewIfNeeded();
  await layers.locator('.vector-tile').focus();
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('#panel-layers .vector-tile')?.getAttribute('aria-label').includes('unit 36 selected'));
  assert.equal(await hashObjective(page), 'fc1:25', 'moving the selection does not visualize yet');
  const marker = await layers.locator('.vector-marker').boundingBox();
  assert.ok(Math.abs(marker.y - (box.y + (3 / 11) * box.height)) < 2 && Math.abs(marker.x - (box.x + (3 / 11) * box.width)) < 2, `the marker on row 3, column 3: ${JSON.stringify(marker)}`);
  await layers.screenshot({ path: path.join(screenshots, 'featureviz-fc-unit-desktop.png') });
  await page.keyboard.press('Enter');
  await visualized(page, 'fc1:36');
  await page.setViewportSize({ width: 390, height: 900 });
  await layers.scrollIntoViewIfNeeded();
  await settle(page);
  await layers.screenshot({ path: path.join(screenshots, 'featureviz-fc-unit-phone.png') });
  assert.ok(await layers.evaluate((panel) => panel.scrollWidth <= panel.clientWidth + 1), 'nothing overflows the layer explorer at 390 px');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('a class bar clicked or picked by keyboard is visualized once the panel follows clicks', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=visualize');
  const prediction = page.locator('#panel-prediction');
  await prediction.scrollIntoViewIfNeeded();
  await prediction.locator('.bar-row[data-objective="class:7"] .bar-track').click();
  await settle(page);
  assert.equal(await hashObjective(page), null, 'not followed: the click only reads the bar');
  await page.locator('#panel-featureviz .fv-follow').check();
  await prediction.scrollIntoViewIfNeeded();
  await prediction.locator('.bar-row[data-objective="class:7"] .bar-track').click();
  await visualized(page, 'class:7');
  // The labels are one Tab stop: the first takes the focus, the arrow keys move it, Enter visualizes.
  await prediction.scrollIntoViewIfNeeded();
  await prediction.locator('button.bar-label').first().focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await visualized(page, 'class:1');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('DeepDream changes the drawing: the Node result, and done', { skip: !trainedModel }, async (t) => {
  const { page, problems } = await openPanel('#v=2&fv=visualize&dream.octaves=1');
  const input = await drawThenRun(page, 'dream');
  await page.waitForFunction((selector) => /^DeepDream · done · objective \S+$/.test(document.querySelector(selector)?.textContent), STATUS, { timeout: 60000 });
  const drawn = await grayPixels(page, '#panel-featureviz [data-testid="featureviz-image"]');
  const expected = modelFiles.dream(Float32Array.from(input), { octaves: 1 }).images[0];
  assert.deepEqual(expected.shape, [1, 28, 28], 'one octave: the input size');
  assert.deepEqual(drawn, painted(expected.data));
  // A real change: the dream is not the drawing, and the objective (relu2's energy) grew.
  const before = painted(input);
  const changed = drawn.filter((v, i) => Math.abs(v - before[i]) > 25).length;
  const meanChange = drawn.reduce((s, v, i) => s + Math.abs(v - before[i]), 0) / drawn.length / 255;
  assert.ok(changed >= 40 && meanChange > 0.02, `${changed} pixels changed by more than 10 %, mean change ${meanChange}`);
  assert.ok(expected.history.at(-1) > 1.5 * expected.history[0], `objective ${expected.history[0]} → ${expected.history.at(-1)}`);
  t.diagnostic(`${changed} pixels changed by more than 10 %, mean change ${meanChange.toFixed(3)}, objective ${expected.history[0].toFixed(3)} → ${expected.history.at(-1).toFixed(3)}`);
  await page.locator('#panel-featureviz').screenshot({ path: path.join(screenshots, 'featureviz-dream-desktop.png') });
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the inversion strip gives one image per layer, the pool1 one close to the input', { skip: !trainedModel }, async (t) => {
  for (const width of [1280, 390]) {
    const { page, problems } = await openPanel('#v=2&fv=visualize', width);
    const input = await drawThenRun(page, 'invert');
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'Feature inversion · done', STATUS, { timeout: 300000 });
    const layers = manifest.layers.filter((l) => ['conv2d', 'max_pool2d', 'linear'].includes(l.type)).map((l) => l.name);
    const cells = page.locator('#panel-featureviz .fv-cell.filled');
    assert.equal(await cells.count(), layers.length);
    assert.deepEqual(await cells.locator('.map-caption:not(.fv-value)').allTextContents(), layers);
    const pool1 = await grayPixels(page, `#panel-featureviz .fv-cell[data-index="${layers.indexOf('pool1')}"] canvas`);
    assert.equal(pool1.length, input.length);
    const r = correlation(pool1, input);
    assert.ok(r > 0.9, `pool1 inversion's correlation with the input ${r}`);
    t.diagnostic(`${width} px: pool1 inversion's correlation with the input ${r.toFixed(4)}`);
    if (width === 1280) {
      const expected = modelFiles.invert(Float32Array.from(input), { layer: 'pool1' }).images[0];
      assert.deepEqual(pool1, painted(expected.data), 'the page\'s pool1 inversion is the Node result');
    }
    await page.locator('#panel-featureviz').screenshot({ path: path.join(screenshots, `featureviz-invert-${width === 390 ? 'phone' : 'desktop'}.png`) });
    assert.deepEqual(problems, { errors: [], foreign: [] });
    await page.close();
  }
});
