// Attribution panel: which input pixels give a class its score, by every technique of the catalogue's
// "attribution" family, for any target class. The method select, the option fields (range, step, default,
// help) and the explanation all come from the wasm `catalogue()`; the map is overlaid on the input and other
// techniques can be compared side by side. Everything runs in the Web Worker (js/worker.js), the long-running
// techniques step by step with a progress bar; a newer request (a stroke, an option) cancels the running one.

import { el, selectOf } from '../dom.js';
import { composeSnapshot } from '../render.js';
import { isCancelled } from '../remote.js';
import { cliCommand, f32 } from '../export.js';
import { optionKey, optionFields, techniqueOptions, optionControl, techniqueHelp } from '../controls.js';
import { createOverlay, createCompare, resultStyle } from './attribution-view.js';

const FAMILY = 'attribution';

/** Version-1 links (before the catalogue) had bare option keys, `camlayer` for `layer`, floats in percent. */
function upgrade(params, version, app) {
  if (version !== 1) return;
  for (const [key, raw] of [...params]) {
    if (key === 'layer') continue; // version 1's `layer` is the layer explorer's
    const name = key === 'camlayer' ? 'layer' : key;
    for (const technique of app.techniques(FAMILY)) {
      const option = technique.options.find((o) => o.key === name && !o.common);
      if (option) params.set(optionKey(technique, option), option.type === 'float' ? String(Number(raw) / 100) : raw);
    }
  }
}

export const meta = {
  id: 'attribution',
  title: 'Attribution',
  description: 'Which pixels raise (red) or lower (blue) a class score. Runs in a background worker.',
  wide: true,
  requires: ['attribute'],
  when: (app) => app.techniques(FAMILY).length > 0,
  view(app) {
    const techniques = app.techniques(FAMILY);
    const known = (id) => techniques.some((t) => t.id === id);
    return {
      // The page opens on the catalogue's declared default (Rust `Method::DEFAULT`, `familyDefault`).
      method: { default: (techniques.find((t) => t.familyDefault) ?? techniques[0]).id, valid: known },
      aview: { default: 'signed', valid: (v) => v === 'signed' || v === 'absolute' },
      opacity: { default: 70, valid: (v) => Number.isInteger(v) && v >= 0 && v <= 100 },
      compare: { default: '', valid: (v) => typeof v === 'string' && v.split(',').filter(Boolean).every(known) },
      ...optionFields(techniques, app),
    };
  },
  upgrade,
};

/** A result as the CLI's `attribute --json` prints it (the keys the page has; float32 values written shortest). */
function exported(app, technique, result) {
  const output = app.view[optionKey(technique, technique.options.find((o) => o.key === 'output'))];
  const gaps = { completeness_gap: result.completenessGap, baseline_score: result.baselineScore };
  const extra = [...Object.entries(gaps).map(([k, v]) => [k, v === undefined ? v : f32(v)]), ['layer', result.camLayer]].filter(([, v]) => v !== undefined);
  return { method: technique.id, target: result.target, output, score: f32(result.score), signed: result.signed, shape: result.shape.slice(-2), data: Array.from(result.data, f32), ...Object.fromEntries(extra) };
}

export function createPanel(root, app) {
  const techniques = app.techniques(FAMILY);
  const common = techniques[0].options.filter((o) => o.common).map((o) => optionControl(techniques[0], o, app));
  const method = selectOf(techniques.map((t) => [t.id, t.label]), app.view.method, { className: 'method' });
  const aview = selectOf([['signed', 'signed'], ['absolute', 'absolute value']], app.view.aview, { className: 'aview' });
  const opacity = el('input', { type: 'range', className: 'opacity', min: 0, max: 100, value: app.view.opacity });
  const params = el('div', { className: 'toolbar attribution-params' });
  const help = techniqueHelp();
  const overlay = createOverlay(app);
  const compare = createCompare(app, techniques);
  const field = (label, control) => el('label', { className: 'field' }, label, control);
  root.append(
    el('div', { className: 'toolbar' }, field('Method', method), ...common.map((c) => c.element), field('Show', aview), field('Overlay', opacity)),
    params,
    help.element,
    el('div', { className: 'attribution-layout' }, overlay.element, compare.element),
  );
  method.addEventListener('change', () => app.setView({ method: method.value }));
  aview.addEventListener('change', () => app.setView({ aview: aview.value }));
  opacity.addEventListener('input', () => app.setView({ opacity: Number(opacity.value) }));
  opacity.setAttribute('aria-label', 'Overlay opacity');

  const current = () => techniques.find((t) => t.id === app.view.method);
  const request = (technique) => ({ technique, options: techniqueOptions(technique, app.view) });
  const cached = ({ technique, options }) => app.computed(technique.id, options);
  let controls = [];
  let controlsFor = null;

  function showControls(technique) {
    controls = technique.options.filter((o) => !o.common).map((o) => optionControl(technique, o, app));
    params.replaceChildren(...controls.map((c) => c.element));
    params.hidden = controls.length === 0;
    help.show(technique);
    controlsFor = technique;
  }

  /** Computes in the worker what the view lacks, the main map first, painting each result as it arrives. */
  async function compute(run, [main, ...others]) {
    const progress = (technique) => (fraction) => overlay.progress(technique, fraction);
    try {
      if (!cached(main)) {
        overlay.caption.textContent = `${main.technique.label}: computing…`;
        overlay.show(main.technique, await run(main.technique.id, main.options, progress(main.technique)));
      }
      for (const other of others.filter((r) => !cached(r))) {
        compare.pending(other.technique);
        compare.show(other.technique, await run(other.technique.id, other.options, progress(other.technique)));
      }
    } catch (error) {
      if (!isCancelled(error)) overlay.caption.textContent = `${main.technique.label} failed: ${error.message}`;
    } finally {
      overlay.progress(main.technique, null);
    }
  }

  return {
    render() {
      const technique = current();
      for (const [control, key] of [[method, 'method'], [aview, 'aview'], [opacity, 'opacity']]) control.value = String(app.view[key]);
      opacity.setAttribute('aria-valuetext', `${app.view.opacity} percent`);
      for (const control of [...common, ...controls]) control.update();
      if (controlsFor !== technique) showControls(technique);
      overlay.paintInput(app.view.opacity);
      const chosen = compare.chosen();
      compare.sync(chosen);
      const requests = [technique, ...chosen].map(request);
      // Repaint what is cached (the view may only have changed its display), then fetch what is missing.
      const results = requests.map(cached);
      if (results[0]) overlay.show(technique, results[0]);
      chosen.forEach((t, i) => results[i + 1] && compare.show(t, results[i + 1]));
      if (results.some((result) => !result)) app.background((run) => compute(run, requests)).catch(() => {});
    },
    data() {
      const technique = current();
      const result = cached(request(technique));
      return result && exported(app, technique, result);
    },
    command: () => cliCommand(app, current(), techniqueOptions(current(), app.view), ['--method', current().id]),
    snapshot(scale) {
      const technique = current();
      const result = cached(request(technique));
      if (!result) return null;
      const merged = el('canvas', { width: overlay.base.width, height: overlay.base.height });
      const ctx = merged.getContext('2d');
      ctx.filter = 'brightness(0.5)'; // as on screen
      ctx.drawImage(overlay.base, 0, 0);
      ctx.filter = 'none';
      ctx.globalAlpha = app.view.opacity / 100;
      ctx.drawImage(overlay.top, 0, 0);
      const chosen = compare.chosen().filter((t) => cached(request(t)));
      const { colormap, range } = resultStyle(result, app.view.aview === 'absolute');
      return composeSnapshot({ scale, 
        title: `Attribution: class ${app.label(result.target)}`,
        subtitle: overlay.caption.textContent,
        rows: [{ tiles: [{ canvas: merged, caption: 'overlay' }, { canvas: overlay.top, caption: technique.label }, ...compare.canvases(chosen)] }],
        legend: { colormap, range },
      });
    },
  };
}
