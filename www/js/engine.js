// One wasm instance and the model loaded in it, for one app (the page, or one widget: widgets on a page do not
// share fate). Every call into the module goes through `call`; when one traps (js/trap.js), the instance is
// dropped, a new one is instantiated from the same compiled module and the model files are loaded into it
// again. Events: 'trap' (detail: the error; once per trap, to report it), 'healed' (the model is back),
// 'failed' (detail: the error; it could not be restarted). No DOM here.

import { WASM_MODULE, WASM_BINARY } from './config.js';
import { isTrap } from './trap.js';
import { fetchModelFiles } from './data.js';
import { installColormaps } from './visual.js';

/** Traps in a row (without a good call between them) after which the engine stops restarting. */
const MAX_RESTARTS = 3;

let compiled = null;
let instances = 0;

/** The compiled module, fetched and compiled once per page. */
function compiledModule() {
  compiled ??= fetch(WASM_BINARY)
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status} for ${WASM_BINARY}`);
      return response.arrayBuffer();
    })
    .then((bytes) => WebAssembly.compile(bytes))
    .catch((error) => {
      compiled = null;
      throw new Error(`the WebAssembly module did not load (${error.message}). Build it with: scripts/build-wasm.sh`);
    });
  return compiled;
}

/**
 * A new instance with its own memory: the glue module keeps its instance in module scope, so each instance
 * imports the glue under its own URL (a new module record), then instantiates the shared compiled module.
 */
async function instantiate() {
  const [module, glue] = await Promise.all([compiledModule(), import(`${WASM_MODULE}?instance=${++instances}`)]);
  const exports = await glue.default({ module_or_path: module });
  installColormaps(glue.colormaps());
  return { glue, exports };
}

export class Engine extends EventTarget {
  /** Instantiates the module and loads the model of `manifestUrl` (manifest, weights and monitor files). */
  static async open(manifestUrl) {
    const instance = await instantiate();
    const files = await fetchModelFiles(manifestUrl, instance.glue);
    const engine = new Engine(files);
    engine.adopt(instance);
    return engine;
  }

  constructor(files) {
    super();
    /** `{ text, manifest, bytes, monitor }` as js/data.js fetched them (the worker loads them too). */
    this.files = files;
    this.model = null;
    /** Raw wasm exports of the live instance (memory, ...), for diagnostics and tests. */
    this.exports = null;
    this.glue = null;
    this.restarts = 0; // traps since the last good call
  }

  adopt({ glue, exports }) {
    const model = glue.Model.load(this.files.text, this.files.bytes);
    if (this.files.monitor) model.loadMonitor(this.files.monitor);
    Object.assign(this, { glue, exports, model });
  }

  /** Whether the module's `Model` has method `name` (panels ask before they are mounted). */
  has(name) {
    return typeof this.glue.Model.prototype[name] === 'function';
  }

  /** `fn(model, glue)`; a trap inside it restarts the instance (and is rethrown). */
  call(fn) {
    if (!this.model) throw new Error('convscope is restarting after an internal error');
    try {
      const result = fn(this.model, this.glue);
      this.restarts = 0;
      return result;
    } catch (error) {
      if (isTrap(error)) this.restart(error);
      throw error;
    }
  }

  restart(error) {
    this.model = null; // never touch the dead instance again, not even to free it
    this.exports = null;
    this.dispatchEvent(new CustomEvent('trap', { detail: error }));
    if (++this.restarts > MAX_RESTARTS) {
      this.dispatchEvent(new CustomEvent('failed', { detail: new Error(`the module failed ${MAX_RESTARTS} times in a row: ${error.message}`) }));
      return;
    }
    instantiate()
      .then((instance) => {
        if (this.freed) return;
        this.adopt(instance);
        this.dispatchEvent(new Event('healed'));
      })
      .catch((failure) => this.dispatchEvent(new CustomEvent('failed', { detail: failure })));
  }

  free() {
    this.freed = true;
    this.model?.free();
    this.model = null;
  }
}
