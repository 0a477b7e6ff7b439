// The page on a phone with a finger (issue 14, scope 4): at 390×844 with touch input, a digit drawn with
// touch events is read, and its prediction is on the first screen beside the canvas (the small copy of the
// prediction panel's answer) without scrolling; a single tap leaves a dot that the network reads.
//
// Run: `cd tests/e2e && node --test touch.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, screenshots, openPage, ready, settle, modelFiles, expectedLabel } from './harness.mjs';

before(setup);
after(teardown);

const PHONE = { width: 390, height: 844 };

/** A phone page: 390×844, touch emulated through the DevTools protocol (one touch point). */
async function openPhone() {
  const opened = await openPage('index.html');
  const { page } = opened;
  await page.setViewportSize(PHONE);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
  await ready(page);
  await settle(page);
  // Which kinds of pointer reached the drawing surface.
  await page.evaluate(() => {
    window.pointerKinds = [];
    document.querySelector('[data-testid="draw-canvas"]').addEventListener('pointerdown', (event) => window.pointerKinds.push(event.pointerType));
  });
  return { ...opened, cdp };
}

/** Draws polylines (0..1 canvas coordinates) with one finger: touchStart, a touchMove per 4 px, touchEnd. */
async function touchDraw(page, cdp, strokes) {
  const box = await page.locator('[data-testid="draw-canvas"]').boundingBox();
  const at = ([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
  for (const stroke of strokes) {
    const points = stroke.map(at);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [points[0]] });
    for (let i = 1; i < points.length; i++) {
      const [from, to] = [points[i - 1], points[i]];
      const steps = Math.max(1, Math.round(Math.hypot(to.x - from.x, to.y - from.y) / 4));
      for (let s = 1; s <= steps; s++) {
        const touch = { x: from.x + ((to.x - from.x) * s) / steps, y: from.y + ((to.y - from.y) * s) / steps };
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [touch] });
      }
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }
  await settle(page);
}

/** What the module in Node predicts for the page's drawing surface, as the mini prediction would show it. */
async function expectedMini(page) {
  const rgba = await page.$eval('[data-testid="draw-canvas"]', (canvas) => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data));
  const { label, probs } = modelFiles.predict(modelFiles.preprocessRgba(new Uint8Array(rgba), 280, 280));
  return { label, text: `${expectedLabel(label)}${(probs[label] * 100).toFixed(1)}%` };
}

/** The mini prediction's text and box, and the page's scroll offset. */
const miniState = (page) =>
  page.evaluate(() => {
    const mini = document.querySelector('[data-testid="mini-prediction"]');
    const box = mini.getBoundingClientRect();
    return { text: mini.textContent, top: box.top, bottom: box.bottom, width: box.width, scrollY: window.scrollY, source: document.querySelector('.preview-source').textContent };
  });

test('a digit drawn with a finger at phone width is read, its prediction beside the canvas without scrolling', async () => {
  const { page, problems, cdp } = await openPhone();
  await page.click('[data-testid="clear"]');
  await page.evaluate(() => window.scrollTo(0, 0));
  // A "7": the bar, then the stem.
  await touchDraw(page, cdp, [[[0.25, 0.2], [0.75, 0.2], [0.45, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  await settle(page);
  assert.ok((await page.evaluate(() => window.pointerKinds)).every((kind) => kind === 'touch'), 'the strokes arrived as touch pointers');
  assert.ok((await page.evaluate(() => window.pointerKinds)).length >= 1);
  const want = await expectedMini(page);
  const state = await miniState(page);
  assert.equal(state.text, want.text, 'the mini prediction shows what the module predicts for these pixels');
  assert.equal(want.label, 7, 'a touch-drawn 7 reads as 7');
  assert.equal(state.scrollY, 0, 'drawing did not scroll the page');
  assert.ok(state.width > 0 && state.top >= 0 && state.bottom <= PHONE.height, `the mini prediction is on the first screen (${state.top}–${state.bottom} px of ${PHONE.height})`);
  // The prediction panel, scrolled to, agrees with it.
  await page.locator('[data-testid="prediction"]').scrollIntoViewIfNeeded();
  await page.waitForFunction((text) => document.querySelector('[data-testid="prediction"]').textContent.replace(/\s/g, '') === text, want.text);
  await page.evaluate(() => window.scrollTo(0, 0));
  await settle(page);
  await page.screenshot({ path: path.join(screenshots, 'touch-phone.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone screen`);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('a single tap leaves a dot that the network reads; Clear keeps the page\'s height', async () => {
  const { page, problems, cdp } = await openPhone();
  const height = () => page.evaluate(() => document.documentElement.scrollHeight);
  const before = await height();
  await page.click('[data-testid="clear"]');
  await settle(page);
  // Every panel keeps its size (they used to collapse: 2789 → 1929 px on a desktop); only the input panel's
  // caption lines change.
  const after = await height();
  assert.ok(Math.abs(after - before) <= before * 0.01, `Clear keeps the page's height: ${before} → ${after} px`);
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid="mini-prediction"]').textContent), '', 'no prediction after Clear');
  await touchDraw(page, cdp, [[[0.5, 0.5]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  // The surface is white where the finger touched, within the brush's radius, and black far from it.
  const [centre, corner] = await page.$eval('[data-testid="draw-canvas"]', (canvas) => {
    const ctx = canvas.getContext('2d');
    return [ctx.getImageData(140, 140, 1, 1).data[0], ctx.getImageData(140 + 40, 140, 1, 1).data[0]];
  });
  assert.equal(centre, 255, 'the tap painted the point it touched');
  assert.equal(corner, 0, 'and only a dot around it');
  await settle(page);
  const want = await expectedMini(page);
  assert.equal((await miniState(page)).text, want.text);
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});
