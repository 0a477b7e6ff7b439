// The dataset views' model (no DOM): the current model's t10k set (or a user's PNG pictures or IDX set), opened in a worker of
// its own (js/dataset-tasks.js) when a dataset view first needs it, its features read once per model, and the
// maps, neighbour lists and patch grids computed there, cached per set while the model is the same. One can
// switch sets at any time: the jobs of the set shown are cancelled, and a set opened before comes back at once. Every pass over the
// data set runs in that worker with progress and can be cancelled; the page's thread only draws.

import { RemoteModel, isCancelled } from './remote.js';

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

/** The key of the model's t10k set among the opened sets (a user's set is keyed by its files). */
const T10K = 't10k';
const ownKey = (own) => `own:${own.files.map((f) => `${f.name}/${f.bytes.length}`).join('|')}`;

export class DatasetViews {
  constructor(app) {
    this.app = app;
    this.remote = null;
    this.sets = new Map(); // key → { key, summary, images, results }: the t10k set and the last own set opened
    this.current = null; // the set the views show (null while another opens)
    this.loading = null; // the name of the set being opened, or null
    this.error = null; // why the last open failed
    this.ticket = 0; // counts opens: only the latest one's outcome counts
    this.jobs = new Set(); // the requests in flight for the current set (cancelled when another opens)
    this.listeners = new Set();
    this.progressListeners = new Set();
  }

  /** The open set's summary `{ count, labels, predictions, name, own, names, source, labelsFrom }`, or null. */
  get summary() {
    return this.current?.summary ?? null;
  }

  /** The open set's images: `{ size, image(i) }`. */
  get images() {
    return this.current?.images ?? null;
  }

  /** Whether the model's own t10k set was opened already (switching back to it is then immediate). */
  get hasT10k() {
    return this.sets.has(T10K);
  }

  /** `listener()` is called when a data set opens or a result arrives (panels re-render). */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `listener(fraction)` hears how far the reading of a set's features is. */
  watchProgress(listener) {
    this.progressListeners.add(listener);
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

  /** A request that belongs to the current set: cancelled when another set opens. */
  job(message, onProgress) {
    const request = this.request(message, onProgress);
    this.jobs.add(request);
    request.promise.then(() => this.jobs.delete(request), () => this.jobs.delete(request));
    return request;
  }

  /**
   * Switches to `own` (`{ name, files: [{ name, bytes }] }`: PNG pictures, or IDX images and labels; default:
   * the model's t10k set): cancels the current set's jobs, opens the set in the worker and reads every feature
   * layer, or selects it again when it was opened before (its results kept). Resolves with its summary; when
   * it fails, the set shown before stays.
   */
  open(own = null) {
    for (const request of this.jobs) this.cancel(request);
    this.jobs.clear();
    const key = own ? ownKey(own) : T10K;
    const previous = this.current;
    const ticket = ++this.ticket;
    [this.current, this.loading, this.error] = [null, own ? own.name : this.app.spec.datasetName, null];
    this.changed();
    for (const listener of this.progressListeners) listener(0);
    const latest = () => ticket === this.ticket;
    return this.load(key, own).then(
      (set) => {
        if (latest()) [this.current, this.loading] = [set, null];
        this.changed();
        return set.summary;
      },
      async (error) => {
        if (latest()) {
          if (previous) await this.request({ type: 'datasetSelect', key: previous.key }).promise.catch(() => {});
          if (latest()) [this.current, this.loading, this.error] = [previous, null, isCancelled(error) ? null : error.message];
          this.changed();
        }
        throw error;
      },
    );
  }

  /** Opens (or selects again) set `key` in the worker: the set's entry of `this.sets`. */
  async load(key, own) {
    const known = this.sets.get(key);
    if (known) {
      await this.job({ type: 'datasetSelect', key }).promise;
      return known;
    }
    const spec = this.app.spec;
    const t10k = own ? null : await t10kFiles(spec);
    const files = own?.files ?? [
      { name: 'images', bytes: t10k.images },
      { name: 'labels', bytes: t10k.labels },
    ];
    const { pixels, ...set } = await this.job({ type: 'datasetOpen', key, keep: T10K, files, classes: this.app.labels.length }).promise;
    const logits = this.app.layers.filter((layer) => layer.type === 'linear').pop().name;
    const report = (fraction) => this.progressListeners.forEach((listener) => listener(fraction));
    const { predictions } = await this.job({ type: 'datasetFeatures', layers: [...featureLayers(this.app), logits] }, report).promise;
    const summary = { ...set, predictions, name: own ? own.name : spec.datasetName, own: Boolean(own) };
    // The worker keeps the t10k set and the newest own set: so does the page.
    for (const other of this.sets.keys()) if (other !== T10K) this.sets.delete(other);
    const entry = { key, summary, images: pixelsOf(set.size, pixels), results: new Map() };
    this.sets.set(key, entry);
    return entry;
  }

  /** How a screen reader names image `i` of the open set, with its label when the set has labels. */
  imageName(i) {
    const set = this.summary;
    const name = set.names ? set.names[i] : set.own ? `image ${i} of ${set.source}` : `test image ${i}`;
    return set.labels ? `${name}, label ${this.app.label(set.labels[i])}` : name;
  }

  /** A cached result of the open set by `key`, or null. */
  result(key) {
    return this.current?.results.get(key) ?? null;
  }

  /** Computes `message` once per key (per set and model); `onProgress(fraction, preview)`. Returns `{ id, promise }`. */
  compute(key, message, onProgress) {
    const set = this.current;
    const request = this.job({ ...message, key }, onProgress);
    request.promise = request.promise.then((result) => {
      if (result) set.results.set(key, result);
      this.changed();
      return result;
    });
    return request;
  }

  /** An answer of the worker about the current set, or null when another set opened meanwhile. */
  async ask(message) {
    const set = this.current;
    const answer = await this.request(message).promise;
    return set === this.current ? answer : null;
  }

  /** Where `image` lands on the finished map `key`: `[x, y]` or null. */
  async place(key, image) {
    return (await this.ask({ type: 'datasetPlace', key, image }))?.at ?? null;
  }

  /** The nearest neighbours of `image` in the open set, or null when another set opened meanwhile. */
  neighbours(image, options) {
    return this.ask({ type: 'datasetNeighbours', image, options });
  }

  dispose() {
    this.remote?.terminate();
  }
}
