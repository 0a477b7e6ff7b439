// The attribution panel's pictures: the main map over the input with its caption, legend and progress bar, and
// the grid of compared techniques. Results are `Model.attribute` objects (`{ shape, data, target, score,
// signed, completenessGap?, camLayer?, micros }`).

import { el } from '../dom.js';
import { glossed } from '../glossary.js';
import { paintMap, mapCanvas, valueRange, createLegend, formatValue } from '../render.js';
import { optionKey } from '../controls.js';

/** One `[H, W]` map from a result: channels summed (LeNet's inputs have one), absolute values if asked. */
export function displayMap(result, absolute) {
  const [h, w] = result.shape.slice(-2);
  const channels = result.data.length / (h * w);
  const out = new Float32Array(h * w);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < h * w; i++) out[i] += result.data[c * h * w + i];
  }
  if (absolute) for (let i = 0; i < out.length; i++) out[i] = Math.abs(out[i]);
  return { height: h, width: w, data: out };
}

/** Colormap and range of a result: diverging around zero for signed maps, inferno from zero otherwise. */
export function resultStyle(result, absolute) {
  const map = displayMap(result, absolute);
  const [lo, hi] = valueRange(map.data);
  if (result.signed && !absolute) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return { map, colormap: 'diverging', range: [-m, m] };
  }
  return { map, colormap: 'inferno', range: [Math.min(0, lo), hi] };
}

function paintResult(canvas, result, absolute, fade = false) {
  const { map, colormap, range } = resultStyle(result, absolute);
  paintMap(canvas, map.data, { height: map.height, width: map.width, colormap, range, fade });
  return { colormap, range };
}

/** The main view: input with the map overlaid, caption, legend, progress. */
export function createOverlay(app) {
  const base = el('canvas', { className: 'map overlay-base', attrs: { role: 'img', 'aria-label': 'Input image' } });
  const top = el('canvas', { className: 'map overlay-top', dataset: { testid: 'attribution-output' }, attrs: { role: 'img' } });
  const caption = el('figcaption', { className: 'attribution-caption' });
  const legend = createLegend();
  const bar = el('progress', { max: 1, value: 0 });
  const barText = el('span', { className: 'muted progress-text' });
  const progress = el('div', { className: 'attribution-progress', hidden: true }, bar, ' ', barText);
  const element = el('figure', { className: 'attribution-main' }, el('div', { className: 'overlay-stack' }, base, top), caption, el('div', { className: 'attribution-legend' }, legend.element), progress);
  const { height, width } = app.info.input;
  return {
    element,
    base,
    top,
    caption,
    paintInput(opacity) {
      paintMap(base, app.image, { height, width, colormap: 'gray', range: [0, 1] });
      top.style.opacity = String(opacity / 100);
    },
    show(technique, result) {
      const style = paintResult(top, result, app.view.aview === 'absolute', true);
      legend.update(style.colormap, style.range, 'attribution');
      // What the score is: the labels of the shared choices (the catalogue's "Logit", "Log-probability").
      const score = technique.options
        .filter((o) => o.common && o.type === 'choice')
        .map((o) => o.choices.find((choice) => choice.value === app.view[optionKey(technique, o)])?.label)
        .join(' ');
      const parts = [`${technique.label} · class ${app.label(result.target)}`, `${score} ${formatValue(result.score)}`];
      if (result.completenessGap !== undefined) parts.push(`completeness gap ${formatValue(result.completenessGap)}`);
      if (result.camLayer) {
        // Grad-CAM's map has the layer's size (10×10 for relu2), stretched over the input: say so.
        const shape = app.layers.find((layer) => layer.name === result.camLayer)?.shape ?? [];
        parts.push(`layer ${result.camLayer}`, ...(shape.length === 3 ? [`its ${shape[1]}×${shape[2]} map stretched to the input`] : []));
      }
      parts.push(result.micros >= 1000 ? `${(result.micros / 1000).toFixed(1)} ms` : `${Math.round(result.micros)} µs`);
      caption.replaceChildren(...glossed(parts.join(' · '))); // its jargon (completeness gap, relu2) opens the glossary
      top.setAttribute('aria-label', `${technique.label} attribution for class ${app.label(result.target)}`);
    },
    progress(technique, fraction) {
      progress.hidden = fraction === null;
      bar.value = fraction ?? 0;
      barText.textContent = `${technique.label} · ${Math.round((fraction ?? 0) * 100)}%`;
    },
  };
}

/** The compare picker (one chip per technique) and the tiles of the chosen ones, in the picker's order. */
export function createCompare(app, techniques) {
  const chips = techniques.map((technique) => {
    const chip = el('button', { type: 'button', className: 'chip', textContent: technique.label, dataset: { method: technique.id }, attrs: { 'aria-pressed': 'false' } });
    chip.addEventListener('click', () => {
      const chosen = new Set(app.view.compare.split(',').filter(Boolean));
      if (!chosen.delete(technique.id)) chosen.add(technique.id);
      app.setView({ compare: techniques.filter((t) => chosen.has(t.id)).map((t) => t.id).join(',') });
    });
    return chip;
  });
  const grid = el('div', { className: 'compare-grid' });
  const heading = el('h3', {}, 'Compare methods ', el('span', { className: 'muted', textContent: '(same class and score)' }));
  const element = el('div', { className: 'attribution-compare' }, heading, el('div', { className: 'compare-picker', attrs: { role: 'group', 'aria-label': 'Methods to compare' } }, ...chips), grid);
  const tiles = new Map();
  const tile = (technique) => {
    if (!tiles.has(technique.id)) {
      const canvas = mapCanvas(`${technique.label} attribution`);
      const label = el('figcaption', { textContent: technique.label });
      tiles.set(technique.id, { element: el('figure', { className: 'compare-tile' }, canvas, label), canvas, label });
    }
    return tiles.get(technique.id);
  };
  return {
    element,
    /** The chosen techniques, from the view. */
    chosen: () => techniques.filter((t) => app.view.compare.split(',').includes(t.id)),
    sync(chosen) {
      for (const chip of chips) chip.setAttribute('aria-pressed', String(chosen.some((t) => t.id === chip.dataset.method)));
      grid.replaceChildren(...chosen.map((technique) => tile(technique).element));
    },
    pending(technique) {
      tile(technique).label.textContent = `${technique.label} …`;
    },
    show(technique, result) {
      const { canvas, label } = tile(technique);
      label.textContent = technique.label;
      paintResult(canvas, result, app.view.aview === 'absolute');
    },
    canvases: (chosen) => chosen.map((technique) => ({ canvas: tile(technique).canvas, caption: technique.label })),
  };
}
