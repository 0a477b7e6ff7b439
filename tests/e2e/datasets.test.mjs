// End-to-end test of the dataset panels (issue 17) in headless Chromium, on the shared harness: the t10k set
// opens on demand in its own worker; a t-SNE map animates while the main thread stays free (a
// PerformanceObserver records every long task: none may exceed 50 ms; the test polls with timers, not
// animation frames, so its own checks are not measured) and the pen keeps drawing; the PCA map's
// explained variance equals the wasm module's in Node on the same bytes; the keyboard picks a point as the
// input; the neighbours and patch panels fill in. Screenshots at desktop and phone width.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
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
  // One status line once loaded, the Load button gone.
  assert.equal(await maps.locator('.dataset-status').textContent(), 'Loaded the 10,000 MNIST test digits (t10k); features are read once per model.');
  assert.equal(await maps.locator('.dataset-open').isHidden(), true);
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

/** CRC-32 (the PNG chunk checksum). */
function crc32(bytes) {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** An 8-bit grayscale PNG of `width × height` bytes. */
function grayPng(width, height, data) {
  const chunk = (type, body) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8 bits, grayscale
  const rows = Buffer.concat(Array.from({ length: height }, (_, y) => Buffer.concat([Buffer.from([0]), Buffer.from(data.subarray(y * width, (y + 1) * width))])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

test("a user's own PNG pictures open as the data set, labelled by their names; a broken file is named", { timeout: 120000 }, async () => {
  const { dims, data } = wasm.decodeIdx(readFileSync(`${T10K}-images.idx3.gz`));
  const labels = wasm.decodeIdx(readFileSync(`${T10K}-labels.idx1.gz`)).data;
  const size = dims[1] * dims[2];
  const files = Array.from({ length: 40 }, (_, i) => ({ name: `${labels[i]}_${String(i).padStart(4, '0')}.png`, mimeType: 'image/png', buffer: grayPng(dims[2], dims[1], data.subarray(i * size, (i + 1) * size)) }));
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const maps = page.locator('#panel-maps');
  await maps.scrollIntoViewIfNeeded();
  // A truncated picture among them: refused with its name, and the gate stays usable.
  const broken = { ...files[0], name: '9_broken.png', buffer: files[0].buffer.subarray(0, 60) };
  await maps.locator('.dataset-upload').setInputFiles([...files, broken]);
  await page.waitForFunction(() => /9_broken\.png/.test(document.querySelector('#panel-maps .dataset-status').textContent), null, { timeout: 30000, polling: 250 });
  assert.match(await maps.locator('.dataset-status').textContent(), /^bad image: 9_broken\.png: /);
  assert.equal(await maps.locator('.dataset-open').isEnabled(), true);
  // The 40 pictures: the set the page maps is the one the wasm module makes of them in Node.
  await maps.locator('.dataset-upload').setInputFiles(files);
  await page.waitForFunction(() => !document.querySelector('#panel-maps .map-compute').disabled, null, { timeout: 60000, polling: 250 });
  assert.equal(await maps.locator('.dataset-status').textContent(), `Loaded your 40 images (${files[0].name} and 39 more files; labels from the file names).`);
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : 1));
  const dataset = wasm.Dataset.fromPictures(modelFiles, sorted.map((f) => new Uint8Array(f.buffer)), sorted.map((f) => f.name), 'names');
  assert.deepEqual(Array.from(dataset.labels()), sorted.map((f) => Number(f.name[0])));
  while (dataset.extract(modelFiles, ['fc2'], 100).done < 40);
  const task = dataset.start(modelFiles, 'pca', { layer: 'fc2' });
  const { result } = task.step(1);
  const share = ((result.explainedVarianceRatio[0] + result.explainedVarianceRatio[1]) * 100).toFixed(1);
  task.free();
  dataset.free();
  await page.waitForFunction(() => /PC1 \+ PC2/.test(document.querySelectorAll('#panel-maps figcaption')[2].textContent), null, { timeout: 60000, polling: 250 });
  assert.equal(await maps.locator('figcaption').nth(2).textContent(), `fc2: PC1 + PC2 explain ${share} % of the variance`);
  // t-SNE with the options typed into the method's controls: the page's map is the job the wasm module runs
  // in Node with those options (KL equal to the caption's 3 decimals), and the options are in the URL hash.
  await maps.locator('.map-method').selectOption('tsne');
  const setOption = (key, value) => maps.locator(`.map-params [data-key="${key}"]`).evaluate((field, v) => {
    field.value = v;
    field.dispatchEvent(new Event('change'));
  }, value);
  await setOption('tsne.perplexity', '5');
  await setOption('tsne.iterations', '300');
  // The hash is written 250 ms after the last change (js/hash.js).
  await page.waitForFunction(() => /tsne\.perplexity=5(&|$)/.test(location.hash) && /tsne\.iterations=300(&|$)/.test(location.hash), null, { timeout: 10000, polling: 100 });
  const nodeTsne = new Promise((resolve) => {
    const set = wasm.Dataset.fromPictures(modelFiles, sorted.map((f) => new Uint8Array(f.buffer)), sorted.map((f) => f.name), 'names');
    while (set.extract(modelFiles, ['fc2'], 100).done < 40);
    const job = set.start(modelFiles, 'tsne', { layer: 'fc2', perplexity: 5, iterations: 300, count: 40 });
    let state;
    do state = job.step(1000);
    while (!state.done);
    job.free();
    set.free();
    resolve(state.result.klDivergence.toFixed(3));
  });
  await maps.locator('.map-compute').click();
  await page.waitForFunction(() => /KL divergence/.test(document.querySelectorAll('#panel-maps figcaption')[2].textContent), null, { timeout: 60000, polling: 250 });
  assert.equal(await maps.locator('figcaption').nth(2).textContent(), `fc2: KL divergence ${await nodeTsne}`);
  await page.screenshot({ path: path.join(screenshots, 'datasets-own.png'), fullPage: false });
  assert.deepEqual(problems, { errors: [], foreign: [] });
});
