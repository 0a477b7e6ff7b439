// The page's state in the URL hash, so a link reproduces the view: link version, model, input (a test image's
// index, or the 28×28 image itself as base64url bytes for drawings and uploads) and the view keys the panels
// declare (js/view.js). Example: #v=2&model=mnist&sample=12&layer=3&cmap=magma&dlayer=conv2&dchannel=5&dall=1
// Links without `v` are version 1 (before the panels declared their keys): the panels upgrade their keys, so
// such a link opens the same view it did then.

import { defaultView, readValue, writeValue, reconcile } from './view.js';

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
 * Parses a hash into `{ model, sample, img, view, rejected }` under view schema `schema`. The view is
 * complete: every key the hash lacks (or holds an invalid value for) takes its default, because `formatHash`
 * leaves defaults out — so applying a parsed hash, such as one edited by hand, resets what it does not
 * mention. `rejected` lists, as `key=value`, the values the link gave that were refused (unknown, out of
 * range, or not fitting the other keys) and replaced by their defaults; keys no panel declares (another
 * model's) are ignored.
 */
export function parseHash(hash, schema) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const version = Number(params.get('v') ?? 1);
  if (version < LINK_VERSION) for (const upgrade of schema.upgraders) upgrade(params, version);
  const view = defaultView(schema);
  const refused = new Set();
  for (const [key, spec] of schema.fields) {
    const value = params.has(key) ? readValue(spec, params.get(key)) : undefined;
    if (value !== undefined) view[key] = value;
    else if (params.has(key)) refused.add(key);
  }
  for (const key of reconcile(schema, view)) refused.add(key);
  const sample = params.has('sample') ? Number(params.get('sample')) : null;
  const validSample = Number.isInteger(sample) && sample >= 0;
  if (params.has('sample') && !validSample) refused.add('sample');
  return {
    model: params.get('model'),
    sample: validSample ? sample : null,
    img: params.get('img'),
    view,
    rejected: [...refused].map((key) => `${key}=${params.get(key)}`),
  };
}

/** The one quiet notice for the refused values of a link (`key=value` texts), or null when there are none. */
export function linkNotice(rejected) {
  if (rejected.length === 0) return null;
  const shown = rejected.map((text) => (text.length > 40 ? `${text.slice(0, 39)}…` : text));
  return `Not understood in this link, so left at ${rejected.length === 1 ? 'its default' : 'their defaults'}: ${shown.join('; ')}.`;
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

/**
 * The page's delayed writes of its state to the hash, `delay` ms after the last change, that never overwrite a
 * hash the user changed meanwhile (typed, pasted, back/forward): a write happens only while the hash is still
 * the one the page last read or wrote, and `changed()` (call it on hashchange) drops a pending write. The
 * event of a user's edit can reach the page after the timer fired, so the first check is what makes it safe.
 * `read()` returns the current hash, `write(hash)` replaces it; the timer functions are injectable (tests).
 */
export function hashWriter({ read, write }, { delay = 250, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let known = read();
  let timer = null;
  const cancel = () => {
    clearTimer(timer);
    timer = null;
  };
  return {
    /** Writes `format()` after `delay` (called then, to see the latest state; null: nothing to write). */
    schedule(format) {
      cancel();
      timer = setTimer(() => {
        timer = null;
        if (read() !== known) return; // edited by the user since: theirs wins, its hashchange is on its way
        const next = format();
        if (next === null || next === known) return;
        write(next);
        known = next;
      }, delay);
    },
    /** The hash changed: drops the pending write; true when the hash is not the one the page wrote. */
    changed() {
      cancel();
      const hash = read();
      const foreign = hash !== known;
      known = hash;
      return foreign;
    },
  };
}
