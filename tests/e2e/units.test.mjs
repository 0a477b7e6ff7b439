// Unit tests of the page's DOM-free modules in Node: the URL-hash state, IDX parsing, weight URLs, colormaps,
// the filter mosaic, vector grids and the attribution options/maps the panels hand to the wasm module.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeImage, decodeImage, parseHash, formatHash } from '../../www/js/hash.js';
import { parseIdx, weightsUrl } from '../../www/js/data.js';
import { lut, COLORMAPS } from '../../www/js/visual.js';
import { valueRange, displayRange, vectorGrid, formatValue, describeDistance } from '../../www/js/render.js';
import { kernelMosaic } from '../../www/js/panels/filters.js';
import { attributionOptions, displayMap } from '../../www/js/panels/attribution.js';
import { DEFAULT_VIEW } from '../../www/js/app.js';

test('images in links round-trip at 8-bit precision and reject the wrong size', () => {
  const image = Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 28);
  const text = encodeImage(image);
  assert.match(text, /^[A-Za-z0-9_-]+$/, 'base64url, no padding');
  assert.equal(text.length, Math.ceil((784 * 4) / 3));
  const back = decodeImage(text, 784);
  for (let i = 0; i < 784; i++) assert.ok(Math.abs(back[i] - image[i]) <= 0.5 / 255 + 1e-7, `pixel ${i}`);
  assert.equal(decodeImage(text, 783), null);
  assert.equal(decodeImage('**not base64**', 784), null);
  // Out-of-range values are clamped, not wrapped.
  assert.deepEqual(Array.from(decodeImage(encodeImage(Float32Array.of(-1, 2, 0.5)), 3)), [0, 1, Math.fround(128 / 255)]);
});

test('the hash keeps only non-default view keys and parses back to the same state', () => {
  const view = { ...DEFAULT_VIEW, layer: 6, dlayer: 'conv2', dchannel: 5, dall: true, method: 'occlusion', window: 7 };
  const hash = formatHash({ model: 'mnist', source: { kind: 'gallery', index: 12 }, image: null, view });
  assert.equal(hash, '#model=mnist&sample=12&layer=6&dlayer=conv2&dchannel=5&dall=1&method=occlusion&window=7');
  const parsed = parseHash(hash);
  assert.equal(parsed.model, 'mnist');
  assert.equal(parsed.sample, 12);
  assert.equal(parsed.img, null);
  assert.deepEqual(parsed.view, view);
  // Invalid numbers are not trusted (the key takes its default); unknown keys are ignored.
  const bad = parseHash('#layer=-2&dchannel=1.5&steps=abc&sample=x&bogus=1&cmap=magma');
  assert.deepEqual(bad.view, { ...DEFAULT_VIEW, cmap: 'magma' });
  assert.equal(bad.sample, null);
  // A drawing travels as its pixels.
  const drawn = formatHash({ model: 'fashion', source: { kind: 'drawn' }, image: new Float32Array(4), view: DEFAULT_VIEW });
  assert.equal(drawn, '#model=fashion&img=AAAAAA');
});

test('a view key missing from an edited hash goes back to its default', () => {
  // The page applies a parsed hash with app.setView(parsed.view) (js/main.js, on 'hashchange'): a key the
  // edited hash no longer mentions must not keep the value the previous hash gave it.
  const previous = parseHash('#model=mnist&sample=3&gamma=0&dall=1&dlayer=conv2&cmap=magma');
  assert.equal(previous.view.gamma, '0');
  const edited = parseHash('#model=mnist&sample=3&cmap=magma');
  assert.deepEqual(edited.view, { ...DEFAULT_VIEW, cmap: 'magma' });
  const applied = { ...previous.view, ...edited.view };
  assert.equal(applied.gamma, DEFAULT_VIEW.gamma);
  assert.equal(applied.dall, false);
  assert.equal(applied.dlayer, '');
  assert.equal(applied.cmap, 'magma');
  // Every view key is in the parsed view, even for an empty hash.
  assert.deepEqual(parseHash('').view, DEFAULT_VIEW);
  assert.deepEqual(Object.keys(parseHash('#layer=4').view).sort(), Object.keys(DEFAULT_VIEW).sort());
});

test('IDX files parse, and truncated or foreign files are refused', () => {
  const bytes = Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40);
  const { dims, data } = parseIdx(bytes);
  assert.deepEqual(dims, [2, 1, 2]);
  assert.deepEqual(Array.from(data), [10, 20, 30, 40]);
  assert.throws(() => parseIdx(bytes.subarray(0, 19)), /truncated/);
  assert.throws(() => parseIdx(Uint8Array.of(0x89, 0x50, 0x4e, 0x47)), /not an unsigned-byte IDX/);
});

test('weights are found next to the manifest', () => {
  const manifest = 'https://example.org/site/models/lenet5-mnist.json';
  assert.equal(weightsUrl(manifest, { weights: 'lenet5-mnist.safetensors' }), 'https://example.org/site/models/lenet5-mnist.safetensors');
  assert.equal(weightsUrl(manifest, { weights: '../w/x.safetensors' }), 'https://example.org/site/w/x.safetensors');
  assert.equal(weightsUrl(manifest, {}), 'https://example.org/site/models/lenet5-mnist.safetensors');
});

test('colormaps hit their anchor colours and the diverging one is white at zero', () => {
  const rgb = (name, k) => Array.from(lut(name).subarray(k * 3, k * 3 + 3));
  assert.deepEqual(rgb('viridis', 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(rgb('viridis', 255), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(rgb('gray', 0), [0, 0, 0]);
  assert.deepEqual(rgb('gray', 255), [255, 255, 255]);
  for (const c of rgb('diverging', 128)) assert.ok(c >= 240, 'near white in the middle');
  assert.ok(rgb('diverging', 0)[2] > rgb('diverging', 0)[0], 'negative end is blue');
  assert.ok(rgb('diverging', 255)[0] > rgb('diverging', 255)[2], 'positive end is red');
  assert.deepEqual(COLORMAPS.map(([name]) => name), ['viridis', 'magma', 'inferno', 'plasma', 'gray', 'diverging']);
});

test('value ranges: signed maps are symmetric around zero', () => {
  const data = Float32Array.of(3, -1, 0.5, 2);
  assert.deepEqual(valueRange(data), [-1, 3]);
  assert.deepEqual(valueRange(data, 1, 2), [-1, 0.5]);
  assert.deepEqual(displayRange('diverging', [-1, 3]), [-3, 3]);
  assert.deepEqual(displayRange('viridis', [-1, 3]), [-1, 3]);
  assert.deepEqual(valueRange(new Float32Array(0)), [0, 0]);
  assert.equal(formatValue(0.000123), '1.23e-4');
  assert.equal(formatValue(-2.5), '-2.50');
});

test('filter mosaic: one column per filter, one row per input channel, NaN gaps', () => {
  // Two 1-channel 2×2 filters: [[1,2],[3,4]] and [[5,6],[7,8]].
  const mosaic = kernelMosaic({ shape: [2, 1, 2, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
  assert.equal(mosaic.height, 2);
  assert.equal(mosaic.width, 5);
  const cells = Array.from(mosaic.data, (v) => (Number.isNaN(v) ? null : v));
  assert.deepEqual(cells, [1, 2, null, 5, 6, 3, 4, null, 7, 8]);
  // LeNet-5's conv2: 16 filters of 6 channels.
  const conv2 = kernelMosaic({ shape: [16, 6, 5, 5], data: new Float32Array(16 * 6 * 25) });
  assert.deepEqual([conv2.height, conv2.width], [6 * 6 - 1, 16 * 6 - 1]);
});

test('vector layers are laid out in near-square grids', () => {
  assert.deepEqual(vectorGrid(10), [1, 10]);
  assert.deepEqual(vectorGrid(84), [9, 10]);
  assert.deepEqual(vectorGrid(400), [20, 20]);
  assert.deepEqual(vectorGrid(120), [11, 11]);
});

test('attribution options follow the view and maps reduce to one plane', () => {
  const view = { ...DEFAULT_VIEW, target: '', steps: 16, baseline: 50, window: 4, stride: 2, fill: 100, sigma: 20 };
  assert.deepEqual(attributionOptions('integrated-gradients', view), { output: 'logit', steps: 16, baseline: 0.5 });
  assert.deepEqual(attributionOptions('occlusion', { ...view, target: '3' }), { output: 'logit', target: 3, window: 4, stride: 2, fill: 1 });
  assert.deepEqual(attributionOptions('smoothgrad', view), { output: 'logit', samples: 50, sigma: 0.2, base: 'gradient' });
  assert.deepEqual(attributionOptions('grad-cam', { ...view, camlayer: 'pool1' }), { output: 'logit', layer: 'pool1' });
  assert.deepEqual(attributionOptions('saliency', view), { output: 'logit' });

  const twoChannels = { shape: [2, 1, 2], data: Float32Array.of(1, -3, 2, 1) };
  assert.deepEqual(Array.from(displayMap(twoChannels, false).data), [3, -2]);
  assert.deepEqual(Array.from(displayMap(twoChannels, true).data), [3, 2]);
  const cam = { shape: [1, 2], data: Float32Array.of(0.5, 0) };
  assert.deepEqual(displayMap(cam, false), { height: 1, width: 2, data: Float32Array.of(0.5, 0) });
});

test('monitor verdicts read as distance against γ', () => {
  assert.equal(describeDistance({ distance: 0, gamma: 2, warn: false }), 'distance 0 ≤ γ 2');
  assert.equal(describeDistance({ distance: 5, gamma: 2, warn: true }), 'distance 5 > γ 2');
  assert.equal(describeDistance({ distance: Infinity, gamma: 2, warn: true }), 'no training pattern of this class');
});
