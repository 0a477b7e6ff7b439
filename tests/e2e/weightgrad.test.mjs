// End-to-end test of the weight-gradient comparison panel (issue 18, scope 4): over the first 200 images of the
// t10k set (a small count, `#wgn=200`) it computes the mean ∂ logit[3] / ∂ conv1 weights of class 3, of the
// class most confused with 3 and of a dissimilar one in its worker lane, animates the running mean (the frames
// differ; play/pause by keyboard, the slider by arrow keys), and its final means, downloaded as JSON, equal
// what the CLI command it shows prints (`cargo run --bin convscope -- weight-gradient --compare 3 --count 200
// ...`, from the repository's root). The three volumes share one view: a key on one turns all three (their
// pixels change, the angle is in the URL); the slice picked with ] is drawn flat under each volume with the
// colours of the CLI's values on the shared scale, as is the whole gradient under Display "kernel grid".
// Screenshots: tests/e2e/screenshots/weightgrad-*.png.
//
// Run: `cd tests/e2e && node --test weightgrad.test.mjs` after scripts/build-wasm.sh (cargo builds the CLI).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setup, teardown, repo, www, openPage, ready, settle, screenshots, wasm } from './harness.mjs';
import { firstItems } from '../../www/js/nrm-tasks.js';

const dir = mkdtempSync(path.join(tmpdir(), 'convscope-wg-'));
before(setup);
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await teardown();
});

test('firstItems cuts an IDX file to its first items (what the worker passes the comparison)', () => {
  for (const name of ['mnist-t10k-images.idx3.gz', 'mnist-t10k-labels.idx1.gz']) {
    const all = wasm.decodeIdx(readFileSync(path.join(www, 'data', name)));
    const cut = wasm.decodeIdx(firstItems(all, 200));
    assert.deepEqual(Array.from(cut.dims), [200, ...Array.from(all.dims).slice(1)]);
    const size = cut.data.length / 200;
    assert.deepEqual(cut.data, all.data.subarray(0, 200 * size));
    assert.equal(wasm.decodeIdx(firstItems(all, 1e9)).dims[0], all.dims[0], 'at most what the file holds');
  }
});

const kernels = (page) => page.$$eval('#panel-weightgrad .wg-volume', (canvases) => canvases.map((c) => c.toDataURL()));

/** The RGBA pixels of the canvases matching `selector`. */
const pixelsOf = (page, selector) => page.$$eval(selector, (canvases) => canvases.map((c) => ({ width: c.width, height: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) })));

/**
 * Asserts that `drawn` ({ width, height, data }) shows kernels `[O, I, kh, kw]` of `values` as the panel lays
 * them out (O across, I down, one pixel apart), each value's colour the diverging `table`'s at (v / bound + 1) / 2.
 */
function assertKernels(drawn, [o, i, kh, kw], values, bound, table, what) {
  assert.deepEqual([drawn.width, drawn.height], [o * (kw + 1) - 1, i * (kh + 1) - 1], what);
  let wrong = 0;
  values.forEach((v, index) => {
    const [x, y, ci, co] = [index % kw, Math.floor(index / kw) % kh, Math.floor(index / (kw * kh)) % i, Math.floor(index / (kw * kh * i))];
    const k = Math.round(Math.min(1, Math.max(0, (v / bound + 1) / 2)) * 255) * 3;
    const at = ((ci * (kh + 1) + y) * drawn.width + co * (kw + 1) + x) * 4;
    if ([0, 1, 2].some((j) => drawn.data[at + j] !== table[k + j]) || drawn.data[at + 3] !== 255) wrong++;
  });
  assert.equal(wrong, 0, `${what}: pixels whose colour is not the value's`);
}

/** The three volumes share one view; the picked slice and the kernel grid show the CLI's `cli` means. */
async function volumesAreTheCli(page, panel, cli) {
  const volume = panel.locator('[data-testid="wg-volume"]');
  assert.equal(await volume.count(), 3);
  const before = await kernels(page);
  await volume.nth(1).focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => location.hash.includes('wgyaw=50'));
  const after = await kernels(page);
  assert.ok(after.every((url, c) => url !== before[c]), 'a key on the second volume turns all three');
  const labels = await volume.evaluateAll((canvases) => canvases.map((c) => c.getAttribute('aria-label')));
  assert.ok(labels.every((label) => /turned 50° and tilted -25°; slice 1 picked$/.test(label)), labels.join('\n'));
  await page.keyboard.press(']');
  await page.keyboard.press(']');
  await page.waitForFunction(() => location.hash.includes('wgslice=2'));
  assert.match(await panel.locator('[data-testid="wg-picked"]').textContent(), /^Slice 3 of 6 picked \(output channel 2;/);
  assert.notDeepEqual(await kernels(page), after, 'the picked slice is outlined');
  const { table, signed } = await page.evaluate(async () => {
    const visual = await import('./js/visual.js');
    return { table: Array.from(visual.lut('diverging')), signed: visual.SIGNED_COLORMAPS.has('diverging') };
  });
  assert.ok(signed, 'the diverging table is the Rust one (not the viridis fallback)');
  const bound = Math.max(...cli.means.flat().map(Math.abs).map(Math.fround));
  const [, i, kh, kw] = cli.shape;
  const slices = await pixelsOf(page, '#panel-weightgrad [data-testid="wg-slice"]');
  cli.means.forEach((mean, c) => assertKernels(slices[c], [i, 1, kh, kw], mean.slice(2 * i * kh * kw, 3 * i * kh * kw).map(Math.fround), bound, table, `slice 2 of class ${cli.classes[c]}`));
  await panel.locator('select[aria-label="display"]').selectOption('kernels');
  await page.waitForFunction(() => location.hash.includes('wgdisplay=kernels'));
  assert.equal(await panel.locator('.wg-kernels:visible').count(), 3);
  assert.equal(await panel.locator('[data-testid="wg-volume"]:visible').count(), 0);
  const grids = await pixelsOf(page, '#panel-weightgrad .wg-kernels');
  cli.means.forEach((mean, c) => assertKernels(grids[c], cli.shape, mean.map(Math.fround), bound, table, `the grid of class ${cli.classes[c]}`));
  await panel.locator('select[aria-label="display"]').selectOption('volume');
  await page.waitForFunction(() => location.hash.includes('wgdisplay') === false);
}

test('the weight-gradient comparison animates over the images and ends on the CLI’s means', async () => {
  const { page, problems } = await openPage('index.html#wgn=200&wgref=3');
  await ready(page);
  const panel = page.locator('#panel-weightgrad');
  await panel.scrollIntoViewIfNeeded();
  const value = () => page.$eval('#panel-weightgrad input[aria-label="images averaged"]', (input) => Number(input.value));
  await page.waitForFunction(() => /mean of \d+ image/.test(document.querySelector('#panel-weightgrad figcaption')?.textContent), null, { timeout: 90000 });
  const slider = panel.locator('input[aria-label="images averaged"]');
  const play = panel.locator('[data-testid="wg-play"]');
  assert.equal(await slider.getAttribute('max'), '16', 'the first 16 images of each class (the default)');
  assert.ok((await play.textContent()) === 'Pause' || (await value()) === 16, 'it plays on its own');
  // The slider (arrow keys) pauses it and steps the running mean.
  await slider.focus();
  await slider.press('Home');
  assert.equal(await play.textContent(), 'Play');
  const one = await kernels(page);
  await slider.press('ArrowRight');
  assert.equal(await slider.inputValue(), '2');
  const two = await kernels(page);
  assert.notDeepEqual(two, one, 'the second frame differs from the first');
  assert.match(await panel.locator('figcaption').first().textContent(), /^reference: 3, mean of 2 images$/);
  // Play and pause with the keyboard: the frames go on changing as images accumulate.
  await play.focus();
  await page.keyboard.press('Space');
  assert.equal(await play.textContent(), 'Pause');
  await page.waitForFunction(() => Number(document.querySelector('#panel-weightgrad input[aria-label="images averaged"]').value) >= 4);
  assert.ok((await kernels(page)).some((url, c) => url !== two[c]), 'the frames differ');
  await page.keyboard.press('Space');
  if ((await value()) < 16) assert.equal(await play.textContent(), 'Play');
  await slider.press('End');
  await settle(page);
  const captions = await panel.locator('figcaption').allTextContents();
  assert.match(captions[0], /^reference: 3, mean of 16 images, cos 1\.00$/);

  // The final means are the CLI's for the same 200 images.
  await page.click('#panel-weightgrad button[aria-label^="The convscope command"]');
  const words = (await page.textContent('[data-testid="command-weightgrad"] .command-text')).split(' ');
  assert.deepEqual(words.slice(0, 2), ['convscope', 'weight-gradient']);
  assert.ok(words.includes('--count') && words[words.indexOf('--count') + 1] === '200', words.join(' '));
  const cli = JSON.parse(execFileSync(process.env.CARGO ?? 'cargo', ['run', '--quiet', '--bin', 'convscope', '--', ...words.slice(1)], { cwd: repo, encoding: 'utf8' }));
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#panel-weightgrad button[aria-label^="Download the numbers"]')]);
  const target = path.join(dir, file.suggestedFilename());
  await file.saveAs(target);
  const shown = JSON.parse(readFileSync(target, 'utf8'));
  assert.deepEqual(shown.classes, cli.classes);
  assert.equal(shown.classes[0], 3);
  assert.deepEqual(shown.indices, cli.indices);
  assert.deepEqual(shown.shape, [6, 1, 5, 5]);
  assert.deepEqual(shown.cosine, cli.cosine);
  cli.means.forEach((mean, c) => assert.ok(mean.every((v, i) => Math.fround(v) === Math.fround(shown.means[c][i])), `class ${cli.classes[c]}'s mean`));
  await volumesAreTheCli(page, panel, cli);
  await settle(page);
  await page.screenshot({ path: path.join(screenshots, 'weightgrad-desktop.png'), clip: await panel.boundingBox() });

  await page.setViewportSize({ width: 390, height: 844 });
  await settle(page);
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshots, 'weightgrad-phone.png'), fullPage: false });
  assert.deepEqual(problems.errors, []);
});
