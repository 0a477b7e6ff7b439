// Attribution panel: which input pixels give a class its score, by ten methods (gradient, saliency, guided
// backprop, deconvnet, gradient × input, integrated gradients, SmoothGrad, Grad-CAM, guided Grad-CAM,
// occlusion), for any target class. The map is overlaid on the input; several methods can be compared side by
// side. Every method runs in the Web Worker (js/worker.js), the long ones with a progress bar, so drawing
// never stutters; while one runs, only the newest request waits.

import { escapeHtml, optionsHtml } from '../dom.js';
import { paintMap, mapCanvas, valueRange, createLegend, composeSnapshot, formatValue } from '../render.js';

export const meta = {
  id: 'attribution',
  title: 'Attribution',
  description: 'Which pixels raise (red) or lower (blue) a class score. Runs in a background worker.',
  wide: true,
  requires: ['attribute'],
};

const METHODS = [
  ['gradient', 'Gradient'],
  ['saliency', 'Saliency |∂f/∂x|'],
  ['guided-backprop', 'Guided backprop'],
  ['deconvnet', 'Deconvnet'],
  ['gradient-x-input', 'Gradient × input'],
  ['integrated-gradients', 'Integrated gradients'],
  ['smoothgrad', 'SmoothGrad'],
  ['grad-cam', 'Grad-CAM'],
  ['guided-grad-cam', 'Guided Grad-CAM'],
  ['occlusion', 'Occlusion'],
];
const METHOD_NAMES = new Map(METHODS);

/** The parameters each method reads: [view key, label, min, max, step, hint]. Percent keys are /100. */
const PARAMETERS = {
  'integrated-gradients': [
    ['steps', 'Steps', 2, 300, 1, 'points on the straight path from the baseline'],
    ['baseline', 'Baseline %', 0, 100, 1, 'pixel value of the baseline image'],
  ],
  smoothgrad: [
    ['samples', 'Samples', 1, 200, 1, 'noisy copies averaged'],
    ['sigma', 'Noise σ %', 0, 100, 1, 'of the input value range'],
  ],
  occlusion: [
    ['window', 'Window', 1, 28, 1, 'side of the occluding square, pixels'],
    ['stride', 'Stride', 1, 28, 1, 'step between windows, pixels'],
    ['fill', 'Fill %', 0, 100, 1, 'pixel value inside the window'],
  ],
};

/** The `Model.attribute` options of `method` under view state `view`. */
export function attributionOptions(method, view) {
  const options = { output: view.output };
  if (view.target !== '') options.target = Number(view.target);
  if (method === 'integrated-gradients') Object.assign(options, { steps: view.steps, baseline: view.baseline / 100 });
  if (method === 'smoothgrad') Object.assign(options, { samples: view.samples, sigma: view.sigma / 100, base: view.base });
  if ((method === 'grad-cam' || method === 'guided-grad-cam') && view.camlayer) options.layer = view.camlayer;
  if (method === 'occlusion') Object.assign(options, { window: view.window, stride: view.stride, fill: view.fill / 100 });
  return options;
}

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

/** Colormap and range: diverging around zero for signed maps, inferno from zero otherwise. */
function styleOf(map, signed) {
  const [lo, hi] = valueRange(map.data);
  if (signed) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return { colormap: 'diverging', range: [-m, m] };
  }
  return { colormap: 'inferno', range: [Math.min(0, lo), hi] };
}

export function createPanel(root, app) {
  const { height, width } = app.info.input;
  const camLayers = app.layers.filter((l) => l.shape.length === 3).map((l) => [l.name, `${l.index} · ${l.name}`]);
  const targets = [['', 'predicted class'], ...app.labels.map((label, k) => [String(k), `class ${label}`])];
  root.innerHTML = `
    <div class="toolbar">
      <label class="field">Method <select class="method">${optionsHtml(METHODS, app.view.method)}</select></label>
      <label class="field">Class <select class="target">${optionsHtml(targets, app.view.target)}</select></label>
      <label class="field">Score <select class="output">${optionsHtml([['logit', 'logit'], ['log_prob', 'log-probability']], app.view.output)}</select></label>
      <label class="field">Show <select class="aview">${optionsHtml([['signed', 'signed'], ['absolute', 'absolute value']], app.view.aview)}</select></label>
      <label class="field">Overlay <input type="range" class="opacity" min="0" max="100" value="${app.view.opacity}"></label>
    </div>
    <div class="toolbar attribution-params"></div>
    <div class="attribution-layout">
      <figure class="attribution-main">
        <div class="overlay-stack">
          <canvas class="map overlay-base" role="img" aria-label="Input image"></canvas>
          <canvas class="map overlay-top" data-testid="attribution-output" role="img"></canvas>
        </div>
        <figcaption class="attribution-caption"></figcaption>
        <div class="attribution-legend"></div>
        <div class="attribution-progress" hidden>
          <progress max="1" value="0"></progress> <span class="muted progress-text"></span>
        </div>
      </figure>
      <div class="attribution-compare">
        <h3>Compare methods <span class="muted">(same class and score)</span></h3>
        <div class="compare-picker" role="group" aria-label="Methods to compare">
          ${METHODS.map(([id, label]) => `<button type="button" class="chip" data-method="${id}" aria-pressed="false">${escapeHtml(label)}</button>`).join('')}
        </div>
        <div class="compare-grid"></div>
      </div>
    </div>`;

  const $ = (selector) => root.querySelector(selector);
  const base = $('.overlay-base');
  const top = $('.overlay-top');
  const caption = $('.attribution-caption');
  const progressBox = $('.attribution-progress');
  const progressBar = progressBox.querySelector('progress');
  const progressText = progressBox.querySelector('.progress-text');
  const params = $('.attribution-params');
  const compareGrid = $('.compare-grid');
  const legend = createLegend();
  $('.attribution-legend').append(legend.element);

  for (const key of ['method', 'target', 'output', 'aview']) {
    $(`.${key}`).addEventListener('change', (event) => app.setView({ [key]: event.target.value }));
  }
  $('.opacity').addEventListener('input', (event) => app.setView({ opacity: Number(event.target.value) }));
  for (const chip of root.querySelectorAll('.compare-picker .chip')) {
    chip.addEventListener('click', () => {
      const chosen = new Set(app.view.compare.split(',').filter(Boolean));
      if (chosen.has(chip.dataset.method)) chosen.delete(chip.dataset.method);
      else chosen.add(chip.dataset.method);
      app.setView({ compare: METHODS.map(([id]) => id).filter((id) => chosen.has(id)).join(',') });
    });
  }

  function buildParams() {
    const method = app.view.method;
    const fields = (PARAMETERS[method] ?? []).map(
      ([key, label, min, max, step, hint]) =>
        `<label class="field" title="${escapeHtml(hint)}">${escapeHtml(label)}
          <input type="number" class="param" data-key="${key}" min="${min}" max="${max}" step="${step}" value="${app.view[key]}">
        </label>`,
    );
    if (method === 'smoothgrad') {
      const bases = METHODS.filter(([id]) => ['gradient', 'saliency', 'guided-backprop', 'deconvnet', 'gradient-x-input'].includes(id));
      fields.push(`<label class="field">Of <select class="param" data-key="base">${optionsHtml(bases, app.view.base)}</select></label>`);
    }
    if (method === 'grad-cam' || method === 'guided-grad-cam') {
      fields.push(`<label class="field">Layer <select class="param" data-key="camlayer">${optionsHtml([['', 'default (last conv ReLU)'], ...camLayers], app.view.camlayer)}</select></label>`);
    }
    params.innerHTML = fields.join('');
    params.hidden = fields.length === 0;
    for (const input of params.querySelectorAll('.param')) {
      input.addEventListener('change', () => {
        const key = input.dataset.key;
        if (input.tagName === 'SELECT') {
          app.setView({ [key]: input.value });
          return;
        }
        const value = Math.round(Number(input.value));
        const clamped = Math.min(Number(input.max), Math.max(Number(input.min), Number.isFinite(value) ? value : Number(input.min)));
        input.value = String(clamped);
        app.setView({ [key]: clamped });
      });
    }
  }

  // Results are cached per (image, method, options). Everything missing is computed by one job in the
  // worker's "latest wins" queue: the main map first, then the compared methods, stopping early when a newer
  // job (a new stroke, a new option) is waiting.
  let shown = { key: '', result: null };
  let builtParamsFor = '';
  const compareTiles = new Map();
  let imageToken = 0;
  let lastImage = null;

  const requestKey = (method, view) => JSON.stringify([imageToken, method, attributionOptions(method, view)]);
  const comparedMethods = () => app.view.compare.split(',').filter((m) => METHOD_NAMES.has(m));

  function paintResult(result, canvas, fade = false) {
    const absolute = app.view.aview === 'absolute';
    const map = displayMap(result, absolute);
    const style = styleOf(map, result.signed && !absolute);
    paintMap(canvas, map.data, { height: map.height, width: map.width, ...style, fade });
    return style;
  }

  function showMain(result) {
    const style = paintResult(result, top, true);
    legend.update(style.colormap, style.range, 'attribution');
    const parts = [
      `${METHOD_NAMES.get(result.method)} · class ${app.label(result.target)}`,
      `${app.view.output === 'log_prob' ? 'log-probability' : 'logit'} ${formatValue(result.score)}`,
    ];
    if (result.completenessGap !== undefined) parts.push(`completeness gap ${formatValue(result.completenessGap)}`);
    if (result.camLayer) parts.push(`layer ${result.camLayer}`);
    parts.push(result.micros >= 1000 ? `${(result.micros / 1000).toFixed(1)} ms` : `${Math.round(result.micros)} µs`);
    caption.textContent = parts.join(' · ');
    top.setAttribute('aria-label', `${METHOD_NAMES.get(result.method)} attribution for class ${app.label(result.target)}`);
  }

  function syncCompareTiles(methods) {
    for (const chip of root.querySelectorAll('.compare-picker .chip')) {
      chip.setAttribute('aria-pressed', String(methods.includes(chip.dataset.method)));
    }
    for (const [method, tile] of compareTiles) {
      if (!methods.includes(method)) {
        tile.element.remove();
        compareTiles.delete(method);
      }
    }
    for (const method of methods) {
      if (!compareTiles.has(method)) {
        const element = document.createElement('figure');
        element.className = 'compare-tile';
        const canvas = mapCanvas(`${METHOD_NAMES.get(method)} attribution`);
        const label = document.createElement('figcaption');
        label.textContent = METHOD_NAMES.get(method);
        element.append(canvas, label);
        compareTiles.set(method, { element, canvas, label, key: '', result: null });
      }
      compareGrid.append(compareTiles.get(method).element); // in the picker's order
    }
  }

  /** The worker job: computes what the current view lacks, painting each result as it arrives. */
  async function job(remote) {
    const image = app.image;
    const view = { ...app.view };
    const progress = (method) => (done, total) => {
      progressBox.hidden = false;
      progressBar.max = total;
      progressBar.value = done;
      progressText.textContent = `${METHOD_NAMES.get(method)} · ${done} / ${total}`;
    };
    try {
      const key = requestKey(view.method, view);
      if (shown.key !== key) {
        caption.textContent = `${METHOD_NAMES.get(view.method)}: computing…`;
        const result = await remote.attribute(image, view.method, attributionOptions(view.method, view), progress(view.method));
        shown = { key, result };
        showMain(result);
      }
      for (const method of view.compare.split(',').filter((m) => METHOD_NAMES.has(m))) {
        const tile = compareTiles.get(method);
        const tileKey = requestKey(method, view);
        if (!tile || tile.key === tileKey) continue;
        if (remote.queued) return; // a newer request is waiting: let it run
        tile.label.textContent = `${METHOD_NAMES.get(method)} …`;
        tile.result = await remote.attribute(image, method, attributionOptions(method, view), progress(method));
        tile.key = tileKey;
        tile.label.textContent = METHOD_NAMES.get(method);
        paintResult(tile.result, tile.canvas);
      }
    } catch (error) {
      caption.textContent = `${METHOD_NAMES.get(view.method)} failed: ${error.message}`;
      shown = { key: '', result: null };
    } finally {
      progressBox.hidden = true;
    }
  }

  return {
    render() {
      if (app.image !== lastImage) {
        lastImage = app.image;
        imageToken++;
      }
      for (const key of ['method', 'target', 'output', 'aview', 'opacity']) $(`.${key}`).value = String(app.view[key]);
      paintMap(base, app.image, { height, width, colormap: 'gray', range: [0, 1] });
      top.style.opacity = String(app.view.opacity / 100);
      const paramsKey = JSON.stringify(attributionOptions(app.view.method, app.view)); // method and its values
      if (builtParamsFor !== paramsKey) {
        buildParams();
        builtParamsFor = paramsKey;
      }
      const methods = comparedMethods();
      syncCompareTiles(methods);
      // Repaint what is cached (the view may only have changed its display), then fetch what is missing.
      const mainKey = requestKey(app.view.method, app.view);
      if (shown.key === mainKey && shown.result) showMain(shown.result);
      let missing = shown.key !== mainKey;
      for (const method of methods) {
        const tile = compareTiles.get(method);
        if (tile.key === requestKey(method, app.view) && tile.result) paintResult(tile.result, tile.canvas);
        else missing = true;
      }
      if (missing) app.worker().latest(job).catch(() => {});
    },
    snapshot() {
      if (!shown.result) return null;
      const overlay = document.createElement('canvas');
      overlay.width = base.width;
      overlay.height = base.height;
      const ctx = overlay.getContext('2d');
      ctx.filter = 'brightness(0.5)'; // as on screen
      ctx.drawImage(base, 0, 0);
      ctx.filter = 'none';
      ctx.globalAlpha = app.view.opacity / 100;
      ctx.drawImage(top, 0, 0);
      const tiles = [
        { canvas: overlay, caption: 'overlay' },
        { canvas: top, caption: METHOD_NAMES.get(shown.result.method) },
      ];
      for (const [method, tile] of compareTiles) if (tile.result) tiles.push({ canvas: tile.canvas, caption: METHOD_NAMES.get(method) });
      const absolute = app.view.aview === 'absolute';
      return composeSnapshot({
        title: `Attribution: class ${app.label(shown.result.target)}`,
        subtitle: caption.textContent,
        rows: [{ tiles }],
        legend: styleOf(displayMap(shown.result, absolute), shown.result.signed && !absolute),
      });
    },
    destroy() {
      compareTiles.clear();
    },
  };
}
