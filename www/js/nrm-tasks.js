// The response-map and weight-gradient panels' side of js/worker.js (their lanes on the second worker): the
// map trained step by step through the worker's job loop (progress, the t-SNE layout so far as preview,
// cancellable between steps), and the weight-gradient comparison of three classes over the first images of a
// labelled set. Requests: `nrmTrain { images, options }` → `{ json, neurons, klDivergence }` (the map file's
// text, `ResponseMap.fromJson` on the page); `nrmAverages { map, images, labels, count, options }` → per class
// of the set's first `count` images `{ label, n, drawn }`, the map (text `map`) generated over that class's
// images (their mean, as `convscope nrm generate --idx IMAGES --count N --labels LABELS` draws one per class);
// `wgCompare { images, labels, count, options }` → the wasm
// `compareWeightGradients` result over the set's first `count` images.

import { ResponseMap, ResponseMapTraining, decodeIdx } from '../pkg/convscope.js';

/** An uncompressed IDX file of the first `count` items of decoded IDX `{ dims, data }`. */
export function firstItems({ dims, data }, count) {
  const n = Math.min(count, dims[0]);
  const size = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, 0x0800 + dims.length);
  [n, ...dims.slice(1)].forEach((d, i) => header.setUint32(4 + 4 * i, d));
  const bytes = new Uint8Array(header.byteLength + n * size);
  bytes.set(new Uint8Array(header.buffer));
  bytes.set(data.subarray(0, n * size), header.byteLength);
  return bytes;
}

/** Per label of the first `count` items of decoded IDX `labels`, sorted, its images of `images` as model inputs ([0, 1]). */
export function imagesByClass(images, labels, count) {
  const n = Math.min(count, images.dims[0], labels.dims[0]);
  const size = images.dims.slice(1).reduce((a, b) => a * b, 1);
  const members = new Map();
  for (let i = 0; i < n; i++) {
    if (!members.has(labels.data[i])) members.set(labels.data[i], []);
    members.get(labels.data[i]).push(i);
  }
  return [...members.keys()].sort((a, b) => a - b).map((label) => {
    const list = members.get(label);
    const pixels = new Float32Array(list.length * size);
    list.forEach((i, k) => images.data.subarray(i * size, (i + 1) * size).forEach((v, j) => (pixels[k * size + j] = v / 255)));
    return { label, n: list.length, pixels };
  });
}

/** The handlers, given `model()` (the worker's Model) and `runJob(id, job)` (its step loop; null if cancelled). */
export function nrmHandlers(model, runJob) {
  return {
    nrmTrain({ id, images, options }) {
      const training = new ResponseMapTraining(model(), images, options);
      return runJob(id, {
        step(budget) {
          const state = training.step(budget);
          if (!state.done) return { done: false, progress: state.progress, preview: state.layout };
          const map = training.finish();
          try {
            return { done: true, result: { json: map.toJson(), neurons: map.neurons().length, klDivergence: state.klDivergence } };
          } finally {
            map.free();
          }
        },
        free: () => training.free(),
      });
    },
    nrmAverages({ map, images, labels, count, options }) {
      const trained = ResponseMap.fromJson(map);
      try {
        return imagesByClass(decodeIdx(images), decodeIdx(labels), count).map(({ label, n, pixels }) => ({ label, n, drawn: trained.generate(model(), pixels, options) }));
      } finally {
        trained.free();
      }
    },
    wgCompare({ images, labels, count, options }) {
      const subset = (bytes) => firstItems(decodeIdx(bytes), count);
      return model().compareWeightGradients(subset(images), subset(labels), options);
    },
  };
}
