// Web Worker that hosts its own wasm `Model` for the heavy methods (integrated gradients, SmoothGrad,
// occlusion, ...), so the page keeps drawing while they run. Messages in: `{ id, type: 'load', manifest,
// weights }`, `{ id, type: 'attribute', image, method, options }`. Messages out: `{ id, type: 'progress', done,
// total }` (at most every 50 ms), `{ id, type: 'result', result }` (the map's buffer is transferred) and
// `{ id, type: 'error', message }`.

import init, { Model } from '../pkg/convscope.js';

const ready = init();
let model = null;

const handlers = {
  load({ manifest, weights }) {
    model?.free();
    model = Model.load(manifest, weights);
    return { result: true };
  },
  attribute({ id, image, method, options }) {
    if (!model) throw new Error('no model loaded in the worker');
    let last = 0;
    const progress = (done, total) => {
      const now = performance.now();
      if (now - last > 50 || done === total) {
        last = now;
        self.postMessage({ id, type: 'progress', done, total });
      }
    };
    const started = performance.now();
    const result = model.attribute(image, method, options, progress);
    result.micros = (performance.now() - started) * 1000;
    return { result, transfer: [result.data.buffer] };
  },
};

self.onmessage = async ({ data: message }) => {
  await ready;
  try {
    const handler = handlers[message.type];
    if (!handler) throw new Error(`unknown worker request ${message.type}`);
    const { result, transfer = [] } = handler(message);
    self.postMessage({ id: message.id, type: 'result', result }, transfer);
  } catch (error) {
    self.postMessage({ id: message.id, type: 'error', message: error?.message ?? String(error) });
  }
};
