// Filters panel: the learned kernels of every conv layer (OIHW). Each layer's bank is one image: a column per
// filter (output channel), a row per input channel, 1-pixel gaps, one symmetric diverging range per layer.

import { el } from '../dom.js';
import { paintMap, valueRange, displayRange, createLegend, composeSnapshot, mapCanvas } from '../render.js';
import { cliCommand, commandSequence, f32 } from '../export.js';

/** PNG pixels per weight: the widest bank about 760 px wide, no kernel pixel under 4 or over 16. */
const pixelsPerWeight = (mosaic) => Math.min(16, Math.max(4, Math.floor(760 / mosaic.width)));

export const meta = {
  id: 'filters',
  title: 'Filters',
  description: 'Learned convolution kernels: one column per filter, one row per input channel. Red positive, blue negative.',
  explainedBy: 'filters',
  needsImage: false,
  wide: true,
};

/** Lays out OIHW kernels as one (I·(H+1)−1) × (O·(W+1)−1) image with NaN gaps between kernels. */
export function kernelMosaic({ shape, data }) {
  const [outputs, inputs, kh, kw] = shape;
  const height = inputs * (kh + 1) - 1;
  const width = outputs * (kw + 1) - 1;
  const mosaic = new Float32Array(height * width).fill(NaN);
  for (let o = 0; o < outputs; o++) {
    for (let i = 0; i < inputs; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          mosaic[(i * (kh + 1) + y) * width + o * (kw + 1) + x] = data[((o * inputs + i) * kh + y) * kw + x];
        }
      }
    }
  }
  return { height, width, data: mosaic };
}

export function createPanel(root, app) {
  const convs = app.layers.filter((layer) => layer.type === 'conv2d');
  const banks = convs.map((layer) => {
    const canvas = mapCanvas();
    const legend = createLegend();
    const shape = el('span', { className: 'muted filter-shape' });
    const figure = el(
      'figure',
      { className: 'filter-bank' },
      el('div', { className: 'filter-canvas' }, canvas),
      el('figcaption', {}, el('strong', { textContent: layer.name }), ' ', shape),
      el('div', { className: 'filter-legend' }, legend.element),
    );
    return { layer, figure, canvas, legend, shape, drawn: false, range: null, mosaic: null };
  });
  root.replaceChildren(el('div', { className: 'filter-banks' }, ...banks.map((bank) => bank.figure)));

  return {
    render() {
      for (const bank of banks) {
        if (bank.drawn) continue;
        const filters = app.filters(bank.layer.name);
        const [o, i, kh, kw] = filters.shape;
        const mosaic = kernelMosaic(filters);
        const range = displayRange('diverging', valueRange(filters.data));
        paintMap(bank.canvas, mosaic.data, { height: mosaic.height, width: mosaic.width, colormap: 'diverging', range });
        bank.canvas.style.width = `${mosaic.width * 7}px`;
        bank.canvas.setAttribute('role', 'img');
        bank.canvas.setAttribute('aria-label', `${bank.layer.name}: ${o} filters of ${i}×${kh}×${kw}`);
        bank.shape.textContent = `${o} filters × ${i} input channel${i > 1 ? 's' : ''}, ${kh}×${kw}`;
        bank.legend.update('diverging', range, `${bank.layer.name} weights`);
        Object.assign(bank, { drawn: true, range, mosaic });
      }
    },
    /** As `convscope filters --layer L --json` prints it, one entry per conv layer. */
    data: () => banks.map(({ layer }) => ({ layer: layer.name, shape: Array.from(app.filters(layer.name).shape), data: Array.from(app.filters(layer.name).data, f32) })),
    command: () => commandSequence(banks.map(({ layer }) => cliCommand(app, app.techniques('filters')[0], { layer: layer.name }, [], { input: false }))),
    snapshot(scale) {
      return composeSnapshot({
        scale,
        title: `Convolution filters of ${app.info.name}`,
        subtitle: 'each bank: a column per filter (output channel), a row per input channel; red positive, blue negative',
        rows: banks.map((bank) => {
          const [o, i, kh, kw] = app.filters(bank.layer.name).shape;
          const px = pixelsPerWeight(bank.mosaic);
          return {
            heading: `${bank.layer.name}: ${o} filters × ${i} input channel${i > 1 ? 's' : ''}, ${kh}×${kw}`,
            tiles: [{ canvas: bank.canvas, size: [bank.mosaic.width * px, bank.mosaic.height * px] }],
            legend: { colormap: 'diverging', range: bank.range, label: `${bank.layer.name} weights` },
          };
        }),
      });
    },
  };
}
