// The figures of the weight-gradient panel (js/panels/weightgrad.js): per class (reference, most confused,
// dissimilar) the mean gradient ∂ logit / ∂ W, [O, I, kh, kw], drawn as a volume on the canvas-2D path of
// js/volume3d.js (a few hundred values: no GPU needed): one slice per output channel o, holding its I
// input-channel kernels side by side (kh × I·kw), so that a slice is one filter; the three volumes share one
// view (rotating, zooming or picking a slice in one does it in all three, with the 3D-volume panel's pointer
// and keys, js/volume-controls.js) and one signed colour scale (diverging, ±the largest |value| of the three;
// the opacity grows with |value|, zero is clear). Under each volume its picked slice, flat on the same scale.
// Display "kernel grid" draws the whole gradient flat instead (output channels across, input channels down).

import { el, selectOf } from '../dom.js';
import { lut } from '../visual.js';
import { drawVolume, pickSlice } from '../volume3d.js';
import { bindVolumes, HOME } from '../volume-controls.js';

export const ROLES = ['reference', 'most confused', 'dissimilar'];
const DISPLAYS = [['volume', 'volumes'], ['kernels', 'kernel grid']];
const angle = (v) => Number.isInteger(v) && v >= -180 && v <= 180;
const radians = (degrees) => (degrees * Math.PI) / 180;

/** The panel's view keys of its figures (in the URL); `wgslice` is checked against the layer by `consistent`. */
export const FIGURE_VIEW = {
  wgdisplay: { default: 'volume', valid: (v) => DISPLAYS.some(([value]) => value === v) },
  wgyaw: { default: HOME.yaw, valid: angle },
  wgpitch: { default: HOME.pitch, valid: angle },
  wgzoom: { default: HOME.zoom, valid: (v) => typeof v === 'number' && v >= 0.3 && v <= 4 },
  wgopacity: { default: 0.8, valid: (v) => typeof v === 'number' && v >= 0 && v <= 1 },
  wgslice: { default: 0, valid: (v) => Number.isInteger(v) && v >= 0 },
};

/** The mean of the first `k` of `frames` ({ data }), as the core takes it (f64 sums, then f32). */
export function runningMean(frames, k) {
  const n = Math.min(k, frames.length);
  const sum = new Float64Array(frames[0].data.length);
  for (let f = 0; f < n; f++) frames[f].data.forEach((v, i) => (sum[i] += v));
  return Float32Array.from(sum, (s) => s / n);
}

/** The diverging colour of `v` on ±`bound` (its index into the 256×3 table). */
export const colourIndex = (v, bound) => Math.round(Math.min(1, Math.max(0, (v / (bound || 1) + 1) / 2)) * 255) * 3;

/** Kernels `[O, I, kh, kw]` on `canvas`: O across, I down, one pixel apart; diverging colours on ±`bound`. */
export function paintKernels(canvas, shape, data, bound) {
  const [o, i, kh, kw] = shape;
  [canvas.width, canvas.height] = [o * (kw + 1) - 1, i * (kh + 1) - 1];
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  const table = lut('diverging');
  data.forEach((v, index) => {
    const [x, y] = [index % kw, Math.floor(index / kw) % kh];
    const [ci, co] = [Math.floor(index / (kw * kh)) % i, Math.floor(index / (kw * kh * i))];
    const k = colourIndex(v, bound);
    image.data.set([table[k], table[k + 1], table[k + 2], 255], ((ci * (kh + 1) + y) * canvas.width + co * (kw + 1) + x) * 4);
  });
  ctx.putImageData(image, 0, 0);
}

/** Gradient `data` [O, I, kh, kw] as a volume [O, kh, I·kw]: slice o holds its I kernels side by side. */
export function kernelVolume([o, i, kh, kw], data) {
  const out = new Float32Array(data.length);
  data.forEach((v, index) => {
    const [x, y] = [index % kw, Math.floor(index / kw) % kh];
    const [ci, co] = [Math.floor(index / (kw * kh)) % i, Math.floor(index / (kw * kh * i))];
    out[(co * kh + y) * i * kw + ci * kw + x] = v;
  });
  return { shape: [o, kh, i * kw], data: out };
}

const largest = (data) => data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);

/** The three figures and their display controls: `{ controls, element, draw(result, k) }` (k: images averaged). */
export function gradientFigures(app) {
  const display = selectOf(DISPLAYS, app.view.wgdisplay, { attrs: { 'aria-label': 'display' } });
  const opacity = el('input', { type: 'range', min: 0, max: 1, step: 0.05, attrs: { 'aria-label': 'opacity' } });
  display.addEventListener('change', () => app.setView({ wgdisplay: display.value }));
  opacity.addEventListener('input', () => app.setView({ wgopacity: Number(opacity.value) }));
  const figures = ROLES.map(() => ({
    volume: el('canvas', { className: 'volume-canvas wg-volume', width: 320, height: 240, tabIndex: 0, dataset: { testid: 'wg-volume' } }),
    slice: el('canvas', { className: 'map wg-slice', dataset: { testid: 'wg-slice' } }),
    kernels: el('canvas', { className: 'map wg-kernels' }),
    caption: el('figcaption'),
  }));
  const picked = el('p', { className: 'muted', dataset: { testid: 'wg-picked' } });
  let shape = null; // [O, kh, I·kw] of the volumes drawn
  const view3d = (bound) => ({ yaw: radians(app.view.wgyaw), pitch: radians(app.view.wgpitch), zoom: app.view.wgzoom, opacity: app.view.wgopacity, gamma: 0.6, slice: app.view.wgslice, colormap: 'diverging', range: [-bound, bound], signed: true });
  const slices = () => shape?.[0] ?? 1;
  bindVolumes(app, figures.map((f) => f.volume), { yaw: 'wgyaw', pitch: 'wgpitch', zoom: 'wgzoom', slice: 'wgslice' }, {
    slices,
    hit: (canvas, x, y) => (shape ? pickSlice(shape, view3d(1), canvas.width, canvas.height, x, y) : null),
  });
  return {
    controls: [el('label', { className: 'field' }, 'Display ', display), el('label', { className: 'field' }, 'Opacity ', opacity)],
    element: el('div', {}, el('div', { className: 'wg-row', dataset: { testid: 'wg-volumes' } }, ...figures.map((f) => el('figure', {}, f.volume, f.slice, f.kernels, f.caption))), picked),
    draw(result, k) {
      [display.value, opacity.value] = [app.view.wgdisplay, String(app.view.wgopacity)];
      const last = k >= Math.max(...result.frames.map((list) => list.length));
      const means = result.frames.map((list, c) => (last ? result.means[c].data : runningMean(list, k)));
      const bound = Math.max(...means.map(largest));
      const full = result.means[0].shape;
      const [o, i, kh, kw] = full;
      const [asVolume, s] = [app.view.wgdisplay === 'volume', Math.min(app.view.wgslice, o - 1)];
      shape = [o, kh, i * kw];
      figures.forEach((f, c) => {
        [f.volume.hidden, f.slice.hidden, f.kernels.hidden] = [!asVolume, !asVolume, asVolume];
        if (asVolume) drawVolume(f.volume, kernelVolume(full, means[c]), view3d(bound));
        if (asVolume) paintKernels(f.slice, [i, 1, kh, kw], means[c].subarray(s * i * kh * kw, (s + 1) * i * kh * kw), bound);
        else paintKernels(f.kernels, full, means[c], bound);
        f.slice.style.width = `${Math.min(320, f.slice.width * 12)}px`; // 12 px a value, at most the volume's width
        const n = Math.min(k, result.frames[c].length);
        f.caption.textContent = `${ROLES[c]}: ${app.label(result.classes[c])}, mean of ${n} image${n === 1 ? '' : 's'}${last ? `, cos ${result.cosine[c].toFixed(2)}` : ''}`;
        f.volume.setAttribute('aria-label', `mean gradient of logit ${app.label(result.target)} over ${n} images of class ${app.label(result.classes[c])}: ${o} slices (output channels) turned ${app.view.wgyaw}° and tilted ${app.view.wgpitch}°; slice ${s + 1} picked`);
        f.kernels.setAttribute('aria-label', `mean gradient of logit ${app.label(result.target)} over ${n} images of class ${app.label(result.classes[c])}`);
      });
      picked.textContent = asVolume ? `Slice ${s + 1} of ${o} picked (output channel ${s}; click a slice or press [ ]): its ${i} kernel${i === 1 ? '' : 's'} under each volume. Colour scale ±${bound.toPrecision(3)}, shared.` : `Output channels across, input channels down. Colour scale ±${bound.toPrecision(3)}, shared.`;
    },
  };
}
