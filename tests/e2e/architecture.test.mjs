// The architecture strip (issue 14, scope 2): the whole network from the manifest, input → conv1 → pool1 →
// conv2 → pool2 → fc layers → output labelled with the classes, live on every stroke, each stage opening its
// layer in the layer explorer (and a feature map in the deconvnet); on a phone it scrolls sideways.
//
// Run: `cd tests/e2e && node --test architecture.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, teardown, openPage, ready, settle, draw, modelFiles, manifest } from './harness.mjs';
import { networkStages, operationOf } from '../../www/js/architecture.js';

before(setup);
after(teardown);

const app = (page, fn) => page.evaluate(`(async () => { const app = (await import('./js/main.js')).viewer.app; return (${fn})(app); })()`);

test('the stages come from the layer list: ReLUs and flatten folded in, the softmax as the output', () => {
  const layers = modelFiles.info().layers;
  const stages = networkStages(layers, manifest.layers, 10);
  assert.deepEqual(stages.map((s) => [s.name, s.shows, s.layer, s.op]), [
    ['conv1', 'relu1', 2, '5×5 conv + ReLU'],
    ['pool1', 'pool1', 3, '2×2 max pool'],
    ['conv2', 'relu2', 5, '5×5 conv + ReLU'],
    ['pool2', 'pool2', 6, '2×2 max pool'],
    ['fc1', 'relu3', 9, 'fully connected + ReLU'],
    ['fc2', 'relu4', 11, 'fully connected + ReLU'],
    ['fc3', 'fc3', 12, 'fully connected'],
    ['output', 'log_softmax', 13, 'softmax'],
  ]);
  assert.deepEqual(stages.map((s) => s.output), [false, false, false, false, false, false, false, true]);
  assert.equal(stages[7].log, true);
  // An imported model without a softmax, with a 3×3 conv and no ReLU after it: its last linear layer is the output.
  const other = [
    { index: 1, name: 'c', type: 'conv2d', shape: [4, 26, 26] },
    { index: 2, name: 'p', type: 'max_pool2d', shape: [4, 13, 13] },
    { index: 3, name: 'f', type: 'flatten', shape: [676] },
    { index: 4, name: 'out', type: 'linear', shape: [3] },
  ];
  const specs = [{ type: 'conv2d', kernel_size: [3, 3] }, { type: 'max_pool2d', kernel_size: 2 }, { type: 'flatten' }, { type: 'linear' }];
  assert.deepEqual(networkStages(other, specs, 3).map((s) => [s.name, s.layer, s.op, s.output, s.probabilities]), [
    ['c', 1, '3×3 conv', false, false],
    ['p', 2, '2×2 max pool', false, false],
    ['out', 4, 'fully connected', true, false],
  ]);
  assert.equal(operationOf({ type: 'avg_pool2d', kernel_size: 3 }), '3×3 avg pool');
});

test('the strip shows this input, follows the pen and opens layers and channels', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const strip = page.locator('[data-testid="architecture"]');
  await strip.scrollIntoViewIfNeeded();
  await settle(page);
  const names = await strip.locator('.arch-name').allTextContents();
  assert.deepEqual(names, ['input', 'conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'fc2', 'fc3', 'output']);
  assert.equal(await strip.locator('.arch-stage[data-layer="5"] canvas').count(), 16, 'conv2: one thumbnail per channel');
  // The output column: the class names and the softmax of test image 0, as the engine computes it.
  const output = async () => strip.locator('.arch-output li').evaluateAll((rows) => rows.map((row) => [row.children[0].textContent, row.children[2].textContent, row.classList.contains('is-top')]));
  const image = await app(page, (a) => Array.from(a.image));
  const { probs, label } = modelFiles.predict(new Float32Array(image));
  assert.deepEqual(await output(), modelFiles.info().labels.map((name, k) => [name, `${(probs[k] * 100).toFixed(0)}%`, k === label]));
  // A conv2 thumbnail's pixel is its map's value through the colormap: the brightest pixel of the layer is
  // the colormap's top. Checked on the hottest channel of relu2.
  const relu2 = modelFiles.activations(new Float32Array(image))[4];
  const [c, h, w] = relu2.shape;
  let best = 0;
  relu2.data.forEach((v, i) => v > relu2.data[best] && (best = i));
  const pixel = await strip.locator('.arch-stage[data-layer="5"] canvas').nth(Math.floor(best / (h * w))).evaluate((canvas, i) => Array.from(canvas.getContext('2d').getImageData(i % canvas.width, Math.floor(i / canvas.width), 1, 1).data), best % (h * w));
  assert.ok(c === 16 && pixel[0] > 240 && pixel[1] > 200, `the hottest relu2 unit paints the top of viridis (${pixel})`);
  // A stroke: the strip repaints with the new prediction.
  await page.locator('[data-testid="draw-canvas"]').scrollIntoViewIfNeeded();
  await page.click('#panel-input button:text("Clear")');
  await draw(page, [[[0.5, 0.15], [0.5, 0.85]]]);
  await strip.scrollIntoViewIfNeeded();
  await settle(page);
  const drawn = await app(page, (a) => ({ image: Array.from(a.image), label: a.prediction().label }));
  const after = await output();
  assert.equal(after.findIndex(([, , top]) => top), drawn.label, 'the output column follows the drawing');
  assert.deepEqual(after.map(([, p]) => p), Array.from(modelFiles.predict(new Float32Array(drawn.image)).probs, (p) => `${(p * 100).toFixed(0)}%`));
  // A stage opens its layer in the layer explorer; a conv map also picks the channel in the deconvnet.
  await strip.locator('.arch-stage[data-layer="9"] .arch-head').click();
  assert.deepEqual(await app(page, (a) => [a.view.layer, a.view.channel]), [9, 0]);
  await strip.locator('.arch-stage[data-layer="5"] canvas').nth(3).click();
  assert.deepEqual(await app(page, (a) => [a.view.layer, a.view.channel, a.view.dlayer, a.view.dchannel]), [5, 3, 'conv2', 3]);
  await page.waitForFunction(() => document.querySelector('#panel-layers').getBoundingClientRect().top < innerHeight);
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('Fashion-MNIST labels the output with its classes; on a phone the strip scrolls sideways', async () => {
  const { page, problems } = await openPage('index.html#model=fashion');
  await page.setViewportSize({ width: 390, height: 844 });
  await ready(page);
  const strip = page.locator('[data-testid="architecture"]');
  await strip.scrollIntoViewIfNeeded();
  await settle(page);
  const labels = await strip.locator('.arch-label').allTextContents();
  assert.equal(labels.length, 10);
  assert.ok(labels.includes('Ankle boot') || labels.some((l) => /boot/i.test(l)), labels.join(', '));
  const widths = await page.evaluate(() => {
    const scroller = document.querySelector('.arch-scroll');
    return { page: document.documentElement.scrollWidth, view: innerWidth, scroller: scroller.clientWidth, content: scroller.scrollWidth };
  });
  assert.ok(widths.page <= widths.view, `the page does not overflow (${JSON.stringify(widths)})`);
  assert.ok(widths.content > widths.scroller, 'the strip scrolls inside its panel');
  // Its stage buttons are reachable by keyboard: focusing the last one scrolls it into the strip's view.
  await strip.locator('.arch-stage[data-layer="12"] .arch-head').focus();
  const visible = await strip.locator('.arch-stage[data-layer="12"] .arch-head').evaluate((b) => {
    const box = b.getBoundingClientRect();
    const frame = b.closest('.arch-scroll').getBoundingClientRect();
    return box.left >= frame.left - 1 && box.right <= frame.right + 1;
  });
  assert.ok(visible, 'the focused stage is scrolled into view');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
