// <convscope-viewer>: the convscope panels as one custom element for course pages and notes.
//
//   <script type="module" src="https://…/convscope-viewer.js"></script>
//   <convscope-viewer model="models/lenet5-mnist.json" view="deconv"></convscope-viewer>
//
// Attributes: `model` — manifest URL, relative to the host page (default: the MNIST model next to this script);
// `view` — `deconv`, `layers` or `predict` (or a comma-separated list of panel ids: input, prediction, gallery,
// deconv, attribution, monitor, layers, filters); `sample` — index of the bundled test image to start from (default 0).
// The element sets `data-ready="true"` and fires a `ready` event once the first analysis is drawn.
// Everything it loads (wasm, styles, model, samples) is resolved relative to this script or the host page.

import { App } from './js/app.js';
import { MODELS, DEFAULT_MODEL, WASM_MODULE } from './js/config.js';
import { fetchModelFiles, fetchGallery, loadModel } from './js/data.js';
import { mountPanel } from './js/frame.js';
import { panelById, isAvailable } from './js/panels/index.js';

const VIEWS = {
  deconv: ['input', 'deconv'],
  layers: ['input', 'layers'],
  predict: ['input', 'prediction'],
};

const STYLES = new URL('./css/panels.css', import.meta.url).href;

let wasm = null;
function loadWasm() {
  wasm ??= import(WASM_MODULE).then(async (module) => {
    await module.default();
    return module;
  });
  return wasm;
}

class ConvscopeViewer extends HTMLElement {
  static observedAttributes = ['model', 'view', 'sample'];

  connectedCallback() {
    if (!this.shadowRoot) {
      this.attachShadow({ mode: 'open' }).innerHTML = `
        <link rel="stylesheet" href="${STYLES}">
        <style>
          :host { display: block; font-family: var(--font); color: var(--text); }
          .widget { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start;
                    background: var(--bg); padding: 12px; border-radius: 16px; }
          .widget > .panel { flex: 1 1 330px; }
          .widget > .panel-wide { flex: 3 1 560px; }
          .widget-status { margin: 0; padding: 8px 4px; color: var(--muted); }
          .widget-status.is-error { color: var(--danger); }
          *, *::before, *::after { box-sizing: border-box; }
        </style>
        <p class="widget-status" role="status">Loading convscope…</p>
        <div class="widget"></div>`;
    }
    this.start();
  }

  disconnectedCallback() {
    this.teardown();
  }

  attributeChangedCallback() {
    if (this.app) this.start();
  }

  teardown() {
    for (const panel of this.panels ?? []) panel.destroy();
    this.panels = [];
    this.app?.dispose();
    this.app = null;
  }

  async start() {
    const run = (this.run = (this.run ?? 0) + 1);
    const status = this.shadowRoot.querySelector('.widget-status');
    this.dataset.ready = 'false';
    try {
      const manifest = this.getAttribute('model')
        ? new URL(this.getAttribute('model'), document.baseURI).href
        : MODELS[DEFAULT_MODEL].manifest;
      const spec = Object.values(MODELS).find((m) => m.manifest === manifest) ?? {
        title: 'custom model',
        description: '',
        manifest,
        gallery: null,
        galleryName: 'samples',
      };
      const [module, files, gallery] = await Promise.all([
        loadWasm(),
        fetchModelFiles(manifest),
        spec.gallery ? fetchGallery(spec.gallery).catch(() => null) : null,
      ]);
      if (run !== this.run) return; // a newer start() superseded this one
      this.teardown();
      const app = new App({ model: loadModel(module.Model, files), spec, gallery, files });
      this.app = app;
      const view = this.getAttribute('view') ?? 'deconv';
      const ids = VIEWS[view] ?? view.split(',').map((id) => id.trim());
      const root = this.shadowRoot.querySelector('.widget');
      this.panels = ids.map(panelById).filter((panel) => panel && isAvailable(panel, app)).map((panel) => mountPanel(root, panel, app));
      if (gallery) {
        const i = Math.min(Math.max(0, Number(this.getAttribute('sample')) || 0), gallery.count - 1);
        app.setImage(gallery.image(i), { kind: 'gallery', index: i, label: gallery.labels[i] });
      }
      for (const panel of this.panels) panel.flush();
      status.hidden = true;
      this.dataset.ready = 'true';
      this.dispatchEvent(new Event('ready'));
    } catch (error) {
      status.hidden = false;
      status.classList.add('is-error');
      status.textContent = `convscope could not start: ${error?.message ?? error}`;
    }
  }
}

if (!customElements.get('convscope-viewer')) customElements.define('convscope-viewer', ConvscopeViewer);
