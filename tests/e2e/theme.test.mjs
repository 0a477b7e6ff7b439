// Light and dark themes (issue 14, scope 6): the page's theme select and the widget's `theme` attribute, and
// every text of both legible: the WCAG 2 contrast ratio of each element's text colour against the background
// it is drawn on (the element's and its ancestors' backgrounds composited, alpha included) is at least 4.5:1
// (3:1 for large text). Screenshots: theme-light.png (the page), widget-light.png (the widget with
// theme="light" in a white page).
//
// Run: `cd tests/e2e && node --test theme.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, screenshots, openPage, ready, settle, openEmbed } from './harness.mjs';

before(setup);
after(teardown);

/**
 * In the page: the contrast of every visible element that holds text directly, under `root` (a document or a
 * shadow root); `[{ text, ratio, needed }]`, lowest ratio first.
 */
function contrasts(rootSelector) {
  const rgba = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parentOf = (node) => node.parentElement ?? node.getRootNode().host ?? null;
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = parentOf(node)) layers.push(rgba(getComputedStyle(node).backgroundColor));
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
  };
  const root = rootSelector ? document.querySelector(rootSelector).shadowRoot : document;
  const out = [];
  for (const element of root.querySelectorAll('*')) {
    const own = [...element.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()).map((n) => n.textContent.trim()).join(' ');
    if (!own || element.closest('canvas, option, noscript, script, style')) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0 || Number(style.opacity) === 0) continue;
    const bg = background(element);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    out.push({ text: own.slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05), needed: large ? 3 : 4.5 });
  }
  return out.sort((a, b) => a.ratio - b.ratio);
}

function assertLegible(t, name, found) {
  assert.ok(found.length > 30, `${name}: ${found.length} texts measured`);
  const failing = found.filter((f) => f.ratio < f.needed);
  t.diagnostic(`${name}: ${found.length} texts, lowest contrast ${found[0].ratio.toFixed(2)}:1 ("${found[0].text}")`);
  assert.deepEqual(failing.map((f) => `${f.text}: ${f.ratio.toFixed(2)}`), [], `${name}: texts under their contrast minimum`);
}

test('both themes of the page are legible, and the select switches and remembers them', async (t) => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  await page.setViewportSize({ width: 1280, height: 2400 }); // every panel on screen, so each has drawn
  await settle(page);
  for (const theme of ['dark', 'light']) {
    await page.selectOption('#theme', theme);
    await settle(page);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    assertLegible(t, `page, ${theme}`, await page.evaluate(contrasts, null));
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(screenshots, 'theme-light.png') });
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light', 'the choice survives a reload');
  // Auto follows the system setting.
  await page.selectOption('#theme', 'auto');
  for (const scheme of ['dark', 'light']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((want) => document.documentElement.dataset.theme === want, scheme);
  }
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});

test('the widget with theme="light" is legible in a white course page', async (t) => {
  const { page, problems } = await openEmbed();
  await page.emulateMedia({ colorScheme: 'dark' }); // the attribute wins over the system setting
  await page.evaluate(() => {
    document.body.style.background = '#ffffff';
    document.querySelector('#demo-predict').setAttribute('theme', 'light');
  });
  await settle(page);
  assert.equal(await page.evaluate(() => document.querySelector('#demo-predict').dataset.theme), 'light');
  assertLegible(t, 'widget, light', await page.evaluate(contrasts, '#demo-predict'));
  await page.locator('#demo-predict').screenshot({ path: path.join(screenshots, 'widget-light.png') });
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
});
