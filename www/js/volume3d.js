// A layer's output stack [C, H, W] drawn as a 3-D volume on a canvas 2D context (no GPU needed): every channel
// is a slice, a plane at depth c, painted through the colormap with an opacity transfer function
// (alpha = opacity · t^gamma, t the value's place in the range; with `signed`, t the distance from the
// range's middle, |2t − 1|, so that both ends of a diverging scale show and zero is clear) and drawn back to
// front under an orthographic view of the rotated stack (yaw about the vertical axis, then pitch), each slice
// one affine drawImage. The picked slice is outlined and drawn opaque. `pickSlice` finds the front-most slice under a point.

import { lut } from './visual.js';

/** The unit vectors of the view: the stack's x (width), y (height) and z (channels) axes on screen, and depth. */
function axes(yaw, pitch) {
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  // Rotate (x, y, z) about the vertical axis by yaw, then about the horizontal axis by pitch.
  const project = (x, y, z) => {
    const x1 = cy * x + sy * z;
    const z1 = -sy * x + cy * z;
    return { x: x1, y: cp * y - sp * z1, depth: sp * y + cp * z1 };
  };
  return { ex: project(1, 0, 0), ey: project(0, 1, 0), ez: project(0, 0, 1) };
}

/** Per slice its screen transform `[a, b, c, d, e, f]` (a canvas `setTransform`) and depth, for `view`. */
export function sliceTransforms(shape, view, width, height) {
  const [channels, h, w] = shape;
  const { ex, ey, ez } = axes(view.yaw, view.pitch);
  const spacing = Math.max(w, h) / Math.max(channels, 1) * 1.6;
  const extent = Math.hypot(w, h, spacing * channels);
  const scale = (Math.min(width, height) / extent) * view.zoom;
  return Array.from({ length: channels }, (_, c) => {
    const z = (c - (channels - 1) / 2) * spacing;
    const ox = -w / 2 * ex.x - h / 2 * ey.x + z * ez.x;
    const oy = -w / 2 * ex.y - h / 2 * ey.y + z * ez.y;
    const depth = -w / 2 * ex.depth - h / 2 * ey.depth + z * ez.depth;
    const m = [ex.x * scale, ex.y * scale, ey.x * scale, ey.y * scale, width / 2 + ox * scale, height / 2 + oy * scale];
    return { channel: c, m, depth };
  });
}

/** One slice as an RGBA canvas: colormap colour, alpha from the transfer function (`alpha` = 255 for the picked one). */
function sliceImage(data, offset, w, h, { colormap, range, opacity, gamma, signed = false }, opaque) {
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const pixels = ctx.createImageData(w, h);
  const table = lut(colormap);
  const [lo, hi] = range;
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < w * h; i++) {
    const t = Math.min(1, Math.max(0, (data[offset + i] - lo) / span));
    const k = Math.round(t * 255) * 3;
    const strength = signed ? Math.abs(2 * t - 1) : t;
    pixels.data.set([table[k], table[k + 1], table[k + 2], opaque ? 255 : Math.round(255 * opacity * strength ** gamma)], i * 4);
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

/** Draws `volume` ({ shape: [C, H, W], data }) on `canvas` under `view` ({ yaw, pitch, zoom, opacity, gamma, slice, colormap, range, signed? }). */
export function drawVolume(canvas, volume, view) {
  const ctx = canvas.getContext('2d');
  const [, h, w] = volume.shape;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  const slices = sliceTransforms(volume.shape, view, canvas.width, canvas.height).sort((a, b) => a.depth - b.depth);
  for (const { channel, m } of slices) {
    ctx.setTransform(...m);
    const picked = channel === view.slice;
    ctx.drawImage(sliceImage(volume.data, channel * h * w, w, h, view, picked), 0, 0);
    ctx.lineWidth = picked ? 2 / Math.hypot(m[0], m[1]) : 0.5 / Math.hypot(m[0], m[1]);
    ctx.strokeStyle = picked ? '#ffb000' : 'rgba(255,255,255,0.25)';
    ctx.strokeRect(0, 0, w, h);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
}

/** The front-most slice whose plane covers canvas point (x, y), or null. */
export function pickSlice(shape, view, width, height, x, y) {
  const [, h, w] = shape;
  const slices = sliceTransforms(shape, view, width, height).sort((a, b) => b.depth - a.depth);
  for (const { channel, m } of slices) {
    const [a, b, c, d, e, f] = m;
    const det = a * d - b * c;
    if (Math.abs(det) < 1e-9) continue;
    const u = (d * (x - e) - c * (y - f)) / det;
    const v = (-b * (x - e) + a * (y - f)) / det;
    if (u >= 0 && u <= w && v >= 0 && v <= h) return channel;
  }
  return null;
}
