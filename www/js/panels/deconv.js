// Deconvnet panel (Zeiler & Fergus 2013): every channel of each conv layer's pooled maps, and its projection
// back to pixel space — unpool with the recorded switches, rectify, filter with the transposed kernels.
// Click a map to reconstruct it (click inside the enlarged map to project a single unit), or show all at once.
// Reconstructions are signed: a diverging colormap centred on zero, or the usual min–max normalized grayscale.

import { escapeHtml, optionsHtml } from '../dom.js';
import { paintMap, mapCanvas, valueRange, displayRange, createLegend, composeSnapshot, formatValue } from '../render.js';

export const meta = {
  id: 'deconv',
  title: 'Deconvnet',
  description: 'What in the input drives each feature map: pooled activations projected back to pixel space.',
  wide: true,
  requires: ['deconv', 'deconvAll'],
};

const DISPLAY = [
  ['diverging', 'signed (diverging, 0 = white)'],
  ['gray', 'normalized grayscale'],
];

/** Colormap and range for a reconstruction in the chosen display mode. */
function reconstructionStyle(mode, data) {
  const colormap = mode === 'gray' ? 'gray' : 'diverging';
  return { colormap, range: displayRange(colormap, valueRange(data)) };
}

export function createPanel(root, app) {
  const groups = app.deconvLayers;
  const total = groups.reduce((n, g) => n + g.channels, 0);
  const { height, width } = app.info.input;
  root.innerHTML = `
    <div class="toolbar">
      <label class="field">Display <select class="dmode">${optionsHtml(DISPLAY, app.view.dmode)}</select></label>
      <label class="field">Project <select class="unit"></select></label>
      <button type="button" class="button toggle-all" aria-pressed="false">Show all ${total}</button>
    </div>
    <div class="deconv-layout">
      <div class="deconv-detail">
        <figure><canvas class="map big input-view" role="img" aria-label="Input image"></canvas><figcaption>Input</figcaption></figure>
        <figure>
          <div class="unit-frame">
            <canvas class="map big source-map" role="img" tabindex="0"></canvas>
            <span class="unit-marker" hidden></span>
          </div>
          <figcaption class="source-caption"></figcaption>
        </figure>
        <span class="arrow" aria-hidden="true">→</span>
        <figure>
          <canvas class="map big" data-testid="deconv-output" role="img"></canvas>
          <figcaption class="output-caption"></figcaption>
        </figure>
        <div class="deconv-legend"></div>
        <p class="muted deconv-hint">Tip: click inside the middle map to project one unit only.</p>
      </div>
      <div class="deconv-picker">
        ${groups
          .map(
            (g) => `<div class="deconv-group" data-conv="${escapeHtml(g.name)}">
              <h3>${escapeHtml(g.name)} <span class="muted">· ${g.channels} pooled maps ${g.shape[1]}×${g.shape[2]} (layer ${g.activations})</span></h3>
              <div class="deconv-tiles"></div>
            </div>`,
          )
          .join('')}
      </div>
    </div>`;

  const dmode = root.querySelector('.dmode');
  const unitSelect = root.querySelector('.unit');
  const toggleAll = root.querySelector('.toggle-all');
  const inputView = root.querySelector('.input-view');
  const sourceMap = root.querySelector('.source-map');
  const unitMarker = root.querySelector('.unit-marker');
  const sourceCaption = root.querySelector('.source-caption');
  const output = root.querySelector('[data-testid="deconv-output"]');
  const outputCaption = root.querySelector('.output-caption');
  const legend = createLegend();
  root.querySelector('.deconv-legend').append(legend.element);

  // One tile per channel of every conv layer: its pooled map, and in "all" mode its reconstruction beside it.
  const tiles = [];
  groups.forEach((group, g) => {
    const container = root.querySelectorAll('.deconv-tiles')[g];
    for (let c = 0; c < group.channels; c++) {
      const tile = document.createElement('button');
      tile.type = 'button';
      tile.className = 'deconv-tile';
      tile.dataset.testid = 'feature-map';
      tile.dataset.layer = String(group.activations);
      tile.dataset.channel = String(c);
      tile.dataset.conv = group.name;
      tile.setAttribute('aria-label', `${group.name} channel ${c}: reconstruct`);
      const map = mapCanvas();
      const reconstruction = mapCanvas();
      reconstruction.classList.add('tile-reconstruction');
      const caption = document.createElement('span');
      caption.className = 'map-caption';
      caption.textContent = `${group.name} · ${c}`;
      tile.append(map, reconstruction, caption);
      tile.addEventListener('click', () => app.setView({ dlayer: group.name, dchannel: c, unit: 'all' }));
      container.append(tile);
      tiles.push({ group, channel: c, tile, map, reconstruction, caption });
    }
  });

  dmode.addEventListener('change', () => app.setView({ dmode: dmode.value }));
  unitSelect.addEventListener('change', () => app.setView({ unit: unitSelect.value }));
  toggleAll.addEventListener('click', () => app.setView({ dall: !app.view.dall }));

  function selected() {
    const group = groups.find((g) => g.name === app.view.dlayer) ?? groups[0];
    const channel = Math.min(Math.max(0, app.view.dchannel | 0), group.channels - 1);
    return { group, channel };
  }

  function pickUnit(event) {
    const { group } = selected();
    const rect = sourceMap.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * group.shape[2]);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * group.shape[1]);
    if (x >= 0 && y >= 0 && x < group.shape[2] && y < group.shape[1]) app.setView({ unit: `${y},${x}` });
  }
  sourceMap.addEventListener('click', pickUnit);
  sourceMap.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      app.setView({ unit: app.view.unit === 'max' ? 'all' : 'max' });
    }
  });

  function updateUnitOptions() {
    const pairs = [
      ['all', 'whole channel'],
      ['max', 'strongest unit'],
    ];
    if (/^\d+,\d+$/.test(app.view.unit)) pairs.push([app.view.unit, `unit (y, x) = (${app.view.unit.replace(',', ', ')})`]);
    unitSelect.innerHTML = optionsHtml(pairs, app.view.unit);
  }

  return {
    render() {
      const { group, channel } = selected();
      const pooled = app.activation(group.activations);
      const [, ph, pw] = pooled.shape;
      const mode = app.view.dmode;
      dmode.value = mode;
      updateUnitOptions();
      toggleAll.setAttribute('aria-pressed', String(app.view.dall));
      root.classList.toggle('show-all', app.view.dall);

      // Detail: input, selected pooled map, its reconstruction.
      paintMap(inputView, app.image, { height, width, colormap: 'gray', range: [0, 1] });
      const mapRange = valueRange(pooled.data, channel * ph * pw, ph * pw);
      paintMap(sourceMap, pooled.data, { offset: channel * ph * pw, height: ph, width: pw, colormap: 'viridis', range: mapRange });
      sourceMap.setAttribute('aria-label', `${group.name} channel ${channel} pooled map; press Enter to switch between whole channel and strongest unit`);
      sourceCaption.textContent = `${group.name} ch ${channel} · max ${formatValue(mapRange[1])}`;

      const result = app.deconv(group.name, channel, app.view.unit);
      const [oh, ow] = result.shape;
      const style = reconstructionStyle(mode, result.data);
      paintMap(output, result.data, { height: oh, width: ow, ...style });
      output.setAttribute('aria-label', `Deconvnet reconstruction of ${group.name} channel ${channel} in pixel space`);
      outputCaption.textContent = `Reconstruction · strength ${formatValue(result.strength)}`;
      // Outline the projected unit (strongest or clicked) on the pooled map.
      unitMarker.hidden = !result.position;
      if (result.position) {
        const [y, x] = result.position;
        Object.assign(unitMarker.style, { left: `${(x / pw) * 100}%`, top: `${(y / ph) * 100}%`, width: `${100 / pw}%`, height: `${100 / ph}%` });
      }
      legend.update(style.colormap, style.range, 'reconstruction');

      // Picker tiles: pooled maps (and reconstructions when all are shown).
      const all = app.view.dall ? app.deconvAll() : null;
      for (const t of tiles) {
        const maps = app.activation(t.group.activations);
        const [, h, w] = maps.shape;
        paintMap(t.map, maps.data, { offset: t.channel * h * w, height: h, width: w, colormap: 'viridis', range: valueRange(maps.data, t.channel * h * w, h * w) });
        t.tile.setAttribute('aria-pressed', String(t.group === group && t.channel === channel));
        if (all) {
          const r = all.find((item) => item.layer === t.group.name && item.channel === t.channel);
          if (r) {
            paintMap(t.reconstruction, r.data, { height: r.shape[0], width: r.shape[1], ...reconstructionStyle(mode, r.data) });
            t.caption.textContent = `${t.group.name} · ${t.channel} · ${formatValue(r.strength)}`;
          }
        } else {
          t.caption.textContent = `${t.group.name} · ${t.channel}`;
        }
      }
    },
    snapshot() {
      const { group, channel } = selected();
      const rows = [
        {
          heading: `${group.name} channel ${channel}, unit: ${app.view.unit}`,
          tiles: [
            { canvas: inputView, caption: 'input' },
            { canvas: sourceMap, caption: 'pooled map' },
            { canvas: output, caption: 'reconstruction' },
          ],
        },
      ];
      if (app.view.dall) {
        for (const g of groups) {
          rows.push({
            heading: `${g.name}: pooled map and reconstruction of each channel`,
            tiles: tiles
              .filter((t) => t.group === g)
              .flatMap((t) => [
                { canvas: t.map, caption: `${g.name} ${t.channel}` },
                { canvas: t.reconstruction, caption: '' },
              ]),
          });
        }
      }
      return composeSnapshot({ title: 'Deconvnet reconstructions', subtitle: `display: ${app.view.dmode}`, rows, legend: null });
    },
  };
}
