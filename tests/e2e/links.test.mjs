// Hand-edited links (issue 14, scope 7): unknown or out-of-range values fall back to their defaults with one
// quiet notice (js/hash.js parseHash + linkNotice, js/view.js reconcile), and every panel keeps working.
//
// Run: `cd tests/e2e && node --test links.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, teardown, screenshots, wasm, openPage, ready, settle, distinctColours, attributionShown } from './harness.mjs';

before(setup);
after(teardown);

const BOGUS = 'method=bogus&cmap=foo&unit=99,99&opacity=500&aview=weird&dmode=bogus&layer=99&sample=99999';

/** Scrolls every panel on screen once (off-screen panels do not draw) and returns the errors they show. */
async function panelErrors(page) {
  for (const id of await page.$$eval('section.panel', (panels) => panels.map((panel) => panel.id))) {
    await page.locator(`#${id}`).scrollIntoViewIfNeeded();
    await settle(page);
  }
  return page.$$eval('.panel-error', (lines) => lines.filter((line) => !line.hidden).map((line) => line.textContent));
}

const REFUSED = ['method=bogus', 'cmap=foo', 'unit=99,99', 'opacity=500', 'aview=weird', 'dmode=bogus', 'layer=99', 'sample=99999'];

// Fashion-MNIST has no monitor, so its links have no γ key (another model's keys are ignored, not refused);
// an unknown model opens the default one, MNIST.
for (const [model, extra, refused] of [
  ['fashion', '', REFUSED],
  ['nosuch', '&gamma=x&dlayer=conv2&dchannel=40', [...REFUSED, 'model=nosuch', 'gamma=x', 'dchannel=40']],
]) {
  test(`a link to model ${model} with bogus values leaves every panel working, with one quiet notice`, async () => {
    const { page, problems } = await openPage(`index.html#model=${model}&${BOGUS}${extra}`);
    await ready(page);
    const status = page.locator('#status');
    assert.ok(await status.isVisible());
    assert.equal(await status.getAttribute('role'), 'status', 'a quiet notice, not an alert');
    assert.equal(await status.evaluate((line) => line.classList.contains('is-error')), false);
    const text = await status.textContent();
    assert.match(text, /^Not understood in this link, so left at their defaults: /);
    await page.screenshot({ path: path.join(screenshots, `link-notice-${model}.png`) });
    for (const value of refused) assert.equal(text.split(value).length, 2, `${value} named once in "${text}"`);
    assert.deepEqual(await panelErrors(page), []);
    // Every select shows one of its options; the deconvnet draws; attribution runs the default technique.
    assert.deepEqual(await page.$$eval('select', (selects) => selects.filter((s) => s.selectedIndex < 0).map((s) => s.className)), []);
    await page.locator('#panel-deconv').scrollIntoViewIfNeeded();
    await settle(page);
    assert.equal(await page.inputValue('#panel-deconv .unit'), 'all');
    assert.ok((await distinctColours(page, '[data-testid="deconv-output"]')) > 1, 'the reconstruction is blank');
    await page.locator('#panel-attribution').scrollIntoViewIfNeeded();
    const fallback = wasm.catalogue().find((t) => t.family === 'attribution' && t.familyDefault).id;
    await attributionShown(page, fallback);
    assert.ok((await page.locator('#panel-layers [data-testid="feature-map"]').count()) >= 1);
    // The last test image (339) stands in for sample 99999; the link the page writes back holds no bogus value.
    assert.match(await page.textContent('.preview-source'), /^Test image #339 /);
    await page.waitForFunction(() => location.hash.includes('sample=339') && !location.hash.includes('bogus'));
    // A good edit of the hash afterwards is applied as it is.
    assert.equal(await page.isChecked(`#model-switch input[value="${model === 'fashion' ? 'fashion' : 'mnist'}"]`), true);
    await page.evaluate(() => (location.hash = `#v=2&model=${new URLSearchParams(location.hash.slice(1)).get('model')}&sample=3&unit=max`));
    await page.locator('#panel-deconv').scrollIntoViewIfNeeded(); // panels off screen do not redraw
    await page.waitForFunction(() => document.querySelector('#panel-deconv .unit')?.value === 'max');
    await page.locator('#panel-input').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent.startsWith('Test image #3 '));
    assert.deepEqual(problems, { errors: [], foreign: [] });
    await page.close();
  });
}
