// End-to-end test of the weight-gradient comparison panel (issue 18, scope 4): over the first 200 images of the
// t10k set (a small count, `#wgn=200`) it computes the mean ∂ logit[3] / ∂ conv1 weights of class 3, of the
// class most confused with 3 and of a dissimilar one in its worker lane, animates the running mean (the frames
// differ; play/pause by keyboard, the slider by arrow keys), and its final means, downloaded as JSON, equal
// what the CLI command it shows prints (`cargo run --bin convscope -- weight-gradient --compare 3 --count 200
// ...`, from the repository's root). Screenshots: tests/e2e/screenshots/weightgrad-*.png.
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

const kernels = (page) => page.$$eval('#panel-weightgrad .wg-kernels', (canvases) => canvases.map((c) => c.toDataURL()));

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
  await page.screenshot({ path: path.join(screenshots, 'weightgrad-desktop.png'), clip: await panel.boundingBox() });

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

  await page.setViewportSize({ width: 390, height: 844 });
  await settle(page);
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshots, 'weightgrad-phone.png'), fullPage: false });
  assert.deepEqual(problems.errors, []);
});
