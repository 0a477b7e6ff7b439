// Layer explorer: every layer's output for the current input. Feature maps (CHW) are shown one per channel;
// vectors (flatten, linear, softmax) as a grid of units. Layers are numbered from 1 over the manifest's list.
// Clicking a map of a conv layer (or its ReLU/pool) also selects that channel in the deconvnet panel; clicking a
// unit of a vector (or moving to it with the arrow keys and pressing Enter) selects that unit. Either tile names
// its layer and channel (the unit) as js/tiles.js does, so the feature-visualization panel can draw it.

import { colormapChoices } from '../visual.js';
import { el, selectOf } from '../dom.js';
import { paintMap, paintChannel, valueRange, displayRange, createLegend, composeSnapshot, formatValue, vectorGrid } from '../render.js';
import { featureTile } from '../tiles.js';
import { cliCommand, f32 } from '../export.js';

const RANGES = [
  ['map', 'per map'],
  ['layer', 'shared by the layer'],
];

export const meta = {
  id: 'layers',
  title: 'Layer explorer',
  description: 'Pick a layer to see all its outputs for the current input. Click a feature map to reconstruct it in the deconvnet panel.',
  explainedBy: 'activations',
  wide: true,
  view: (app) => ({
    layer: { default: 1, valid: (v) => Number.isInteger(v) && v >= 1 && v <= app.layers.length }, // 1-based layer number
    channel: 0, // highlighted channel
    cmap: { default: 'viridis', valid: (v) => colormapChoices().some(([name]) => name === v) },
    range: { default: 'map', valid: (v) => RANGES.some(([value]) => value === v) }, // 'map': each map its own range
  }),
  /** The highlighted channel (a vector layer's unit) must be one of the layer's. */
  consistent(view, app) {
    const shape = app.layers[view.layer - 1]?.shape ?? [];
    return view.channel >= (shape[0] ?? 1) ? ['channel'] : [];
  },
};

/** The tiles of a layer's output in `grid`: one per channel of a feature map, one figure for a vector. */
function buildTiles(grid, app, layer, activation) {
  const [channels, h] = activation.shape;
  if (activation.shape.length !== 3) {
    const tile = vectorTile(app, layer, channels);
    grid.replaceChildren(tile.tile, tile.hint);
    return [tile];
  }
  const conv = app.convOf(layer.index);
  grid.style.setProperty('--map-size', `${Math.min(112, Math.max(56, h * 4))}px`);
  const tiles = Array.from({ length: channels }, (_, c) => {
    const onClick = () => app.setView(conv ? { channel: c, dlayer: conv, dchannel: c } : { channel: c });
    return featureTile({ className: 'map-tile', layer: layer.index, channel: c, onClick });
  });
  grid.replaceChildren(...tiles.map(({ tile }) => tile));
  return tiles;
}

/**
 * The tile of a vector layer of `n` units: one canvas of all of them, a marker on the selected unit (the view's
 * `channel`), which the tile names as its channel. A click selects the unit under the pointer (none on the
 * padding cells); the arrow keys, Home and End move the selection, Enter presses the tile.
 */
function vectorTile(app, layer, n) {
  const [rows, columns] = vectorGrid(n);
  const marker = el('span', { className: 'vector-marker', attrs: { 'aria-hidden': 'true' } });
  const pick = (unit) => {
    tile.dataset.channel = String(unit);
    app.setView({ channel: unit });
  };
  const onClick = (event) => {
    if (event.detail === 0) return pick(app.view.channel); // a key press: the selected unit
    const box = canvas.getBoundingClientRect();
    const at = (offset, size, cells) => Math.min(cells - 1, Math.max(0, Math.floor((offset / size) * cells)));
    const unit = at(event.clientY - box.top, box.height, rows) * columns + at(event.clientX - box.left, box.width, columns);
    if (unit < n) return pick(unit);
    event.stopPropagation(); // a padding cell: no unit, nothing to visualize
  };
  const { tile, canvas, caption } = featureTile({ className: `vector-tile${isOutput(app, layer) ? ' is-output' : ''}`, layer: layer.index, channel: app.view.channel, extra: [marker, ...unitLabels(app, layer, n, columns)], onClick });
  const steps = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -Infinity, End: Infinity };
  tile.addEventListener('keydown', (event) => {
    if (!(event.key in steps) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const unit = app.view.channel + steps[event.key];
    if (unit >= 0 && unit < n) pick(unit);
    else if (!Number.isFinite(steps[event.key])) pick(unit < 0 ? 0 : n - 1);
  });
  const featureviz = app.techniques('featureviz').length > 0;
  tile.title = featureviz ? 'Click a unit to select it; with “Visualize what I click” on, the feature-visualization panel draws what the unit likes' : 'Click a unit to select it';
  const hint = el('p', { className: 'muted vector-hint', textContent: `Click a unit, or move to it with the arrow keys${featureviz ? ' and press Enter, to select it; with “Visualize what I click” on, Feature visualization draws what it likes.' : ', to select it.'}` });
  /** Moves the marker to the selected unit. */
  const mark = (unit) => {
    const [row, column] = [Math.floor(unit / columns), unit % columns];
    Object.assign(marker.style, { width: `${100 / columns}%`, marginLeft: `${(100 * column) / columns}%`, marginTop: `${(100 * row) / columns}%` });
    tile.dataset.channel = String(unit);
  };
  return { tile, canvas, caption, hint, mark };
}

/** Whether `layer` is the output: its units the classes (it and every later layer one value per class). */
function isOutput(app, layer) {
  const perClass = (l) => l.shape.length === 1 && l.shape[0] === app.labels.length;
  return app.layers.slice(layer.index - 1).every(perClass);
}

/**
 * The always-visible names of a vector layer's units: the output's class names in a row under its cells,
 * any other layer's unit numbers over its cells (`--columns` sizes them to the cells).
 */
function unitLabels(app, layer, n, columns) {
  const output = isOutput(app, layer);
  const names = Array.from({ length: n }, (_, k) => el('span', { textContent: output ? app.label(k) : String(k) }));
  const labels = el('span', { className: output ? 'vector-classes' : 'vector-numbers', attrs: { 'aria-hidden': 'true' }, dataset: { testid: 'unit-labels' } }, ...names);
  labels.style.setProperty('--columns', String(columns));
  return [labels];
}

export function createPanel(root, app) {
  const chips = app.layers.map((layer) =>
    el(
      'button',
      { type: 'button', className: 'layer-chip', dataset: { layer: layer.index } },
      el('span', { className: 'layer-number', textContent: layer.index }),
      el('span', { className: 'layer-name', textContent: layer.name }),
      el('span', { className: 'layer-shape', textContent: layer.shape.join('×') }),
    ),
  );
  const cmap = selectOf(colormapChoices(), app.view.cmap, { className: 'cmap' });
  const rangeSelect = selectOf(RANGES, app.view.range, { className: 'range' });
  const grid = el('div', { className: 'map-grid' });
  const summary = el('span', { className: 'layer-summary muted' });
  const legend = createLegend();
  root.replaceChildren(
    el('div', { className: 'layer-strip', attrs: { role: 'group', 'aria-label': 'Layers' } }, ...chips),
    el(
      'div',
      { className: 'toolbar' },
      el('label', { className: 'field' }, 'Colormap ', cmap),
      el('label', { className: 'field' }, 'Range ', rangeSelect),
      el('span', { className: 'legend-slot' }, legend.element),
      summary,
    ),
    grid,
  );

  chips.forEach((chip) => chip.addEventListener('click', () => app.setView({ layer: Number(chip.dataset.layer), channel: 0 })));
  cmap.addEventListener('change', (event) => app.setView({ cmap: event.target.value }));
  rangeSelect.addEventListener('change', (event) => app.setView({ range: event.target.value }));

  // The map tiles are rebuilt only when the layer's shape changes; otherwise repainted in place.
  let tiles = [];
  let builtFor = '';

  function currentLayer() {
    return app.layers[app.view.layer - 1];
  }

  return {
    render() {
      const layer = currentLayer();
      const activation = app.activation(layer.index);
      const key = `${layer.index}:${activation.shape.join('x')}`;
      if (key !== builtFor) {
        tiles = buildTiles(grid, app, layer, activation);
        builtFor = key;
      }
      chips.forEach((chip) => chip.setAttribute('aria-pressed', String(Number(chip.dataset.layer) === layer.index)));
      cmap.value = app.view.cmap;
      rangeSelect.value = app.view.range;

      const { data, shape } = activation;
      const colormap = app.view.cmap;
      const layerRange = displayRange(colormap, valueRange(data));
      legend.update(colormap, layerRange, layer.name);
      const active = data.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
      summary.textContent = `Layer ${layer.index} · ${layer.type} · ${shape.join('×')} · ${active} of ${data.length} positive`;

      if (shape.length === 3) {
        const [channels, h, w] = shape;
        for (let c = 0; c < channels; c++) {
          const range = valueRange(data, c * h * w, h * w);
          const { tile, canvas, caption } = tiles[c];
          paintChannel(canvas, activation, c, colormap, app.view.range === 'layer' ? layerRange : null);
          caption.textContent = `ch ${c} · max ${formatValue(range[1])}`;
          tile.setAttribute('aria-pressed', String(c === app.view.channel));
          tile.setAttribute('aria-label', `Layer ${layer.index} ${layer.name}, channel ${c}, values ${formatValue(range[0])} to ${formatValue(range[1])}`);
        }
      } else {
        const [rows, columns] = vectorGrid(data.length);
        const padded = new Float32Array(rows * columns).fill(NaN); // padding cells paint black
        padded.set(data);
        const { tile, canvas, caption, mark } = tiles[0];
        paintMap(canvas, padded, { height: rows, width: columns, colormap, range: layerRange });
        const unit = app.view.channel;
        mark(unit);
        tile.setAttribute('aria-label', `Layer ${layer.index} ${layer.name}: ${data.length} values in a ${rows}×${columns} grid; unit ${unit} selected, ${formatValue(data[unit])}`);
        const best = data.reduce((b, v, i) => (v > data[b] ? i : b), 0);
        const name = (k) => `unit ${k}${isOutput(app, layer) ? ` (class ${app.label(k)})` : ''}`;
        caption.textContent = `${data.length} units, row by row · largest: ${name(best)} = ${formatValue(data[best])} · selected: ${name(unit)} = ${formatValue(data[unit])}`;
      }
    },
    ...layerExports(app, currentLayer),
    snapshot(scale) {
      const layer = currentLayer();
      const colormap = app.view.cmap;
      const activation = app.activation(layer.index);
      const range = displayRange(colormap, valueRange(activation.data));
      const rows = activation.shape.length === 3 ? [{ tiles: tiles.map(({ canvas, caption }) => ({ canvas, caption: caption.textContent.split(' · ')[0] })) }] : vectorRows(app, activation, colormap, range);
      return composeSnapshot({ scale, title: `Layer ${layer.index}: ${layer.name} (${layer.shape.join('×')})`, subtitle: summary.textContent, rows, legend: { colormap, range, label: layer.name } });
    },
  };
}

/**
 * The JSON of the shown layer as `convscope activations --layer NAME --json` prints it (`{layer, shape, data}`:
 * the values the tiles paint), and that command.
 */
function layerExports(app, currentLayer) {
  const data = () => {
    const { name, index } = currentLayer();
    const { shape, data: values } = app.activation(index);
    return { layer: name, shape: Array.from(shape), data: Array.from(values, f32) };
  };
  return { data, command: () => cliCommand(app, app.techniques('activations')[0], { layer: currentLayer().name }) };
}

/**
 * The PNG rows of a vector layer: the output's units one labelled tile each (its class and value), any other
 * layer's as one grid of 20 px cells read row by row, its rows' first units named.
 */
function vectorRows(app, { data }, colormap, range) {
  const cell = (values, height, width) => paintMap(document.createElement('canvas'), values, { height, width, colormap, range });
  if (data.length === app.labels.length) {
    return [{ heading: 'one tile per class: its label and its value', tiles: Array.from(data, (v, k) => ({ canvas: cell([v], 1, 1), size: [56, 56], caption: `${app.label(k)}: ${formatValue(v)}` })) }];
  }
  const [rows, columns] = vectorGrid(data.length);
  const padded = new Float32Array(rows * columns).fill(NaN);
  padded.set(data);
  const starts = Array.from({ length: rows }, (_, r) => r * columns).join(', ');
  return [{ heading: `${data.length} units row by row, ${columns} a row (the rows start at units ${starts}); blank cells pad the grid`, tiles: [{ canvas: cell(padded, rows, columns), size: [columns * 20, rows * 20] }] }];
}
