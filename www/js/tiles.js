// The feature-map tile shared by the deconvnet picker and the layer explorer: a button that names its layer
// and channel (data-layer, data-channel; data-testid="feature-map"), with the map's canvas, optional extra
// canvases and a caption.

import { el } from './dom.js';
import { mapCanvas } from './render.js';

/** `{ tile, canvas, caption }` of a new tile; `onClick` selects it. */
export function featureTile({ className, layer, channel, label = '', extra = [], onClick }) {
  const canvas = mapCanvas();
  const caption = el('span', { className: 'map-caption' });
  const tile = el('button', { type: 'button', className, dataset: { testid: 'feature-map', layer: String(layer), channel: String(channel) } }, canvas, ...extra, caption);
  if (label) tile.setAttribute('aria-label', label);
  tile.addEventListener('click', onClick);
  return { tile, canvas, caption };
}
