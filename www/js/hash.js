// The page's state in the URL hash, so a link reproduces the view: model, input (a test image's index, or the
// 28×28 image itself as base64url bytes for drawings and uploads), layer, channel, colormap, deconvnet options.
// Example: #model=mnist&sample=12&layer=3&channel=2&cmap=magma&dlayer=conv2&dchannel=5&dall=1

import { DEFAULT_VIEW } from './app.js';

/** Float32 image in [0, 1] → base64url of its bytes (round(255·v)). */
export function encodeImage(image) {
  let binary = '';
  for (const v of image) binary += String.fromCharCode(Math.round(Math.min(1, Math.max(0, v)) * 255));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Inverse of `encodeImage`; null when the text is not a valid image of `size` values. */
export function decodeImage(text, size) {
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    if (binary.length !== size) return null;
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = binary.charCodeAt(i) / 255;
    return out;
  } catch {
    return null;
  }
}

/**
 * Parses a hash into `{ model, sample, img, view }`. The view is complete: every key the hash lacks (or holds
 * an invalid value for) takes its default, because `formatHash` leaves defaults out — so applying a parsed
 * hash, such as one edited by hand, resets what it does not mention instead of keeping the previous value.
 */
export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const view = { ...DEFAULT_VIEW };
  for (const [key, fallback] of Object.entries(DEFAULT_VIEW)) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    if (typeof fallback === 'number') {
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 0) view[key] = n;
    } else if (typeof fallback === 'boolean') {
      view[key] = raw === '1' || raw === 'true';
    } else {
      view[key] = raw;
    }
  }
  const sample = params.has('sample') ? Number(params.get('sample')) : null;
  return {
    model: params.get('model'),
    sample: Number.isInteger(sample) && sample >= 0 ? sample : null,
    img: params.get('img'),
    view,
  };
}

/** The hash of a state; view keys equal to their defaults are left out to keep links short. */
export function formatHash({ model, source, image, view }) {
  const params = new URLSearchParams();
  params.set('model', model);
  if (source?.kind === 'gallery') params.set('sample', String(source.index));
  else if (image) params.set('img', encodeImage(image));
  for (const [key, fallback] of Object.entries(DEFAULT_VIEW)) {
    const value = view[key];
    if (value === undefined || value === fallback) continue;
    params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  return `#${params.toString()}`;
}
