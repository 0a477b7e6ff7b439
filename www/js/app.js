// The hub shared by the page and the widget: one engine (a wasm instance and its model, js/engine.js), the
// current input image, the view state its panels declare (js/view.js) and the memoized analyses of that image.
// Every model call goes through here, timed and cached in one place; panels never touch the model. Events:
//   'image' — a new input (or none); 'view' — view state changed (detail: the changed keys);
//   'restart' — the engine came back after a trap (everything must be drawn again);
//   'problem' — something the user should hear about once (detail: the message).
// No DOM access here; the long techniques go to a Web Worker with its own instance (js/remote.js).

import { RemoteModel, isCancelled } from './remote.js';
import { viewSchema, completeView, reconcile } from './view.js';

/** Mean duration of `fn` in microseconds over as many runs as fit in `budgetMs` (at least 3, after a warm-up). */
export function measure(fn, budgetMs = 100) {
  fn();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  while (runs < 3 || (elapsed < budgetMs && runs < 10000)) {
    fn();
    runs++;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / runs;
}

export class App extends EventTarget {
  /**
   * @param engine   a loaded js/engine.js `Engine`
   * @param spec     the model's entry of config.js MODELS (title, gallery name, ...)
   * @param gallery  the sample set (data.js fetchGallery) or null
   * @param panels   panel modules to offer; those the model cannot serve are left out (`this.panels`)
   * @param view     initial view state (keys the panels do not declare are dropped)
   */
  constructor({ engine, spec, gallery = null, panels = [], view = {} }) {
    super();
    this.engine = engine;
    this.spec = spec;
    this.gallery = gallery;
    /** The manifest's "monitor" entry (layer, neurons, γ, build statistics) when a monitor is loaded. */
    this.monitor = engine.files.monitor ? engine.files.manifest.monitor : null;
    this.info = engine.call((model) => model.info());
    this.labels = this.info.labels;
    this.layers = this.info.layers;
    // The deconvnet's conv blocks (from the core): each conv layer with the layer whose output are its
    // activations (its max-pool for LeNet-5), numbered from 1, and that output's shape.
    this.deconvLayers = this.info.convBlocks.map((block) => ({ ...block, shape: this.layers[block.activations - 1].shape }));
    /** Every technique the module offers (the wasm `catalogue()`: ids, labels, options, explanations). */
    this.catalogue = engine.call((model, glue) => glue.catalogue());
    this.panels = panels.filter((panel) => this.offers(panel));
    this.schema = viewSchema(this.panels, this);
    this.view = completeView(this.schema, view);
    this.image = null;
    // { kind: 'gallery', index, label } | { kind: 'drawn', stroking } | { kind: 'upload', name } | { kind: 'link' }
    // (`stroking`: the pen is still down, js/frame.js lets the panels that are not `meta.live` follow slower)
    this.source = null;
    this.cache = new Map(); // analyses of the current image
    this.modelCache = new Map(); // what does not depend on the image (filters)
    this.timings = {}; // last duration in microseconds of each core call
    this.workers = new Map(); // kind → RemoteModel (js/remote.js)
    this.lanes = new Map(); // panel → its lane on one of them
    this.listen(engine);
  }

  listen(engine) {
    engine.addEventListener('trap', (event) => this.report(`the WebAssembly module failed and is restarting (${event.detail.message})`));
    engine.addEventListener('failed', (event) => this.report(`the WebAssembly module could not be restarted: ${event.detail.message}`));
    engine.addEventListener('healed', () => {
      this.cache.clear();
      this.modelCache.clear();
      this.dispatchEvent(new Event('restart'));
    });
  }

  report(message) {
    this.dispatchEvent(new CustomEvent('problem', { detail: message }));
  }

  /** Whether the model has every method `panel` needs, and whatever else the panel asks for. */
  offers(panel) {
    const methods = (panel.meta.requires ?? []).every((name) => this.engine.has(name));
    return methods && (panel.meta.when?.(this) ?? true);
  }

  /** The catalogue's techniques of `family` ('attribution', 'deconvnet', ...), in catalogue order. */
  techniques(family) {
    return this.catalogue.filter((technique) => technique.family === family);
  }

  /** Sets the input image (Float32Array of C*H*W, or null for none) and tells the panels. */
  setImage(image, source) {
    this.image = image;
    this.source = image ? source : null;
    this.cache.clear();
    this.dispatchEvent(new CustomEvent('image', { detail: this.source }));
  }

  /**
   * Merges `patch` into the view state and tells the panels which keys changed; a key the new state makes
   * inconsistent (a unit outside the newly chosen layer's map) goes back to its default.
   */
  setView(patch) {
    const next = { ...this.view };
    for (const key of Object.keys(patch)) if (this.schema.fields.has(key)) next[key] = patch[key];
    reconcile(this.schema, next);
    const changed = Object.keys(next).filter((key) => this.view[key] !== next[key]);
    if (changed.length === 0) return;
    for (const key of changed) this.view[key] = next[key];
    this.dispatchEvent(new CustomEvent('view', { detail: changed }));
  }

  /** Model method `name` on `args`, its duration recorded under `name` in `timings`. */
  core(name, ...args) {
    const start = performance.now();
    const result = this.engine.call((model) => model[name](...args));
    this.timings[name] = (performance.now() - start) * 1000;
    return result;
  }

  memo(cache, key, fn) {
    if (!cache.has(key)) cache.set(key, fn());
    return cache.get(key);
  }

  /** Model method `name` on the current image and `args`, once per image; null without an image. */
  analysis(name, ...args) {
    return this.image && this.memo(this.cache, JSON.stringify([name, ...args]), () => this.core(name, this.image, ...args));
  }

  /** `{ label, logits, probs }` of the current image, or null without one. */
  prediction() {
    return this.analysis('predict');
  }

  /** One layer's output by its 1-based number (all layers are computed once per image). */
  activation(layer) {
    return this.analysis('activations')?.[layer - 1] ?? null;
  }

  /** Deconvnet reconstruction of one channel (`unit`: 'all' | 'max' | 'y,x'), or null. */
  deconv(layer, channel, unit = 'all') {
    return this.analysis('deconv', layer, channel, unit);
  }

  /** All channels of all conv layers reconstructed at once, or null. */
  deconvAll() {
    return this.analysis('deconvAll');
  }

  /**
   * The runtime monitor's verdict on the current image, or null (no image or no monitor), at the view's γ
   * (the monitor panel's key; without that panel, or when '', the monitor's own γ).
   */
  monitorCheck() {
    if (!this.monitor) return null;
    const gamma = this.view.gamma ?? '';
    return gamma === '' ? this.analysis('monitorCheck') : this.analysis('monitorCheck', Number(gamma));
  }

  /** Kernels of a conv layer (OIHW); independent of the image, so cached for the model's lifetime. */
  filters(layer) {
    return this.memo(this.modelCache, layer, () => this.core('filters', layer));
  }

  /** The predicted class of any image (not the current one; not cached). */
  classify(image) {
    return this.core('predict', image).label;
  }

  /** The model input of an RGBA drawing (`Uint8ClampedArray` of width·height·4), preprocessed as the CLI does. */
  preprocessRgba(rgba, width, height) {
    return this.core('preprocessRgba', rgba, width, height);
  }

  /**
   * `preprocessRgba` of a drawing on the 'input' worker (the same module and weights, so the same input bit for
   * bit), so that a pen stroke costs the page's thread only its painting (issue 14: main-thread work per
   * pointer event ≤ 8 ms). One request at a time: a call while one runs waits, and a newer call replaces the one
   * waiting, which resolves null (superseded). Where the worker cannot run (a CSP that forbids it, a trap) the
   * drawing is preprocessed here; it rejects as `preprocessRgba` does (an empty canvas).
   */
  preprocessDrawing(rgba, width, height) {
    const request = { rgba, width, height, resolve: null };
    const promise = new Promise((resolve) => (request.resolve = resolve));
    this.drawingWaiting?.resolve(null);
    this.drawingWaiting = request;
    if (!this.drawingBusy) this.nextDrawing();
    return promise.then((outcome) => (outcome?.error ? Promise.reject(outcome.error) : outcome));
  }

  async nextDrawing() {
    const request = this.drawingWaiting;
    if (!request) return;
    [this.drawingWaiting, this.drawingBusy] = [null, true];
    const { rgba, width, height } = request;
    const remote = this.worker('input');
    try {
      await remote.loaded;
      request.resolve(await remote.call({ type: 'preprocessRgba', rgba, width, height }));
    } catch {
      try {
        request.resolve(this.disposed ? null : this.preprocessRgba(rgba, width, height));
      } catch (error) {
        request.resolve({ error });
      }
    }
    this.drawingBusy = false;
    this.nextDrawing();
  }

  /** Every preprocessing step of an image file's bytes (PNG, JPEG, PGM): `{ grey, normalized, mask, crop, input }`. */
  preprocessStages(bytes) {
    return this.core('preprocessStages', bytes);
  }

  /** Mean duration in µs of model method `name` on the current image, uncached (the perf footer). */
  measure(name) {
    const image = this.image;
    return measure(() => this.engine.call((model) => model[name](image)));
  }

  /** The worker's result for a technique with `options` on the current image (`imageFree`: on none), if computed. */
  computed(technique, options, imageFree = false) {
    return (imageFree ? this.modelCache : this.cache).get(JSON.stringify(['worker', technique, options])) ?? null;
  }

  /**
   * Panel `name`'s lane on the background workers (js/remote.js), made on first use: `{ submit, stop }`.
   * `submit(task, { key, image })` runs `task(run)` latest first within the lane: a newer submit of the same
   * lane cancels the running task at once (its promise resolves null); another lane's tasks are never touched.
   * `run(technique, options, onProgress, image = app.image, style)` computes one technique (`image` null: on
   * none, for the techniques that start from noise; `style`: the style image of a texture synthesis or a style
   * transfer), cached like `computed` unless it has a style image (the key would have to hold the image);
   * `onProgress(fraction, preview)` (`preview`: the job's current state, when it has one). A task with the same `key` on the same `image` (null
   * for a task that does not read it; default the current one) as the one running or waiting is not started
   * again: its promise is returned. `task(run, send)` also gets `send(message, onProgress)`, which posts any
   * other worker request (a handler of js/worker.js) as the lane's. `stop()` cancels the lane's task. `long: true` puts the lane on a second
   * worker, for tasks of seconds (atlases, textures), so they never delay the interactive lanes of the first.
   */
  lane(name, { long = false } = {}) {
    if (!this.lanes.has(name)) this.lanes.set(name, this.openLane(this.worker(long ? 'long' : 'interactive').lane()));
    return this.lanes.get(name);
  }

  openLane(lane) {
    const run = async (technique, options, onProgress, image = this.image, style = undefined) => {
      const key = style ? null : JSON.stringify(['worker', technique, options]);
      const cache = image === null ? this.modelCache : this.cache; // a technique from noise outlives the image
      if (key !== null && cache.has(key)) return cache.get(key);
      const result = await lane.run(image, technique, options, onProgress, style);
      this.timings[technique] = result.micros;
      if (key !== null && (image === null || this.image === image)) cache.set(key, result);
      return result;
    };
    let current = null; // { key, image, promise } of the task last submitted, until it settles
    const submit = (task, { key = null, image = this.image } = {}) => {
      if (key !== null && current?.key === key && current.image === image) return current.promise;
      const promise = lane.latest(() => task(run, (message, onProgress) => lane.request(message, onProgress))).catch((error) => {
        if (!isCancelled(error)) throw error;
        return null;
      });
      const entry = { key, image, promise };
      current = entry;
      const settled = () => current === entry && (current = null);
      promise.then(settled, settled);
      return promise;
    };
    return { submit, stop: () => submit(async () => null) };
  }

  /** Background worker `kind` ('interactive', 'long' or 'input': js/worker.js), a Web Worker with its own copy of the model, started on first use. */
  worker(kind) {
    if (!this.workers.has(kind)) {
      const what = { long: 'second background worker', input: 'drawing worker' }[kind] ?? 'background worker';
      this.workers.set(kind, new RemoteModel(
        this.engine.files,
        (error) => this.report(`the ${what} failed and was restarted (${error.message})`),
        (error) => this.report(error.message),
      ));
    }
    return this.workers.get(kind);
  }

  /** The conv layer whose channels a layer's maps are (conv1 for conv1, relu1 and pool1), or null. */
  convOf(layerNumber) {
    return this.deconvLayers.find((block) => block.conv <= layerNumber && layerNumber <= block.activations)?.name ?? null;
  }

  /** Label text of class `k`. */
  label(k) {
    return this.labels[k] ?? String(k);
  }

  /** Frees the wasm model and stops the worker. */
  dispose() {
    this.disposed = true;
    for (const remote of this.workers.values()) remote.terminate();
    this.datasets?.dispose();
    this.engine.free();
  }
}
