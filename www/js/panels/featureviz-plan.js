// What the feature-visualization panel runs for each of its techniques (js/panels/featureviz.js): the jobs,
// each `{ title, technique, options, input }` (`input`: the current image, or null for the techniques that
// start from noise), the heading of the whole run and the titles of the cells they fill. No DOM here.

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

/** What an atlas shows, as the core's `atlas::heading` words it: "Class images", "Atlas of conv2". */
export function atlasHeading(layer) {
  return !layer || layer === 'class' ? 'Class images' : `Atlas of ${layer}`;
}

/** The objective that visualizes what a cell shows: `class:k` for a class image, the cell's title otherwise. */
export function objectiveOf(app, title) {
  const k = app.labels.indexOf(title);
  return k >= 0 ? `class:${k}` : title;
}

function jobsOf(app, technique) {
  const options = techniqueOptions(technique, app.view);
  const job = (title, extra = {}, input = null) => ({ title, technique: technique.id, options: { ...options, ...extra }, input });
  switch (technique.id) {
    case 'visualize':
      return options.objective ? { heading: options.objective, jobs: [job(options.objective)], cells: null } : null;
    case 'atlas': {
      const heading = atlasHeading(options.layer);
      return { heading, jobs: [job(heading)], cells: atlasTitles(app, options.layer) };
    }
    case 'dream':
      return app.image ? { heading: technique.label, jobs: [job(technique.label, {}, app.image)], cells: null } : null;
    case 'invert': {
      const layers = stripLayers(app);
      return app.image ? { heading: technique.label, jobs: layers.map((layer) => job(layer, { layer }, app.image)), cells: layers } : null;
    }
    default:
      return null;
  }
}

/**
 * The jobs of `technique` for `app`'s view: `{ heading, jobs, cells, key, image }` (`cells`: titles of the
 * grid the jobs fill, or null when the one job's picture is the main image; `key` and `image`: what makes two
 * runs the same, `image` null when no job reads the input). Null when there is nothing to run (no objective, no
 * input).
 */
export function plan(app, technique) {
  const work = jobsOf(app, technique);
  if (!work) return null;
  const image = work.jobs.some((job) => job.input !== null) ? app.image : null;
  return { ...work, image, key: JSON.stringify(work.jobs.map((job) => [job.technique, job.options])) };
}

/** Whether plans `a` and `b` (either may be null) run the same jobs on the same input. */
export function samePlan(a, b) {
  return Boolean(a && b) && a.key === b.key && a.image === b.image;
}
