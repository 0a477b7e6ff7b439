// Deconvnet panel (Zeiler & Fergus 2013): every channel of each conv layer's pooled maps, and its projection
// back to pixel space — unpool with the recorded switches, rectify, filter with the transposed kernels.
// Click a map to reconstruct it (click inside the enlarged map to project a single unit), or show all at once.
// Reconstructions are signed: a diverging colormap centred on zero, or the usual min–max normalized grayscale.

import { el, selectOf } from '../dom.js';
import { paintMap, paintChannel, valueRange, displayRange, createLegend, composeSnapshot, formatValue } from '../render.js';
import { featureTile } from '../tiles.js';

const DISPLAY = [
  ['diverging', 'signed (diverging, 0 = white)'],
  ['gray', 'normalized grayscale'],
];
const UNIT = /^(all|max|\d+,\d+)$/;

export const meta = {
  id: 'deconv',
  title: 'Deconvnet',
  description: 'What in the input drives each feature map: pooled activations projected back to pixel space.',
  explainedBy: 'deconvnet',
  wide: true,
  requires: ['deconv', 'deconvAll'],
  view: (app) => ({
    dlayer: { default: '', valid: (v) => v === '' || app.deconvLayers.some((g) => g.name === v) }, // '' = the first conv layer
    dchannel: 0,
    unit: { default: 'all', valid: (v) => UNIT.test(v) }, // 'all' | 'max' | 'y,x'
    dmode: { default: 'diverging', valid: (v) => DISPLAY.some(([mode]) => mode === v) },
    dall: false, // show all reconstructions at once
  }),
  /** A channel the chosen layer lacks, or a unit outside its pooled map, does not fit (js/view.js). */
  consistent(view, app) {
    const group = app.deconvLayers.find((g) => g.name === view.dlayer) ?? app.deconvLayers[0];
    if (!group) return [];
    const [, height, width] = group.shape;
    const unit = /^(\d+),(\d+)$/.exec(view.unit);
    const outside = unit && (Number(unit[1]) >= height || Number(unit[2]) >= width);
    return [...(view.dchannel >= group.channels ? ['dchannel'] : []), ...(outside ? ['unit'] : [])];
  },
};

/** Colormap and range for a reconstruction in the chosen display mode. */
function reconstructionStyle(mode, data) {
  const colormap = mode === 'gray' ? 'gray' : 'diverging';
  return { colormap, range: displayRange(colormap, valueRange(data)) };
}

/** The enlarged detail: input, selected pooled map (click a unit to project it alone), reconstruction. */
function createDetail(app) {
  const big = (props = {}) => el('canvas', { className: 'map big', attrs: { role: 'img' }, ...props });
  const inputView = big({ attrs: { role: 'img', 'aria-label': 'Input image' } });
  const sourceMap = big({ className: 'map big source-map', tabIndex: 0 });
  const marker = el('span', { className: 'unit-marker', hidden: true });
  const output = big({ dataset: { testid: 'deconv-output' } });
  const [sourceCaption, outputCaption] = [el('figcaption', { className: 'source-caption' }), el('figcaption', { className: 'output-caption' })];
  const legend = createLegend();
  const element = el(
    'div',
    { className: 'deconv-detail' },
    el('figure', {}, inputView, el('figcaption', { textContent: 'Input' })),
    el('figure', {}, el('div', { className: 'unit-frame' }, sourceMap, marker), sourceCaption),
    el('span', { className: 'arrow', textContent: '→', attrs: { 'aria-hidden': 'true' } }),
    el('figure', {}, output, outputCaption),
    el('div', { className: 'deconv-legend' }, legend.element),
    el('p', { className: 'muted deconv-hint', textContent: 'Tip: click inside the middle map to project one unit only.' }),
  );
  const { height, width } = app.info.input;
  function paint(group, channel) {
    const pooled = app.activation(group.activations);
    const [, ph, pw] = pooled.shape;
    paintMap(inputView, app.image, { height, width, colormap: 'gray', range: [0, 1] });
    const mapRange = valueRange(pooled.data, channel * ph * pw, ph * pw);
    paintChannel(sourceMap, pooled, channel, 'viridis', mapRange);
    sourceMap.setAttribute('aria-label', `${group.name} channel ${channel} pooled map; press Enter to switch between whole channel and strongest unit`);
    const [uy, ux] = app.view.unit.includes(',') ? app.view.unit.split(',').map(Number) : [];
    const unitValue = uy === undefined ? null : pooled.data[channel * ph * pw + uy * pw + ux];
    sourceCaption.textContent = `${group.name} ch ${channel} · ${unitValue === null ? `max ${formatValue(mapRange[1])}` : `unit ${formatValue(unitValue)} of max ${formatValue(mapRange[1])}`}`;
    const result = app.deconv(group.name, channel, app.view.unit);
    const style = reconstructionStyle(app.view.dmode, result.data);
    paintMap(output, result.data, { height: result.shape[0], width: result.shape[1], ...style });
    output.setAttribute('aria-label', `Deconvnet reconstruction of ${group.name} channel ${channel} in pixel space`);
    outputCaption.textContent = `Reconstruction · strength ${formatValue(result.strength)}`;
    marker.hidden = !result.position; // outline the projected unit (strongest or clicked)
    if (result.position) {
      const [y, x] = result.position;
      Object.assign(marker.style, { left: `${(x / pw) * 100}%`, top: `${(y / ph) * 100}%`, width: `${100 / pw}%`, height: `${100 / ph}%` });
    }
    legend.update(style.colormap, style.range, 'reconstruction');
  }
  return { element, sourceMap, paint, canvases: [inputView, sourceMap, output] };
}

/** One tile per channel of every conv layer: its pooled map, and in "all" mode its reconstruction beside it. */
function createPicker(app) {
  const tiles = [];
  const groups = app.deconvLayers.map((group) => {
    const heading = el('h3', { textContent: `${group.name} ` }, el('span', { className: 'muted', textContent: `· ${group.channels} pooled maps ${group.shape[1]}×${group.shape[2]} (layer ${group.activations})` }));
    const container = el('div', { className: 'deconv-tiles' });
    for (let channel = 0; channel < group.channels; channel++) {
      const reconstruction = el('canvas', { className: 'map tile-reconstruction' });
      const onClick = () => app.setView({ dlayer: group.name, dchannel: channel, unit: 'all' });
      const tile = featureTile({ className: 'deconv-tile', layer: group.activations, channel, label: `${group.name} channel ${channel}: reconstruct`, extra: [reconstruction], onClick });
      container.append(tile.tile);
      tiles.push({ group, channel, reconstruction, ...tile });
    }
    return el('div', { className: 'deconv-group', dataset: { conv: group.name } }, heading, container);
  });
  function paint(selected, all) {
    for (const t of tiles) {
      paintChannel(t.canvas, app.activation(t.group.activations), t.channel, 'viridis');
      t.tile.setAttribute('aria-pressed', String(t.group === selected.group && t.channel === selected.channel));
      const r = all?.find((item) => item.layer === t.group.name && item.channel === t.channel);
      if (r) paintMap(t.reconstruction, r.data, { height: r.shape[0], width: r.shape[1], ...reconstructionStyle(app.view.dmode, r.data) });
      t.caption.textContent = `${t.group.name} · ${t.channel}${r ? ` · ${formatValue(r.strength)}` : ''}`;
    }
  }
  return { element: el('div', { className: 'deconv-picker' }, ...groups), tiles, paint };
}

export function createPanel(root, app) {
  const groups = app.deconvLayers;
  const total = groups.reduce((n, g) => n + g.channels, 0);
  const dmode = selectOf(DISPLAY, app.view.dmode, { className: 'dmode' });
  const unitSelect = el('select', { className: 'unit' });
  const toggleAll = el('button', { type: 'button', className: 'button toggle-all', textContent: `Show all ${total}`, attrs: { 'aria-pressed': 'false' } });
  const detail = createDetail(app);
  const picker = createPicker(app);
  const field = (label, control) => el('label', { className: 'field' }, label, control);
  root.append(el('div', { className: 'toolbar' }, field('Display', dmode), field('Project', unitSelect), toggleAll), el('div', { className: 'deconv-layout' }, detail.element, picker.element));

  dmode.addEventListener('change', () => app.setView({ dmode: dmode.value }));
  unitSelect.addEventListener('change', () => app.setView({ unit: unitSelect.value }));
  toggleAll.addEventListener('click', () => app.setView({ dall: !app.view.dall }));

  function selected() {
    const group = groups.find((g) => g.name === app.view.dlayer) ?? groups[0];
    return { group, channel: Math.min(app.view.dchannel, group.channels - 1) };
  }
  detail.sourceMap.addEventListener('click', (event) => {
    const [, h, w] = selected().group.shape;
    const rect = detail.sourceMap.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * w);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * h);
    if (x >= 0 && y >= 0 && x < w && y < h) app.setView({ unit: `${y},${x}` });
  });
  detail.sourceMap.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    app.setView({ unit: app.view.unit === 'max' ? 'all' : 'max' });
  });

  return {
    render() {
      const current = selected();
      dmode.value = app.view.dmode;
      const units = [['all', 'whole channel'], ['max', 'strongest unit']];
      if (app.view.unit.includes(',')) units.push([app.view.unit, `unit (y, x) = (${app.view.unit.replace(',', ', ')})`]);
      unitSelect.replaceChildren(...selectOf(units, app.view.unit).children);
      unitSelect.value = app.view.unit;
      toggleAll.setAttribute('aria-pressed', String(app.view.dall));
      toggleAll.textContent = app.view.dall ? `Hide the ${total}` : `Show all ${total}`;
      root.classList.toggle('show-all', app.view.dall);
      detail.paint(current.group, current.channel);
      picker.paint(current, app.view.dall ? app.deconvAll() : null);
    },
    snapshot(scale) {
      const { group, channel } = selected();
      const captions = ['input', 'pooled map', 'reconstruction'];
      const rows = [{ heading: `${group.name} channel ${channel}, unit: ${app.view.unit}`, tiles: detail.canvases.map((canvas, i) => ({ canvas, caption: captions[i] })) }];
      for (const g of app.view.dall ? groups : []) {
        const tiles = picker.tiles.filter((t) => t.group === g).flatMap((t) => [{ canvas: t.canvas, caption: `${g.name} ${t.channel}` }, { canvas: t.reconstruction, caption: '' }]);
        rows.push({ heading: `${g.name}: pooled map and reconstruction of each channel`, tiles });
      }
      return composeSnapshot({ scale,  title: 'Deconvnet reconstructions', subtitle: `display: ${app.view.dmode}`, rows, legend: null });
    },
  };
}
