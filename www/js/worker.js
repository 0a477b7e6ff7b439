// Web Worker that hosts its own wasm instance and `Model` for the background techniques, so the page keeps
// drawing while they run. The techniques the catalogue marks long-running go through the generic step-wise API
// (`model.start(id, image, options)` → `job.step(k)`), a few milliseconds at a time: between steps the worker
// reports progress (and the job's live preview, when it has one) and reads its messages, so a newer request
// stops the job at once (no SharedArrayBuffer needed). Messages in: `{ id, type: 'load', manifest, weights }`,
// `{ id, type: 'run', image, technique, options, style? }` (`image` null for the techniques that start from noise;
// `style`: the style image of texture synthesis and style transfer),
// `{ id, type: 'cancel' }`, `{ id, type: 'preprocessRgba', rgba, width, height }` (a drawing's model input), and the dataset requests of js/dataset-tasks.js (a dataset worker of its own runs
// them through the same job loop) and of the response-map and weight-gradient panels (js/nrm-tasks.js).
// Messages out: `{ id, type: 'progress', progress, preview? }` (0..1, at most
// every 50 ms), `{ id, type: 'result', result }` (a map's buffer is transferred), `{ id, type: 'cancelled' }`,
// `{ id, type: 'error', message, trap }` (`trap`: this worker's instance is dead; js/remote.js replaces it).

import init, { Model, catalogue } from '../pkg/convscope.js';
import { isTrap } from './trap.js';
import { datasetHandlers } from './dataset-tasks.js';
import { nrmHandlers } from './nrm-tasks.js';

/** Time one batch of steps should take before the worker looks at its messages again. */
const SLICE_MS = 25;

const ready = init();
let model = null;
let longRunning = new Set();
const running = new Set(); // ids of the requests in progress
const cancelled = new Set(); // ... of those a 'cancel' arrived for

/** Lets queued messages (a 'cancel') run: a message-channel round trip, not clamped like setTimeout. */
function yieldToMessages() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/** `report(fraction, preview)` for request `id`: posts progress (and the preview) at most every 50 ms. */
function progressOf(id) {
  let last = 0;
  return (fraction, preview) => {
    const now = performance.now();
    if (now - last < 50) return;
    last = now;
    self.postMessage({ id, type: 'progress', progress: fraction, preview });
  };
}

/** Runs a long technique step by step; null when cancelled. */
function stepwise(id, image, technique, options, style) {
  return runJob(id, model.start(technique, image, options, style));
}

/**
 * Steps `job` (anything with `step(budget)` → `{ done, progress, preview?, result? }`) to its end, posting
 * progress; null when cancelled. Batches grow or shrink to about SLICE_MS. Frees the job unless `keep`.
 */
async function runJob(id, job, keep = false) {
  const report = progressOf(id);
  let steps = 1;
  try {
    for (;;) {
      const started = performance.now();
      const state = job.step(steps);
      if (state.done) return state.result;
      const elapsed = performance.now() - started;
      steps = Math.max(1, Math.min(steps * 2, Math.round((steps * SLICE_MS) / Math.max(elapsed, 0.1))));
      report(state.progress, state.preview);
      await yieldToMessages();
      if (cancelled.has(id)) return null;
    }
  } finally {
    if (model && !keep) job.free(); // not after a trap: the instance is dead
  }
}

const handlers = {
  load({ manifest, weights }) {
    model?.free();
    model = Model.load(manifest, weights);
    longRunning = new Set(catalogue().filter((technique) => technique.longRunning).map((technique) => technique.id));
    return true;
  },
  async run({ id, image, technique, options, style }) {
    if (!model) throw new Error('no model loaded in the worker');
    const started = performance.now();
    const result = longRunning.has(technique) ? await stepwise(id, image, technique, options, style) : model.attribute(image, technique, options);
    if (result) result.micros = (performance.now() - started) * 1000;
    return result;
  },
  /** A drawing's model input (App.preprocessDrawing: the page's thread only paints the strokes). */
  preprocessRgba({ rgba, width, height }) {
    if (!model) throw new Error('no model loaded in the worker');
    return model.preprocessRgba(rgba, width, height);
  },
  ...datasetHandlers(() => model, runJob),
  ...nrmHandlers(() => model, runJob),
};

self.onmessage = async ({ data: message }) => {
  await ready;
  if (message.type === 'cancel') {
    if (running.has(message.id)) cancelled.add(message.id);
    return;
  }
  running.add(message.id);
  try {
    const handler = handlers[message.type];
    if (!handler) throw new Error(`unknown worker request ${message.type}`);
    const result = await handler(message);
    if (result === null) self.postMessage({ id: message.id, type: 'cancelled' });
    else self.postMessage({ id: message.id, type: 'result', result }, result.data ? [result.data.buffer] : []);
  } catch (error) {
    const trap = isTrap(error);
    if (trap) model = null;
    self.postMessage({ id: message.id, type: 'error', message: error?.message ?? String(error), trap });
  } finally {
    running.delete(message.id);
    cancelled.delete(message.id);
  }
};
