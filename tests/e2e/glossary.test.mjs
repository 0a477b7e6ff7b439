// The glossary (issue 14, scope 1): one list of the page's jargon (www/js/glossary.js), shown as the glossary
// panel, each term's first mention in a panel's text a button that opens its definition in place (click,
// Enter; Escape closes) and leads on to its glossary entry without touching the link (the URL hash).
//
// Run: `cd tests/e2e && node --test glossary.test.mjs` after scripts/build-wasm.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, teardown, openPage, ready, settle, wasm } from './harness.mjs';

before(setup);
after(teardown);

/** The words of the issue and the page's jargon that must each have an entry (found by `findTerms`). */
const JARGON = ['logit', 'softmax', 'feature map', 'receptive field', 'pooling switches', 'ReLU', 'relu2', 'conv1', 'pool2', 'fc2', 'γ', 'Hamming distance', 'completeness gap', 'saliency', 'baseline', 'Gram matrix', 't-SNE', 'UMAP', 'PCA', 'deconvnet', 'Grad-CAM', 'guided backprop', 'integrated gradients', 'SmoothGrad', 'occlusion', 'DeepDream', 'inversion', 'k-means', 'activation maximization', 'atlas', 'gradient ascent', 'Adam', 'on/off pattern', 'runtime monitor', 'colormap', 'diverging', 'kernel', 'filter', 'channel', 'neuron', 'unit', 'gradient', 'attribution', 'probability', 'max pooling', 'fully connected', 'misclassified', 'correlation', 'standardised', 'nearest neighbours', 'texture', 'style transfer', 'forward pass', 'cosine', 'perplexity', 'KL divergence', 'total variation', 'octaves'];

test('every jargon word of the page has exactly its glossary entry', async () => {
  const { findTerms, GLOSSARY } = await import('../../www/js/glossary.js');
  for (const word of JARGON) {
    const found = findTerms(`a ${word} here`);
    assert.equal(found.length, 1, `"${word}" is in the glossary`);
    assert.equal(found[0].length, word.length, `"${word}" is matched whole`);
  }
  // Whole words only: no term inside another word.
  assert.deepEqual(findTerms('confusion, reluctant, fcx, conv12x, adamant'), []);
  const ids = GLOSSARY.map((entry) => entry.id);
  assert.equal(new Set(ids).size, ids.length, 'entry ids are unique');
  for (const entry of GLOSSARY) assert.ok(entry.text.length > 40 && entry.text.endsWith('.'), `${entry.id} has a sentence`);
  // The catalogue's own texts: each technique's explanation has at least one glossed term.
  for (const technique of wasm.catalogue()) assert.ok(findTerms(technique.explanation).length > 0, `${technique.id}'s explanation has a glossed term`);
});

test('terms open their definition in place, by click and keyboard, and lead to the glossary', async () => {
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const { GLOSSARY } = await import('../../www/js/glossary.js');
  const known = new Set(GLOSSARY.map((entry) => entry.id));
  const terms = await page.$$eval('.panel .term', (buttons) => buttons.map((b) => [b.dataset.term, b.closest('section.panel').id]));
  assert.ok(terms.length > 20, `${terms.length} term buttons`);
  for (const [id] of terms) assert.ok(known.has(id), `${id} is an entry`);
  const panels = new Set(terms.map(([, panel]) => panel));
  for (const panel of ['panel-prediction', 'panel-deconv', 'panel-attribution', 'panel-monitor', 'panel-architecture']) assert.ok(panels.has(panel), `${panel} glosses its jargon`);
  // The completeness gap in the caption of integrated gradients, and relu2 in Grad-CAM's, are buttons.
  for (const [method, term] of [['integrated-gradients', 'completeness'], ['grad-cam', 'layer-names']]) {
    await page.evaluate(async (m) => (await import('./js/main.js')).viewer.app.setView({ method: m }), method);
    await page.locator('#panel-attribution').scrollIntoViewIfNeeded();
    await page.waitForSelector(`#panel-attribution .attribution-caption .term[data-term="${term}"]`, { timeout: 60000 });
  }
  // Click: the definition opens under the description; Escape on the button closes it; Enter opens it again.
  await page.waitForFunction(() => location.hash.includes('method=grad-cam'));
  const hash = await page.evaluate(() => location.hash);
  const logit = page.locator('#panel-prediction .panel-description .term[data-term="logit"]');
  await logit.scrollIntoViewIfNeeded();
  await logit.click();
  const note = page.locator('#panel-prediction .term-note');
  assert.equal(await logit.getAttribute('aria-expanded'), 'true');
  assert.match(await note.textContent(), /^logit \(class score\): The raw score/);
  assert.equal(await logit.getAttribute('aria-controls'), await note.getAttribute('id'));
  await logit.focus();
  await page.keyboard.press('Escape');
  assert.equal(await note.isHidden(), true);
  assert.equal(await logit.getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Enter');
  assert.equal(await note.isVisible(), true);
  // Another term of the same text takes the note over; a second click closes it.
  const softmax = page.locator('#panel-prediction .panel-description .term[data-term="softmax"]');
  await softmax.click();
  assert.match(await note.textContent(), /^softmax: /);
  assert.equal(await logit.getAttribute('aria-expanded'), 'false');
  await softmax.click();
  assert.equal(await note.isHidden(), true);
  // "In the glossary" focuses the entry in the glossary panel, and the link stays what it was.
  await softmax.click();
  await note.locator('.term-more').click();
  await page.waitForFunction(() => document.activeElement?.id === 'glossary-softmax');
  await settle(page);
  assert.ok(await page.locator('#glossary-softmax').isVisible());
  assert.equal(await page.evaluate(() => location.hash), hash, 'the glossary links leave the URL alone');
  // Inside the glossary, a definition's terms link to their entries.
  await page.click('#glossary-softmax + dd .term-link[href="#glossary-logit"]');
  await page.waitForFunction(() => document.activeElement?.id === 'glossary-logit');
  const entries = await page.$$eval('[data-testid="glossary"] dt', (dts) => dts.length);
  assert.equal(entries, GLOSSARY.length);
  assert.deepEqual(problems, { errors: [], foreign: [] });
  await page.close();
});
