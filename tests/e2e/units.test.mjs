// Unit tests of the page's DOM-free modules in Node: the URL-hash state, IDX parsing, weight URLs, colormaps,
// the filter mosaic, vector grids and the attribution options/maps the panels hand to the wasm module.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeImage, decodeImage, parseHash, formatHash, LINK_VERSION, hashWriter, linkNotice } from '../../www/js/hash.js';
import { viewSchema, defaultView, completeView, reconcile } from '../../www/js/view.js';
import { readGallery } from '../../www/js/data.js';
import { lut, installColormaps, colormapChoices } from '../../www/js/visual.js';
import { valueRange, displayRange, vectorGrid, formatValue, describeDistance } from '../../www/js/render.js';
import { kernelMosaic } from '../../www/js/panels/filters.js';
import { emptyMessage } from '../../www/js/panels/gallery.js';
import { readFileSync } from 'node:fs';
import { displayMap } from '../../www/js/panels/attribution-view.js';
import * as attributionPanel from '../../www/js/panels/attribution.js';
import * as deconvPanel from '../../www/js/panels/deconv.js';
import * as layersPanel from '../../www/js/panels/layers.js';
import * as monitorPanel from '../../www/js/panels/monitor.js';
import { optionKey, techniqueOptions } from '../../www/js/controls.js';

// The wasm module in Node: the catalogue the page builds its controls from, and the shipped model's layers.
const wasm = await import('../../www/pkg/convscope.js');
await wasm.default({ module_or_path: readFileSync(new URL('../../www/pkg/convscope_bg.wasm', import.meta.url)) });
const manifestText = readFileSync(new URL('../../www/models/lenet5-mnist.json', import.meta.url), 'utf8');
const manifest = JSON.parse(manifestText);
const model = wasm.Model.load(manifestText, readFileSync(new URL(`../../www/models/${manifest.weights}`, import.meta.url)));
const info = model.info();
const catalogue = wasm.catalogue();
installColormaps(wasm.colormaps()); // as js/engine.js does
/** What the panels' view declarations read from the app (js/app.js), without a browser. */
const app = {
  labels: info.labels,
  layers: info.layers,
  deconvLayers: info.convBlocks.map((block) => ({ ...block, shape: info.layers[block.activations - 1].shape })),
  monitor: manifest.monitor,
  techniques: (family) => catalogue.filter((t) => t.family === family),
};

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

// Panels as the page has them: each declares its own view keys (js/view.js).
const PANELS = [
  { meta: { id: 'layers', view: { layer: 1, channel: 0, cmap: { default: 'viridis', valid: (v) => ['viridis', 'magma'].includes(v) } } } },
  { meta: { id: 'deconv', view: () => ({ dlayer: '', dchannel: 0, dall: false }) } },
  { meta: { id: 'monitor', view: { gamma: '' } } },
];
const SCHEMA = viewSchema(PANELS, {});
const DEFAULTS = defaultView(SCHEMA);

test('the panels declare their view keys; the app merges them and refuses a key declared twice', () => {
  assert.deepEqual(DEFAULTS, { layer: 1, channel: 0, cmap: 'viridis', dlayer: '', dchannel: 0, dall: false, gamma: '' });
  assert.equal(SCHEMA.fields.get('dall').panel, 'deconv');
  const twice = [...PANELS, { meta: { id: 'other', view: { layer: 2 } } }];
  assert.throws(() => viewSchema(twice, {}), /view key "layer" is declared by the layers and other panels/);
  // Keys of other panels (another model's) are dropped, invalid values go back to their defaults.
  assert.deepEqual(completeView(SCHEMA, { layer: 4, cmap: 'jet', method: 'x' }), { ...DEFAULTS, layer: 4 });
});

test('the hash carries its version, keeps only non-default view keys and parses back to the same state', () => {
  const view = { ...DEFAULTS, layer: 6, dlayer: 'conv2', dchannel: 5, dall: true, cmap: 'magma' };
  const hash = formatHash({ model: 'mnist', source: { kind: 'gallery', index: 12 }, image: null, view }, SCHEMA);
  assert.equal(hash, `#v=${LINK_VERSION}&model=mnist&sample=12&layer=6&cmap=magma&dlayer=conv2&dchannel=5&dall=1`);
  const parsed = parseHash(hash, SCHEMA);
  assert.equal(parsed.model, 'mnist');
  assert.equal(parsed.sample, 12);
  assert.equal(parsed.img, null);
  assert.deepEqual(parsed.view, view);
  // Invalid values are not trusted (the key takes its default); unknown keys are ignored.
  const bad = parseHash('#layer=-2&dchannel=1.5&channel=&sample=x&bogus=1&cmap=jet&gamma=3', SCHEMA);
  assert.deepEqual(bad.view, { ...DEFAULTS, gamma: '3' });
  assert.equal(bad.sample, null);
  // A drawing travels as its pixels.
  const drawn = formatHash({ model: 'fashion', source: { kind: 'drawn' }, image: new Float32Array(4), view: DEFAULTS }, SCHEMA);
  assert.equal(drawn, `#v=${LINK_VERSION}&model=fashion&img=AAAAAA`);
});

test('a panel upgrades the keys of older links', () => {
  const renamed = { meta: { id: 'renamed', view: { opacity: { default: 0.7, valid: Number.isFinite } }, upgrade: (params, version) => version === 1 && params.set('opacity', String(params.get('alpha') / 100)) } };
  const schema = viewSchema([...PANELS, renamed], {});
  assert.equal(parseHash('#alpha=40&layer=3', schema).view.opacity, 0.4, 'no version: version 1, upgraded');
  assert.equal(parseHash(`#v=${LINK_VERSION}&alpha=40`, schema).view.opacity, 0.7, 'current links are not upgraded');
});

test('a view key missing from an edited hash goes back to its default', () => {
  // The page applies a parsed hash with app.setView(parsed.view) (js/main.js, on 'hashchange'): a key the
  // edited hash no longer mentions must not keep the value the previous hash gave it.
  const previous = parseHash('#model=mnist&sample=3&gamma=0&dall=1&dlayer=conv2&cmap=magma', SCHEMA);
  assert.equal(previous.view.gamma, '0');
  const edited = parseHash('#model=mnist&sample=3&cmap=magma', SCHEMA);
  assert.deepEqual(edited.view, { ...DEFAULTS, cmap: 'magma' });
  const applied = { ...previous.view, ...edited.view };
  assert.equal(applied.gamma, DEFAULTS.gamma);
  assert.equal(applied.dall, false);
  assert.equal(applied.dlayer, '');
  assert.equal(applied.cmap, 'magma');
  // Every view key is in the parsed view, even for an empty hash.
  assert.deepEqual(parseHash('', SCHEMA).view, DEFAULTS);
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

test('attribution maps reduce to one plane', () => {
  const twoChannels = { shape: [2, 1, 2], data: Float32Array.of(1, -3, 2, 1) };
  assert.deepEqual(Array.from(displayMap(twoChannels, false).data), [3, -2]);
  assert.deepEqual(Array.from(displayMap(twoChannels, true).data), [3, 2]);
  const cam = { shape: [1, 2], data: Float32Array.of(0.5, 0) };
  assert.deepEqual(displayMap(cam, false), { height: 1, width: 2, data: Float32Array.of(0.5, 0) });
});

test('colormaps are the module\'s tables, and the diverging one is white at zero', () => {
  const rgb = (name, k) => Array.from(lut(name).subarray(k * 3, k * 3 + 3));
  assert.deepEqual(rgb('viridis', 0), [0x44, 0x01, 0x54]); // matplotlib's first viridis entry
  assert.deepEqual(rgb('viridis', 255), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(rgb('gray', 0), [0, 0, 0]);
  assert.deepEqual(rgb('gray', 255), [255, 255, 255]);
  for (const c of rgb('diverging', 128)) assert.ok(c >= 240, 'near white in the middle');
  assert.ok(rgb('diverging', 0)[2] > rgb('diverging', 0)[0], 'negative end is blue');
  assert.ok(rgb('diverging', 255)[0] > rgb('diverging', 255)[2], 'positive end is red');
  assert.deepEqual(colormapChoices().map(([name]) => name), wasm.colormaps().map((c) => c.name));
  assert.equal(lut('no such map'), lut('viridis'));
});

test('the shipped gallery decodes through the module\'s IDX decoder', () => {
  const read = (name) => new Uint8Array(readFileSync(new URL(`../../www/data/${name}`, import.meta.url)));
  const gallery = readGallery({ images: read('mnist-gallery-images.idx3.gz'), labels: read('mnist-gallery-labels.idx1.gz') }, wasm);
  assert.deepEqual([gallery.count, gallery.height, gallery.width], [340, 28, 28]);
  const image = gallery.image(7);
  assert.equal(image.length, 784);
  assert.equal(image[100], gallery.pixels[7 * 784 + 100] / 255);
  for (let k = 0; k < 10; k++) assert.equal(gallery.labels.slice(0, 300).filter((l) => l === k).length, 30, `30 images of class ${k}`);
  // A labels file of another length is refused.
  const plain = (dims, data) => Uint8Array.of(0, 0, 8, dims.length, ...dims.flatMap((d) => [0, 0, 0, d]), ...data);
  assert.throws(() => readGallery({ images: plain([2, 1, 1], [1, 2]), labels: plain([3], [0, 1, 2]) }, wasm), /2 images but 3 labels/);
});

const PAGE = viewSchema([layersPanel, deconvPanel, attributionPanel, monitorPanel], app);
const technique = (id) => catalogue.find((t) => t.id === id);

test('attribution controls come from the catalogue: every option a view key, its default, its range', () => {
  const fields = PAGE.fields;
  for (const t of app.techniques('attribution')) {
    for (const option of t.options) {
      const key = optionKey(t, option);
      assert.ok(fields.has(key), `${t.id} option ${option.key} has view key ${key}`);
      assert.equal(fields.get(key).default, option.default ?? '');
      if (option.type === 'int' || option.type === 'float') {
        assert.ok(fields.get(key).valid(option.min) && !fields.get(key).valid(option.min - 1), `${key} starts at ${option.min}`);
        if (option.max !== null) assert.ok(fields.get(key).valid(option.max) && !fields.get(key).valid(option.max + 1), `${key} ends at ${option.max}`);
      }
    }
  }
  // The defaults give the module every option at its catalogue default (null ones left to the technique).
  const defaults = defaultView(PAGE);
  for (const t of app.techniques('attribution')) {
    const expected = Object.fromEntries(t.options.filter((o) => o.default !== null).map((o) => [o.key, o.default]));
    assert.deepEqual(techniqueOptions(t, defaults), expected, t.id);
  }
});

test('links made before the catalogue (version 1) open the same view', () => {
  // A link the page wrote before this change: percent values for σ, baseline and fill, `camlayer`, bare
  // option keys. What that page handed the module for each method is written out below (its
  // attributionOptions), and the view must be the one a current link of the same state opens.
  const old = '#model=mnist&sample=3&layer=3&cmap=magma&dlayer=conv2&dchannel=5&dall=1&gamma=0' +
    '&method=smoothgrad&target=3&output=log_prob&aview=absolute&opacity=40&compare=occlusion,grad-cam' +
    '&steps=16&baseline=50&samples=20&sigma=15&base=saliency&camlayer=pool1&window=4&stride=2&fill=100';
  const parsed = parseHash(old, PAGE);
  const sent = {
    'integrated-gradients': { target: 3, output: 'log_prob', steps: 16, baseline: 0.5 },
    smoothgrad: { target: 3, output: 'log_prob', samples: 20, sigma: 0.15, base: 'saliency' },
    'grad-cam': { target: 3, output: 'log_prob', layer: 'pool1' },
    'guided-grad-cam': { target: 3, output: 'log_prob', layer: 'pool1' },
    occlusion: { target: 3, output: 'log_prob', window: 4, stride: 2, fill: 1 },
    saliency: { target: 3, output: 'log_prob' },
  };
  for (const [id, options] of Object.entries(sent)) {
    const now = techniqueOptions(technique(id), parsed.view);
    for (const [key, value] of Object.entries(options)) assert.equal(now[key], value, `${id} ${key}`);
  }
  const { view } = parsed;
  assert.deepEqual(
    [view.layer, view.cmap, view.dlayer, view.dchannel, view.dall, view.gamma, view.method, view.aview, view.opacity, view.compare],
    [3, 'magma', 'conv2', 5, true, '0', 'smoothgrad', 'absolute', 40, 'occlusion,grad-cam'],
  );
  // The same state written now, and read back: the same view.
  const now = formatHash({ model: 'mnist', source: { kind: 'gallery', index: 3 }, image: null, view }, PAGE);
  assert.match(now, /^#v=2&model=mnist&sample=3&/);
  assert.match(now, /&integrated-gradients\.baseline=0\.5&.*&occlusion\.fill=1&/);
  assert.deepEqual(parseHash(now, PAGE).view, view);
  // A version-1 link without attribution keys opens the defaults; a current link is not upgraded again.
  assert.deepEqual(parseHash('#model=mnist&sample=3', PAGE).view, defaultView(PAGE));
  assert.equal(parseHash('#v=2&sigma=15', PAGE).view['smoothgrad.sigma'], technique('smoothgrad').options.find((o) => o.key === 'sigma').default);
});

test('monitor verdicts read as distance against γ', () => {
  assert.equal(describeDistance({ distance: 0, gamma: 2, warn: false }), 'distance 0 ≤ γ 2');
  assert.equal(describeDistance({ distance: 5, gamma: 2, warn: true }), 'distance 5 > γ 2');
  assert.equal(describeDistance({ distance: Infinity, gamma: 2, warn: true }), 'no training pattern of this class');
});

/** A stand-in for the browser's Worker running js/worker.js: records messages, answers as `reply` says. */
class FakeWorker {
  static started = [];
  constructor(url) {
    this.url = url;
    this.posted = [];
    FakeWorker.started.push(this);
  }
  postMessage(message) {
    this.posted.push(message);
    if (message.type === 'load') queueMicrotask(() => this.onmessage({ data: { id: message.id, type: 'result', result: true } }));
  }
  answer(data) {
    this.onmessage({ data });
  }
  terminate() {
    this.terminated = true;
  }
}

test('the worker side: a newer task cancels the running one, a trapped worker is replaced once', async () => {
  globalThis.Worker = FakeWorker;
  globalThis.location = { origin: 'http://page.example' };
  const { RemoteModel, isCancelled } = await import('../../www/js/remote.js');
  const traps = [];
  const remote = new RemoteModel({ text: '{}', bytes: new Uint8Array(1) }, (error) => traps.push(error.message));
  const first = FakeWorker.started.at(-1);
  await remote.loaded;
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

  // A long run is under way; a newer task asks for the worker: the run is cancelled at once.
  const slow = remote.latest(() => remote.run(new Float32Array(4), 'long', {}, () => {}));
  await flush();
  const run = first.posted.find((m) => m.type === 'run');
  const newer = remote.latest(() => 'newer result');
  await flush();
  assert.deepEqual(first.posted.at(-1), { type: 'cancel', id: run.id });
  first.answer({ id: run.id, type: 'cancelled' });
  await assert.rejects(slow, (error) => isCancelled(error));
  assert.equal(await newer, 'newer result');

  // The worker's instance traps: the request fails, the app hears it once, a new worker loads the model.
  const failed = remote.latest(() => remote.run(new Float32Array(4), 'quick', {}));
  await flush();
  const second = first.posted.filter((m) => m.type === 'run').at(-1);
  first.answer({ id: second.id, type: 'error', message: 'RuntimeError: unreachable', trap: true });
  await assert.rejects(failed, /unreachable/);
  assert.deepEqual(traps, ['RuntimeError: unreachable']);
  assert.ok(first.terminated);
  const replacement = FakeWorker.started.at(-1);
  assert.notEqual(replacement, first);
  assert.equal(replacement.posted[0].type, 'load');
  await remote.loaded;
  const again = remote.latest(() => remote.run(new Float32Array(4), 'quick', {}));
  await flush();
  const third = replacement.posted.find((m) => m.type === 'run');
  replacement.answer({ id: third.id, type: 'result', result: { micros: 1 } });
  assert.deepEqual(await again, { micros: 1 });
  remote.terminate();
});

/** A fake clock and location for js/hash.js hashWriter: timers fire only when the test says so. */
function fakeLocation(initial) {
  const timers = new Map();
  let next = 1;
  const location = { hash: initial, writes: [] };
  const writer = hashWriter(
    { read: () => location.hash, write: (hash) => location.writes.push((location.hash = hash)) },
    { delay: 250, setTimer: (fn) => (timers.set(next, fn), next++), clearTimer: (id) => timers.delete(id) },
  );
  const fire = () => {
    const pending = [...timers.values()];
    timers.clear();
    for (const fn of pending) fn();
    return pending.length;
  };
  return { location, writer, fire, pending: () => timers.size };
}

test('the page\'s delayed hash write never overwrites a hash the user changed meanwhile', () => {
  // The race of issue 13: the page schedules a write, the user edits the hash, and the timer fires before the
  // edit's hashchange event reaches the page. The user's hash must survive, and the event must count as theirs.
  const race = fakeLocation('#v=2&model=mnist&sample=0');
  race.writer.schedule(() => '#v=2&model=mnist&sample=3');
  race.location.hash = '#v=2&model=mnist&sample=7'; // typed by the user
  assert.equal(race.fire(), 1);
  assert.equal(race.location.hash, '#v=2&model=mnist&sample=7');
  assert.deepEqual(race.location.writes, []);
  assert.equal(race.writer.changed(), true, 'the late hashchange is the user\'s: apply it');

  // The event first: it cancels the pending write, which would carry the state from before the edit.
  const first = fakeLocation('#v=2&model=mnist&sample=0');
  first.writer.schedule(() => '#v=2&model=mnist&sample=3');
  first.location.hash = '#v=2&model=fashion';
  assert.equal(first.writer.changed(), true);
  assert.equal(first.pending(), 0);
  assert.equal(first.fire(), 0);
  assert.equal(first.location.hash, '#v=2&model=fashion');

  // After the edit the page writes again as usual (the state the edit led to), with the latest state only.
  let state = 'sample=7';
  first.writer.schedule(() => `#v=2&model=fashion&${state}`);
  state = 'sample=8';
  first.writer.schedule(() => `#v=2&model=fashion&${state}`);
  assert.equal(first.fire(), 1, 'a newer schedule replaces the pending one');
  assert.deepEqual(first.location.writes, ['#v=2&model=fashion&sample=8']);
  // The page's own write is not a change to apply; a format of null (a link still opening) writes nothing.
  assert.equal(first.writer.changed(), false);
  first.writer.schedule(() => null);
  first.fire();
  assert.equal(first.location.writes.length, 1);
});

test('a hand-edited link: unknown and out-of-range values go back to their defaults, each named once', () => {
  // The link of issue 14: a bogus method and colormap, a unit outside conv1's 14×14 pooled map.
  const parsed = parseHash('#model=fashion&method=bogus&cmap=foo&unit=99,99', PAGE);
  const defaults = defaultView(PAGE);
  assert.deepEqual(parsed.view, defaults);
  assert.deepEqual(parsed.rejected, ['cmap=foo', 'method=bogus', 'unit=99,99']);
  assert.equal(linkNotice(parsed.rejected), 'Not understood in this link, so left at their defaults: cmap=foo; method=bogus; unit=99,99.');
  assert.equal(linkNotice([]), null);
  // A value fits or not given the others: unit 13,13 is inside conv1's 14×14 map, not conv2's 5×5; channel 15
  // is one of conv2's 16, not conv1's 6; the layer explorer's channel must be one of its layer's.
  const [conv1, conv2] = app.deconvLayers;
  assert.deepEqual([conv1.shape, conv2.shape], [[6, 14, 14], [16, 5, 5]]);
  assert.deepEqual(parseHash('#unit=13,13&dchannel=5', PAGE).rejected, []);
  assert.deepEqual(parseHash('#dlayer=conv2&unit=13,13&dchannel=15', PAGE).rejected, ['unit=13,13']);
  assert.deepEqual(parseHash('#dlayer=conv2&unit=4,4&dchannel=15', PAGE).view.unit, '4,4');
  const wrong = parseHash('#dlayer=conv1&dchannel=15&layer=3&channel=6&sample=-1&opacity=101&aview=x&gamma=999&bogus=1', PAGE);
  assert.deepEqual(wrong.rejected.sort(), ['aview=x', 'channel=6', 'dchannel=15', 'gamma=999', 'opacity=101', 'sample=-1']);
  assert.deepEqual(wrong.view, { ...defaults, dlayer: 'conv1', layer: 3 }, 'the keys that fit are kept');
  assert.equal(wrong.sample, null);
  // Long values are cut in the notice (an image in a link is 1,000 characters).
  assert.equal(linkNotice([`img=${'A'.repeat(1045)}`]), `Not understood in this link, so left at its default: img=${'A'.repeat(35)}….`);
  // The same checks run when a panel changes the view: a new layer takes back a unit its map lacks.
  const view = completeView(PAGE, { dlayer: 'conv1', unit: '10,12', dchannel: 5 });
  assert.deepEqual([view.unit, view.dchannel], ['10,12', 5]);
  const next = { ...view, dlayer: 'conv2' };
  assert.deepEqual(reconcile(PAGE, next), ['unit']);
  assert.deepEqual([next.unit, next.dchannel], ['all', 5]);
});

test('both galleries hold their model\'s real mistakes and closest calls, after 30 images per class', () => {
  const read = (name) => new Uint8Array(readFileSync(new URL(`../../www/data/${name}`, import.meta.url)));
  for (const name of ['mnist', 'fashion']) {
    const files = JSON.parse(readFileSync(new URL(`../../www/models/lenet5-${name}.json`, import.meta.url), 'utf8'));
    const net = wasm.Model.load(JSON.stringify(files), readFileSync(new URL(`../../www/models/${files.weights}`, import.meta.url)));
    const gallery = readGallery({ images: read(`${name}-gallery-images.idx3.gz`), labels: read(`${name}-gallery-labels.idx1.gz`) }, wasm);
    assert.equal(gallery.count, 340, name);
    const predictions = Array.from({ length: gallery.count }, (_, i) => net.predict(gallery.image(i)));
    const wrong = predictions.map((p, i) => p.label !== gallery.labels[i]);
    // Images 300–329: misclassified by the shipped model, each one (the first 30 of t10k in file order).
    assert.deepEqual(wrong.slice(300, 330), Array(30).fill(true), `${name}: images 300-329 are mistakes`);
    // Images 330–339: right, with the two largest probabilities within 0.12 (MNIST) / 0.02 (Fashion-MNIST).
    for (let i = 330; i < 340; i++) {
      const [first, second] = [...predictions[i].probs].sort((a, b) => b - a);
      assert.ok(!wrong[i] && first - second < (name === 'mnist' ? 0.12 : 0.02), `${name} image ${i}: margin ${first - second}`);
    }
    // The filter "misclassified only" is never empty: MNIST 30 mistakes, Fashion-MNIST 25 more in its first 300.
    assert.equal(wrong.filter(Boolean).length, name === 'mnist' ? 30 : 55, name);
    net.free();
  }
  assert.equal(emptyMessage('wrong', 0, false), null, 'still classifying');
  assert.equal(emptyMessage('wrong', 0, true), 'The model reads every image here right.');
  assert.equal(emptyMessage('3', 0, true), 'No image of this class here.');
  assert.equal(emptyMessage('all', 12, false), null);
});
