#!/usr/bin/env node
// Makes the screenshots of the README and docs/ (issue 14): the page's first screen on a 1440×900 desktop in
// the dark theme (docs/screenshot.png), the light theme on a 1280 desktop, the page on a 390×844 phone after
// drawing a 4, the guided tour on both, the architecture strip, a glossary definition opened in place, the
// widget with theme="light" in a white course page of another origin, and two PNG exports at 2× (attribution,
// prediction), all in docs/screenshots/. It runs the page from www/ on the e2e harness (the system's Chromium,
// tests/e2e/harness.mjs), so build the module first.
// Usage: scripts/build-wasm.sh && node scripts/screenshots.mjs

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setup, teardown, openPage, ready, settle, draw, coursePage, repo, attributionShown } from '../tests/e2e/harness.mjs';

const out = path.join(repo, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const shot = (name) => path.join(out, name);
const FOUR = [[[0.3, 0.15], [0.25, 0.55], [0.75, 0.55]], [[0.62, 0.3], [0.6, 0.85]]];

/** Opens the page at `hash` in `theme` at `width × height`, ready. */
async function page(hash, theme, width, height) {
  const { page: p } = await openPage(`index.html${hash}`);
  await p.setViewportSize({ width, height });
  await ready(p);
  await p.selectOption('#theme', theme);
  await settle(p);
  return p;
}

/** Waits for the smooth scroll to end. */
async function still(p) {
  let last = -1;
  for (let i = 0; i < 40 && last !== (last = await p.evaluate(() => scrollY)); i++) await p.waitForTimeout(150);
  await settle(p);
}

/** Clicks the PNG button of `panel` and saves the export as `name`. */
async function exportPng(p, panel, name) {
  const [file] = await Promise.all([p.waitForEvent('download'), p.click(`#panel-${panel} button[aria-label^="Download the"]`)]);
  await file.saveAs(shot(name));
}

async function desktop() {
  const dark = await page('', 'dark', 1440, 900);
  await dark.screenshot({ path: path.join(repo, 'docs/screenshot.png') });
  await dark.locator('#panel-architecture').scrollIntoViewIfNeeded();
  await settle(dark);
  await dark.locator('#panel-architecture').screenshot({ path: shot('architecture.png') });
  await dark.click('#tour-start');
  for (let i = 0; i < 3; i++) await dark.click('.tour-next'); // the conv1 step
  await still(dark);
  await dark.screenshot({ path: shot('tour-desktop.png') });
  await dark.keyboard.press('Escape');
  await dark.close();

  const light = await page('#sample=5', 'light', 1280, 900);
  await light.screenshot({ path: shot('desktop.png') });
  const term = light.locator('#panel-prediction .panel-description .term[data-term="logit"]');
  await term.click();
  await light.locator('#panel-prediction').screenshot({ path: shot('glossary-note.png') });
  await light.close();
}

async function phone() {
  const p = await page('', 'light', 390, 844);
  await p.click('[data-testid="clear"]');
  await draw(p, FOUR);
  await p.evaluate(() => scrollTo(0, 0)); // drawing scrolled the canvas into view: the shot starts at the header
  await still(p);
  await p.screenshot({ path: shot('phone.png') });
  await p.click('#tour-start');
  await p.click('.tour-next');
  await p.click('.tour-next'); // the architecture step: the strip, scrolling sideways
  await still(p);
  await p.screenshot({ path: shot('tour-phone.png') });
  await p.close();
}

async function exports() {
  const p = await page('#sample=5&method=integrated-gradients', 'dark', 1280, 900);
  await p.locator('#panel-attribution').scrollIntoViewIfNeeded();
  await attributionShown(p, 'integrated-gradients');
  await exportPng(p, 'attribution', 'export-attribution.png');
  await p.locator('#panel-prediction').scrollIntoViewIfNeeded();
  await settle(p);
  await exportPng(p, 'prediction', 'export-prediction.png');
  await p.close();
}

/** The widget, theme="light", in a plain white page of another origin, among a course's text. */
async function widget() {
  const { page: p } = await openPage('index.html');
  await p.setViewportSize({ width: 900, height: 900 });
  await p.goto(coursePage());
  await p.evaluate(() => {
    const widget = document.querySelector('convscope-viewer');
    widget.setAttribute('theme', 'light');
    document.body.style.cssText = 'background:#fff;color:#222;font:17px/1.5 Georgia,serif;max-width:760px;margin:24px auto;padding:0 16px';
    const h = document.createElement('h1');
    h.textContent = 'Week 3 · What does a CNN see?';
    const p1 = document.createElement('p');
    p1.textContent = 'Draw a digit below and watch LeNet-5 read it. Then change one stroke: which classes gain, which lose?';
    document.body.prepend(h, p1);
    const p2 = document.createElement('p');
    p2.textContent = 'Exercise: find a 7 the network reads as a 1, and explain why with the attribution map.';
    document.body.append(p2);
  });
  await p.waitForFunction(() => document.querySelector('convscope-viewer')?.dataset.ready === 'true', null, { timeout: 30000 });
  await settle(p);
  await p.screenshot({ path: shot('widget-light.png'), fullPage: true });
  await p.close();
}

await setup();
try {
  await desktop();
  await phone();
  await exports();
  await widget();
} finally {
  await teardown();
}
console.log(`screenshots: ${out} and docs/screenshot.png`);
