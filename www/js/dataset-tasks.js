// The dataset views' side of js/worker.js (a worker of its own, started by js/datasets.js, so a long map never
// waits behind an attribution and the page's pen never waits for either). One `Dataset` of the wasm module per
// model holds the images and every layer's features read so far; maps and patch searches run as `Job`s
// (`dataset.start(model, id, options)`) step by step through the worker's job loop (progress, a map's points as preview, cancellable between steps).
// Requests: `datasetOpen { images, labels }`, `datasetFeatures { layers }`, `datasetMap { key, technique, options }`,
// `datasetPlace { key, image }` → `{ at: [x, y] | null }` (on the finished map of that key), `datasetNeighbours { image, options }`,
// `datasetPatches { options }` (with the crops and deconvnet projections of every unit).

import { Dataset } from '../pkg/convscope.js';

/** The handlers, given `model()` (the worker's Model) and `runJob(id, job)` (its step loop; null if cancelled). */
export function datasetHandlers(model, runJob) {
  let dataset = null;
  const maps = new Map(); // the finished maps' tasks by the page's key, for `place`
  const loop = (id, step) => runJob(id, { step, free() {} });
  return {
    datasetOpen({ images, labels }) {
      dataset?.free();
      for (const task of maps.values()) task.free();
      maps.clear();
      dataset = Dataset.fromIdx(model(), images, labels ?? null);
      return { count: dataset.count, labels: dataset.labels() ?? null };
    },
    async datasetFeatures({ id, layers }) {
      const done = await loop(id, (budget) => {
        const state = dataset.extract(model(), layers, budget);
        return { done: state.done === state.total, progress: state.done / state.total, result: true };
      });
      return done && { predictions: dataset.predictions(model()) };
    },
    async datasetMap({ id, key, technique, options }) {
      const task = dataset.start(model(), technique, options);
      let result = null;
      try {
        result = await runJob(id, task, true);
      } finally {
        if (result) {
          maps.get(key)?.free();
          maps.set(key, task);
        } else task.free();
      }
      return result;
    },
    datasetPlace({ key, image }) {
      const task = maps.get(key);
      return { at: task ? Array.from(task.place(image)) : null };
    },
    datasetNeighbours({ image, options }) {
      return dataset.neighbours(model(), image, options);
    },
    async datasetPatches({ id, options }) {
      const task = dataset.start(model(), 'patches', options);
      try {
        const result = await runJob(id, task, true);
        if (result) result.crops = result.units.map((_, unit) => task.crops(unit));
        return result;
      } finally {
        task.free();
      }
    },
  };
}
