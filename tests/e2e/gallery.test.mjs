// The gallery's hard cases (issue 14, scope 5): both models' galleries hold their real mistakes, the
// "misclassified only" filter shows them once the page has classified every image, and Random picks among them.
//
// Run: `cd tests/e2e && node --test gallery.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, teardown, openPage, ready, settle } from './harness.mjs';

before(setup);
after(teardown);

for (const [model, mistakes] of [['mnist', 30], ['fashion', 55]]) {
  test(`the ${model} gallery shows its ${mistakes} mistakes under "misclassified only", and Random picks one`, async () => {
    const { page, problems } = await openPage(`index.html#model=${model}`);
    await ready(page);
    await page.locator('#panel-gallery').scrollIntoViewIfNeeded();
    await page.selectOption('#panel-gallery .gallery-filter', 'wrong');
    await page.waitForFunction(() => / misclassified$/.test(document.querySelector('#panel-gallery .gallery-count').textContent), null, { timeout: 60000 });
    assert.equal(await page.textContent('#panel-gallery .gallery-count'), `${mistakes} shown · ${mistakes} misclassified`);
    const shown = await page.$$eval('#panel-gallery .thumb', (buttons) => buttons.filter((b) => !b.hidden).map((b) => b.getAttribute('aria-label')));
    assert.equal(shown.length, mistakes);
    assert.ok(shown.every((label) => label.endsWith(', misclassified')), shown.join('\n'));
    assert.equal(await page.locator('#panel-gallery .gallery-empty').isVisible(), false);
    for (let i = 0; i < 3; i++) {
      await page.click('#panel-gallery .random');
      await settle(page);
      const picked = await page.evaluate(async () => {
        const { app } = (await import('./js/main.js')).viewer;
        return { kind: app.source.kind, label: app.source.label, predicted: app.prediction().label };
      });
      assert.equal(picked.kind, 'gallery');
      assert.notEqual(picked.predicted, picked.label, 'Random picked an image the model reads right');
    }
    assert.deepEqual(problems, { errors: [], foreign: [] });
    await page.close();
  });
}
