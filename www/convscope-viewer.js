// <convscope-viewer>: the convscope panels as one custom element for course pages and notes.
//
//   <script type="module" src="https://…/convscope-viewer.js"></script>
//   <convscope-viewer model="mnist" view="deconv"></convscope-viewer>
//
// Attributes: `model` — a bundled model's name (`mnist`, `fashion`: found next to this script) or a manifest URL,
// relative to the host page (default: mnist; another origin's model needs CORS, docs/security.md);
// `view` — `deconv`, `layers` or `predict` (or a comma-separated list of panel ids: input, prediction, gallery,
// deconv, attribution, monitor, layers, filters); `sample` — index of the bundled test image to start from (default 0);
// `theme` — `light`, `dark` or `auto` (the default: the reader's system setting).
// The element sets `data-ready="true"` and fires a `ready` event once the first analysis is drawn.
// Everything it loads (wasm, styles, model, samples) is resolved relative to this script or the host page.

import { startApp, galleryInput } from './js/start.js';
import { el } from './js/dom.js';
import { MODELS } from './js/config.js';
import { applyTheme } from './js/theme.js';

/** What the `model` attribute names: a bundled model by its name, else a manifest URL (against the host page). */
function modelOf(attribute) {
  if (!attribute) return undefined;
  return Object.hasOwn(MODELS, attribute) ? attribute : new URL(attribute, document.baseURI).href;
}

const VIEWS = {
  deconv: ['input', 'deconv'],
  layers: ['input', 'layers'],
  predict: ['input', 'prediction'],
};

const STYLES = ['./css/panels.css', './css/teach.css', './css/widget.css'].map((file) => new URL(file, import.meta.url).href);

class ConvscopeViewer extends HTMLElement {
  static observedAttributes = ['model', 'view', 'sample', 'theme'];

  connectedCallback() {
    if (!this.shadowRoot) {
      // Nodes and stylesheet files only: the widget runs under a host page's strict CSP (docs/security.md).
      this.attachShadow({ mode: 'open' }).append(
        ...STYLES.map((href) => el('link', { rel: 'stylesheet', href })),
        el('p', { className: 'widget-status', textContent: 'Loading convscope…', attrs: { role: 'status' } }),
        el('div', { className: 'widget' }),
      );
    }
    this.start();
  }

  disconnectedCallback() {
    this.stopTheme?.();
    this.viewer?.close();
    this.viewer = null;
  }

  attributeChangedCallback(name) {
    if (name === 'theme') this.theme();
    else if (this.viewer) this.start();
  }

  /** Follows the `theme` attribute (css/panels.css reads the host's data-theme). */
  theme() {
    this.stopTheme?.();
    this.stopTheme = applyTheme(this, this.getAttribute('theme') ?? 'auto');
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
    this.theme();
    const view = this.getAttribute('view') ?? 'deconv';
    const panels = VIEWS[view] ?? view.split(',').map((id) => id.trim());
    this.viewer?.close();
    this.viewer = startApp(this.shadowRoot.querySelector('.widget'), { panels, onStatus: setStatus });
    this.dataset.ready = 'false';
    const model = modelOf(this.getAttribute('model'));
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
