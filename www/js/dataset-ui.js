// The parts every dataset panel shares: the gate that opens the data set on demand (a button, then a progress
// bar while the worker reads every image's features, with a cancel button and a user IDX set as the
// alternative), and the thumbnail of one data-set image. Built from nodes only (js/dom.js).

import { el } from './dom.js';
import { paintMap } from './render.js';
import { MAX_USER_IMAGES_TEXT } from './datasets.js';

/** `{ element, ready() }`: `ready()` is the opened set's summary, or null while it is not open. */
export function datasetGate(app, views) {
  const open = el('button', { type: 'button', className: 'button dataset-open', textContent: `Load ${app.spec.datasetName}` });
  const upload = el('input', { type: 'file', className: 'dataset-upload', accept: '.gz,.idx3,.ubyte,application/octet-stream', attrs: { 'aria-label': 'Your own IDX image file' } });
  const progress = el('progress', { className: 'dataset-progress', max: 1, value: 0, hidden: true });
  const status = el('p', { className: 'dataset-status muted', attrs: { 'aria-live': 'polite' }, textContent: `or your own IDX images (at most ${MAX_USER_IMAGES_TEXT}): ` });
  status.append(upload);
  const opened = (set) => {
    open.disabled = true;
    progress.hidden = true;
    status.textContent = `${set.count.toLocaleString('en')} images of ${set.name}; features read once per model.`;
  };
  const start = (files) => {
    open.disabled = true;
    progress.hidden = false;
    views.open((fraction) => (progress.value = fraction), files).catch((error) => {
      open.disabled = false;
      progress.hidden = true;
      status.textContent = error.message;
    });
  };
  open.addEventListener('click', () => start(null));
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (file) start({ images: new Uint8Array(await file.arrayBuffer()), labels: null, name: file.name });
  });
  // Every gate hears when any of them opened the set (the panels share one data set).
  views.subscribe(() => views.summary && opened(views.summary));
  if (views.summary) opened(views.summary);
  return { element: el('div', { className: 'dataset-gate' }, open, progress, status), ready: () => views.summary };
}

/** A canvas showing data-set image `index`, with `caption` under it. */
export function thumbnail(views, index, caption) {
  const canvas = el('canvas', { className: 'dataset-thumb', width: 28, height: 28, attrs: { 'aria-label': `test image ${index}` } });
  const [height, width] = views.images.size;
  paintMap(canvas, views.images.image(index), { height, width, colormap: 'gray', range: [0, 1] });
  return el('figure', { className: 'dataset-figure' }, canvas, el('figcaption', { textContent: caption }));
}
