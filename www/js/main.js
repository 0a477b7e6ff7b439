// The page: convscope started in #panels (js/start.js) with every panel, plus what only the page has — the
// model switch, the model line, the perf footer and the URL hash kept in sync with the state (js/hash.js).
// Sets body[data-ready="true"] once the first analysis is on screen. `viewer` is exported for the console
// and the tests (`(await import('./js/main.js')).viewer.app`).

import { DEFAULT_MODEL, MODELS } from './config.js';
import { startApp, galleryInput } from './start.js';
import { parseHash, formatHash, decodeImage, hashWriter, linkNotice } from './hash.js';
import { createPerfFooter } from './perf.js';
import { el } from './dom.js';
import { galleryUrls } from './data.js';
import { scriptUrl } from './security.js';
import { themeSwitch } from './theme.js';
import { createTour } from './tour.js';

themeSwitch(document.querySelector('#theme'));
const statusLine = document.querySelector('#status');
const modelSwitch = document.querySelector('#model-switch');

let perf = null;
let opening = 0; // link opens under way: the hash already names what they open, the page must not write
const hash = hashWriter({ read: () => location.hash, write: (text) => history.replaceState(null, '', text) });

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.hidden = !text;
  statusLine.classList.toggle('is-error', isError);
  statusLine.setAttribute('role', isError ? 'alert' : 'status');
}

export const viewer = startApp(document.querySelector('#panels'), { onStatus: setStatus, onOpen: opened });
export const tour = createTour(document.querySelector('#tour-start'), () => viewer.app); // js/tour.js

/**
 * The input a link asks for: its image, else its test image, else the previous model's drawing or upload,
 * else the previous test image index, else test image 0. An image or test image it cannot have goes to
 * `refused` (as `key=value`).
 */
function linkedInput(link, refused = []) {
  return (next, previous) => {
    const { channels, height, width } = next.info.input;
    const image = link.img ? decodeImage(link.img, channels * height * width) : null;
    if (image) return [image, { kind: 'link' }];
    if (link.img) refused.push(`img=${link.img}`);
    if (link.sample !== null && next.gallery && link.sample >= next.gallery.count) refused.push(`sample=${link.sample}`);
    const keep = previous?.image && link.sample === null;
    if (keep && previous.source?.kind !== 'gallery') return [previous.image, previous.source];
    return galleryInput(next, link.sample ?? (keep ? previous.source.index : 0));
  };
}

/** Writes the state to the hash soon (js/hash.js hashWriter: never over a hash the user changed meanwhile). */
function scheduleHashWrite() {
  hash.schedule(() => {
    const { app } = viewer;
    if (!app || opening) return null;
    return formatHash({ model: app.spec.id, source: app.source, image: app.image, view: app.view }, app.schema);
  });
}

/**
 * The page's first Tab stops: a link to every panel, which moves the focus to it (the URL hash holds the
 * state, so the links do not navigate).
 */
function skipLinks() {
  const panels = [...document.querySelectorAll('#panels > section.panel')];
  const link = (section) => {
    section.tabIndex = -1;
    const title = section.querySelector('h2')?.textContent ?? section.id;
    const onclick = (event) => {
      event.preventDefault();
      section.focus();
    };
    return el('a', { className: 'skip-link', href: `#${section.id}`, textContent: `Skip to ${title}`, onclick });
  };
  document.querySelector('#skip-links').replaceChildren(...panels.map(link));
}

let offline = null; // the service worker's registration, once it is active (null: none, e.g. not https)
const keptUrls = new Set(); // URLs of the models and sample sets opened, for the service worker to keep

/**
 * The page offline (sw.js): registers the service worker after the first model is on screen (its install
 * downloads the app shell, which should not compete with the first load), then asks it to keep the files of
 * every model the user opens (those fetched before the worker took control would not be cached otherwise).
 * A new build's worker taking over tells the page (controllerchange): it is asked to keep them too.
 */
function keepOffline(app) {
  if (!navigator.serviceWorker) return;
  for (const url of [...app.engine.files.urls, ...(app.spec.gallery ? galleryUrls(app.spec.gallery) : [])]) keptUrls.add(url);
  if (!offline) {
    let updated = Boolean(navigator.serviceWorker.controller); // a later change of worker is a new build
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (updated) setStatus('convscope was updated in the background: reload the page for the new version.');
      updated = true;
      navigator.serviceWorker.controller?.postMessage({ type: 'keep', urls: [...keptUrls] });
    });
    offline = navigator.serviceWorker
      .register(scriptUrl(new URL('../sw.js', import.meta.url).href))
      .then(() => navigator.serviceWorker.ready)
      .catch((error) => {
        console.warn(`convscope works online only here: ${error.message}`); // e.g. plain http from another host
        return null;
      });
  }
  offline.then((registration) => registration?.active?.postMessage({ type: 'keep', urls: [...keptUrls] }));
}

function opened(app) {
  skipLinks();
  for (const input of modelSwitch.querySelectorAll('input')) input.checked = input.value === app.spec.id;
  const accuracy = app.info.metrics?.test_accuracy;
  document.querySelector('#model-name').textContent = [app.info.name, app.spec.description, typeof accuracy === 'number' ? `${(accuracy * 100).toFixed(2)}% test accuracy` : '']
    .filter(Boolean)
    .join(' · ');
  app.addEventListener('image', scheduleHashWrite);
  app.addEventListener('view', scheduleHashWrite);
  scheduleHashWrite(); // the link as this page writes it (current version, the opened model)
  keepOffline(app);
  perf?.stop();
  perf = createPerfFooter(document.querySelector('#perf'), app);
  document.body.dataset.ready = 'true';
}

/** The one quiet notice of what a link asked for and did not get (js/hash.js linkNotice), if anything. */
function notice(refused) {
  const text = linkNotice(refused);
  if (text) setStatus(text);
}

/** Opens the model and view of a parsed link (the schema is the current app's, or the new one's). */
function openLink(text) {
  const id = new URLSearchParams(text.replace(/^#/, '')).get('model') ?? DEFAULT_MODEL;
  const known = Object.hasOwn(MODELS, id);
  document.body.dataset.ready = 'false';
  perf?.stop();
  let link = null;
  const refused = [];
  opening++;
  return viewer
    .open(known ? id : DEFAULT_MODEL, {
      view: (next) => (link = parseHash(text, next.schema)).view,
      input: (next, previous) => linkedInput(link, refused)(next, previous),
    })
    .then((app) => app && notice([...(known ? [] : [`model=${id}`]), ...link.rejected, ...refused]))
    .finally(() => opening--);
}

function report(error) {
  setStatus(`Could not ${viewer.app ? 'switch models' : 'start'}: ${error?.message ?? error}`, true);
  document.body.dataset.ready = String(Boolean(viewer.app));
  for (const input of modelSwitch.querySelectorAll('input')) input.checked = input.value === viewer.app?.spec.id;
}

modelSwitch.addEventListener('change', (event) => {
  const id = event.target.value;
  if (id === viewer.app?.spec.id) return;
  document.body.dataset.ready = 'false';
  viewer.open(id, { input: linkedInput({ img: null, sample: null }) }).catch(report);
});

window.addEventListener('hashchange', () => {
  if (!hash.changed()) return; // the page's own write
  const { app } = viewer;
  const id = new URLSearchParams(location.hash.slice(1)).get('model') ?? DEFAULT_MODEL;
  if (!app || opening || id !== app.spec.id) {
    openLink(location.hash).catch(report);
    return;
  }
  const link = parseHash(location.hash, app.schema);
  const refused = [];
  app.setView(link.view);
  if (link.img || link.sample !== null) {
    const [image, source] = linkedInput(link, refused)(app, null);
    if (image) app.setImage(image, source);
  }
  notice([...link.rejected, ...refused]);
});

openLink(location.hash).catch(report);
