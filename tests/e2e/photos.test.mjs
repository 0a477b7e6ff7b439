// Photo uploads in the page (issue 14's acceptance, through the page): a sample of the held-out generated
// photos of every condition (tests/common/photos.rs, written as PNG files by `cargo run --example photo_set`
// with the label the CLI's `--image` path gives each) is uploaded through the file input; the page's
// prediction must equal the native one for every photo and the true label for ≥ 95 % of the sample. The
// preprocessing strip shows the five steps of the last upload, and goes away for a drawing.
//
// Run: `cd tests/e2e && node --test photos.test.mjs` after scripts/build-wasm.sh (cargo builds the example).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setup, teardown, repo, modelFiles, screenshots, trainedModel, openPage, ready, settle, predictionText, distinctColours, draw, expectedLabel } from './harness.mjs';

/** Photos per condition (the first of each condition's held-out acceptance set of tests/photos.rs). */
const PER_CONDITION = Number(process.env.PHOTOS_PER_CONDITION ?? 10);
const dir = mkdtempSync(path.join(tmpdir(), 'convscope-photos-'));
let photos = [];

before(setup);
before(() => {
  execFileSync(process.env.CARGO ?? 'cargo', ['run', '--quiet', '--example', 'photo_set', '--', dir, String(PER_CONDITION), 'held-out'], {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  photos = JSON.parse(readFileSync(path.join(dir, 'photos.json'), 'utf8'));
});
after(teardown);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Uploads `file` of the sample through the page's file input; resolves to the page's predicted label text. */
async function upload(page, file) {
  const buffer = readFileSync(path.join(dir, file));
  await page.setInputFiles('[data-testid="upload"]', { name: file, mimeType: 'image/png', buffer });
  await page.waitForFunction((name) => document.querySelector('.preview-source')?.textContent === `Uploaded ${name}`, file);
  await settle(page);
  return (await predictionText(page)).split(' ')[0];
}

/** `[width, height]` of a PNG file (its IHDR chunk). */
function pngSize(file) {
  const bytes = readFileSync(path.join(dir, file));
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test('held-out photos uploaded to the page read as the CLI reads them', async (t) => {
  assert.ok(trainedModel, 'the photo test needs the shipped MNIST model in www/models');
  assert.equal(photos.length, 10 * PER_CONDITION);
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await page.locator('#panel-input').scrollIntoViewIfNeeded();
  const tally = new Map();
  const mismatches = [];
  for (const photo of photos) {
    const shown = await upload(page, photo.file);
    // The same module in Node agrees with the native core on the file's bytes (not only the page with it).
    const inNode = modelFiles.predict(modelFiles.preprocessFile(new Uint8Array(readFileSync(path.join(dir, photo.file))))).label;
    assert.equal(inNode, photo.native, `${photo.file}: wasm in Node ${inNode}, native ${photo.native}`);
    if (shown !== expectedLabel(photo.native)) mismatches.push(`${photo.file} (${photo.condition}): page ${shown}, CLI ${photo.native}`);
    const row = tally.get(photo.condition) ?? { right: 0, total: 0 };
    row.total++;
    if (shown === expectedLabel(photo.label)) row.right++;
    tally.set(photo.condition, row);
  }
  let right = 0;
  for (const [condition, row] of tally) {
    t.diagnostic(`${condition}: ${row.right}/${row.total} read right in the page`);
    right += row.right;
  }
  assert.deepEqual(mismatches, [], 'the page and the CLI disagree');
  assert.ok(right * 100 >= 95 * photos.length, `${right}/${photos.length} photos read right in the page, under 95 %`);
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the preprocessing strip shows the steps of an upload, and not of a drawing', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const strip = page.locator('[data-testid="stages"]');
  assert.equal(await strip.isVisible(), false, 'no strip before an upload');
  // A photo whose threshold caught marks that the cleaning removed (specks of noise: grey in the strip).
  const removed = (photo) => modelFiles.preprocessStages(new Uint8Array(readFileSync(path.join(dir, photo.file)))).mask.data.includes(0.5);
  const shown = photos.find(removed);
  assert.ok(shown, 'no photo of the sample has removed marks');
  await upload(page, shown.file);
  assert.ok(await strip.isVisible());
  const size = (key) => page.$eval(`[data-testid="stages"] [data-stage="${key}"] canvas`, (canvas) => [canvas.width, canvas.height]);
  assert.deepEqual(await size('grey'), pngSize(shown.file)); // under 512 px: the photo itself
  assert.deepEqual(await size('mask'), pngSize(shown.file));
  assert.equal(Math.max(...(await size('crop'))), 20);
  assert.deepEqual(await size('input'), [28, 28]);
  // Kept ink (white), removed marks (grey) and paper (black): three grey levels.
  assert.equal(await distinctColours(page, '[data-testid="stages"] [data-stage="mask"] canvas'), 3);
  // The last step is the network input the preview shows, pixel for pixel.
  const pixels = (selector) => page.$eval(selector, (canvas) => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data));
  assert.deepEqual(await pixels('[data-testid="stages"] [data-stage="input"] canvas'), await pixels('.preview canvas'));
  await page.locator('#panel-input').screenshot({ path: path.join(screenshots, 'stages-desktop.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await settle(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone screen`);
  await page.locator('#panel-input').screenshot({ path: path.join(screenshots, 'stages-phone.png') });

  await page.click('[data-testid="clear"]');
  await draw(page, [[[0.5, 0.15], [0.5, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  assert.equal(await strip.isVisible(), false, 'the strip belongs to the upload');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
