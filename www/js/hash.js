// The page's state in the URL hash, so a link reproduces the view: link version, model, input (a test image's
// index, or the 28×28 image itself as base64url bytes for drawings and uploads) and the view keys the panels
// declare (js/view.js). Example: #v=2&model=mnist&sample=12&layer=3&cmap=magma&dlayer=conv2&dchannel=5&dall=1
// Links without `v` are version 1 (before the panels declared their keys): the panels upgrade their keys, so
// such a link opens the same view it did then.

import { defaultView, readValue, writeValue } from './view.js';

/** The version `formatHash` writes; bump it when a panel renames a key or changes its unit (and upgrade). */
export const LINK_VERSION = 2;

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
 * Parses a hash into `{ model, sample, img, view }` under view schema `schema`. The view is complete: every
 * key the hash lacks (or holds an invalid value for) takes its default, because `formatHash` leaves defaults
 * out — so applying a parsed hash, such as one edited by hand, resets what it does not mention.
 */
export function parseHash(hash, schema) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const version = Number(params.get('v') ?? 1);
  if (version < LINK_VERSION) for (const upgrade of schema.upgraders) upgrade(params, version);
  const view = defaultView(schema);
  for (const [key, spec] of schema.fields) {
    const value = params.has(key) ? readValue(spec, params.get(key)) : undefined;
    if (value !== undefined) view[key] = value;
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
export function formatHash({ model, source, image, view }, schema) {
  const params = new URLSearchParams();
  params.set('v', String(LINK_VERSION));
  params.set('model', model);
  if (source?.kind === 'gallery') params.set('sample', String(source.index));
  else if (image) params.set('img', encodeImage(image));
  for (const [key, spec] of schema.fields) {
    const value = view[key];
    if (value !== undefined && value !== spec.default) params.set(key, writeValue(value));
  }
  return `#${params.toString()}`;
}
