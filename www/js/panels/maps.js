// Dataset maps (issue 17): the test set as points, by PCA, t-SNE or UMAP of the pixels, of the last conv block's
// output and of the last hidden layer, side by side, coloured by label (colour-blind-safe palette, legend),
// misclassified images ringed. Hover shows the image, a click or Enter makes it the input, wheel and drag zoom
// and pan, arrow keys move between points; the current input is placed live on every finished map (exactly
// for PCA, optimized against the fixed map for t-SNE and UMAP). Every map is computed in the dataset worker,
// t-SNE animating as it optimizes; phones map a 2,000-image subsample. Once the set is open, the maps of the
// chosen method (PCA by default) are drawn at once. The method's own options (t-SNE's perplexity, early
// exaggeration, learning rate and iterations; UMAP's neighbours, minimum distance and epochs; their seeds) are
// controls derived from the catalogue (js/controls.js), kept in the URL hash as `<method>.<option>`.

import { el, selectOf } from '../dom.js';
import { optionControl, optionFields, techniqueOptions } from '../controls.js';
import { isCancelled } from '../remote.js';
import { createScatter } from '../scatter.js';
import { datasetViews, featureLayers, PHONE_POINTS } from '../datasets.js';
import { datasetGate } from '../dataset-ui.js';
import { paintMap } from '../render.js';

/** The catalogue's embedding techniques (the dataset family's scatter outputs: PCA, t-SNE, UMAP). */
const mapTechniques = (app) => app.techniques('dataset').filter((t) => t.output === 'scatter');
/** The least time between two drawn previews of an animating map. */
const PREVIEW_MS = 150;
/** The options the panel sets itself for each map (the others are the method's controls). */
const OWN_OPTIONS = ['layer', 'count'];

export const meta = {
  id: 'maps',
  title: 'Dataset maps',
  description: 'Where the network puts every test image: layer by layer, similar images gather.',
  wide: true,
  needsImage: false,
  view: (app) => {
    const ids = mapTechniques(app).map((t) => t.id);
    return { map: { default: ids[0], valid: (v) => ids.includes(v) }, ...optionFields(mapTechniques(app), app) };
  },
};

export function createPanel(root, app) {
  const views = datasetViews(app);
  const colors = app.engine.call((model, glue) => glue.classColors());
  const techniques = mapTechniques(app);
  const method = selectOf(techniques.map((t) => [t.id, t.label]), app.view.map, { className: 'map-method' });
  const compute = el('button', { type: 'button', className: 'map-compute', textContent: 'Compute maps' });
  const cancel = el('button', { type: 'button', className: 'map-cancel', textContent: 'Cancel', hidden: true });
  const progress = el('progress', { className: 'map-progress', max: 1, value: 0, hidden: true });
  const status = el('p', { className: 'map-status muted', attrs: { 'aria-live': 'polite' } });
  const tooltip = el('canvas', { className: 'map-tooltip', width: 28, height: 28, hidden: true });
  const gate = datasetGate(app, views);
  const count = () => Math.min(gate.ready()?.count ?? 0, matchMedia('(max-width: 600px)').matches ? PHONE_POINTS : Infinity);
  const params = methodControls(app, techniques);
  /** The chosen method's options for the map of `layer` (its controls' values, the layer and the count). */
  const options = (layer) => ({ ...techniqueOptions(techniques.find((t) => t.id === method.value), app.view), layer, count: count() });
  const key = (layer) => `${method.value}:${JSON.stringify(options(layer))}`;
  const maps = featureLayers(app).map((layer) => mapFigure(layer, colors, hover, pick));
  const legend = el('ul', { className: 'map-legend' }, ...app.labels.map((label, c) => el('li', {}, swatch(colors, c), label)), el('li', { className: 'map-wrong' }, '○ misclassified'));
  root.replaceChildren(
    gate.element,
    el('div', { className: 'map-controls' }, method, compute, cancel, progress),
    params.element,
    status,
    el('div', { className: 'map-row' }, ...maps.map((m) => el('figure', { className: 'map-figure' }, m.canvas, m.caption))),
    legend,
    tooltip,
  );

  function classes() {
    const set = gate.ready();
    const n = count();
    const labels = set.labels ?? set.predictions;
    return [labels.subarray(0, n), Uint8Array.from({ length: n }, (_, i) => Number(set.labels && set.labels[i] !== set.predictions[i]))];
  }
  /** The caption's note when the maps show a phone's subsample of the set. */
  function subsample() {
    const total = gate.ready().count;
    return count() < total ? ` (the first ${count().toLocaleString('en')} of ${total.toLocaleString('en')} images, as on every phone)` : '';
  }
  function hover(i, event) {
    tooltip.hidden = i < 0;
    if (i < 0) return;
    const [height, width] = views.images.size;
    paintMap(tooltip, views.images.image(i), { height, width, colormap: 'gray', range: [0, 1] });
    if (event) Object.assign(tooltip.style, { left: `${event.clientX + 12}px`, top: `${event.clientY + 12}px` });
    status.textContent = `${gate.ready().own ? views.imageName(i) : `image ${i}: label ${app.label(classes()[0][i])}`}`;
  }
  function pick(i) {
    app.setImage(views.images.image(i), { kind: 'dataset', index: i, label: gate.ready().labels?.[i] });
  }
  let running = null;
  let shownSet = null; // the set the maps show
  /** A set just opened (or another one): show the maps of the chosen method for it (PCA, the default, takes a second). */
  function sync() {
    const set = gate.ready();
    if (set === shownSet || running) return;
    shownSet = set;
    status.textContent = '';
    for (const m of maps) m.clear();
    if (set) run();
  }
  async function run() {
    if (!gate.ready()) return;
    running = true; // (the first request is made below)
    app.setView({ map: method.value });
    const [labels, wrong] = classes();
    [compute.hidden, cancel.hidden, progress.hidden, progress.value] = [true, false, false, 0];
    for (const m of maps) {
      let result = views.result(key(m.layer));
      if (!result) {
        let shown = 0;
        running = views.compute(key(m.layer), { type: 'datasetMap', technique: method.value, options: options(m.layer) }, (fraction, preview) => {
          progress.value = fraction;
          if (!preview || performance.now() - shown < PREVIEW_MS) return;
          shown = performance.now();
          m.scatter.set(preview.points, labels, wrong, true);
        });
        result = await running.promise.catch((error) => void (status.textContent = isCancelled(error) ? 'Cancelled.' : error.message));
        if (!result) {
          if (m.shown) m.scatter.set(m.shown.points, labels, wrong); // back to the map the caption describes
          break;
        }
      }
      m.show(result, labels, wrong, subsample());
    }
    running = null;
    [compute.hidden, cancel.hidden, progress.hidden] = [false, true, true];
    place();
    sync(); // another set opened meanwhile: its maps
  }
  function place() {
    for (const m of maps) if (app.image && views.result(key(m.layer))) views.place(key(m.layer), app.image).then((at) => m.scatter.mark(at), () => {});
  }
  method.addEventListener('change', () => app.setView({ map: method.value }));
  compute.addEventListener('click', run);
  cancel.addEventListener('click', () => running?.id !== undefined && views.cancel(running));
  const unsubscribe = views.subscribe(() => app.dispatchEvent(new Event('view')));

  return {
    render() {
      sync();
      compute.disabled = !gate.ready();
      method.value = app.view.map;
      params.show(app.view.map);
      place();
    },
    destroy: unsubscribe,
  };
}

/**
 * One map: its canvas, scatter and caption; `show(result, labels, wrong, note)` draws a finished map (its point
 * count in the canvas's `data-points`; `note` ends the caption), `clear()` empties it.
 */
function mapFigure(layer, colors, hover, pick) {
  const canvas = el('canvas', { className: 'map-canvas', width: 360, height: 360, tabIndex: 0, attrs: { 'aria-label': `map of ${layer}`, 'data-layer': layer } });
  const scatter = createScatter(canvas, { colors, onHover: (i, event) => hover(i, event), onPick: (i) => pick(i) });
  scatter.draw(); // the canvas's first raster now, not in the first preview's task
  const caption = el('figcaption', { textContent: layer });
  const figure = {
    layer,
    canvas,
    scatter,
    caption,
    shown: null,
    show(result, labels, wrong, note) {
      figure.shown = result;
      scatter.set(result.points, labels, wrong);
      caption.textContent = describe(layer, result) + note;
      canvas.dataset.points = String(result.points.length / 2);
    },
    clear() {
      figure.shown = null;
      scatter.set(new Float32Array(0), new Uint8Array(0), new Uint8Array(0));
      scatter.mark(null);
      caption.textContent = layer;
      delete canvas.dataset.points;
    },
  };
  return figure;
}

/** The controls of the chosen method's own options: `{ element, show(id) }` (rebuilt when the method changes). */
function methodControls(app, techniques) {
  const element = el('div', { className: 'map-params' });
  let shown = null;
  let controls = [];
  return {
    element,
    show(id) {
      if (shown !== id) {
        const technique = techniques.find((t) => t.id === id);
        controls = technique.options.filter((o) => !OWN_OPTIONS.includes(o.key)).map((o) => optionControl(technique, o, app));
        element.replaceChildren(...controls.map((c) => c.element));
        element.hidden = controls.length === 0;
        shown = id;
      }
      for (const control of controls) control.update();
    },
  };
}

function swatch(colors, c) {
  const chip = el('span', { className: 'map-swatch' });
  chip.style.backgroundColor = `rgb(${colors[3 * c]},${colors[3 * c + 1]},${colors[3 * c + 2]})`;
  return chip;
}

function describe(layer, result) {
  if (result.explainedVarianceRatio) return `${layer}: PC1 + PC2 explain ${((result.explainedVarianceRatio[0] + result.explainedVarianceRatio[1]) * 100).toFixed(1)} % of the variance`;
  if (result.klDivergence !== undefined) return `${layer}: KL divergence ${result.klDivergence.toFixed(3)}`;
  return layer;
}
