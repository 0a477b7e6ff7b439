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
 * otherwise), so an overlay leaves the image below visible where the map is near zero. NaN marks a cell with no
 * value (a grid's padding, the gaps between kernels): it stays transparent.
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
    if (Number.isNaN(v)) continue; // no value (padding, gaps): transparent, never the colour of a value
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

const TITLE_FONT = '600 20px system-ui, sans-serif';
const SNAPSHOT = { caption: 18, heading: 22, legend: 40, legendBar: 240, legendText: 90 };

/** The trailing text of a legend line: the top value, the colormap and what it scales. */
const legendLabel = ({ range, colormap, label = '' }) => `${formatValue(range[1])}   (${colormap}${label ? `: ${label}` : ''})`;

/** Draws a legend line at `y`: the low value, the colour bar, the high value and its label. */
function drawLegend(ctx, x, y, legend) {
  const bar = ctx.createLinearGradient(x + SNAPSHOT.legendText, 0, x + SNAPSHOT.legendText + SNAPSHOT.legendBar, 0);
  const table = lut(legend.colormap);
  for (let i = 0; i <= 16; i++) {
    const k = Math.round((i / 16) * 255) * 3;
    bar.addColorStop(i / 16, `rgb(${table[k]},${table[k + 1]},${table[k + 2]})`);
  }
  ctx.fillStyle = COLORS.text;
  ctx.fillText(formatValue(legend.range[0]), x, y + 2);
  ctx.fillStyle = bar;
  ctx.fillRect(x + SNAPSHOT.legendText, y, SNAPSHOT.legendBar, 18);
  ctx.fillStyle = COLORS.text;
  ctx.fillText(legendLabel(legend), x + SNAPSHOT.legendText + SNAPSHOT.legendBar + 10, y + 2);
}

/** Drawn size of a tile: its own `size` ([w, h]), else its canvas fitted into a `cell`-sized square. */
function tileSize(tile, cell) {
  if (tile.size) return tile.size;
  const aspect = tile.canvas.width / tile.canvas.height;
  return aspect >= 1 ? [cell, Math.round(cell / aspect)] : [Math.round(cell * aspect), cell];
}

/**
 * Where everything of a snapshot goes: each row's heading, its lines of tiles (at most 8 a line, each line as
 * tall as its tallest tile, each tile as wide as its picture or its caption) and its legend, then the
 * panel's legend; the width is that of the widest line, title or legend, so no text is cut.
 */
function snapshotLayout({ subtitle, rows, legend, cell }) {
  const { pad, gap } = { pad: SIZES.snapshotPadding, gap: SIZES.snapshotGap };
  const columns = Math.min(Math.max(1, ...rows.map((row) => row.tiles.length)), 8);
  const captionWidth = (text) => (text ? textWidths(FONT, text)[0] : 0);
  let y = pad + 28 + (subtitle ? 20 : 0) + gap;
  let width = 0;
  const items = []; // { kind: 'heading'|'tile'|'legend', x, y, ... }
  for (const row of rows) {
    if (row.heading) {
      items.push({ kind: 'heading', text: row.heading, x: pad, y: y + 2 });
      width = Math.max(width, pad * 2 + captionWidth(row.heading));
      y += SNAPSHOT.heading;
    }
    for (let first = 0; first < row.tiles.length; first += columns) {
      let x = pad;
      let tallest = 0;
      for (const tile of row.tiles.slice(first, first + columns)) {
        const [w, h] = tileSize(tile, cell);
        items.push({ kind: 'tile', tile, x, y, w, h });
        x += Math.max(w, captionWidth(tile.caption)) + gap;
        tallest = Math.max(tallest, h);
      }
      width = Math.max(width, x - gap + pad);
      y += tallest + (row.tiles.some((tile) => tile.caption) ? SNAPSHOT.caption : 0) + gap;
    }
    if (row.legend) {
      items.push({ kind: 'legend', legend: row.legend, x: pad, y });
      y += SNAPSHOT.legend;
    }
  }
  if (legend) {
    items.push({ kind: 'legend', legend, x: pad, y });
    y += SNAPSHOT.legend;
  }
  for (const item of items.filter((it) => it.kind === 'legend')) width = Math.max(width, pad * 2 + SNAPSHOT.legendText + SNAPSHOT.legendBar + 10 + captionWidth(legendLabel(item.legend)));
  return { items, width, height: y + pad - gap };
}

/**
 * A PNG-ready canvas of a panel: a title line, then rows of captioned tiles (native-resolution canvases,
 * scaled up without smoothing), each row with an optional heading and colour scale, then an optional colour
 * scale of the whole panel; as wide as its longest line, so nothing is cut, and `scale` times the CSS size
 * (2 or 4 for slides).
 * `rows`: [{ heading?, tiles: [{ canvas, caption?, size?: [w, h] }], legend? }]; a legend is
 * `{ colormap, range, label? }`.
 */
export function composeSnapshot({ title, subtitle = '', rows, legend = null, cell = SIZES.snapshotCell, scale = 1 }) {
  const pad = SIZES.snapshotPadding;
  const layout = snapshotLayout({ subtitle, rows, legend, cell });
  const [titleWidth] = textWidths(TITLE_FONT, title);
  const [subtitleWidth] = textWidths(FONT, subtitle);
  const width = Math.max(layout.width, pad * 2 + Math.max(titleWidth, subtitleWidth));
  const { height } = layout;

  const out = document.createElement('canvas');
  out.width = Math.round(width * scale);
  out.height = Math.round(height * scale);
  const ctx = out.getContext('2d');
  ctx.scale(scale, scale);
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = COLORS.text;
  ctx.font = TITLE_FONT;
  ctx.textBaseline = 'top';
  ctx.fillText(title, pad, pad);
  ctx.font = FONT;
  if (subtitle) {
    ctx.fillStyle = COLORS.muted;
    ctx.fillText(subtitle, pad, pad + 28);
  }
  ctx.imageSmoothingEnabled = false;
  for (const item of layout.items) {
    if (item.kind === 'heading') {
      ctx.fillStyle = COLORS.muted;
      ctx.fillText(item.text, item.x, item.y);
    } else if (item.kind === 'legend') {
      drawLegend(ctx, item.x, item.y, item.legend);
    } else {
      ctx.drawImage(item.tile.canvas, item.x, item.y, item.w, item.h);
      if (item.tile.caption) {
        ctx.fillStyle = COLORS.text;
        ctx.fillText(item.tile.caption, item.x, item.y + item.h + 3);
      }
    }
  }
  return out;
}

/** Paints channel `c` of a `[C, H, W]` tensor into `canvas`, over `range` (default: the channel's own). */
export function paintChannel(canvas, { shape, data }, c, colormap, range = null) {
  const [, height, width] = shape;
  const offset = c * height * width;
  return paintMap(canvas, data, { offset, height, width, colormap, range: range ?? displayRange(colormap, valueRange(data, offset, height * width)) });
}
