// End-to-end test of the feature-visualization panel in headless Chromium (the shared harness of
// harness.mjs): the class image the page draws equals, pixel for pixel, what the same wasm module computes in
// Node for the same options and seed; the run happens in the worker with progress and can be stopped; the
// options live in the URL hash and come back from it; the atlas fills cell by cell; a feature map clicked in
// another panel is visualized. Screenshots at desktop and phone width go to tests/e2e/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, modelFiles, screenshots, trainedModel, openPage, ready, settle } from './harness.mjs';

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

const done = (page) => page.waitForFunction((selector) => document.querySelector(selector)?.textContent.includes('done'), STATUS, { timeout: 60000 });

test('the class image drawn in the page is the Node wasm result, and the options round-trip through the hash', { skip: !trainedModel }, async () => {
  const { page, problems } = await openPanel('#v=2&fv=visualize&visualize.objective=class%3A3&visualize.seed=5');
  await done(page);
  const drawn = await grayPixels(page, '#panel-featureviz [data-testid="featureviz-image"]');
  const expected = modelFiles.visualize({ objective: 'class:3', seed: 5 }).images[0];
  assert.deepEqual(drawn, Array.from(expected.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
  assert.ok(modelFiles.predict(expected.data).probs[3] >= 0.99);
  await page.screenshot({ path: path.join(screenshots, 'featureviz-desktop.png'), fullPage: false });

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
  await page.locator('#panel-layers [data-testid="feature-map"]').first().click();
  await page.waitForFunction(() => !location.hash.includes('fv=atlas'));
  await page.locator('#panel-featureviz').scrollIntoViewIfNeeded(); // panels draw only while on screen
  await page.waitForFunction(() => document.querySelector('#panel-featureviz .option[data-key="visualize.objective"]'));
  await done(page);
  assert.match(await page.locator('#panel-featureviz .option[data-key="visualize.objective"]').inputValue(), /^\w+:0$/);
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
