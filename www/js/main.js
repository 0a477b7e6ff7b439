// Page bootstrap: load the wasm module and a model, mount the panels of the registry, keep the URL hash in
// sync with the state, switch models. Sets body[data-ready="true"] once the first analysis is on screen.

import { MODELS, DEFAULT_MODEL, WASM_MODULE } from './config.js';
import { fetchModelFiles, fetchGallery, loadModel } from './data.js';
import { App } from './app.js';
import { PANELS, isAvailable } from './panels/index.js';
import { mountPanel } from './frame.js';
import { parseHash, formatHash, decodeImage } from './hash.js';
import { createPerfFooter } from './perf.js';

const panelsRoot = document.querySelector('#panels');
const statusLine = document.querySelector('#status');
const modelSwitch = document.querySelector('#model-switch');

let wasm = null;
let app = null;
let modelId = null;
let mounted = [];
let perf = null;
let writtenHash = '';

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.hidden = !text;
  statusLine.classList.toggle('is-error', isError);
  statusLine.setAttribute('role', isError ? 'alert' : 'status');
}

async function loadWasm() {
  try {
    wasm = await import(WASM_MODULE);
    await wasm.default();
  } catch (error) {
    throw new Error(`the WebAssembly module did not load (${error.message}). Build it with: wasm-pack build --target web --out-dir www/pkg`);
  }
}

/**
 * The input to show: the link's image, else the link's test image, else the previous model's drawing or
 * upload, else the previous test image index, else test image 0.
 */
function chooseInput(next, requested, previous) {
  const { channels, height, width } = next.info.input;
  const fromLink = requested.img ? decodeImage(requested.img, channels * height * width) : null;
  if (fromLink) return [fromLink, { kind: 'link' }];
  const keep = previous?.image && requested.sample === null;
  if (keep && previous.source?.kind !== 'gallery') return [previous.image, previous.source];
  if (!next.gallery) return [null, null];
  const wanted = requested.sample ?? (keep ? previous.source.index : 0);
  const i = Math.min(wanted, next.gallery.count - 1);
  return [next.gallery.image(i), { kind: 'gallery', index: i, label: next.gallery.labels[i] }];
}

function scheduleHashWrite() {
  clearTimeout(scheduleHashWrite.timer);
  scheduleHashWrite.timer = setTimeout(() => {
    writtenHash = formatHash({ model: modelId, source: app.source, image: app.image, view: app.view });
    if (writtenHash !== location.hash) history.replaceState(null, '', writtenHash);
  }, 250);
}

/**
 * Loads model `id` and rebuilds the panels around it. The current model stays on screen (and usable) until
 * the new one has loaded; if it fails to load, nothing changes but the status line.
 */
async function openModel(id, requested) {
  const spec = MODELS[id] ?? MODELS[DEFAULT_MODEL];
  setStatus(`Loading the ${spec.title} model…`);
  const [files, gallery] = await Promise.all([fetchModelFiles(spec.manifest), fetchGallery(spec.gallery).catch(() => null)]);
  const model = loadModel(wasm.Model, files);
  const next = new App({ model, spec, gallery, files, view: { ...(app?.view ?? {}), ...requested.view } });
  const [image, source] = chooseInput(next, requested, app);

  document.body.dataset.ready = 'false';
  for (const panel of mounted) panel.destroy();
  perf?.stop();
  app?.dispose();
  app = next;
  modelId = id in MODELS ? id : DEFAULT_MODEL;
  for (const input of modelSwitch.querySelectorAll('input')) input.checked = input.value === modelId;
  const accuracy = app.info.metrics?.test_accuracy;
  document.querySelector('#model-name').textContent = [
    app.info.name,
    spec.description,
    typeof accuracy === 'number' ? `${(accuracy * 100).toFixed(2)}% test accuracy` : '',
  ]
    .filter(Boolean)
    .join(' · ');

  mounted = PANELS.filter((panel) => isAvailable(panel, app)).map((panel) => mountPanel(panelsRoot, panel, app));
  app.addEventListener('image', scheduleHashWrite);
  app.addEventListener('view', scheduleHashWrite);
  app.setImage(image, source);
  for (const panel of mounted) panel.flush();
  perf = createPerfFooter(document.querySelector('#perf'), app);
  setStatus('');
  document.body.dataset.ready = 'true';
}

function report(error) {
  setStatus(`Could not ${app ? 'switch models' : 'start'}: ${error?.message ?? error}`, true);
  for (const input of modelSwitch.querySelectorAll('input')) input.checked = input.value === modelId;
}

modelSwitch.addEventListener('change', (event) => {
  const id = event.target.value;
  if (id !== modelId) openModel(id, { sample: null, img: null, view: {} }).then(scheduleHashWrite, report);
});

window.addEventListener('hashchange', () => {
  if (location.hash === writtenHash || !app) return;
  const requested = parseHash(location.hash);
  const id = requested.model ?? DEFAULT_MODEL;
  if (id !== modelId) {
    openModel(id, requested).catch(report);
    return;
  }
  app.setView(requested.view);
  if (requested.img || requested.sample !== null) {
    const [image, source] = chooseInput(app, requested, null);
    if (image) app.setImage(image, source);
  }
});

(async () => {
  const requested = parseHash(location.hash);
  await loadWasm();
  await openModel(requested.model ?? DEFAULT_MODEL, requested);
})().catch(report);
