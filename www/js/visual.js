// Visual constants of the page and the widget: colormaps, display sizes, chart colours.
// Colormaps are 256-entry RGB lookup tables interpolated from matplotlib's anchor colours (sRGB, 9 or 11
// evenly spaced stops), so the page matches the CLI's figures closely enough for the eye.

const ANCHORS = {
  viridis: ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'],
  magma: ['#000004', '#1c1044', '#4f127b', '#812581', '#b5367a', '#e55064', '#fb8761', '#fec287', '#fcfdbf'],
  inferno: ['#000004', '#1f0c48', '#550f6d', '#88226a', '#ba3655', '#e35933', '#f98e09', '#f9cb35', '#fcffa4'],
  plasma: ['#0d0887', '#4c02a1', '#7e03a8', '#a92395', '#cc4778', '#e56b5d', '#f89441', '#fdc328', '#f0f921'],
  gray: ['#000000', '#ffffff'],
  // RdBu reversed: negative blue, zero white, positive red.
  diverging: ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'],
};

/** Colormap names in picker order, with the label shown to people. */
export const COLORMAPS = [
  ['viridis', 'Viridis'],
  ['magma', 'Magma'],
  ['inferno', 'Inferno'],
  ['plasma', 'Plasma'],
  ['gray', 'Gray'],
  ['diverging', 'Diverging (signed)'],
];

/** Colormaps that are centred on zero (symmetric value range). */
export const SIGNED_COLORMAPS = new Set(['diverging']);

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function buildLut(anchors) {
  const stops = anchors.map(hexToRgb);
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const position = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(position), stops.length - 2);
    const t = position - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * t;
  }
  return lut;
}

const LUTS = new Map(Object.entries(ANCHORS).map(([name, anchors]) => [name, buildLut(anchors)]));

/** The 256×3 RGB table of a colormap (viridis for unknown names). */
export function lut(name) {
  return LUTS.get(name) ?? LUTS.get('viridis');
}

/** CSS `linear-gradient` of a colormap, for legends. */
export function cssGradient(name) {
  const anchors = ANCHORS[name] ?? ANCHORS.viridis;
  return `linear-gradient(to right, ${anchors.join(', ')})`;
}

/** Display sizes in CSS pixels. */
export const SIZES = {
  drawCanvas: 280, // the drawing surface, 10× the 28×28 input
  brushDefault: 22,
  brushMin: 8,
  brushMax: 44,
  snapshotCell: 112, // one map in a downloaded PNG
  snapshotGap: 14,
  snapshotPadding: 24,
};

/** Colours used when drawing onto canvases (CSS uses the custom properties in css/app.css). */
export const COLORS = {
  background: '#12151c',
  panel: '#181c25',
  text: '#e8ebf2',
  muted: '#a3acbd',
  accent: '#8ab4ff',
  bar: '#3d4658',
  barTop: '#8ab4ff',
  ink: '#ffffff',
  paper: '#000000',
};

export const FONT = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
