// Runtime monitor panel (Cheng, Nührenberg & Yasuoka, DATE 2019): the on/off pattern of the monitored layer
// for the current input against the nearest pattern recorded for the predicted class on the training set.
// A Hamming distance above γ means the network reached its decision by an activation pattern it never used
// in training: a warning that the input may be out of distribution. γ is adjustable.

import { paintMap, mapCanvas, composeSnapshot, vectorGrid, describeDistance } from '../render.js';

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
  root.innerHTML = `
    <div class="monitor-layout">
    <div class="monitor-side">
      <p class="monitor-status" aria-live="polite"></p>
      <label class="field">γ (allowed Hamming distance)
        <input type="range" class="gamma" min="0" max="${Math.min(entry.neurons ?? 20, 20)}" step="1">
        <output class="gamma-value"></output>
      </label>
      <p class="muted monitor-about"></p>
    </div>
    <div class="monitor-patterns">
      <figure><div class="pattern-slot"></div><figcaption>This input</figcaption></figure>
      <figure><div class="pattern-slot"></div><figcaption class="nearest-caption">Nearest training pattern</figcaption></figure>
      <figure><div class="pattern-slot"></div><figcaption>Differing neurons</figcaption></figure>
    </div>
    </div>`;
  const status = root.querySelector('.monitor-status');
  const gamma = root.querySelector('.gamma');
  const gammaValue = root.querySelector('.gamma-value');
  const nearestCaption = root.querySelector('.nearest-caption');
  const canvases = [...root.querySelectorAll('.pattern-slot')].map((slot, i) => {
    const canvas = mapCanvas(['on/off pattern of this input', 'nearest training pattern', 'differing neurons'][i]);
    canvas.classList.add('pattern-map');
    slot.append(canvas);
    return canvas;
  });
  root.querySelector('.monitor-about').textContent =
    `Layer ${entry.layer} (${entry.neurons} neurons, on = value > 0). Built from ${build.correct ?? '?'} correctly ` +
    `classified training images: ${build.patterns ?? '?'} distinct patterns. Default γ = ${entry.gamma}.`;
  gamma.addEventListener('input', () => app.setView({ gamma: gamma.value === String(entry.gamma) ? '' : gamma.value }));

  return {
    render() {
      const check = app.monitorCheck();
      gamma.value = String(check.gamma);
      gammaValue.textContent = String(check.gamma);
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
    snapshot() {
      return composeSnapshot({
        title: 'Runtime monitor',
        subtitle: status.textContent,
        rows: [{ tiles: canvases.map((canvas, i) => ({ canvas, caption: ['input', 'nearest', 'differing'][i] })) }],
      });
    },
  };
}
