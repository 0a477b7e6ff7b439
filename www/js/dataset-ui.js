// The parts every dataset panel shares: the gate that opens the data set on demand (a button, then a progress
// bar while the worker reads every image's features, and a user's own PNG pictures or IDX pair as the
// alternative; once open, one status line says what is loaded, and the picker, or a button back to the
// model's t10k set, switches sets), and the thumbnail of one data-set image.
// Built from nodes only (js/dom.js).

import { el } from './dom.js';
import { paintMap } from './render.js';
import { MAX_USER_IMAGES, MAX_USER_IMAGES_TEXT } from './datasets.js';

/**
 * `{ element, ready() }`: `ready()` is the open set's summary, or null while none is open. The gate stays: once
 * a set is open one can open another own set, or go back to the model's t10k set, at any time.
 */
export function datasetGate(app, views) {
  const open = el('button', { type: 'button', className: 'button dataset-open' });
  const upload = el('input', { type: 'file', multiple: true, className: 'dataset-upload', accept: '.png,image/png,.gz,.idx3,.idx1,.ubyte,application/octet-stream', attrs: { 'aria-label': 'Your own images: PNG files, or an IDX images file and its labels' } });
  const ownText = el('span');
  const own = el('label', { className: 'dataset-own muted' }, ownText, upload);
  const progress = el('progress', { className: 'dataset-progress', max: 1, value: 0, hidden: true });
  const status = el('p', { className: 'dataset-status muted', attrs: { 'aria-live': 'polite' } });
  let refused = null; // why the chosen files were not even read
  const show = () => {
    const set = views.summary;
    open.hidden = Boolean(set && !set.own);
    open.textContent = `${set || views.hasT10k ? 'Back to' : 'Load'} ${app.spec.datasetName}`;
    [open.disabled, upload.disabled, progress.hidden] = [Boolean(views.loading), Boolean(views.loading), !views.loading];
    ownText.textContent = `${set ? 'or other images of your own' : 'or your own images'}, at most ${MAX_USER_IMAGES_TEXT}: PNG files (labelled by names like 7_0001.png) or an IDX images file and its labels `;
    status.textContent = refused ?? (views.loading ? `Reading ${views.loading}…` : views.error ?? (set ? describe(set) : ''));
  };
  const start = (files) => {
    refused = null;
    views.open(files).catch(() => {}); // the gates show the failure (views.error)
  };
  open.addEventListener('click', () => start(null));
  upload.addEventListener('change', async () => {
    const chosen = [...(upload.files ?? [])];
    upload.value = '';
    if (!chosen.length) return;
    // One label file may come with the pictures: more than the cap plus one is refused before reading any.
    if (chosen.length > MAX_USER_IMAGES + 1) {
      refused = `You chose ${chosen.length.toLocaleString('en')} files: a data set in the page holds at most ${MAX_USER_IMAGES_TEXT}. Choose fewer, or use the CLI (convscope embed --images FOLDER) for more.`;
      return show();
    }
    const files = await Promise.all(chosen.map(async (file) => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })));
    start({ files, name: chosen.length === 1 ? chosen[0].name : `${chosen[0].name} and ${chosen.length - 1} more files` });
  });
  // Every gate shows the one state of the views (the panels share one data set).
  views.subscribe(show);
  views.watchProgress((fraction) => (progress.value = fraction));
  show();
  return { element: el('div', { className: 'dataset-gate' }, status, open, own, progress), ready: () => views.summary };
}

/** The one line that says which set is open. */
function describe(set) {
  if (!set.own) return `Loaded ${set.name}; features are read once per model.`;
  const labels = set.labelsFrom === 'names' ? 'labels from the file names' : set.labelsFrom ? `labels from ${set.labelsFrom}` : 'no labels: coloured by prediction';
  return `Loaded your ${set.count.toLocaleString('en')} images (${set.name}; ${labels}).`;
}

/** A canvas showing image `index` of the open set (named for screen readers as js/datasets.js says), with `caption` under it. */
export function thumbnail(views, index, caption) {
  const canvas = el('canvas', { className: 'dataset-thumb', width: 28, height: 28, attrs: { 'aria-label': views.imageName(index) } });
  const [height, width] = views.images.size;
  paintMap(canvas, views.images.image(index), { height, width, colormap: 'gray', range: [0, 1] });
  return el('figure', { className: 'dataset-figure' }, canvas, el('figcaption', { textContent: caption }));
}
