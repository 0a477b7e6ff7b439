// The "perf" footer: how long the core takes in this browser. Each call is repeated until 100 ms have passed
// (timer resolution in browsers is coarse, often 0.1 ms; App.measure), and the mean per call is shown.

import { el } from './dom.js';

function formatMicros(us) {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 1 : 0)} µs`;
}

function wasmSize() {
  const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith('_bg.wasm'));
  if (!entry || !entry.decodedBodySize) return '';
  const kb = (bytes) => `${Math.round(bytes / 1024)} kB`;
  const wire = entry.encodedBodySize && entry.encodedBodySize !== entry.decodedBodySize ? ` (${kb(entry.encodedBodySize)} transferred)` : '';
  return `wasm ${kb(entry.decodedBodySize)}${wire}`;
}

/** Fills `root` with the timings of `app`'s model on its current image; a button measures again. */
export function createPerfFooter(root, app) {
  const text = el('span', { className: 'perf-text', textContent: 'Timings appear after the first analysis.', attrs: { 'aria-live': 'polite' } });
  const again = el('button', { type: 'button', className: 'link-button perf-again', textContent: 'Measure again' });
  root.replaceChildren(text, ' ', again);

  function run() {
    if (!app.image) {
      text.textContent = 'Pick an input to measure.';
      return;
    }
    const parts = [];
    try {
      parts.push(`forward ${formatMicros(app.measure('predict'))}`, `all activations ${formatMicros(app.measure('activations'))}`);
      if (app.deconvLayers.length) {
        const total = app.deconvLayers.reduce((n, g) => n + g.channels, 0);
        parts.push(`deconvnet, all ${total} maps ${formatMicros(app.measure('deconvAll'))}`);
      }
    } catch (error) {
      text.textContent = `Could not measure: ${error.message}`;
      return;
    }
    const size = wasmSize();
    if (size) parts.push(size);
    text.textContent = `Measured in this browser: ${parts.join(' · ')}`;
  }

  again.addEventListener('click', run);
  const idle = window.requestIdleCallback ?? ((fn) => setTimeout(fn, 200));
  let stopped = false;
  idle(() => stopped || run(), { timeout: 3000 });
  return {
    run,
    /** Call before the model is freed. */
    stop() {
      stopped = true;
    },
  };
}
