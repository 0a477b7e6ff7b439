// Visual constants of the page and the widget: colormaps, display sizes, chart colours.
// The colormaps are the Rust tables (256 RGB entries each, the wasm `colormaps()`), the same the CLI's figures
// use; js/engine.js installs them when the module is instantiated.

/** name → 256×3 RGB table. */
const TABLES = new Map();

/** Colormaps that are centred on zero (symmetric value range): those the Rust tables mark `signed`. */
export const SIGNED_COLORMAPS = new Set();

/** Keeps the module's tables (`[{ name, signed, lut }]`). */
export function installColormaps(colormaps) {
  for (const { name, signed, lut } of colormaps) {
    TABLES.set(name, lut);
    if (signed) SIGNED_COLORMAPS.add(name);
  }
}

/** `[name, label]` of every colormap, in the module's order. */
export function colormapChoices() {
  return [...TABLES.keys()].map((name) => [name, `${name[0].toUpperCase()}${name.slice(1)}${SIGNED_COLORMAPS.has(name) ? ' (signed)' : ''}`]);
}

/** The 256×3 RGB table of a colormap (viridis for unknown names). */
export function lut(name) {
  return TABLES.get(name) ?? TABLES.get('viridis');
}

/** CSS `linear-gradient` of a colormap (17 stops of its table), for legends. */
export function cssGradient(name) {
  const table = lut(name);
  const stops = Array.from({ length: 17 }, (_, i) => {
    const k = Math.round((i / 16) * 255) * 3;
    return `rgb(${table[k]}, ${table[k + 1]}, ${table[k + 2]})`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
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
