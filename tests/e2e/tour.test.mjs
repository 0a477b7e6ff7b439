// The guided tour (issue 14, scope 1): from "Take the tour" through every step to the end, by keyboard, on a
// desktop and on a phone. Each step scrolls its panel on screen and outlines it, the card's text is a live
// region, Back goes back, Escape closes from anywhere and the focus goes back to the start button.
//
// Run: `cd tests/e2e && node --test tour.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, openPage, ready, settle, screenshots } from './harness.mjs';

before(setup);
after(teardown);

const EXPECTED = ['input', 'prediction', 'architecture', 'layers', 'deconv', 'attribution', 'monitor', 'featureviz', 'maps', 'texture', 'responsemap', 'glossary'];

/** The tour's state: the step it shows, its counter, which panels are outlined, whether the step's panel is on screen. */
const state = (page) =>
  page.evaluate(() => {
    const card = document.querySelector('[data-testid="tour"]');
    const target = document.querySelector('.panel.tour-target');
    const box = target?.getBoundingClientRect();
    const cardBox = card.getBoundingClientRect();
    return {
      open: !card.hidden,
      step: card.dataset.step,
      counter: card.querySelector('.tour-counter').textContent,
      outlined: [...document.querySelectorAll('.panel.tour-target')].map((p) => p.id),
      onScreen: box ? box.top >= -1 && box.top < innerHeight - cardBox.height - 40 : false,
      top: box?.top,
      cardFits: cardBox.left >= 0 && cardBox.right <= innerWidth && cardBox.bottom <= innerHeight,
      live: card.querySelector('[aria-live]') !== null && card.querySelector('[aria-live]').contains(card.querySelector('.tour-text')),
      focus: document.activeElement?.id || document.activeElement?.className,
    };
  });

/** Waits until the page has stopped scrolling (the tour scrolls smoothly). */
async function scrolled(page) {
  let last = -1;
  for (let tries = 0; tries < 50; tries++) {
    await page.waitForTimeout(150);
    const y = await page.evaluate(() => scrollY);
    if (y === last) return;
    last = y;
  }
}

async function runTour(page, t, shot) {
  // Keyboard only: focus the start button, Enter starts, the focus goes to the card's title.
  await page.focus('#tour-start');
  await page.keyboard.press('Enter');
  let s = await state(page);
  assert.equal(s.open, true);
  assert.equal(s.focus, 'tour-title', 'the focus moves into the tour');
  assert.equal(await page.getAttribute('#tour-start', 'aria-expanded'), 'true');
  const seen = [];
  for (let i = 0; i < EXPECTED.length; i++) {
    await scrolled(page);
    s = await state(page);
    seen.push(s.step);
    assert.equal(s.counter, `Tour: step ${i + 1} of ${EXPECTED.length}`);
    assert.deepEqual(s.outlined, [`panel-${s.step}`], 'only the step\'s panel is outlined');
    assert.ok(s.onScreen, `${s.step}: its panel's top is on screen above the card (${s.top})`);
    assert.ok(s.cardFits, `${s.step}: the card fits the screen`);
    assert.ok(s.live, 'the step text is in a live region');
    if (i === 2 && shot) await page.screenshot({ path: path.join(screenshots, shot) });
    if (s.step === 'layers') assert.equal(await page.evaluate(async () => (await import('./js/main.js')).viewer.app.view.layer), 1, 'the conv1 step shows conv1');
    if (i === 1) {
      // Back returns to the first step, Next comes back here.
      await page.click('.tour-back');
      assert.equal((await state(page)).step, 'input');
      assert.equal(await page.isDisabled('.tour-back'), true, 'no Back on the first step');
      await page.click('.tour-next');
      assert.equal((await state(page)).step, 'prediction');
    }
    await page.focus('.tour-next');
    await page.keyboard.press('Enter');
  }
  t.diagnostic(`steps: ${seen.join(' → ')}`);
  assert.deepEqual(seen, EXPECTED);
  s = await state(page);
  assert.equal(s.open, false, 'Finish closes the tour');
  assert.deepEqual(s.outlined, []);
  assert.equal(s.focus, 'tour-start', 'the focus returns to the start button');
  // Escape closes it from anywhere, even with the focus in a panel.
  await page.click('#tour-start');
  await page.click('.tour-next');
  await page.focus('#panel-prediction .icon-button');
  await page.keyboard.press('Escape');
  s = await state(page);
  assert.equal(s.open, false, 'Escape closes the tour');
  assert.equal(s.focus, 'tour-start');
  assert.equal(await page.getAttribute('#tour-start', 'aria-expanded'), 'false');
}

test('the tour runs end to end with the keyboard on a desktop', async (t) => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await runTour(page, t, 'tour-desktop.png');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('the tour runs end to end on a phone', async (t) => {
  const { page, problems } = await openPage('index.html');
  await page.setViewportSize({ width: 390, height: 844 });
  await ready(page);
  await settle(page);
  await runTour(page, t, 'tour-phone.png');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});

test('on Fashion-MNIST (no monitor) the tour skips the monitor step', async () => {
  const { page, problems } = await openPage('index.html#model=fashion');
  await ready(page);
  await page.click('#tour-start');
  assert.equal((await state(page)).counter, `Tour: step 1 of ${EXPECTED.length - 1}`);
  await page.keyboard.press('Escape');
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
