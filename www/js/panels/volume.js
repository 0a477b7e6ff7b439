// The 3-D volume view (issue 18, after CNN-VIS): a conv layer's output stack for the current input, channels as
// slices, rotated with the mouse or the arrow keys, zoomed with the wheel or +/-, made see-through by an
// opacity transfer function, a slice picked by clicking it or with [ and ]; optionally with the channels
// reordered by k-means or PCA (`model.order`), the order shown beside. Drawn with WebGL2 where the browser has
// it (js/volume3d-gl.js), else on a canvas 2D context (js/volume3d.js), which works without a GPU; the
// Renderer menu picks either (a canvas keeps the one context it was given, so each renderer has its own).

import { el, selectOf } from '../dom.js';
import { paintChannel, valueRange } from '../render.js';
import { drawVolume, pickSlice } from '../volume3d.js';
import { drawVolumeGl, glVolume } from '../volume3d-gl.js';
import { bindVolumes, HOME } from '../volume-controls.js';

const ORDERS = [['none', 'channel order'], ['kmeans', 'k-means (k = 4)'], ['pca', 'first principal component']];
const stacks = (app) => app.layers.filter((layer) => layer.shape.length === 3);
const hasGl = () => typeof document !== 'undefined' && glVolume();
const renderers = () => [...(hasGl() ? [['webgl2', 'WebGL2']] : []), ['canvas', 'canvas 2D']];
const angle = (v) => Number.isInteger(v) && v >= -180 && v <= 180;

export const meta = {
  id: 'volume',
  title: '3D volume',
  description: 'A layer’s feature maps stacked as a volume: drag or use the arrow keys to rotate, the wheel or +/− to zoom, click a slice or press [ ] to pick one.',
  explainedBy: 'volumes',
  requires: ['order'],
  wide: true,
  view: (app) => ({
    vlayer: { default: stacks(app).at(-1)?.index ?? 1, valid: (v) => stacks(app).some((l) => l.index === v) },
    yaw: { default: HOME.yaw, valid: angle },
    pitch: { default: HOME.pitch, valid: angle },
    vzoom: { default: HOME.zoom, valid: (v) => typeof v === 'number' && v >= 0.3 && v <= 4 },
    vopacity: { default: 0.6, valid: (v) => typeof v === 'number' && v >= 0 && v <= 1 },
    vslice: { default: 0, valid: (v) => Number.isInteger(v) && v >= 0 },
    vorder: { default: 'none', valid: (v) => ORDERS.some(([value]) => value === v) },
    vrender: { default: renderers()[0][0], valid: (v) => renderers().some(([value]) => value === v) },
  }),
  consistent(view, app) {
    const shape = app.layers[view.vlayer - 1]?.shape ?? [1];
    return view.vslice >= shape[0] ? ['vslice'] : [];
  },
};

export function createPanel(root, app) {
  const layer = selectOf(stacks(app).map((l) => [l.index, `${l.index} ${l.name}`]), app.view.vlayer, { attrs: { 'aria-label': 'layer' } });
  const order = selectOf(ORDERS, app.view.vorder, { attrs: { 'aria-label': 'order' } });
  const opacity = el('input', { type: 'range', min: 0, max: 1, step: 0.05, attrs: { 'aria-label': 'opacity' } });
  const renderer = selectOf(renderers(), app.view.vrender, { attrs: { 'aria-label': 'renderer' } });
  const canvases = Object.fromEntries(renderers().map(([kind]) => [kind, el('canvas', { className: 'volume-canvas', width: 480, height: 360, tabIndex: 0, dataset: { testid: 'volume-canvas', renderer: kind } })]));
  const slice = el('canvas', { className: 'map volume-slice' });
  const caption = el('p', { className: 'muted volume-caption' });
  root.replaceChildren(
    el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Layer ', layer), el('label', { className: 'field' }, 'Order ', order), el('label', { className: 'field' }, 'Opacity ', opacity), el('label', { className: 'field' }, 'Renderer ', renderer)),
    el('div', { className: 'volume-row' }, ...Object.values(canvases), el('figure', { className: 'volume-picked' }, slice, caption)),
  );
  layer.addEventListener('change', () => app.setView({ vlayer: Number(layer.value), vslice: 0 }));
  order.addEventListener('change', () => app.setView({ vorder: order.value }));
  opacity.addEventListener('input', () => app.setView({ vopacity: Number(opacity.value) }));
  renderer.addEventListener('change', () => app.setView({ vrender: renderer.value }));
  let volume = null;
  const channels = () => volume?.shape[0] ?? 1;
  bindVolumes(app, Object.values(canvases), { yaw: 'yaw', pitch: 'pitch', zoom: 'vzoom', slice: 'vslice' }, {
    slices: channels,
    hit: (canvas, x, y) => (volume ? pickSlice(volume.shape, view3d(), canvas.width, canvas.height, x, y) : null),
  });
  const view3d = () => ({ yaw: (app.view.yaw * Math.PI) / 180, pitch: (app.view.pitch * Math.PI) / 180, zoom: app.view.vzoom, opacity: app.view.vopacity, gamma: 1.5, slice: app.view.vslice, colormap: 'viridis', range: valueRange(volume.data) });

  return {
    render() {
      const stack = app.layers[app.view.vlayer - 1];
      const activation = app.activation(app.view.vlayer);
      if (!activation) return;
      const ordered = app.view.vorder === 'none' ? null : app.analysis('order', { layer: stack.name, by: app.view.vorder, k: Math.min(4, activation.shape[0]) });
      volume = ordered ? ordered.volume : activation;
      [layer.value, order.value, opacity.value, renderer.value] = [String(app.view.vlayer), app.view.vorder, String(app.view.vopacity), app.view.vrender];
      for (const [kind, canvas] of Object.entries(canvases)) canvas.hidden = kind !== app.view.vrender;
      const canvas = canvases[app.view.vrender];
      (app.view.vrender === 'webgl2' ? drawVolumeGl : drawVolume)(canvas, volume, view3d());
      paintChannel(slice, volume, app.view.vslice, 'viridis');
      const shown = ordered ? ordered.order[app.view.vslice] : app.view.vslice;
      const cluster = ordered?.clusters ? `, cluster ${ordered.clusters[shown]}` : '';
      caption.textContent = `Slice ${app.view.vslice + 1} of ${channels()}: channel ${shown}${cluster}` + (ordered ? ` · order ${ordered.order.join(' ')}` : '');
      canvas.setAttribute('aria-label', `${stack.name} as a volume of ${channels()} slices, turned ${app.view.yaw}° and tilted ${app.view.pitch}°; slice ${app.view.vslice + 1} picked (channel ${shown})`);
    },
  };
}
