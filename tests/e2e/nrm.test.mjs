// End-to-end test of the 3D volume panel (issue 18) on the canvas-2D path: headless Chromium here runs with
// --disable-gpu, so there is no WebGL2. Opens the page, picks the relu2 stack, rotates the volume with the
// keyboard and by dragging, picks a slice with the keyboard and by clicking it, reorders the maps by k-means,
// and screenshots the panel (tests/e2e/screenshots/volume-*.png) at desktop and phone width. The order shown
// must be the wasm module's (run in Node on the same input) and the view must live in the URL hash.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, openPage, ready, settle, screenshots, distinctColours, draw, wasm, modelFiles } from './harness.mjs';

before(setup);
after(teardown);

/** The pixels of the volume canvas, as a string to compare two drawings. */
async function pixels(page) {
  return page.$eval('[data-testid="volume-canvas"]', (canvas) => canvas.toDataURL());
}

test('the volume view rotates, picks a slice, reorders the maps and keeps its view in the URL', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const panel = page.locator('#panel-volume');
  await panel.scrollIntoViewIfNeeded();
  await settle(page);
  await panel.locator('select[aria-label="layer"]').selectOption('5'); // relu2, 16 × 10 × 10
  await settle(page);
  const canvas = panel.locator('[data-testid="volume-canvas"]');
  assert.ok((await distinctColours(page, '#panel-volume [data-testid="volume-canvas"]')) > 8, 'the volume is drawn');
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

test('the response map trains once, follows the drawing live and shows the class averages and layers', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const panel = page.locator('#panel-responsemap');
  await panel.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-testid="nrm-status"]')?.textContent === '', null, { timeout: 90000 });
  await page.waitForFunction(() => document.querySelectorAll('#panel-responsemap .nrm-class-map').length === 10);
  assert.ok((await distinctColours(page, '[data-testid="nrm-live"]')) > 8, 'the live map is drawn');
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
  assert.deepEqual(problems.errors, []);
});
