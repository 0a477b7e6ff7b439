// End-to-end tests of the 3D volume panel and the neural response map (issue 18). The volume on the canvas-2D
// path (the Renderer menu set to canvas 2D: the path of a browser without a GPU): picks the relu2 stack,
// rotates the volume with the keyboard and by dragging, picks a slice with the keyboard and by clicking it,
// reorders the maps by k-means, and screenshots the panel (tests/e2e/screenshots/volume-*.png) at desktop and
// phone width; the order shown must be the wasm module's (run in Node on the same input) and the view must
// live in the URL hash. Then the WebGL2 path, when this Chromium has WebGL2 (its headless build does, through
// SwiftShader, even with --disable-gpu): rotated and a slice picked by a click, it must pick the slice the
// canvas path picks at the same point of the same view and draw nearly the same picture. The response map:
// trained in the worker, its map equals the wasm module's in Node; its class averages, drawn in the worker over
// the same 1,000 t10k images, equal what the CLI command it shows prints (`cargo run --bin convscope -- nrm
// generate --map … --count 1000 --labels … --json`, from the repository's root).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setup, teardown, openPage, ready, settle, screenshots, distinctColours, draw, wasm, modelFiles, www, repo } from './harness.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'convscope-nrm-'));
before(setup);
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await teardown();
});

const CANVAS = '[data-testid="volume-canvas"][data-renderer="canvas"]';

/** The pixels of the volume canvas, as a string to compare two drawings. */
async function pixels(page) {
  return page.$eval(CANVAS, (canvas) => canvas.toDataURL());
}

test('the volume view rotates, picks a slice, reorders the maps and keeps its view in the URL', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const panel = page.locator('#panel-volume');
  await panel.scrollIntoViewIfNeeded();
  await settle(page);
  await panel.locator('select[aria-label="renderer"]').selectOption('canvas');
  await panel.locator('select[aria-label="layer"]').selectOption('5'); // relu2, 16 × 10 × 10
  await settle(page);
  const canvas = panel.locator(CANVAS);
  assert.ok((await distinctColours(page, `#panel-volume ${CANVAS}`)) > 8, 'the volume is drawn');
  const before = await pixels(page);
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await settle(page);
  assert.notEqual(await pixels(page), before, 'the arrow keys turn the volume');
  await page.waitForFunction(() => location.hash.includes('yaw=50') && location.hash.includes('pitch=-10'));
  await page.keyboard.press(']');
  await page.keyboard.press(']');
  await settle(page);
  assert.match(await panel.locator('.volume-caption').textContent(), /^Slice 3 of 16: channel 2/);
  // A drag turns it further; a click on the middle of the canvas picks the front-most slice there.
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await settle(page);
  await page.waitForFunction(() => /yaw=-?\d+/.test(location.hash) && !/yaw=50(&|$)/.test(location.hash) && location.hash.includes('vslice=2'));
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await settle(page);
  const picked = await panel.locator('.volume-caption').textContent();
  assert.match(picked, /^Slice \d+ of 16/);
  await page.screenshot({ path: path.join(screenshots, 'volume-desktop.png'), clip: await panel.boundingBox() });

  // k-means order: the page shows the order the wasm module gives for the same input.
  await panel.locator('select[aria-label="order"]').selectOption('kmeans');
  await settle(page);
  const caption = await panel.locator('.volume-caption').textContent();
  const shownOrder = caption.split('order ')[1].split(' ').map(Number);
  const image = await page.evaluate(async () => Array.from((await import('./js/main.js')).viewer.app.image));
  const want = Array.from(modelFiles.order(new Float32Array(image), { layer: 'relu2', by: 'kmeans', k: 4 }).order);
  assert.deepEqual(shownOrder, want);
  assert.equal(new Set(shownOrder).size, 16);
  await page.waitForFunction(() => location.hash.includes('vorder=kmeans'));

  // Reloading the link restores the view.
  const url = page.url();
  const reopened = await openPage(url.slice(url.indexOf('index.html')));
  await ready(reopened.page);
  await reopened.page.locator('#panel-volume').scrollIntoViewIfNeeded();
  await settle(reopened.page);
  assert.equal(await reopened.page.locator('#panel-volume select[aria-label="order"]').inputValue(), 'kmeans');
  await reopened.page.setViewportSize({ width: 390, height: 844 });
  await settle(reopened.page);
  await reopened.page.locator('#panel-volume').scrollIntoViewIfNeeded();
  await reopened.page.screenshot({ path: path.join(screenshots, 'volume-phone.png'), fullPage: false });
  assert.deepEqual(problems.errors, []);
  assert.deepEqual(reopened.problems.errors, []);
  assert.ok(wasm);
});

/** The RGB pixels of a canvas of either kind (a WebGL one keeps its drawing buffer), drawn onto a 2D canvas. */
async function rgb(page, selector) {
  return page.$eval(selector, (canvas) => {
    const copy = new OffscreenCanvas(canvas.width, canvas.height);
    const ctx = copy.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
  });
}

test('the WebGL2 volume turns, picks the slice the canvas path picks and draws the same picture', async (t) => {
  const view = 'vlayer=5&yaw=50&pitch=-10&vzoom=1&vopacity=0.6&vslice=0';
  const { page, problems } = await openPage(`index.html#${view}&vrender=webgl2`);
  await ready(page);
  if (!(await page.evaluate(() => Boolean(document.createElement('canvas').getContext('webgl2'))))) return t.skip('no WebGL2 in this browser');
  const panel = page.locator('#panel-volume');
  await panel.scrollIntoViewIfNeeded();
  await settle(page);
  const gl = panel.locator('[data-testid="volume-canvas"][data-renderer="webgl2"]');
  assert.ok(await gl.isVisible(), 'WebGL2 is the default where it works');
  assert.ok(!(await panel.locator(CANVAS).isVisible()));
  const before = await rgb(page, '#panel-volume [data-renderer="webgl2"]');
  await gl.focus();
  await page.keyboard.press('ArrowLeft');
  await settle(page);
  assert.notDeepEqual(await rgb(page, '#panel-volume [data-renderer="webgl2"]'), before, 'the arrow keys turn it');
  await page.keyboard.press('ArrowRight');
  await settle(page);
  // A click a little left of the middle picks a slice; the canvas path picks the same one at the same point.
  const box = await gl.boundingBox();
  const at = [box.x + box.width * 0.45, box.y + box.height * 0.5];
  await page.mouse.click(...at);
  await settle(page);
  const picked = await panel.locator('.volume-caption').textContent();
  assert.match(picked, /^Slice \d+ of 16/);
  await page.screenshot({ path: path.join(screenshots, 'volume-webgl2-desktop.png'), clip: await panel.boundingBox() });
  const drawnGl = await rgb(page, '#panel-volume [data-renderer="webgl2"]');
  await panel.locator('select[aria-label="renderer"]').selectOption('canvas');
  await settle(page);
  assert.equal(await panel.locator('.volume-caption').textContent(), picked, 'the view (and the slice) carry over');
  const drawn2d = await rgb(page, `#panel-volume ${CANVAS}`);
  // Move the pick away with the keyboard, then click the same point on the canvas path: the same slice.
  await panel.locator(CANVAS).focus();
  await page.keyboard.press(']');
  await page.keyboard.press(']');
  await settle(page);
  assert.notEqual(await panel.locator('.volume-caption').textContent(), picked);
  await page.mouse.click(...at);
  await settle(page);
  assert.equal(await panel.locator('.volume-caption').textContent(), picked, 'both paths pick the same slice');
  // The two pictures: the same geometry, colours and transfer function (edges rasterize a little differently).
  let [sum, far] = [0, 0];
  for (let i = 0; i < drawnGl.length; i += 4) {
    const d = Math.max(...[0, 1, 2].map((k) => Math.abs(drawnGl[i + k] - drawn2d[i + k])));
    sum += d;
    if (d > 48) far++;
  }
  const pixelsCount = drawnGl.length / 4;
  assert.ok(sum / pixelsCount < 6, `mean difference ${sum / pixelsCount}`);
  assert.ok(far / pixelsCount < 0.03, `${far} pixels differ by more than 48`);
  await page.waitForFunction(() => location.hash.includes('vrender=canvas'));
  assert.deepEqual(problems.errors, []);
});

test('the response map trains over 1,000 t10k images in a worker with progress and Stop, then follows the drawing', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const panel = page.locator('#panel-responsemap');
  await panel.scrollIntoViewIfNeeded();
  const status = panel.locator('[data-testid="nrm-status"]');
  // Stop stops it (no more progress), Train starts it again. Stop is pressed in the same task that sees the
  // progress: on a quiet machine the training takes half a second and could end between two test steps.
  await page.waitForFunction(() => {
    const training = /^Training the map over 1,000 test images: \d+%$/.test(document.querySelector('[data-testid="nrm-status"]')?.textContent);
    if (training) document.querySelector('#panel-responsemap [data-testid="nrm-train"]').click();
    return training;
  }, null, { timeout: 60000 });
  assert.match(await status.textContent(), /^Stopped training the map over 1,000 test images: .*; Train starts again\.$/);
  const stopped = await status.textContent();
  await page.waitForTimeout(600);
  assert.equal(await status.textContent(), stopped);
  assert.equal(await panel.locator('[data-testid="nrm-train"]').textContent(), 'Train');
  await panel.locator('[data-testid="nrm-train"]').click();
  assert.match(await status.textContent(), /^Training the map/);
  await page.waitForFunction(() => document.querySelector('[data-testid="nrm-status"]')?.textContent === '', null, { timeout: 180000 });
  await page.waitForFunction(() => document.querySelectorAll('#panel-responsemap .nrm-class-map').length === 10);
  // The worker's map is the one the wasm module trains over the first 1,000 t10k images with the defaults.
  const mapText = await page.evaluate(async () => (await import('./js/main.js')).viewer.app.modelCache.get('nrm-map'));
  const shown = JSON.parse(mapText);
  const training = new wasm.ResponseMapTraining(modelFiles, readFileSync(path.join(www, 'data/mnist-t10k-images.idx3.gz')), {});
  while (!training.step(1e6).done);
  const map = training.finish();
  const want = JSON.parse(map.toJson());
  [map, training].forEach((object) => object.free());
  assert.equal(shown.settings.count, 1000);
  assert.deepEqual(shown.neurons, want.neurons);
  assert.deepEqual(shown.layout, want.layout);
  assert.ok((await distinctColours(page, '[data-testid="nrm-live"]')) > 8, 'the live map is drawn');
  await classAveragesAreTheCli(page, mapText);
  assert.equal(await panel.locator('.nrm-layer').count(), 5, 'conv1, conv2, fc1, fc2, fc3');
  const shot = () => page.$eval('[data-testid="nrm-live"]', (canvas) => canvas.toDataURL());
  const before = await shot();
  await page.click('[data-testid="clear"]');
  await draw(page, [[[0.52, 0.15], [0.5, 0.5], [0.48, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  await panel.scrollIntoViewIfNeeded();
  await settle(page);
  assert.notEqual(await shot(), before, 'the map follows the drawing');
  await panel.locator('input[aria-label="circle projection"]').check();
  await settle(page);
  await page.waitForFunction(() => location.hash.includes('nrmShape=circle'));
  await page.screenshot({ path: path.join(screenshots, 'responsemap-desktop.png'), clip: await panel.boundingBox() });
  await page.setViewportSize({ width: 390, height: 844 });
  await settle(page);
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshots, 'responsemap-phone.png'), fullPage: false });
  assert.deepEqual(problems.errors, []);
});

/** The panel's class averages (its downloaded numbers) equal those of the CLI command it shows, run on its map. */
async function classAveragesAreTheCli(page, mapText) {
  assert.deepEqual(await page.$$eval('#panel-responsemap .nrm-classes figcaption', (captions) => captions.map((c) => c.textContent)), ['0 (85)', '1 (126)', '2 (116)', '3 (107)', '4 (110)', '5 (87)', '6 (87)', '7 (99)', '8 (89)', '9 (94)'], 'the classes of the first 1,000 t10k images');
  await page.click('#panel-responsemap button[aria-label^="The convscope command"]');
  const words = (await page.textContent('[data-testid="command-responsemap"] .command-text')).split(' ');
  assert.deepEqual(words.slice(0, 3), ['convscope', 'nrm', 'generate']);
  const mapFile = path.join(dir, 'convscope-map.json');
  writeFileSync(mapFile, mapText);
  words[words.indexOf('--map') + 1] = mapFile;
  const cli = JSON.parse(execFileSync(process.env.CARGO ?? 'cargo', ['run', '--quiet', '--bin', 'convscope', '--', ...words.slice(1)], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 }));
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#panel-responsemap button[aria-label^="Download the numbers"]')]);
  const target = path.join(dir, file.suggestedFilename());
  await file.saveAs(target);
  const drawn = JSON.parse(readFileSync(target, 'utf8'));
  assert.deepEqual([drawn.height, drawn.width], [cli.height, cli.width]);
  assert.deepEqual(drawn.maps.map((m) => m.title), cli.maps.map((m) => m.title));
  cli.maps.forEach((map, c) => {
    const same = map.values.every((v, i) => (v === null ? drawn.maps[c].values[i] === null : Math.fround(v) === Math.fround(drawn.maps[c].values[i])));
    assert.ok(same && map.values.some((v) => v !== null), `${map.title}: the page's map is the CLI's`);
  });
}
