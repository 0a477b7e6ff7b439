// The hub shared by the page and the widget: one loaded model, the current input image, the view state and
// memoized analyses of that image. Panels read from it and listen to its events:
//   'image' — a new input (or none); 'view' — view state changed (detail: the changed keys).
// No DOM access here; the heavy methods go to a Web Worker with its own copy of the model (`worker()`).

import { RemoteModel } from './remote.js';

/** View state defaults; every key is mirrored in the URL hash by the page. */
export const DEFAULT_VIEW = Object.freeze({
  layer: 1, // layer explorer: 1-based layer number
  channel: 0, // layer explorer: highlighted channel
  cmap: 'viridis',
  range: 'map', // 'map': each map its own range; 'layer': one range for the layer
  dlayer: '', // deconvnet: conv layer name ('' = the first conv layer)
  dchannel: 0,
  unit: 'all', // 'all' | 'max' | 'y,x'
  dmode: 'diverging', // 'diverging' | 'gray'
  dall: false, // show all reconstructions at once
  method: 'integrated-gradients', // attribution method
  target: '', // attribution target class ('' = the predicted one)
  output: 'logit', // 'logit' | 'log_prob'
  aview: 'signed', // 'signed' | 'absolute'
  opacity: 70, // overlay opacity in percent
  compare: '', // comma-separated methods shown side by side
  steps: 50, // integrated gradients
  baseline: 0, // integrated gradients: baseline pixel value in percent
  samples: 50, // SmoothGrad
  sigma: 15, // SmoothGrad: noise in percent of the input range
  base: 'gradient', // SmoothGrad: averaged method
  camlayer: '', // Grad-CAM layer ('' = the default, the last conv's ReLU)
  window: 5, // occlusion
  stride: 1,
  fill: 0, // occlusion: fill value in percent
  gamma: '', // runtime monitor: γ ('' = the monitor's default)
});

export class App extends EventTarget {
  /**
   * @param model  a wasm `Model`
   * @param spec   the model's entry of config.js MODELS (title, gallery name, ...)
   * @param gallery  the sample set (data.js fetchGallery) or null
   * @param files  the model files `{ text, bytes }`, for the worker that runs the heavy methods
   */
  constructor({ model, spec, gallery = null, view = {}, files = null }) {
    super();
    this.model = model;
    this.files = files;
    this.remote = null;
    /** The manifest's "monitor" entry (layer, neurons, γ, build statistics) when a monitor is loaded. */
    this.monitor = files?.monitor ? files.manifest.monitor : null;
    this.spec = spec;
    this.gallery = gallery;
    this.info = model.info();
    this.labels = this.info.labels;
    this.layers = this.info.layers;
    // The deconvnet's conv blocks (from the core): each conv layer with the layer whose output are its
    // activations (its max-pool for LeNet-5), numbered from 1, and that output's shape.
    this.deconvLayers = this.info.convBlocks.map((block) => ({ ...block, shape: this.layers[block.activations - 1].shape }));
    this.view = { ...DEFAULT_VIEW, ...view };
    this.image = null;
    this.source = null; // { kind: 'gallery', index, label } | { kind: 'drawn' } | { kind: 'upload', name } | { kind: 'link' }
    this.cache = new Map();
    this.timings = {}; // last duration in microseconds of each core call
  }

  /** Sets the input image (Float32Array of C*H*W, or null for none) and tells the panels. */
  setImage(image, source) {
    this.image = image;
    this.source = image ? source : null;
    this.cache.clear();
    this.dispatchEvent(new CustomEvent('image', { detail: this.source }));
  }

  /** Merges `patch` into the view state and tells the panels which keys changed. */
  setView(patch) {
    const changed = Object.keys(patch).filter((key) => this.view[key] !== patch[key]);
    if (changed.length === 0) return;
    Object.assign(this.view, patch);
    this.dispatchEvent(new CustomEvent('view', { detail: changed }));
  }

  /** Runs a core call, recording its duration under `name` in `timings`. */
  timed(name, fn) {
    const start = performance.now();
    const result = fn();
    this.timings[name] = (performance.now() - start) * 1000;
    return result;
  }

  memo(key, fn) {
    if (!this.cache.has(key)) this.cache.set(key, fn());
    return this.cache.get(key);
  }

  /** `{ label, logits, probs }` of the current image, or null without one. */
  prediction() {
    return this.image && this.memo('predict', () => this.timed('predict', () => this.model.predict(this.image)));
  }

  /** Every layer's output for the current image, in manifest order (index 1-based), or null. */
  activations() {
    return this.image && this.memo('activations', () => this.timed('activations', () => this.model.activations(this.image)));
  }

  /** One layer's output by its 1-based number. */
  activation(layer) {
    return this.activations()?.[layer - 1] ?? null;
  }

  /** Deconvnet reconstruction of one channel (`unit`: 'all' | 'max' | 'y,x'), or null. */
  deconv(layer, channel, unit = 'all') {
    return (
      this.image &&
      this.memo(`deconv:${layer}:${channel}:${unit}`, () =>
        this.timed('deconv', () => this.model.deconv(this.image, layer, channel, unit)),
      )
    );
  }

  /** All channels of all conv layers reconstructed at once, or null. */
  deconvAll() {
    return this.image && this.memo('deconvAll', () => this.timed('deconvAll', () => this.model.deconvAll(this.image)));
  }

  /** The runtime monitor's verdict on the current image at the view's γ, or null (no image or no monitor). */
  monitorCheck() {
    if (!this.image || !this.monitor) return null;
    const gamma = this.view.gamma === '' ? undefined : Number(this.view.gamma);
    return this.memo(`monitor:${this.view.gamma}`, () => this.timed('monitor', () => this.model.monitorCheck(this.image, gamma)));
  }

  /** Kernels of a conv layer (OIHW); independent of the image, so cached for the model's lifetime. */
  filters(layer) {
    this.filterCache ??= new Map();
    if (!this.filterCache.has(layer)) this.filterCache.set(layer, this.model.filters(layer));
    return this.filterCache.get(layer);
  }

  /** The conv layer whose channels a layer's maps are (conv1 for conv1, relu1 and pool1), or null. */
  convOf(layerNumber) {
    return this.deconvLayers.find((block) => block.conv <= layerNumber && layerNumber <= block.activations)?.name ?? null;
  }

  /** The Web Worker's copy of the model (js/remote.js), started on first use. */
  worker() {
    if (!this.remote) {
      if (!this.files) throw new Error('this app was created without its model files: no worker');
      this.remote = new RemoteModel(this.files);
    }
    return this.remote;
  }

  /** Frees the wasm model and stops the worker. */
  dispose() {
    this.remote?.terminate();
    this.model.free();
  }

  /** Label text of class `k`. */
  label(k) {
    return this.labels[k] ?? String(k);
  }
}
