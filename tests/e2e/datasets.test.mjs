// End-to-end test of the dataset panels (issue 17) in headless Chromium, on the shared harness: the t10k set
// opens on demand in its own worker; a t-SNE map animates while the main thread stays free (a
// PerformanceObserver records every long task: none may exceed 50 ms; the test polls with timers, not
// animation frames, so its own checks are not measured) and the pen keeps drawing; the PCA map's
// explained variance equals the wasm module's in Node on the same bytes; the keyboard picks a point as the
// input; the neighbours and patch panels fill in. Screenshots at desktop and phone width.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadavg, cpus } from 'node:os';
import { setup, teardown, wasm, modelFiles, www, screenshots, openPage, ready, settle, draw, predictionText, distinctColours } from './harness.mjs';

before(setup);
after(teardown);

const T10K = path.join(www, 'data/mnist-t10k');

/** PC1 + PC2's share of the variance of fc2 over the t10k set, computed by the wasm module in Node. */
function nodePcaShare() {
  const images = readFileSync(`${T10K}-images.idx3.gz`);
  const labels = readFileSync(`${T10K}-labels.idx1.gz`);
  const dataset = wasm.Dataset.fromIdx(modelFiles, images, labels);
  while (dataset.extract(modelFiles, ['fc2'], 5000).done < 10000);
  const task = dataset.start(modelFiles, 'pca', { layer: 'fc2' });
  const { result } = task.step(1);
  task.free();
  dataset.free();
  return ((result.explainedVarianceRatio[0] + result.explainedVarianceRatio[1]) * 100).toFixed(1);
}

test('the dataset panels open the test set on demand and map it in the background', { timeout: 240000 }, async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const maps = page.locator('#panel-maps');
  await maps.scrollIntoViewIfNeeded();
  await maps.locator('.dataset-open').click();
  await page.waitForFunction(() => !document.querySelector('#panel-maps .map-compute').disabled, null, { timeout: 120000, polling: 250 });
  assert.match(await maps.locator('.dataset-status').textContent(), /^10,000 images of the 10,000 MNIST test digits/);
  // The PCA maps come first, by themselves, with the explained variance the core computes.
  await page.waitForFunction(() => /PC1 \+ PC2/.test(document.querySelectorAll('#panel-maps figcaption')[2].textContent), null, { timeout: 60000, polling: 250 });
  assert.equal(await maps.locator('figcaption').nth(2).textContent(), `fc2: PC1 + PC2 explain ${nodePcaShare()} % of the variance`);
  await page.screenshot({ path: path.join(screenshots, 'datasets-desktop.png'), fullPage: false });

  // t-SNE in the worker: previews animate the first map while no main-thread task exceeds 50 ms, recorded
  // from the start of the map to several previews later. Long tasks are wall-clock time: on a machine whose
  // load average is above 1.5 per core the OS stalls any task past 50 ms, so there the figure is printed and
  // not asserted (the test says so).
  await maps.locator('.map-method').selectOption('tsne');
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  });
  await maps.locator('.map-compute').click();
  await page.waitForFunction(() => document.querySelector('#panel-maps .map-progress').value > 0, null, { timeout: 120000, polling: 250 });
  const progress = await maps.locator('.map-progress').evaluate((p) => p.value);
  await page.waitForFunction((p) => document.querySelector('#panel-maps .map-progress').value > p + 0.02, progress, { timeout: 60000, polling: 250 });
  assert.ok((await distinctColours(page, '#panel-maps canvas[data-layer="pixels"]')) > 5, 'the preview is drawn');
  const longest = await page.evaluate(() => Math.max(0, ...window.longTasks));
  const load = loadavg()[0] / cpus().length;
  console.log(`longest main-thread task while the map was computed: ${longest} ms (load ${load.toFixed(1)} per core)`);
  if (load <= 1.5) assert.ok(longest <= 50, `a main-thread task of ${longest} ms while the map was computed`);
  else console.log('not asserted: the machine is overloaded, wall-clock task lengths mean nothing');
  // ... and the pen keeps drawing: a stroke is analysed while the map goes on.
  const before = await predictionText(page);
  await page.locator('#panel-input').scrollIntoViewIfNeeded();
  await draw(page, [[[0.3, 0.2], [0.7, 0.2], [0.45, 0.85]]]);
  await page.waitForFunction((text) => document.querySelector('[data-testid="prediction"]').textContent.trim() !== text, before, { timeout: 10000, polling: 250 });
  await maps.scrollIntoViewIfNeeded();
  assert.equal(await maps.locator('.map-cancel').isHidden(), false, 'the map is still being computed');
  await maps.locator('.map-cancel').click();
  await page.waitForFunction(() => !document.querySelector('#panel-maps .map-compute').hidden, null, { timeout: 30000, polling: 250 });

  // The cancelled t-SNE leaves the PCA maps in place.
  assert.match(await maps.locator('figcaption').nth(2).textContent(), /^fc2: PC1 \+ PC2/);

  // Keyboard: an arrow selects a point, Enter makes it the input.
  const fc2 = maps.locator('canvas[data-layer="fc2"]');
  await fc2.focus();
  await page.keyboard.press('ArrowRight');
  assert.match(await maps.locator('.map-status').textContent(), /^image \d+: label \d$/);
  const picked = Number((await maps.locator('.map-status').textContent()).match(/^image (\d+)/)[1]);
  await page.keyboard.press('Enter');
  await settle(page);

  // Neighbours of the picked image, now the input: itself first in pixel space, at distance 0.
  const neighbours = page.locator('#panel-neighbours');
  await neighbours.scrollIntoViewIfNeeded();
  // (Wait for the picked image's own neighbours: the panel may still show those of an earlier input.)
  await page.waitForFunction((first) => document.querySelectorAll('#panel-neighbours [data-testid="pixel-neighbours"] figure').length === 10 && document.querySelector('#panel-neighbours [data-testid="pixel-neighbours"] figcaption').textContent.startsWith(first), `#${picked} `, { timeout: 30000, polling: 250 });
  assert.match(await neighbours.locator('[data-testid="pixel-neighbours"] figcaption').first().textContent(), new RegExp(`^#${picked} 0\\.000$`));
  assert.equal(await neighbours.locator('[data-testid="feature-neighbours"] figure').count(), 10);

  // Patches of conv1: 6 channels × 9 crops and 9 projections.
  const patches = page.locator('#panel-patches');
  await patches.scrollIntoViewIfNeeded();
  await patches.locator('.patch-layer').selectOption('conv1');
  await patches.locator('.patch-compute').click();
  await page.waitForFunction(() => document.querySelectorAll('#panel-patches .patch-unit').length === 6, null, { timeout: 60000, polling: 250 });
  assert.equal(await patches.locator('.patch-tile').count(), 6 * 18);
  await page.screenshot({ path: path.join(screenshots, 'datasets-patches.png'), fullPage: false });

  await page.setViewportSize({ width: 390, height: 844 });
  await maps.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshots, 'datasets-phone.png'), fullPage: false });
  assert.deepEqual(problems, { errors: [], foreign: [] });
});
