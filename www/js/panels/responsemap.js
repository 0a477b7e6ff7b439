// The neural response map (issue 18): the neurons of every conv2d and linear layer laid out by t-SNE on one
// minus their correlation over the gallery's digits (trained once per model, a few steps per frame), then the
// current input's standardised activations painted over the layout, live while drawing; beside it the mean
// map of each class of the gallery, and beneath which layer each region holds.

import { el, selectOf } from '../dom.js';
import { lut } from '../visual.js';

const METHODS = [['nearest', 'nearest neuron'], ['linear', 'linear']];
const SIDE = 128;

export const meta = {
  id: 'responsemap',
  title: 'Neural response map',
  description: 'Every neuron as a place on a map; neurons that fire together sit together. Bright: active above its usual level.',
  explainedBy: 'response-map',
  requires: ['order'],
  when: (app) => Boolean(app.gallery),
  wide: true,
  view: () => ({
    nrmMethod: { default: 'linear', valid: (v) => METHODS.some(([value]) => value === v) },
    nrmShape: { default: 'square', valid: (v) => v === 'square' || v === 'circle' },
  }),
};

/** The gallery's images as an IDX file (what `ResponseMapTraining` reads). */
function idxBytes(gallery) {
  const header = new DataView(new ArrayBuffer(16));
  [0x00000803, gallery.count, gallery.height, gallery.width].forEach((v, i) => header.setUint32(i * 4, v));
  const bytes = new Uint8Array(16 + gallery.pixels.length);
  bytes.set(new Uint8Array(header.buffer));
  bytes.set(gallery.pixels, 16);
  return bytes;
}

/** Paints a generated map: NaN (outside the disc) transparent; one range for the maps painted together. */
function paint(canvas, map, range, colors = null) {
  [canvas.width, canvas.height] = [map.width, map.height];
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(map.width, map.height);
  const table = lut('viridis');
  const [lo, hi] = range;
  map.values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const region = map.regions[i];
    const k = Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo || 1))) * 255) * 3;
    const rgb = colors ? colors.subarray(region * 3, region * 3 + 3) : table.subarray(k, k + 3);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

const rangeOf = (maps) => maps.flatMap((m) => Array.from(m.values).filter((v) => !Number.isNaN(v))).reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);

export function createPanel(root, app) {
  const method = selectOf(METHODS, app.view.nrmMethod, { attrs: { 'aria-label': 'interpolation' } });
  const circle = el('input', { type: 'checkbox', attrs: { 'aria-label': 'circle projection' } });
  const status = el('p', { className: 'muted nrm-status', dataset: { testid: 'nrm-status' } });
  const live = el('canvas', { className: 'map nrm-map', dataset: { testid: 'nrm-live' } });
  const regions = el('canvas', { className: 'map nrm-map' });
  const key = el('span', { className: 'nrm-key' });
  const classes = el('div', { className: 'nrm-classes', dataset: { testid: 'nrm-classes' } });
  root.replaceChildren(
    el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Interpolation ', method), el('label', { className: 'field' }, circle, ' circle projection')),
    status,
    el('div', { className: 'nrm-row' }, el('figure', {}, live, el('figcaption', { textContent: 'this input' })), el('figure', {}, regions, el('figcaption', {}, 'layers: ', key))),
    el('h3', { className: 'neighbour-title', textContent: 'Class averages of the gallery' }),
    classes,
  );
  method.addEventListener('change', () => app.setView({ nrmMethod: method.value }));
  circle.addEventListener('change', () => app.setView({ nrmShape: circle.checked ? 'circle' : 'square' }));
  let map = null;
  let averagesFor = '';
  let training = app.engine.call((model, glue) => new glue.ResponseMapTraining(model, idxBytes(app.gallery), { count: app.gallery.count }));
  const train = () => {
    if (!training) return;
    const step = app.engine.call(() => training.step(150));
    status.textContent = step.done ? '' : `Training the map: ${Math.round(step.progress * 100)}%`;
    if (!step.done) return requestAnimationFrame(train);
    map = training.finish();
    training.free();
    training = null;
    app.dispatchEvent(new Event('view'));
  };
  requestAnimationFrame(train);
  const options = () => ({ method: app.view.nrmMethod, size: [SIDE, SIDE], circle: app.view.nrmShape === 'circle' });
  const byClass = () => app.labels.map((_, c) => {
    const members = Array.from({ length: app.gallery.count }, (_, i) => i).filter((i) => app.gallery.labels[i] === c);
    const images = new Float32Array(members.length * app.gallery.height * app.gallery.width);
    members.forEach((i, k) => images.set(app.gallery.image(i), k * app.gallery.height * app.gallery.width));
    return { c, images, n: members.length };
  }).filter(({ n }) => n > 0);

  return {
    render() {
      [method.value, circle.checked] = [app.view.nrmMethod, app.view.nrmShape === 'circle'];
      if (!map || !app.image) return;
      const current = app.engine.call((model) => map.generate(model, app.image, options()));
      const signature = JSON.stringify(options());
      if (signature !== averagesFor) {
        const averages = byClass().map(({ c, images, n }) => ({ c, n, map: app.engine.call((model) => map.generate(model, images, options())) }));
        const range = rangeOf(averages.map((a) => a.map));
        classes.replaceChildren(...averages.map(({ c, n, map: m }) => {
          const canvas = el('canvas', { className: 'map nrm-class-map' });
          paint(canvas, m, range);
          return el('figure', {}, canvas, el('figcaption', { textContent: `${app.label(c)} (${n})` }));
        }));
        averagesFor = signature;
        const colors = app.engine.call((_, glue) => glue.classColors());
        paint(regions, current, [0, 1], colors);
        key.replaceChildren(...current.layers.map((name, i) => {
          const swatch = el('span', { className: 'nrm-swatch' });
          swatch.style.background = `rgb(${colors[i * 3]}, ${colors[i * 3 + 1]}, ${colors[i * 3 + 2]})`;
          return el('span', { className: 'nrm-layer' }, swatch, name);
        }));
      }
      paint(live, current, rangeOf([current]));
      live.setAttribute('aria-label', `Response map of ${map.neurons().length} neurons for this input`);
    },
    destroy() {
      training?.free();
      map?.free();
    },
  };
}
