// The page's defaults come from the Rust catalogue, not from list order or names written in JS: the
// attribution panel's default method is the one the catalogue declares (`familyDefault`), and the signed
// colormaps are those `colormaps()` marks `signed`. Node only (no browser).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { installColormaps, colormapChoices, SIGNED_COLORMAPS } from '../../www/js/visual.js';
import { displayRange } from '../../www/js/render.js';
import * as attributionPanel from '../../www/js/panels/attribution.js';

const wasm = await import('../../www/pkg/convscope.js');
await wasm.default({ module_or_path: readFileSync(new URL('../../www/pkg/convscope_bg.wasm', import.meta.url)) });
const catalogue = wasm.catalogue();
const colormaps = wasm.colormaps();
installColormaps(colormaps);

test('the attribution panel opens on the declared default, not the first listed method', () => {
  const attribution = catalogue.filter((t) => t.family === 'attribution');
  assert.deepEqual(catalogue.filter((t) => t.familyDefault).map((t) => t.id), ['integrated-gradients']);
  // Reordered, the default stays the same.
  const reversed = [...attribution].reverse();
  const app = { labels: [...'0123456789'], layers: [], deconvLayers: [], techniques: () => reversed };
  assert.equal(attributionPanel.meta.view(app).method.default, 'integrated-gradients');
});

test('signed colormaps are the ones Rust marks signed, and their range is symmetric', () => {
  assert.deepEqual(colormaps.map((c) => [c.name, c.signed]), [
    ['viridis', false], ['magma', false], ['inferno', false], ['plasma', false], ['gray', false], ['diverging', true],
  ]);
  assert.deepEqual([...SIGNED_COLORMAPS], ['diverging']);
  assert.deepEqual(colormapChoices().filter(([, label]) => label.endsWith('(signed)')).map(([name]) => name), ['diverging']);
  assert.deepEqual(displayRange('diverging', [-1, 3]), [-3, 3]);
  assert.deepEqual(displayRange('viridis', [-1, 3]), [-1, 3]);
});
