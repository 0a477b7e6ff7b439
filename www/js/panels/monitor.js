// Runtime monitor panel (Cheng, Nührenberg & Yasuoka, DATE 2019): the on/off pattern of the monitored layer
// for the current input against the nearest pattern recorded for the predicted class on the training set.
// A Hamming distance above γ means the network reached its decision by an activation pattern it never used
// in training: a warning that the input may be out of distribution. γ is adjustable.

import { paintMap, mapCanvas, composeSnapshot, vectorGrid, describeDistance } from '../render.js';
import { el } from '../dom.js';
import { glossed } from '../glossary.js';
import { cliCommand } from '../export.js';

export const meta = {
  id: 'monitor',
  title: 'Runtime monitor',
  description: 'Is this activation pattern one the network used in training? Draw something odd to see it warn.',
  wide: true,
  explainedBy: 'monitor',
  requires: ['monitorCheck'],
  when: (app) => app.monitor !== null,
  view: (app) => ({
    // γ, the allowed Hamming distance ('' = the monitor's default)
    gamma: { default: '', valid: (v) => v === '' || (/^\d+$/.test(v) && Number(v) <= app.monitor.neurons) },
  }),
};

/** Bits as a near-square grid of 0/1 floats (NaN padding), for paintMap. */
function bitGrid(bits) {
  const [rows, columns] = vectorGrid(bits.length);
  const out = new Float32Array(rows * columns).fill(NaN);
  bits.forEach((bit, i) => {
    out[i] = bit;
  });
  return { rows, columns, data: out };
}

export function createPanel(root, app) {
  const entry = app.monitor;
  const build = entry.build ?? {};
  const status = el('p', { className: 'monitor-status', attrs: { 'aria-live': 'polite' } });
  const gamma = el('input', { type: 'range', className: 'gamma', min: '0', max: String(Math.min(entry.neurons ?? 20, 20)), step: '1' });
  const gammaValue = el('output', { className: 'gamma-value' });
  const about =
    `Layer ${entry.layer} (${entry.neurons} neurons, on = value > 0). Built from ${build.correct ?? '?'} correctly ` +
    `classified training images: ${build.patterns ?? '?'} distinct patterns. Default γ = ${entry.gamma}. ` +
    'Hatched cells only pad the grid: they are no neurons.';
  const nearestCaption = el('figcaption', { className: 'nearest-caption', textContent: 'Nearest training pattern' });
  const captions = [el('figcaption', { textContent: 'This input' }), nearestCaption, el('figcaption', { textContent: 'Differing neurons' })];
  const canvases = ['on/off pattern of this input', 'nearest training pattern', 'differing neurons'].map((label) => {
    const canvas = mapCanvas(label);
    canvas.classList.add('pattern-map');
    return canvas;
  });
  root.replaceChildren(
    el(
      'div',
      { className: 'monitor-layout' },
      el(
        'div',
        { className: 'monitor-side' },
        status,
        el('label', { className: 'field' }, el('span', {}, ...glossed('γ (allowed Hamming distance)')), gamma, gammaValue),
        el('p', { className: 'muted monitor-about' }, ...glossed(about)),
      ),
      el('div', { className: 'monitor-patterns' }, ...canvases.map((canvas, i) => el('figure', {}, el('div', { className: 'pattern-slot' }, canvas), captions[i]))),
    ),
  );
  gamma.addEventListener('input', () => app.setView({ gamma: gamma.value === String(entry.gamma) ? '' : gamma.value }));

  return {
    render() {
      const check = app.monitorCheck();
      gamma.value = String(check.gamma);
      gammaValue.textContent = String(check.gamma);
      gamma.setAttribute('aria-valuetext', `γ ${check.gamma}: warn when more than ${check.gamma} neurons differ`);
      status.classList.toggle('is-warn', check.warn);
      status.textContent = `${check.warn ? '⚠ Unfamiliar pattern' : '✓ Seen in training'}: ${describeDistance(check)} (predicted ${app.label(check.label)})`;
      const mine = bitGrid(Array.from(check.pattern));
      const nearest = bitGrid(check.nearest.length ? Array.from(check.nearest) : Array.from(check.pattern, () => NaN));
      const differing = bitGrid(Array.from(check.pattern, (bit, i) => (check.nearest.length ? Number(bit !== check.nearest[i]) : NaN)));
      [mine, nearest, differing].forEach((grid, i) => {
        paintMap(canvases[i], grid.data, { height: grid.rows, width: grid.columns, colormap: i === 2 ? 'inferno' : 'gray', range: [0, 1] });
      });
      nearestCaption.textContent = check.nearest.length ? `Nearest training pattern of class ${app.label(check.label)}` : `No training pattern of class ${app.label(check.label)}`;
    },
    /** As `convscope monitor check --json` prints it for the image. */
    data() {
      const { label, warn, distance } = app.monitorCheck();
      return { index: app.source?.kind === 'gallery' ? app.source.index : 0, label, warn, distance: Number.isFinite(distance) ? distance : null };
    },
    command: () => cliCommand(app, app.techniques('monitor')[0], { gamma: app.view.gamma === '' ? undefined : Number(app.view.gamma) }),
    snapshot(scale) {
      const check = app.monitorCheck();
      const [rows, columns] = vectorGrid(check.pattern.length);
      const size = [columns * 24, rows * 24]; // a neuron a 24 px square, the padding cells left blank
      return composeSnapshot({
        scale,
        title: `Runtime monitor: layer ${entry.layer}, ${entry.neurons} neurons (white on, black off)`,
        subtitle: status.textContent,
        rows: [{ tiles: canvases.map((canvas, i) => ({ canvas, size, caption: ['this input', nearestCaption.textContent, 'differing (yellow)'][i] })) }],
      });
    },
  };
}
