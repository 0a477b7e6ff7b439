// Nearest neighbours (issue 17): the test images closest to the current input in a layer's feature space
// (cosine or Euclidean distance), beside the closest in raw pixels, so one sees where the network's notion of
// "alike" parts from the pixels'. Computed in the dataset worker on the features it read once per model.

import { el, selectOf } from '../dom.js';
import { datasetViews, featureLayers } from '../datasets.js';
import { datasetGate, thumbnail } from '../dataset-ui.js';

export const meta = {
  id: 'neighbours',
  title: 'Nearest neighbours',
  description: 'The test images the network finds most like this input, and the most alike in pixels.',
  wide: true,
  view: (app) => ({
    neighbourLayer: { default: featureLayers(app).at(-1), valid: (v) => featureLayers(app).includes(v) },
    metric: { default: 'cosine', valid: (v) => v === 'cosine' || v === 'euclidean' },
  }),
};

export function createPanel(root, app) {
  const views = datasetViews(app);
  const gate = datasetGate(app, views);
  const layers = featureLayers(app).filter((layer) => layer !== 'pixels');
  const layer = selectOf(layers.map((l) => [l, l]), app.view.neighbourLayer, { className: 'neighbour-layer', attrs: { 'aria-label': 'feature layer' } });
  const metric = selectOf([['cosine', 'cosine'], ['euclidean', 'Euclidean']], app.view.metric, { className: 'neighbour-metric', attrs: { 'aria-label': 'distance' } });
  const featureRow = el('div', { className: 'neighbour-row', dataset: { testid: 'feature-neighbours' } });
  const pixelRow = el('div', { className: 'neighbour-row', dataset: { testid: 'pixel-neighbours' } });
  const featureTitle = el('h3', { className: 'neighbour-title' });
  root.replaceChildren(
    gate.element,
    el('div', { className: 'map-controls' }, el('label', { className: 'field' }, 'Features ', layer), el('label', { className: 'field' }, 'Distance ', metric)),
    featureTitle,
    featureRow,
    el('h3', { className: 'neighbour-title', textContent: 'Nearest in pixel space' }),
    pixelRow,
  );
  const change = () => app.setView({ neighbourLayer: layer.value, metric: metric.value });
  layer.addEventListener('change', change);
  metric.addEventListener('change', change);
  const unsubscribe = views.subscribe(() => app.dispatchEvent(new Event('view')));
  let asked = 0;

  return {
    render() {
      this.update().catch((error) => (featureRow.textContent = error.message));
    },
    async update() {
      layer.value = app.view.neighbourLayer === 'pixels' ? layers.at(-1) : app.view.neighbourLayer;
      metric.value = app.view.metric;
      featureTitle.textContent = `Nearest by ${layer.value} features (${metric.value})`;
      const ticket = ++asked;
      if (!gate.ready() || !app.image) {
        featureRow.replaceChildren(); // (another set is opening)
        pixelRow.replaceChildren();
        return;
      }
      const found = await views.neighbours(app.image, { layer: layer.value, metric: metric.value, top: 10 });
      if (ticket !== asked || !found) return;
      const row = (list) => list.map((n) => thumbnail(views, n.index, `#${n.index} ${n.distance.toFixed(3)}`));
      featureRow.replaceChildren(...row(found.neighbours));
      pixelRow.replaceChildren(...row(found.pixels));
    },
    destroy: unsubscribe,
  };
}
