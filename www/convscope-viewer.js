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

import { startApp, galleryInput } from './js/start.js';

const VIEWS = {
  deconv: ['input', 'deconv'],
  layers: ['input', 'layers'],
  predict: ['input', 'prediction'],
};

const STYLES = new URL('./css/panels.css', import.meta.url).href;

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
    this.viewer?.close();
    this.viewer = null;
  }

  attributeChangedCallback() {
    if (this.viewer) this.start();
  }

  /** The running app (its engine, view state, ...), for scripts of the host page. */
  get app() {
    return this.viewer?.app ?? null;
  }

  async start() {
    const status = this.shadowRoot.querySelector('.widget-status');
    const setStatus = (text, isError = false) => {
      status.hidden = !text;
      status.classList.toggle('is-error', isError);
      status.textContent = isError ? `convscope: ${text}` : text;
    };
    const view = this.getAttribute('view') ?? 'deconv';
    const panels = VIEWS[view] ?? view.split(',').map((id) => id.trim());
    this.viewer?.close();
    this.viewer = startApp(this.shadowRoot.querySelector('.widget'), { panels, onStatus: setStatus });
    this.dataset.ready = 'false';
    const model = this.getAttribute('model') ? new URL(this.getAttribute('model'), document.baseURI).href : undefined;
    const sample = Number(this.getAttribute('sample')) || 0;
    try {
      if (!(await this.viewer.open(model, { input: (app) => galleryInput(app, sample) }))) return; // superseded
      this.dataset.ready = 'true';
      this.dispatchEvent(new Event('ready'));
    } catch (error) {
      setStatus(`could not start: ${error?.message ?? error}`, true);
    }
  }
}

if (!customElements.get('convscope-viewer')) customElements.define('convscope-viewer', ConvscopeViewer);
