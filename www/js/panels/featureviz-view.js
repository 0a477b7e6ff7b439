// The drawing side of the feature-visualization panel (js/panels/featureviz.js): optimized images in gray
// (raw pixels 0 → black, 1 → white, as the network sees them), a grid of titled cells filled as they arrive
// (an atlas, the inversion strip), the progress line and the PNG snapshot. No model calls here.

import { el } from '../dom.js';
import { paintMap, mapCanvas, formatValue, composeSnapshot } from '../render.js';

/** Paints picture `{ shape: [C, H, W], data }` (its first channel) into `canvas`, gray over [0, 1]. */
export function paintPicture(canvas, { shape, data }) {
  const [height, width] = shape.slice(-2);
  return paintMap(canvas, data, { height, width, colormap: 'gray', range: [0, 1] });
}

/** A grid of titled cells: `reset(titles)` empties it, `show(pictures, offset)` paints cells from `offset` on. */
export function createCells(onPick) {
  const element = el('div', { className: 'fv-cells', dataset: { testid: 'featureviz-cells' } });
  let cells = [];
  return {
    element,
    reset(titles) {
      cells = titles.map((title, i) => {
        const canvas = mapCanvas(title);
        const caption = el('span', { className: 'map-caption', textContent: title });
        const value = el('span', { className: 'map-caption fv-value', textContent: '…' });
        const tile = el('button', { type: 'button', className: 'fv-cell', dataset: { index: String(i) }, title: `${title} and its objective; click to visualize it alone` }, canvas, caption, value);
        tile.addEventListener('click', () => onPick?.(title, i));
        return { tile, canvas, value, title, filled: false };
      });
      element.replaceChildren(...cells.map((c) => c.tile));
    },
    show(pictures, offset = 0) {
      pictures.forEach((picture, i) => {
        const cell = cells[offset + i];
        if (!cell) return;
        paintPicture(cell.canvas, picture);
        cell.filled = true;
        cell.tile.classList.add('filled');
        cell.value.textContent = formatValue(picture.objective);
      });
    },
    filled: () => cells.filter((c) => c.filled).length,
    tiles: () => cells.filter((c) => c.filled).map((c) => ({ canvas: c.canvas, caption: c.title })),
  };
}

/** The progress line: `show(fraction | null, text)`. */
export function createProgress() {
  const bar = el('progress', { max: 1, value: 0, className: 'fv-progress' });
  const text = el('span', { className: 'muted fv-status', dataset: { testid: 'featureviz-status' }, attrs: { 'aria-live': 'polite' } });
  return {
    element: el('div', { className: 'toolbar fv-progress-line' }, bar, text),
    show(fraction, message) {
      bar.hidden = fraction === null;
      if (fraction !== null) bar.value = fraction;
      text.textContent = message;
    },
  };
}

/** Names the default ('') entry of the select of view key `key` in `container`, if there is one. */
export function nameDefault(container, key, text) {
  const entry = container.querySelector(`select[data-key="${key}"] option[value=""]`);
  if (entry) entry.textContent = text;
}

/** The panel's PNG: the main image or the cells, titled. */
export function snapshot(title, subtitle, tiles) {
  if (tiles.length === 0) return null;
  return composeSnapshot({ title, subtitle, rows: [{ tiles }] });
}
