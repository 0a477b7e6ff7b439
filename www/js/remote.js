// The page's side of js/worker.js: a promise per request, progress callbacks, lanes, and a fresh worker when
// the old one's wasm instance trapped. A lane (`remote.lane()`) is one panel's queue on the worker, "latest
// wins": a new task of the lane cancels the lane's running one at once (so a stream of requests, one per pen
// stroke, never queues up behind a slow technique) and never touches another lane's requests. The lanes of one
// worker share it: its step-wise jobs take turns, a slice of about 25 ms each (js/worker.js).

import { scriptUrl, workerShim, watchWorkerViolations, workerBlocked } from './security.js';

const CANCELLED = 'cancelled';

/** Whether a rejection means "superseded by a newer request", not a failure. */
export function isCancelled(error) {
  return error?.name === CANCELLED;
}

function cancelled() {
  const error = new Error('superseded by a newer request');
  error.name = CANCELLED;
  return error;
}

export class RemoteModel {
  /**
   * Starts the worker and loads the model files (`{ text, bytes }` as js/data.js fetches them). `onTrap(error)`
   * is told when the worker's instance died; the worker is then replaced and the request fails with `error`.
   * `onBlocked(error)` is told once when the worker cannot start at all (a Content-Security-Policy that does not
   * allow it, js/security.js); every request then fails with `error`.
   */
  constructor(files, onTrap, onBlocked) {
    this.files = files;
    this.onTrap = onTrap;
    this.onBlocked = onBlocked;
    this.blocked = null;
    this.nextId = 1;
    this.pending = new Map();
    this.start();
  }

  start() {
    const url = new URL('./worker.js', import.meta.url).href;
    const stopWatching = watchWorkerViolations();
    let started = false; // the worker answered: its scripts loaded
    try {
      this.worker = startWorker(url);
    } catch (thrown) {
      this.block(workerBlocked(url, { thrown, violations: stopWatching() }));
      return;
    }
    this.worker.onmessage = ({ data }) => {
      if (!started) stopWatching();
      started = true;
      this.receive(data);
    };
    this.worker.onerror = (event) => {
      if (started) this.failAll(new Error(`the worker failed: ${event.message ?? 'unknown error'}`));
      // The violation event may come after the error event: look once the events queued with it have run.
      else setTimeout(() => this.block(workerBlocked(url, { violations: stopWatching() })), 0);
    };
    this.loaded = this.call({ type: 'load', manifest: this.files.text, weights: this.files.bytes });
  }

  /** The worker cannot start: every request fails with `error`, the app hears it once. */
  block(error) {
    this.worker?.terminate();
    this.worker = null;
    this.blocked = error;
    this.loaded = Promise.reject(error);
    this.loaded.catch(() => {}); // reported through onBlocked and each request, not as unhandled
    this.failAll(error);
    queueMicrotask(() => this.onBlocked?.(error)); // after the panel render that asked (the app clears its status then)
  }

  receive(data) {
    const call = this.pending.get(data.id);
    if (!call) return;
    if (data.type === 'progress') {
      call.onProgress?.(data.progress, data.preview);
      return;
    }
    this.pending.delete(data.id);
    if (data.type === 'result') call.resolve(data.result);
    else if (data.type === CANCELLED) call.reject(cancelled());
    else call.reject(new Error(data.message));
    if (data.trap) this.restart(new Error(data.message));
  }

  /** The worker's instance is dead: fail what it had, tell the app once, and start a new worker. */
  restart(error) {
    this.worker?.terminate();
    this.failAll(error);
    this.onTrap?.(error);
    this.start();
  }

  failAll(error) {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }

  /** Posts `message` to the worker; resolves with its result. `owner`: the lane it belongs to, if any. */
  call(message, onProgress, owner = null) {
    if (this.blocked) return Promise.reject(this.blocked);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, owner });
      this.worker.postMessage({ ...message, id });
    });
  }

  /** Asks the worker to stop every request of `owner` (each then rejects as cancelled). */
  cancelOwned(owner) {
    for (const [id, call] of this.pending) if (call.owner === owner) this.worker?.postMessage({ type: 'cancel', id });
  }

  /** A new lane on this worker (`Lane`). */
  lane() {
    return new Lane(this);
  }

  terminate() {
    this.worker?.terminate();
    this.failAll(new Error('the worker was stopped'));
  }
}

/** One queue of tasks on a `RemoteModel`'s worker, latest first; see the top of this file. */
export class Lane {
  constructor(remote) {
    this.remote = remote;
    this.busy = false;
    this.queued = null;
  }

  /**
   * Runs catalogue technique `technique` on `image` (null for the techniques that start from noise; `style`:
   * the style image of texture synthesis and style transfer) in the worker: the result object of the technique
   * (a job's `result`), plus `micros`. `onProgress(fraction, preview)` for long-running techniques
   * (`preview`: the job's current state, when it has one). Rejects as cancelled when a newer task of this lane
   * is waiting (before it starts, or between its steps).
   */
  run(image, technique, options, onProgress, style = undefined) {
    return this.request({ type: 'run', image, technique, options, style }, onProgress);
  }

  /**
   * Posts any worker request `message` (a handler of js/worker.js, e.g. the response map's `nrmTrain`) as this
   * lane's, cancelled like `run`; `onProgress(fraction, preview)`.
   */
  async request(message, onProgress) {
    await this.remote.loaded;
    if (this.queued) throw cancelled();
    return this.remote.call(message, onProgress, this);
  }

  /**
   * Runs `task()` when this lane is free; asking for another task meanwhile cancels the running one's
   * requests and replaces the one waiting (which resolves null). Resolves with the task's result.
   */
  latest(task) {
    return new Promise((resolve, reject) => {
      this.queued?.resolve(null);
      this.queued = { task, resolve, reject };
      if (this.busy) this.remote.cancelOwned(this);
      this.drain();
    });
  }

  async drain() {
    if (this.busy || !this.queued) return;
    const { task, resolve, reject } = this.queued;
    this.queued = null;
    this.busy = true;
    try {
      resolve(await task());
    } catch (error) {
      reject(error);
    } finally {
      this.busy = false;
      this.drain();
    }
  }
}

/**
 * A module worker running `url`. Browsers refuse a worker script from another origin (the widget embedded in a
 * course page loads convscope from its own site), so that case starts a same-origin blob worker that imports
 * the real one (the import itself may cross origins; GitHub Pages allows it). Both URLs pass through the
 * Trusted Types policy (js/trusted.js).
 */
function startWorker(url) {
  const sameOrigin = new URL(url).origin === location.origin;
  return new Worker(sameOrigin ? scriptUrl(url) : workerShim(url), { type: 'module' });
}
