// The smaller defects of issue 14, item 10, and the drawing-speed cuts that the page's structure shows: the
// deconvnet's single-unit caption names the unit's own value and its reconstruction is drawn on the scale of
// its whole channel (a silent unit looks silent), the monitor's padding cells are no "off" neurons, γ has a
// spoken value, and the gallery's 340 images are one canvas.
//
// Run: `cd tests/e2e && node --test defects.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setup, teardown, openPage, ready, settle, repo } from './harness.mjs';

before(setup);
after(teardown);

test('deconvnet: a unit is captioned with its own value and drawn on its channel\'s scale', async () => {
  const { page, problems } = await openPage('index.html#sample=0&dlayer=conv2&dchannel=1&unit=0,0');
  await ready(page);
  await page.locator('#panel-deconv').scrollIntoViewIfNeeded();
  await settle(page);
  const expected = await page.evaluate(async () => {
    const { app } = (await import('./js/main.js')).viewer;
    const group = app.deconvLayers.find((g) => g.name === 'conv2');
    const pooled = app.activation(group.activations);
    const [, h, w] = pooled.shape;
    const plane = pooled.data.slice(h * w, 2 * h * w);
    const whole = app.deconv('conv2', 1, 'all').data;
    const m = Math.max(...Array.from(whole, Math.abs), ...Array.from(app.deconv('conv2', 1, '0,0').data, Math.abs));
    return { unit: plane[0], max: Math.max(...plane), scale: m };
  });
  assert.ok(expected.unit < expected.max, `unit (0, 0) (${expected.unit}) is not the channel's peak (${expected.max})`);
  const source = await page.textContent('#panel-deconv .source-caption');
  const output = await page.textContent('#panel-deconv .output-caption');
  const format = (v) => (v === 0 ? '0' : v.toPrecision(3));
  assert.ok(source.includes(`unit (0, 0) = ${format(expected.unit)}`), source);
  assert.ok(source.includes(`channel max ${format(expected.max)}`), source);
  assert.ok(output.includes(`scale ${format(-expected.scale)} … ${format(expected.scale)}, the whole channel's`), output);
  // Each on its own scale: the unit's reconstruction alone sets the range.
  await page.selectOption('#panel-deconv .dscale', 'own');
  await settle(page);
  assert.ok(!(await page.textContent('#panel-deconv .output-caption')).includes('whole channel'));
  assert.deepEqual(problems.errors, []);
  await page.close();
});

test('the monitor leaves its padding cells blank and speaks γ; the gallery is one canvas', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await page.locator('#panel-monitor').scrollIntoViewIfNeeded();
  await settle(page);
  const cells = await page.$eval('#panel-monitor canvas.pattern-map', (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const alpha = Array.from({ length: canvas.width * canvas.height }, (_, i) => data[4 * i + 3]);
    return { size: [canvas.width, canvas.height], blank: alpha.filter((a) => a === 0).length, opaque: alpha.filter((a) => a === 255).length };
  });
  // fc2's 84 neurons in a 10×9 grid... whatever the grid, every neuron is opaque and only the padding blank.
  const neurons = await page.evaluate(async () => (await import('./js/main.js')).viewer.app.monitor.neurons);
  assert.equal(cells.opaque, neurons, JSON.stringify(cells));
  assert.equal(cells.blank, cells.size[0] * cells.size[1] - neurons);
  assert.ok(cells.blank > 0, 'LeNet-5\'s 84 neurons do not fill a square grid');
  assert.match(await page.getAttribute('#panel-monitor .gamma', 'aria-valuetext'), /^γ \d+: warn when more than \d+ neurons differ$/);
  // The gallery: one canvas for the 340 images (each canvas is a compositor layer), drawn with images.
  assert.equal(await page.locator('#panel-gallery canvas').count(), 1);
  await page.locator('#panel-gallery').scrollIntoViewIfNeeded();
  await settle(page);
  const drawn = await page.$eval('#panel-gallery canvas', (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, Math.min(canvas.height, 200));
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] > 128) ink++;
    return ink;
  });
  assert.ok(drawn > 1000, `the gallery sheet holds the images (${drawn} bright pixels)`);
  assert.deepEqual(problems.errors, []);
  await page.close();
});

/** The unit labels of the layer explorer's vector tile: their texts and, per label, its centre and its cell's span. */
async function unitLabels(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('#panel-layers .vector-tile canvas').getBoundingClientRect();
    const labels = document.querySelector('#panel-layers [data-testid="unit-labels"]');
    const columns = Number(labels.style.getPropertyValue('--columns'));
    const cell = canvas.width / columns;
    return [...labels.children].map((span, k) => {
      const box = span.getBoundingClientRect();
      const [row, column] = [Math.floor(k / columns), k % columns];
      return { text: span.textContent, x: box.left + box.width / 2, y: box.top + box.height / 2, left: canvas.left + column * cell, right: canvas.left + (column + 1) * cell, top: canvas.top + row * cell, bottom: canvas.top + (row + 1) * cell, visible: box.width > 0 && getComputedStyle(span).visibility === 'visible' };
    });
  });
}

test('layer explorer: the output\'s units carry the manifest\'s class names, an fc layer\'s their numbers', async () => {
  const manifest = JSON.parse(readFileSync(path.join(repo, 'www/models/lenet5-fashion.json'), 'utf8'));
  const { page, problems } = await openPage('index.html#model=fashion&sample=3&layer=12');
  await ready(page);
  await page.locator('#panel-layers').scrollIntoViewIfNeeded();
  await settle(page);
  const output = await unitLabels(page);
  assert.deepEqual(output.map((l) => l.text), manifest.labels, 'fc3\'s ten units are named by the manifest\'s labels');
  for (const l of output) {
    assert.ok(l.visible && l.x > l.left && l.x < l.right, `${l.text} is under its own cell (${l.x} in ${l.left}..${l.right})`);
    assert.ok(l.y > l.bottom, `${l.text} is below the cells`);
  }
  await page.click('#panel-layers .layer-chip[data-layer="8"]'); // fc1, 120 units in an 11×11 grid
  await settle(page);
  const fc1 = await unitLabels(page);
  assert.deepEqual(fc1.map((l) => l.text), Array.from({ length: 120 }, (_, k) => String(k)));
  for (const l of fc1) assert.ok(l.visible && l.x > l.left && l.x < l.right && l.y > l.top && l.y < l.bottom, `unit ${l.text} sits on its cell`);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('the prediction\'s monitor badge glosses Hamming distance and γ', async () => {
  const { page, problems } = await openPage('index.html#sample=5');
  await ready(page);
  await settle(page);
  const badge = page.locator('[data-testid="monitor-badge"]');
  assert.match(await badge.textContent(), /^Seen in training · Hamming distance 0 ≤ γ 2$/);
  assert.deepEqual(await badge.locator('.term').evaluateAll((terms) => terms.map((t) => t.dataset.term)), ['hamming', 'gamma']);
  await badge.locator('.term[data-term="gamma"]').click();
  const note = page.locator('#panel-prediction .term-note');
  assert.match(await note.textContent(), /^γ \(gamma\): The runtime monitor's tolerance/);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});
