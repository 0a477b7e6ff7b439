// Turning numbers into pixels: value ranges, colormapped canvases, legends and the PNG snapshots of panels.
// Canvases hold maps at their native resolution (28×28, 12×12, ...); CSS scales them up with
// `image-rendering: pixelated`, so redrawing on every pen stroke stays cheap.

import { lut, cssGradient, SIGNED_COLORMAPS, SIZES, COLORS, FONT } from './visual.js';
import { el } from './dom.js';

/** Smallest and largest finite value of `data[offset .. offset+length)`. */
export function valueRange(data, offset = 0, length = data.length - offset) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = offset; i < offset + length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo > hi ? [0, 0] : [lo, hi];
}

/** The range a colormap should span: symmetric around zero for signed maps, [min, max] otherwise. */
export function displayRange(colormap, [lo, hi]) {
  if (SIGNED_COLORMAPS.has(colormap)) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  return [lo, hi];
}

/**
 * Paints `height×width` values starting at `offset` into `canvas` (resized to width×height) with
 * `colormap` over `[lo, hi]`. A flat range paints the colormap's middle for signed maps, its bottom otherwise.
 * With `fade`, a pixel's opacity grows with its magnitude (distance from zero for signed maps, from `lo`
 * otherwise), so an overlay leaves the image below visible where the map is near zero.
 */
export function paintMap(canvas, data, { offset = 0, height, width, colormap, range, fade = false }) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const table = lut(colormap);
  const [lo, hi] = range;
  const span = hi - lo;
  const signed = SIGNED_COLORMAPS.has(colormap);
  const flat = signed ? 128 : 0;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const px = image.data;
  for (let i = 0; i < width * height; i++) {
    const v = data[offset + i];
    let k = span > 0 ? Math.round(((v - lo) / span) * 255) : flat;
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    px[i * 4] = table[k * 3];
    px[i * 4 + 1] = table[k * 3 + 1];
    px[i * 4 + 2] = table[k * 3 + 2];
    px[i * 4 + 3] = fade ? Math.round(255 * Math.sqrt(signed ? Math.abs(k - 127.5) / 127.5 : k / 255)) : 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/** A new canvas with class `map` (pixelated scaling), optionally labelled for screen readers. */
export function mapCanvas(label) {
  const canvas = document.createElement('canvas');
  canvas.className = 'map';
  if (label) {
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
  }
  return canvas;
}

/** Sets `node`'s text only when it differs: rewriting the same text still makes the page lay it out again. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Short human format of a value: 3 significant digits, no exponent noise for zero. */
export function formatValue(v) {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.001) return v.toExponential(2);
  return v.toPrecision(3);
}

/** Arranges `n` units of a vector in a near-square grid: [rows, columns] (one row up to 16 units). */
export function vectorGrid(n) {
  const columns = n <= 16 ? n : Math.ceil(Math.sqrt(n));
  return [Math.ceil(n / columns), columns];
}

/** A monitor verdict's distance in words: "distance 3 > γ 2", or that the class has no training pattern. */
export function describeDistance({ distance, gamma, warn }) {
  return Number.isFinite(distance) ? `distance ${distance} ${warn ? '>' : '≤'} γ ${gamma}` : 'no training pattern of this class';
}

/** A legend element: colour bar with the low and high values (and zero for signed maps). */
export function createLegend() {
  const lo = el('span', { className: 'legend-lo' });
  const bar = el('span', { className: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
  const hi = el('span', { className: 'legend-hi' });
  const root = el('div', { className: 'legend' }, lo, bar, hi);
  return {
    element: root,
    update(colormap, [min, max], caption = '') {
      bar.style.background = cssGradient(colormap);
      lo.textContent = formatValue(min);
      hi.textContent = formatValue(max);
      root.setAttribute('aria-label', `${caption} colour scale ${colormap} from ${formatValue(min)} to ${formatValue(max)}`);
      root.title = `${colormap}: ${formatValue(min)} … ${formatValue(max)}`;
    },
  };
}

/** Widths in CSS pixels of `texts` in `font`. */
function textWidths(font, ...texts) {
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = font;
  return texts.map((text) => Math.ceil(ctx.measureText(text).width));
}

/**
 * A PNG-ready canvas of a panel: a title line, then rows of captioned tiles (native-resolution canvases,
 * scaled up without smoothing), then an optional colour-scale line; as wide as its longest line, so nothing is
 * cut, and `scale` times the CSS size (2 or 4 for slides).
 * `rows`: [{ heading?, tiles: [{ canvas, caption?, scale? }] }].
 */
export function composeSnapshot({ title, subtitle = '', rows, legend = null, cell = SIZES.snapshotCell, scale = 1 }) {
  const pad = SIZES.snapshotPadding;
  const gap = SIZES.snapshotGap;
  const caption = 18;
  const heading = 22;
  const maxColumns = Math.max(1, ...rows.map((row) => row.tiles.length));
  const columns = Math.min(maxColumns, 8);
  let height = pad + 28 + (subtitle ? 20 : 0) + gap;
  const layout = rows.map((row) => {
    const lines = Math.ceil(row.tiles.length / columns);
    const top = height + (row.heading ? heading : 0);
    height = top + lines * (cell + caption + gap);
    return { row, top };
  });
  if (legend) height += 40;
  height += pad - gap;
  const legendText = legend ? `${formatValue(legend.range[1])}   (${legend.colormap})` : '';
  const [titleWidth] = textWidths('600 20px system-ui, sans-serif', title);
  const [subtitleWidth, legendWidth] = textWidths(FONT, subtitle, legendText);
  const width = Math.max(pad * 2 + columns * cell + (columns - 1) * gap, pad * 2 + Math.max(titleWidth, subtitleWidth), legend ? pad * 2 + 340 + legendWidth : 0);

  const out = document.createElement('canvas');
  out.width = Math.round(width * scale);
  out.height = Math.round(height * scale);
  const ctx = out.getContext('2d');
  ctx.scale(scale, scale);
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = COLORS.text;
  ctx.font = `600 20px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  ctx.fillText(title, pad, pad);
  ctx.font = FONT;
  if (subtitle) {
    ctx.fillStyle = COLORS.muted;
    ctx.fillText(subtitle, pad, pad + 28);
  }
  ctx.imageSmoothingEnabled = false;
  for (const { row, top } of layout) {
    if (row.heading) {
      ctx.fillStyle = COLORS.muted;
      ctx.fillText(row.heading, pad, top - heading + 2);
    }
    row.tiles.forEach((tile, i) => {
      const x = pad + (i % columns) * (cell + gap);
      const y = top + Math.floor(i / columns) * (cell + caption + gap);
      const { canvas } = tile;
      const aspect = canvas.width / canvas.height;
      const w = aspect >= 1 ? cell : Math.round(cell * aspect);
      const h = aspect >= 1 ? Math.round(cell / aspect) : cell;
      ctx.drawImage(canvas, x, y, w, h);
      if (tile.caption) {
        ctx.fillStyle = COLORS.text;
        ctx.fillText(tile.caption, x, y + h + 3);
      }
    });
  }
  if (legend) {
    const y = height - pad - 26;
    const bar = ctx.createLinearGradient(pad + 90, 0, pad + 330, 0);
    const table = lut(legend.colormap);
    for (let i = 0; i <= 16; i++) {
      const k = Math.round((i / 16) * 255) * 3;
      bar.addColorStop(i / 16, `rgb(${table[k]},${table[k + 1]},${table[k + 2]})`);
    }
    ctx.fillStyle = COLORS.text;
    ctx.fillText(formatValue(legend.range[0]), pad, y + 2);
    ctx.fillStyle = bar;
    ctx.fillRect(pad + 90, y, 240, 18);
    ctx.fillStyle = COLORS.text;
    ctx.fillText(legendText, pad + 340, y + 2);
  }
  return out;
}

/** Paints channel `c` of a `[C, H, W]` tensor into `canvas`, over `range` (default: the channel's own). */
export function paintChannel(canvas, { shape, data }, c, colormap, range = null) {
  const [, height, width] = shape;
  const offset = c * height * width;
  return paintMap(canvas, data, { offset, height, width, colormap, range: range ?? displayRange(colormap, valueRange(data, offset, height * width)) });
}
