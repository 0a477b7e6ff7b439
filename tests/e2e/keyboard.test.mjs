// The page with the keyboard only (issue 14, scope 4): skip links to every panel are the first Tab stops,
// so every panel is reached in under 30 presses; the gallery's 340 images are one Tab stop with arrow keys
// (js/roving.js), Enter or Space picks one.
//
// Run: `cd tests/e2e && node --test keyboard.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, screenshots, openPage, ready, settle } from './harness.mjs';

before(setup);
after(teardown);

/** The focused element: its link target, aria-label, and the panel it is in. */
const focused = (page) =>
  page.evaluate(() => {
    const active = document.activeElement;
    return { id: active?.id ?? '', href: active?.getAttribute('href'), label: active?.getAttribute('aria-label'), panel: active?.closest('section.panel')?.id ?? null };
  });

test('every panel is reached in under 30 Tab presses', async (t) => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const panels = await page.$$eval('#panels > section.panel', (sections) => sections.map((section) => section.id));
  assert.ok(panels.length >= 8, `${panels.length} panels`);
  const hash = await page.evaluate(() => location.hash);
  const presses = {};
  for (const id of panels) {
    await page.reload();
    await ready(page);
    let count = 0;
    while (count < 30 && (await focused(page)).href !== `#${id}`) {
      await page.keyboard.press('Tab');
      count++;
    }
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).id, id, `Enter on the skip link focuses ${id}`);
    await page.keyboard.press('Tab');
    count += 2;
    assert.equal((await focused(page)).panel, id, `the next Tab stop is inside ${id}`);
    presses[id] = count;
  }
  t.diagnostic(`Tab/Enter presses to the first control of each panel: ${JSON.stringify(presses)}`);
  for (const [id, count] of Object.entries(presses)) assert.ok(count < 30, `${id}: ${count} presses`);
  // Without the skip links, Tab alone walks the page: the gallery's 340 images take one stop of its few.
  await page.reload();
  await ready(page);
  const first = {};
  const stops = {};
  for (let count = 1; count <= 300 && Object.keys(first).length < panels.length; count++) {
    await page.keyboard.press('Tab');
    if (count === 1) await page.screenshot({ path: path.join(screenshots, 'skip-link.png'), clip: { x: 0, y: 0, width: 640, height: 120 } });
    const { panel } = await focused(page);
    if (panel) {
      first[panel] ??= count;
      stops[panel] = (stops[panel] ?? 0) + 1;
    }
  }
  t.diagnostic(`Tab alone, presses to reach each panel: ${JSON.stringify(first)}`);
  assert.ok(stops['panel-gallery'] <= 5, `${stops['panel-gallery']} Tab stops in the gallery`);
  assert.equal(await page.evaluate(() => location.hash), hash, 'the skip links leave the link alone');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the gallery is one Tab stop: arrow keys move, Enter and Space pick', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await page.locator('#panel-gallery').scrollIntoViewIfNeeded();
  await settle(page);
  const source = () => page.evaluate(async () => (await import('./js/main.js')).viewer.app.source.index);
  const thumbs = '#panel-gallery .thumb';
  // The shown test image (0) holds the grid's only Tab stop.
  assert.deepEqual(await page.$$eval(thumbs, (buttons) => buttons.map((b, i) => [i, b.tabIndex]).filter(([, t]) => t === 0)), [[0, 0]]);
  await page.focus('#panel-gallery .random');
  await page.keyboard.press('Tab');
  assert.match((await focused(page)).label, /^Test image 0,/);
  const columns = await page.$$eval(thumbs, (buttons) => buttons.filter((b) => b.offsetTop === buttons[0].offsetTop).length);
  assert.ok(columns > 1, `${columns} columns`);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  assert.match((await focused(page)).label, new RegExp(`^Test image ${1 + columns},`));
  await page.keyboard.press('Enter');
  await page.waitForFunction((i) => document.querySelectorAll('#panel-gallery .thumb')[i].getAttribute('aria-pressed') === 'true', 1 + columns);
  assert.equal(await source(), 1 + columns);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft'); // stays on the first image
  assert.match((await focused(page)).label, /^Test image 0,/);
  await page.keyboard.press('End');
  assert.match((await focused(page)).label, /^Test image 339,/);
  await page.keyboard.press('Home');
  await page.keyboard.press(' ');
  await page.waitForFunction(() => document.querySelector('#panel-gallery .thumb').getAttribute('aria-pressed') === 'true');
  assert.equal(await source(), 0);
  // One Tab leaves the grid; Shift+Tab comes back to the image that holds the stop.
  await page.keyboard.press('Tab');
  assert.ok(!(await focused(page)).label?.startsWith('Test image'), 'Tab left the grid');
  await page.keyboard.press('Shift+Tab');
  assert.match((await focused(page)).label, /^Test image 0,/);
  // Filtered, the stop goes to the first image shown, and the keys move among the shown images only.
  await page.selectOption('#panel-gallery .gallery-filter', '3');
  const shown = await page.$$eval(thumbs, (buttons) => buttons.map((b, i) => [i, b.hidden, b.tabIndex]).filter(([, hidden]) => !hidden));
  assert.equal(shown[0][2], 0, 'the first image of class 3 holds the stop');
  await page.focus('#panel-gallery .random');
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowRight');
  assert.match((await focused(page)).label, new RegExp(`^Test image ${shown[1][0]}, class 3`));
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
