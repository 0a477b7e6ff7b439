// Architecture overview (issue 14, scope 2): the whole network as one strip, input → conv1 → pool1 → conv2 →
// pool2 → fc layers → output, each stage with thumbnails of its current activations and the operation that
// connects it to the previous one. Drawn from the model's layer list (js/architecture.js), so an
// imported model gets its own strip. It reads the app's memoized `activations` (the same forward as the layer
// explorer and the prediction's image), repainted at most once per frame by the panel frame. A stage's button
// opens that layer in the layer explorer; a click on a feature map also picks it in the deconvnet.

import { el } from '../dom.js';
import { paintMap, paintChannel, valueRange, displayRange, mapCanvas, vectorGrid, formatValue } from '../render.js';
import { networkStages } from '../architecture.js';

export const meta = {
  id: 'architecture',
  title: 'The whole network',
  description: 'Every layer from the input to the output, with its activations for this input. Click a layer to open it in the layer explorer, a feature map to pick it in the deconvnet too.',
  wide: true,
};

/** Opens layer `layer` (channel `channel`) in the layer explorer, and the channel in the deconvnet for a conv map. */
function openLayer(app, layer, channel = 0, conv = null) {
  app.setView(conv ? { layer, channel, dlayer: conv, dchannel: channel } : { layer, channel });
  document.getElementById('panel-layers')?.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

/** The DOM of one stage: `{ element, paint(activations) }`. */
function stageView(app, stage) {
  const [channels] = stage.shape;
  const maps = stage.shape.length === 3;
  const conv = maps ? app.convOf(stage.layer) : null;
  const head = el('button', { type: 'button', className: 'arch-head', title: `Open ${stage.shows} in the layer explorer` }, el('span', { className: 'arch-name', textContent: stage.name }), el('span', { className: 'arch-shape', textContent: stage.shape.join('×') }));
  head.addEventListener('click', () => openLayer(app, stage.layer));
  const canvases = maps ? Array.from({ length: channels }, (_, c) => Object.assign(mapCanvas(), { title: `${stage.shows} channel ${c}` })) : [mapCanvas()];
  const thumbs = el('div', { className: `arch-thumbs${maps ? ' arch-maps' : ''}`, attrs: { 'aria-hidden': 'true' } }, ...canvases);
  if (maps) thumbs.style.setProperty('--arch-columns', String(channels > 8 ? 4 : 2));
  thumbs.addEventListener('click', (event) => {
    const c = canvases.indexOf(event.target);
    if (c >= 0) openLayer(app, stage.layer, c, conv);
  });
  const rows = stage.output ? app.labels.map((label) => el('li', {}, el('span', { className: 'arch-label', textContent: label }), el('span', { className: 'arch-bar' }), el('span', { className: 'arch-value' }))) : [];
  const list = stage.output ? el('ol', { className: 'arch-output', attrs: { 'aria-label': 'Output per class' } }, ...rows) : null;
  const element = el('li', { className: `arch-stage${stage.output ? ' is-output' : ''}`, dataset: { layer: String(stage.layer) } }, el('span', { className: 'arch-op', textContent: stage.op }), head, list ?? thumbs);

  function paint(activations, colormap) {
    const activation = activations[stage.layer - 1];
    const range = displayRange(colormap, valueRange(activation.data));
    if (stage.output) {
      const values = stage.log ? Array.from(activation.data, Math.exp) : Array.from(activation.data);
      const top = values.reduce((best, v, k) => (v > values[best] ? k : best), 0);
      rows.forEach((row, k) => {
        row.classList.toggle('is-top', k === top);
        row.children[1].style.width = `${Math.max(0, stage.probabilities ? values[k] : (values[k] - range[0]) / (range[1] - range[0] || 1)) * 100}%`;
        row.children[2].textContent = stage.probabilities ? `${(values[k] * 100).toFixed(0)}%` : formatValue(values[k]);
      });
    } else if (maps) {
      canvases.forEach((canvas, c) => paintChannel(canvas, activation, c, colormap, range));
    } else {
      const [height, width] = vectorGrid(activation.data.length);
      const padded = new Float32Array(height * width).fill(NaN);
      padded.set(activation.data);
      paintMap(canvases[0], padded, { height, width, colormap, range });
    }
    head.setAttribute('aria-label', `${stage.name} (${stage.op}), ${stage.shape.join('×')}: values ${formatValue(range[0])} to ${formatValue(range[1])}. Open ${stage.shows} in the layer explorer`);
  }
  return { element, paint };
}

export function createPanel(root, app) {
  const input = mapCanvas('the input the network sees');
  const { height, width } = app.info.input;
  const first = el('li', { className: 'arch-stage is-input' }, el('span', { className: 'arch-op', textContent: 'input' }), el('span', { className: 'arch-head arch-static' }, el('span', { className: 'arch-name', textContent: 'input' }), el('span', { className: 'arch-shape', textContent: `${height}×${width}` })), el('div', { className: 'arch-thumbs' }, input));
  const stages = networkStages(app.layers, app.engine.files.manifest.layers ?? [], app.labels.length).map((stage) => stageView(app, stage));
  const strip = el('ol', { className: 'arch-strip', dataset: { testid: 'architecture' }, attrs: { 'aria-label': 'Layers of the network, input to output' } }, first, ...stages.map((stage) => stage.element));
  root.replaceChildren(el('div', { className: 'arch-scroll' }, strip), el('p', { className: 'arch-hint muted', textContent: 'Scroll sideways for the rest of the network, up to the output →' }));
  return {
    render() {
      const activations = app.analysis('activations');
      const colormap = app.view.cmap ?? 'viridis';
      paintMap(input, app.image, { height, width, colormap: 'gray', range: [0, 1] });
      for (const stage of stages) stage.paint(activations, colormap);
    },
  };
}
