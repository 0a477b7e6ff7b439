// Deconvnet panel (Zeiler & Fergus 2013): every channel of each conv layer's pooled maps, and its projection
// back to pixel space — unpool with the recorded switches, rectify, filter with the transposed kernels.
// Click a map to reconstruct it (click inside the enlarged map to project a single unit), or show all at once.
// Reconstructions are signed: a diverging colormap centred on zero, or the usual min–max normalized grayscale.

import { el, selectOf } from '../dom.js';
import { paintMap, paintChannel, valueRange, displayRange, createLegend, composeSnapshot, formatValue } from '../render.js';
import { featureTile } from '../tiles.js';
import { cliCommand, f32 } from '../export.js';

const DISPLAY = [
  ['diverging', 'signed (diverging, 0 = white)'],
  ['gray', 'normalized grayscale'],
];
const SCALES = [
  ['shared', 'shared (a faint map looks faint)'],
  ['own', 'each its own range'],
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
    dscale: { default: 'shared', valid: (v) => SCALES.some(([scale]) => scale === v) },
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

/**
 * Colormap and range for reconstructions in the chosen display mode: over the values of all `maps` (one
 * shared scale, so that a weak reconstruction looks weak beside a strong one) or, with one map, its own.
 */
function reconstructionStyle(mode, ...maps) {
  const colormap = mode === 'gray' ? 'gray' : 'diverging';
  const ranges = maps.map((data) => valueRange(data));
  return { colormap, range: displayRange(colormap, [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))]) };
}

/** The CLI's `deconv --json` of a reconstruction (`named`: with its layer and channel, as `--all` prints). */
function reconstructionJson(r, named) {
  const json = named ? { layer: r.layer, channel: r.channel } : {};
  return { ...json, shape: Array.from(r.shape), data: Array.from(r.data, f32), strength: f32(r.strength), ...(r.position ? { position: Array.from(r.position) } : {}) };
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
    const result = app.deconv(group.name, channel, app.view.unit);
    // The projected unit's own value (the core's `strength` is the channel's maximum, whatever the unit).
    const unitValue = result.position ? pooled.data[channel * ph * pw + result.position[0] * pw + result.position[1]] : null;
    const unitText = result.position ? `unit (${result.position.join(', ')}) = ${formatValue(unitValue)}` : 'whole channel';
    sourceCaption.textContent = `${group.name} ch ${channel} · ${unitText} · channel max ${formatValue(mapRange[1])}`;
    // Shared: a unit's reconstruction on the scale of its whole channel's, so a silent unit looks silent.
    const shared = app.view.dscale === 'shared' && result.position;
    const style = shared ? reconstructionStyle(app.view.dmode, result.data, app.deconv(group.name, channel, 'all').data) : reconstructionStyle(app.view.dmode, result.data);
    paintMap(output, result.data, { height: result.shape[0], width: result.shape[1], ...style });
    output.setAttribute('aria-label', `Deconvnet reconstruction of ${group.name} channel ${channel}, ${unitText}, in pixel space`);
    outputCaption.textContent = `Reconstruction of the ${result.position ? 'unit' : 'channel'} · scale ${formatValue(style.range[0])} … ${formatValue(style.range[1])}${shared ? ', the whole channel\'s' : ''}`;
    marker.hidden = !result.position; // outline the projected unit (strongest or clicked)
    if (result.position) {
      const [y, x] = result.position;
      Object.assign(marker.style, { left: `${(x / pw) * 100}%`, top: `${(y / ph) * 100}%`, width: `${100 / pw}%`, height: `${100 / ph}%` });
    }
    legend.update(style.colormap, style.range, 'reconstruction');
    return style;
  }
  return { element, sourceMap, paint, caption: () => `${sourceCaption.textContent} · ${outputCaption.textContent}`, canvases: [inputView, sourceMap, output] };
}

/** One tile per channel of every conv layer: its pooled map, and in "all" mode its reconstruction beside it. */
function createPicker(app) {
  const tiles = [];
  const groups = app.deconvLayers.map((group) => {
    const scale = el('span', { className: 'muted deconv-scale' });
    const heading = el('h3', { textContent: `${group.name} ` }, el('span', { className: 'muted', textContent: `· ${group.channels} pooled maps ${group.shape[1]}×${group.shape[2]} (layer ${group.activations})` }), scale);
    const container = el('div', { className: 'deconv-tiles' });
    for (let channel = 0; channel < group.channels; channel++) {
      const reconstruction = el('canvas', { className: 'map tile-reconstruction' });
      const onClick = () => app.setView({ dlayer: group.name, dchannel: channel, unit: 'all' });
      const tile = featureTile({ className: 'deconv-tile', layer: group.activations, channel, label: `${group.name} channel ${channel}: reconstruct`, extra: [reconstruction], onClick });
      container.append(tile.tile);
      tiles.push({ group, channel, reconstruction, ...tile });
    }
    return { group, scale, element: el('div', { className: 'deconv-group', dataset: { conv: group.name } }, heading, container) };
  });
  /** Paints the pooled maps, and with `all` (deconvAll) the reconstructions: one scale per layer, or each its own. */
  function paint(selected, all) {
    const styles = new Map();
    for (const { group, scale } of groups) {
      const maps = (all ?? []).filter((r) => r.layer === group.name).map((r) => r.data);
      const style = all && app.view.dscale === 'shared' ? reconstructionStyle(app.view.dmode, ...maps) : null;
      styles.set(group, style);
      scale.textContent = !all ? '' : style ? ` · one scale for its ${maps.length}: ${formatValue(style.range[0])} … ${formatValue(style.range[1])}` : ' · each on its own scale';
    }
    for (const t of tiles) {
      paintChannel(t.canvas, app.activation(t.group.activations), t.channel, 'viridis');
      t.tile.setAttribute('aria-pressed', String(t.group === selected.group && t.channel === selected.channel));
      const r = all?.find((item) => item.layer === t.group.name && item.channel === t.channel);
      if (r) paintMap(t.reconstruction, r.data, { height: r.shape[0], width: r.shape[1], ...(styles.get(t.group) ?? reconstructionStyle(app.view.dmode, r.data)) });
      t.caption.textContent = `${t.group.name} · ${t.channel}${r ? ` · ${formatValue(r.strength)}` : ''}`;
    }
    return styles;
  }
  return { element: el('div', { className: 'deconv-picker' }, ...groups.map((g) => g.element)), tiles, paint };
}

export function createPanel(root, app) {
  const groups = app.deconvLayers;
  const total = groups.reduce((n, g) => n + g.channels, 0);
  const dmode = selectOf(DISPLAY, app.view.dmode, { className: 'dmode' });
  const dscale = selectOf(SCALES, app.view.dscale, { className: 'dscale' });
  const unitSelect = el('select', { className: 'unit' });
  const toggleAll = el('button', { type: 'button', className: 'button toggle-all', textContent: `Show all ${total}`, attrs: { 'aria-pressed': 'false' } });
  const detail = createDetail(app);
  const picker = createPicker(app);
  const field = (label, control) => el('label', { className: 'field' }, label, control);
  root.append(el('div', { className: 'toolbar' }, field('Display', dmode), field('Scale', dscale), field('Project', unitSelect), toggleAll), el('div', { className: 'deconv-layout' }, detail.element, picker.element));

  dmode.addEventListener('change', () => app.setView({ dmode: dmode.value }));
  dscale.addEventListener('change', () => app.setView({ dscale: dscale.value }));
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

  let styles = { detail: null, layers: new Map() }; // the scales last painted, for the PNG's legends
  const [one, every] = ['deconv', 'deconv-all'].map((id) => app.techniques('deconvnet').find((t) => t.id === id));
  return {
    render() {
      const current = selected();
      dmode.value = app.view.dmode;
      dscale.value = app.view.dscale;
      const units = [['all', 'whole channel'], ['max', 'strongest unit']];
      if (app.view.unit.includes(',')) units.push([app.view.unit, `unit (y, x) = (${app.view.unit.replace(',', ', ')})`]);
      unitSelect.replaceChildren(...selectOf(units, app.view.unit).children);
      unitSelect.value = app.view.unit;
      toggleAll.setAttribute('aria-pressed', String(app.view.dall));
      toggleAll.textContent = app.view.dall ? `Hide the ${total}` : `Show all ${total}`;
      root.classList.toggle('show-all', app.view.dall);
      styles = { detail: detail.paint(current.group, current.channel), layers: picker.paint(current, app.view.dall ? app.deconvAll() : null) };
    },
    /** As the CLI's `deconv --json` prints it (`deconv --all --json` while all are shown). */
    data() {
      const { group, channel } = selected();
      return app.view.dall ? app.deconvAll().map((r) => reconstructionJson(r, true)) : reconstructionJson(app.deconv(group.name, channel, app.view.unit), false);
    },
    command() {
      const { group, channel } = selected();
      return app.view.dall ? cliCommand(app, every, {}) : cliCommand(app, one, { layer: group.name, channel, unit: app.view.unit });
    },
    snapshot(scale) {
      const { group, channel } = selected();
      const captions = ['input', 'pooled map', 'reconstruction'];
      const rows = [{ heading: `${group.name} channel ${channel}, ${app.view.unit === 'all' ? 'whole channel' : `unit ${app.view.unit}`}`, tiles: detail.canvases.map((canvas, i) => ({ canvas, caption: captions[i] })) }];
      for (const g of app.view.dall ? groups : []) {
        const style = styles.layers.get(g);
        const tiles = picker.tiles.filter((t) => t.group === g).flatMap((t) => [{ canvas: t.canvas, caption: `${g.name} ${t.channel}` }, { canvas: t.reconstruction, caption: '' }]);
        rows.push({ heading: `${g.name}: pooled map and reconstruction of each channel${style ? `, one scale ${formatValue(style.range[0])} … ${formatValue(style.range[1])}` : ', each on its own scale'}`, tiles });
      }
      const legend = styles.detail && { ...styles.detail, label: `the ${group.name} channel ${channel} reconstruction (each layer's row: the scale of its heading)` };
      return composeSnapshot({ scale, title: `Deconvnet: ${group.name} channel ${channel}`, subtitle: detail.caption(), rows, legend });
    },
  };
}
