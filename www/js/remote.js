// The page's side of js/worker.js: a promise per request, progress callbacks, and "latest wins" scheduling so
// that a stream of requests (one per pen stroke) never queues up behind a slow method.

export class RemoteModel {
  /** Starts the worker and loads the model files (`{ text, bytes }` as data.js fetches them). */
  constructor(files) {
    this.worker = startWorker(new URL('./worker.js', import.meta.url).href);
    this.nextId = 1;
    this.pending = new Map();
    this.worker.onmessage = ({ data }) => {
      const call = this.pending.get(data.id);
      if (!call) return;
      if (data.type === 'progress') {
        call.onProgress?.(data.done, data.total);
        return;
      }
      this.pending.delete(data.id);
      if (data.type === 'result') call.resolve(data.result);
      else call.reject(new Error(data.message));
    };
    this.worker.onerror = (event) => {
      const error = new Error(`the worker failed: ${event.message ?? 'unknown error'}`);
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
    };
    this.loaded = this.call({ type: 'load', manifest: files.text, weights: files.bytes });
    this.busy = false;
    this.queued = null;
  }

  call(message, onProgress) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...message, id });
    });
  }

  /** `Model.attribute` in the worker. */
  async attribute(image, method, options, onProgress) {
    await this.loaded;
    return this.call({ type: 'attribute', image, method, options }, onProgress);
  }

  /**
   * Runs `task(remote)` when the worker is free; while one task runs, only the most recent of the tasks
   * asked for meanwhile is kept. Resolves with the task's result, or with null when it was superseded.
   */
  latest(task) {
    return new Promise((resolve, reject) => {
      this.queued?.resolve(null);
      this.queued = { task, resolve, reject };
      this.drain();
    });
  }

  async drain() {
    if (this.busy || !this.queued) return;
    const { task, resolve, reject } = this.queued;
    this.queued = null;
    this.busy = true;
    try {
      resolve(await task(this));
    } catch (error) {
      reject(error);
    } finally {
      this.busy = false;
      this.drain();
    }
  }

  terminate() {
    this.worker.terminate();
    for (const call of this.pending.values()) call.reject(new Error('the worker was stopped'));
    this.pending.clear();
  }
}

/**
 * A module worker running `url`. Browsers refuse a worker script from another origin (the widget embedded in a
 * course page loads convscope from its own site), so that case starts a same-origin blob worker that imports
 * the real one (the import itself may cross origins; GitHub Pages allows it).
 */
function startWorker(url) {
  if (new URL(url).origin === location.origin) return new Worker(url, { type: 'module' });
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)};`], { type: 'text/javascript' }));
  return new Worker(shim, { type: 'module' });
}
