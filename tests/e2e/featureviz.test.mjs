// End-to-end test of the feature-visualization panel in headless Chromium (the shared harness of
// harness.mjs): the class image the page draws equals, pixel for pixel, what the same wasm module computes in
// Node for the same options and seed; the run happens in the worker with progress and can be stopped; the
// options live in the URL hash and come back from it; the atlas fills cell by cell; a feature map clicked in
// another panel is visualized; an atlas runs on the panel's own lane (a redraw does not restart it, the
// attribution panel computes meanwhile without cancelling it). Screenshots of the panel at desktop and phone
// width go to tests/e2e/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, modelFiles, screenshots, trainedModel, openPage, ready, settle, attributionShown } from './harness.mjs';

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
