// The dataset views' model (no DOM): the current model's t10k set (or a user's PNG pictures or IDX set), opened in a worker of
// its own (js/dataset-tasks.js) when a dataset view first needs it, its features read once per model, and the
// maps, neighbour lists and patch grids computed there, cached while the model is the same. Every pass over the
// data set runs in that worker with progress and can be cancelled; the page's thread only draws.

import { RemoteModel } from './remote.js';

/** The app's dataset views, made on first use (every dataset panel shares them). */
export function datasetViews(app) {
  app.datasets ??= new DatasetViews(app);
  return app.datasets;
}

/** Phones get a 2,000-image subsample of the maps by default (t-SNE of 10,000 points is long there). */
export const PHONE_POINTS = 2000;
/** The page's cap on a user's own data set (the wasm `Dataset` refuses more, saying so). */
export const MAX_USER_IMAGES = 10000;
export const MAX_USER_IMAGES_TEXT = `${MAX_USER_IMAGES.toLocaleString('en')} images`;
/** The layers the maps and neighbours compare: the pixels, the last conv block's output, the last hidden layer. */
export function featureLayers(app) {
  const blocks = app.info.convBlocks;
  const pooled = blocks.length ? app.layers[blocks[blocks.length - 1].activations - 1].name : null;
  const linear = app.layers.filter((layer) => layer.type === 'linear').map((layer) => layer.name);
  const hidden = linear.length > 1 ? linear[linear.length - 2] : null;
  return ['pixels', pooled, hidden].filter(Boolean);
}

/** Image `i` of a data set's bytes (`count × height × width`) as a model input (`pixel / 255`). */
function pixelsOf([height, width], data) {
  const size = height * width;
  return {
    size: [height, width],
    image(i) {
      return Float32Array.from(data.subarray(i * size, (i + 1) * size), (v) => v / 255);
    },
  };
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const fetched = new Map(); // url → Promise of its bytes (a failed fetch is forgotten, to be tried again)

/**
 * The model's t10k set (`spec`: the app's), `{ images, labels }` as gzip IDX bytes, fetched once per page for
 * every view that reads it: the dataset views, the response map, the weight gradients (js/panels/).
 */
export async function t10kFiles(spec) {
  const once = (url) => {
    if (!fetched.has(url)) fetched.set(url, fetchBytes(url).catch((error) => (fetched.delete(url), Promise.reject(error))));
    return fetched.get(url);
  };
  const [images, labels] = await Promise.all([once(`${spec.dataset}-images.idx3.gz`), once(`${spec.dataset}-labels.idx1.gz`)]);
  return { images, labels };
}

export class DatasetViews {
  constructor(app) {
    this.app = app;
    this.remote = null;
    this.opened = null; // Promise of { count, labels, predictions, name }
    this.summary = null; // ... once it resolved
    this.results = new Map();
    this.listeners = new Set();
  }

  /** `listener()` is called when the data set opens or a result arrives (panels re-render). */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    for (const listener of this.listeners) listener();
  }

  worker() {
    this.remote ??= new RemoteModel(this.app.engine.files, (error) => this.app.report(`the dataset worker failed and was restarted (${error.message})`), (error) => this.app.report(error.message));
    return this.remote;
  }

  /** A request to the worker: `{ promise, id }` (`id`, to cancel it, is set once the request is sent). */
  request(message, onProgress) {
    const remote = this.worker();
    const request = { id: null };
    request.promise = remote.loaded.then(() => {
      request.id = remote.nextId; // the id `call` gives this request
      return remote.call(message, onProgress);
    });
    return request;
  }

  cancel(request) {
    if (request.id !== null) this.remote?.worker?.postMessage({ type: 'cancel', id: request.id });
  }

  /**
   * Opens `own` (`{ name, files: [{ name, bytes }] }`: PNG pictures, or IDX images and labels; default: the
   * model's t10k set) in the worker and reads every feature layer.
   */
  open(onProgress, own = null) {
    this.results.clear();
    this.summary = null;
    this.opened = (async () => {
      const spec = this.app.spec;
      const t10k = own ? null : await t10kFiles(spec);
      const files = own?.files ?? [
        { name: 'images', bytes: t10k.images },
        { name: 'labels', bytes: t10k.labels },
      ];
      const set = await this.request({ type: 'datasetOpen', files, classes: this.app.labels.length }).promise;
      this.images = pixelsOf(set.size, set.pixels);
      const logits = this.app.layers.filter((layer) => layer.type === 'linear').pop().name;
      const { predictions } = await this.request({ type: 'datasetFeatures', layers: [...featureLayers(this.app), logits] }, onProgress).promise;
      return { ...set, predictions, name: own ? own.name : spec.datasetName, own: Boolean(own) };
    })();
    this.opened.then((set) => {
      this.summary = set;
      this.changed();
    }, () => {});
    return this.opened;
  }

  /** A cached result by `key`, or null. */
  result(key) {
    return this.results.get(key) ?? null;
  }

  /** Computes `message` once per key (and model); `onProgress(fraction, preview)`. Returns `{ id, promise }`. */
  compute(key, message, onProgress) {
    const request = this.request({ ...message, key }, onProgress);
    request.promise = request.promise.then((result) => {
      if (result) this.results.set(key, result);
      this.changed();
      return result;
    });
    return request;
  }

  /** Where `image` lands on the finished map `key`: `[x, y]` or null. */
  async place(key, image) {
    return (await this.request({ type: 'datasetPlace', key, image }).promise).at;
  }

  neighbours(image, options) {
    return this.request({ type: 'datasetNeighbours', image, options }).promise;
  }

  dispose() {
    this.remote?.terminate();
  }
}
