// The input panel's drawing surface: white ink on black with the mouse, a finger or a pen (pointer events,
// coalesced moves), a file dropped onto it, and a model input painted back onto it so that strokes continue
// from a test image or an upload. It reports each change once per animation frame.

import { SIZES } from '../visual.js';
import { el } from '../dom.js';
import { paintMap } from '../render.js';

/**
 * `{ canvas, clear(), show(image, height, width), rgba() }`; `onDraw(stroking)` after strokes (once per frame;
 * `stroking`: the pen is still down, more is coming; it may return a promise: the canvas's `data-analysing` is
 * "true" until every one has settled),
 * `onDrop(file)` for a dropped file; `brush()` gives the pen width in canvas pixels.
 */
export function createDrawing({ brush, onDraw, onDrop }) {
  const size = SIZES.drawCanvas;
  const canvas = el('canvas', {
    className: 'draw-canvas',
    width: size,
    height: size,
    dataset: { testid: 'draw-canvas' },
    attrs: { 'aria-label': 'Drawing area: draw a digit with the mouse, a finger or a pen' },
  });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let last = null;
  let pending = 0;

  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, size, size);
  };
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) * size) / rect.width, ((event.clientY - rect.top) * size) / rect.height];
  };
  const stroke = (from, to) => {
    Object.assign(ctx, { strokeStyle: '#fff', lineWidth: brush(), lineCap: 'round', lineJoin: 'round' });
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
  };
  const dot = ([x, y]) => {
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(x, y, brush() / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  // `data-analysing` while an `onDraw` promise (the worker's preprocessing) is outstanding: tests wait on it.
  let analysing = 0;
  const changed = () => {
    pending ||= requestAnimationFrame(() => {
      pending = 0;
      canvas.dataset.analysing = String(++analysing > 0);
      Promise.resolve(onDraw(last !== null)).finally(() => (canvas.dataset.analysing = String(--analysing > 0)));
    });
  };

  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    dot(last); // a tap leaves a dot (a zero-length stroke paints nothing)
    changed();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const events = event.getCoalescedEvents?.() ?? [];
    for (const e of events.length ? events : [event]) {
      const next = point(e);
      stroke(last, next);
      last = next;
    }
    changed();
  });
  const end = () => {
    if (last) changed();
    last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('dragover', (event) => event.preventDefault());
  canvas.addEventListener('drop', (event) => {
    event.preventDefault();
    onDrop(event.dataTransfer?.files[0]);
  });
  clear();

  return {
    canvas,
    clear,
    /** Paints a model input (`height×width` values in [0, 1]) onto the surface, smoothly scaled up. */
    show(image, height, width) {
      const small = document.createElement('canvas');
      paintMap(small, image, { height, width, colormap: 'gray', range: [0, 1] });
      clear();
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, size, size);
    },
    rgba: () => ctx.getImageData(0, 0, size, size).data,
    stop: () => cancelAnimationFrame(pending),
  };
}
