// What the feature-visualization panel runs for each of its techniques (js/panels/featureviz.js): the jobs,
// each `{ title, technique, options, input }` (`input`: the current image, or null for the techniques that
// start from noise), and the titles of the cells they fill. No DOM here.

import { techniqueOptions } from '../controls.js';

/** The layers the inversion strip inverts: every conv, pool and linear layer, in order. */
export function stripLayers(app) {
  return app.layers.filter((layer) => ['conv2d', 'max_pool2d', 'linear'].includes(layer.type)).map((layer) => layer.name);
}

/** The titles of an atlas's cells, as the core names them (a class label, or `layer:k`). */
export function atlasTitles(app, layer) {
  if (!layer || layer === 'class') return app.labels;
  const found = app.layers.find((l) => l.name === layer);
  return found ? Array.from({ length: found.shape[0] }, (_, k) => `${layer}:${k}`) : [];
}

/** The objective that visualizes what a cell shows: `class:k` for a class image, the cell's title otherwise. */
export function objectiveOf(app, title) {
  const k = app.labels.indexOf(title);
  return k >= 0 ? `class:${k}` : title;
}

/**
 * The jobs of `technique` for `app`'s view: `{ jobs, cells }` (`cells`: titles of the grid the jobs fill, or
 * null when the one job's picture is the main image). Null when there is nothing to run (no objective, no input).
 */
export function plan(app, technique) {
  const options = techniqueOptions(technique, app.view);
  const job = (title, extra = {}, input = null) => ({ title, technique: technique.id, options: { ...options, ...extra }, input });
  switch (technique.id) {
    case 'visualize':
      return options.objective ? { jobs: [job(options.objective)], cells: null } : null;
    case 'atlas':
      return { jobs: [job(options.layer ?? 'class')], cells: atlasTitles(app, options.layer) };
    case 'dream':
      return app.image ? { jobs: [job('DeepDream', {}, app.image)], cells: null } : null;
    case 'invert': {
      const layers = stripLayers(app);
      return app.image ? { jobs: layers.map((layer) => job(layer, { layer }, app.image)), cells: layers } : null;
    }
    default:
      return null;
  }
}
