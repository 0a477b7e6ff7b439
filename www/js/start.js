// One way to start convscope, for the page (js/main.js) and the widget (convscope-viewer.js): load a model into
// its own engine, build the app around the chosen panels, mount them in `root`, show the first input. Opening
// another model keeps the current one on screen (and usable) until the new one has loaded.

import { MODELS, DEFAULT_MODEL } from './config.js';
import { Engine } from './engine.js';
import { fetchGallery, readGallery } from './data.js';
import { App } from './app.js';
import { completeView } from './view.js';
import { PANELS, panelById } from './panels/index.js';
import { mountPanel } from './frame.js';

/** The config.js entry of a model id or manifest URL (a manifest of no bundled model gets a bare entry). */
export function modelSpec(model) {
  if (MODELS[model]) return { id: model, ...MODELS[model] };
  const found = Object.entries(MODELS).find(([, spec]) => spec.manifest === model);
  if (found) return { id: found[0], ...found[1] };
  return { id: null, title: 'custom model', description: '', manifest: model, gallery: null, galleryName: 'samples' };
}

/** `[image, source]` of gallery image `index` (clamped), or `[null, null]` without a gallery. */
export function galleryInput(app, index) {
  if (!app.gallery) return [null, null];
  const i = Math.min(Math.max(0, index), app.gallery.count - 1);
  return [app.gallery.image(i), { kind: 'gallery', index: i, label: app.gallery.labels[i] }];
}

/** The gallery of `files` (a promise of js/data.js fetchGallery's result), or null when it is missing or broken. */
async function openGallery(files, engine) {
  try {
    const fetched = await files;
    return fetched && engine.call((model, glue) => readGallery(fetched, glue));
  } catch {
    return null;
  }
}

/**
 * Starts convscope in `root` (an element or a shadow root's container).
 * `options.panels`: panel ids to mount, in order (default: every panel of js/panels/index.js);
 * `options.onStatus(text, isError)`: loading and error messages ('' clears);
 * `options.onOpen(app)`: called once a model's panels are on screen.
 * Returns `{ app, open(model, { view, input }), close() }`: `model` is a config.js id or a manifest URL,
 * `view` the view state to start from over the previous model's (or a function of the new app returning it),
 * `input(app, previousApp)` the first `[image, source]` (default: gallery image 0).
 */
export function startApp(root, { panels = null, onStatus = () => {}, onOpen = () => {} } = {}) {
  const modules = panels ? panels.map(panelById).filter(Boolean) : PANELS;
  let mounted = [];
  let opening = 0;
  const viewer = {
    app: null,
    async open(model = DEFAULT_MODEL, { view = {}, input = (app) => galleryInput(app, 0) } = {}) {
      const run = ++opening;
      const spec = modelSpec(model);
      onStatus(`Loading the ${spec.title} model…`);
      const galleryFiles = spec.gallery ? fetchGallery(spec.gallery).catch(() => null) : null;
      const engine = await Engine.open(spec.manifest);
      const gallery = await openGallery(galleryFiles, engine);
      if (run !== opening) {
        engine.free(); // a newer open() superseded this one
        return null;
      }
      const previous = viewer.app;
      const app = new App({ engine, spec, gallery, panels: modules, view: previous?.view ?? {} });
      app.view = completeView(app.schema, { ...app.view, ...(typeof view === 'function' ? view(app) : view) });
      const [image, source] = input(app, previous);
      unmount();
      viewer.app = app;
      app.addEventListener('problem', (event) => onStatus(event.detail, true));
      mounted = app.panels.map((panel) => mountPanel(root, panel, app));
      app.setImage(image, source);
      for (const panel of mounted) panel.flush();
      onStatus('');
      onOpen(app);
      return app;
    },
    /** Removes the panels and frees the model; a model still loading is dropped when it arrives. */
    close() {
      opening++;
      unmount();
    },
  };
  function unmount() {
    for (const panel of mounted) panel.destroy();
    mounted = [];
    viewer.app?.dispose();
    viewer.app = null;
  }
  return viewer;
}
