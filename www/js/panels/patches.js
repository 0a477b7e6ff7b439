// Maximally activating patches (Zeiler & Fergus 2014, fig. 2): for each channel of a conv block (or each unit
// of a fully connected layer), the 9 test images on which it fires most, cropped to the receptive field of its
// strongest unit (computed from the manifest), each beside the deconvnet projection of that unit. The search
// runs in the dataset worker over every test image, with progress; the grid is kept per set while the model is the same.

import { el, selectOf } from '../dom.js';
import { isCancelled } from '../remote.js';
import { datasetViews } from '../datasets.js';
import { datasetGate } from '../dataset-ui.js';
import { paintMap } from '../render.js';

export const meta = {
  id: 'patches',
  title: 'Maximally activating patches',
  description: 'What each feature map looks for: the test images that excite it most, and the pixels responsible.',
  wide: true,
  needsImage: false,
  view: (app) => ({ patchLayer: { default: app.info.convBlocks.at(-1)?.name ?? '', valid: (v) => patchLayers(app).includes(v) } }),
};

function patchLayers(app) {
  return [...app.info.convBlocks.map((b) => b.name), ...app.layers.filter((l) => l.type === 'linear').slice(0, -1).map((l) => l.name)];
}

export function createPanel(root, app) {
  const views = datasetViews(app);
  const gate = datasetGate(app, views);
  const layer = selectOf(patchLayers(app).map((l) => [l, l]), app.view.patchLayer, { className: 'patch-layer', attrs: { 'aria-label': 'layer' } });
  const compute = el('button', { type: 'button', className: 'patch-compute', textContent: 'Find the top 9' });
  const cancel = el('button', { type: 'button', className: 'patch-cancel', textContent: 'Cancel', hidden: true });
  const progress = el('progress', { className: 'patch-progress', max: 1, value: 0, hidden: true });
  const grid = el('div', { className: 'patch-grid', dataset: { testid: 'patch-grid' } });
  root.replaceChildren(gate.element, el('div', { className: 'map-controls' }, layer, compute, cancel, progress), grid);
  let running = null;
  let shown = null;

  function show(result) {
    if (shown === result) return;
    shown = result;
    const size = result.cropSize;
    const tile = (data, offset, colormap, range) => {
      const canvas = el('canvas', { className: 'patch-tile' });
      paintMap(canvas, data, { offset, height: size, width: size, colormap, range });
      return canvas;
    };
    grid.replaceChildren(
      ...result.units.map((patches, unit) => {
        const { crops, projections } = result.crops[unit];
        const signed = (offset) => {
          let m = 0;
          for (let k = 0; k < size * size; k++) m = Math.max(m, Math.abs(projections[offset + k]));
          return [-m || -1, m || 1];
        };
        const cells = patches.map((p, k) => tile(crops, k * size * size, 'gray', [0, 1]));
        const deconv = patches.map((p, k) => tile(projections, k * size * size, 'diverging', signed(k * size * size)));
        const title = `${result.layer} ${unit}: best ${patches[0]?.value.toFixed(2)} (#${patches[0]?.index})`;
        return el('div', { className: 'patch-unit' }, el('p', { className: 'patch-title', textContent: title }), el('div', { className: 'patch-strip' }, ...cells), el('div', { className: 'patch-strip' }, ...deconv));
      }),
    );
  }
  async function run() {
    if (!gate.ready()) return;
    app.setView({ patchLayer: layer.value });
    const key = `patches:${layer.value}`;
    let result = views.result(key);
    if (!result) {
      [compute.hidden, cancel.hidden, progress.hidden] = [true, false, false];
      running = views.compute(key, { type: 'datasetPatches', options: { layer: layer.value, top: 9 } }, (fraction) => (progress.value = fraction));
      result = await running.promise.catch((error) => void (grid.textContent = isCancelled(error) ? 'Cancelled.' : error.message));
      running = null;
      [compute.hidden, cancel.hidden, progress.hidden] = [false, true, true];
    }
    if (result) show(result);
  }
  layer.addEventListener('change', () => app.setView({ patchLayer: layer.value }));
  compute.addEventListener('click', run);
  cancel.addEventListener('click', () => running && views.cancel(running));
  const unsubscribe = views.subscribe(() => app.dispatchEvent(new Event('view')));

  return {
    render() {
      compute.disabled = !gate.ready();
      layer.value = app.view.patchLayer;
      const cached = views.result(`patches:${layer.value}`);
      if (cached) show(cached);
      else if (shown && !running) {
        shown = null; // another set, or another layer: not this grid
        grid.replaceChildren();
      }
    },
    destroy: unsubscribe,
  };
}
