// The dataset views' side of js/worker.js (a worker of its own, started by js/datasets.js, so a long map never
// waits behind an attribution and the page's pen never waits for either). One `Dataset` of the wasm module per
// model holds the images and every layer's features read so far; maps and patch searches run as `Job`s
// (`dataset.start(model, id, options)`) step by step through the worker's job loop (progress, a map's points as preview, cancellable between steps).
// The worker keeps two sets at most, the model's t10k set and the newest own set, each under the page's key.
// Requests: `datasetOpen { key, keep, files: [{ name, bytes }], classes }` (→ `{ count, labels, size, pixels,
// labelsFrom, names, source }`; frees every set but `keep`), `datasetSelect { key }` (a set opened before),
// `datasetFeatures { layers }`, `datasetMap { key, technique, options }`,
// `datasetPlace { key, image }` → `{ at: [x, y] | null }` (on the finished map of that key), `datasetNeighbours { image, options }`,
// `datasetPatches { options }` (with the crops and deconvnet projections of every unit).

import { Dataset, decodeIdx } from '../pkg/convscope.js';

const isPng = (bytes) => [0x89, 0x50, 0x4e, 0x47].every((byte, i) => bytes[i] === byte);
/** The class number a file name starts with (`7_0001.png` → 7), or Infinity. */
const classOf = (name) => Number(/^\d+/.exec(name)?.[0] ?? Infinity);
const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The data set of the chosen files: PNG pictures (in name order; labelled by an IDX label file among them,
 * else by their names when every name starts with a class number below `classes`), or an IDX images file
 * with an optional IDX label file. `{ dataset, labelsFrom, names, source }` (`labelsFrom`: a file name, 'names'
 * or null; `names`: the pictures' file names in the set's order, or null; `source`: the IDX images file's name).
 */
function openFiles(model, files, classes) {
  const idx = files.filter((f) => !isPng(f.bytes)).map((f) => {
    try {
      return { ...f, dims: decodeIdx(f.bytes).dims.length };
    } catch (error) {
      throw new Error(`${f.name}: not a PNG or IDX file (${error.message})`);
    }
  });
  const labels = idx.filter((f) => f.dims === 1);
  const images = idx.filter((f) => f.dims !== 1);
  const pictures = files.filter((f) => isPng(f.bytes)).sort(byName);
  if (labels.length > 1) throw new Error(`choose at most one IDX label file, not ${labels.map((f) => f.name).join(' and ')}`);
  if (pictures.length && images.length) throw new Error('choose PNG files or an IDX images file, not both');
  if (!pictures.length && images.length !== 1) throw new Error(images.length ? 'choose one IDX images file (and its labels)' : 'no images chosen: PNG files or an IDX images file');
  const labelFile = labels[0] ?? null;
  if (!pictures.length) return { dataset: Dataset.fromIdx(model, images[0].bytes, labelFile?.bytes ?? null), labelsFrom: labelFile?.name ?? null, names: null, source: images[0].name };
  const named = !labelFile && pictures.every((f) => classOf(f.name) < classes);
  const source = labelFile ? labelFile.bytes : named ? 'names' : null;
  const dataset = Dataset.fromPictures(model, pictures.map((f) => f.bytes), pictures.map((f) => f.name), source);
  return { dataset, labelsFrom: labelFile?.name ?? (named ? 'names' : null), names: pictures.map((f) => f.name), source: null };
}

/** The handlers, given `model()` (the worker's Model) and `runJob(id, job)` (its step loop; null if cancelled). */
export function datasetHandlers(model, runJob) {
  const sets = new Map(); // the page's key → { dataset, maps } (the finished maps' tasks by the page's key, for `place`)
  let current = null; // the set every request but `datasetOpen` and `datasetSelect` is about
  const free = (set) => {
    set.dataset.free();
    for (const task of set.maps.values()) task.free();
  };
  return {
    datasetOpen({ key, keep, files, classes }) {
      const opened = openFiles(model(), files, classes);
      // Only the set `keep` (the model's t10k set) stays beside the new one: older own sets are freed.
      for (const [other, set] of sets) {
        if (other === keep && other !== key) continue;
        free(set);
        sets.delete(other);
      }
      current = { dataset: opened.dataset, maps: new Map() };
      sets.set(key, current);
      const { dataset } = current;
      return { count: dataset.count, labels: dataset.labels() ?? null, size: dataset.size, pixels: dataset.pixels(), labelsFrom: opened.labelsFrom, names: opened.names, source: opened.source };
    },
    datasetSelect({ key }) {
      if (!sets.has(key)) throw new Error(`no data set ${key} is open in the worker`);
      current = sets.get(key);
      return true;
    },
    async datasetFeatures({ id, layers }) {
      const { dataset } = current;
      const done = await runJob(id, {
        step(budget) {
          const state = dataset.extract(model(), layers, budget);
          return { done: state.done === state.total, progress: state.done / state.total, result: true };
        },
        free() {},
      });
      return done && { predictions: dataset.predictions(model()) };
    },
    async datasetMap({ id, key, technique, options }) {
      const { dataset, maps } = current;
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
      const task = current.maps.get(key);
      return { at: task ? Array.from(task.place(image)) : null };
    },
    datasetNeighbours({ image, options }) {
      return current.dataset.neighbours(model(), image, options);
    },
    async datasetPatches({ id, options }) {
      const task = current.dataset.start(model(), 'patches', options);
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
