// The neural response map (issue 18): the neurons of every conv2d and linear layer laid out by t-SNE on one
// minus their correlation over the first 1,000 images of the model's t10k set (js/datasets.js fetches it once),
// trained once per model in the panel's lane on the second worker (js/nrm-tasks.js) with progress, the layout
// so far drawn as it forms, and Stop; then the current input's standardised activations painted over the
// layout on the page's thread, live while drawing (one forward pass and a weighted sum per pixel); beside it
// which layer each region holds, and beneath the mean map of each class over the same 1,000 t10k images
// (drawn in the panel's lane, as `convscope nrm generate --count 1000 --labels …` draws them).

import { el, selectOf } from '../dom.js';
import { lut } from '../visual.js';
import { t10kFiles } from '../datasets.js';
import { repoPath, f32 } from '../export.js';

const METHODS = [['nearest', 'nearest neuron'], ['linear', 'linear']];
const SIDE = 128;
const COUNT = 1000; // the t10k images the map is trained over and averaged over by class

export const meta = {
  id: 'responsemap',
  title: 'Neural response map',
  description: 'Every neuron as a place on a map; neurons that fire together sit together. Bright: active above its usual level.',
  explainedBy: 'response-map',
  requires: ['order'],
  when: (app) => Boolean(app.gallery),
  wide: true,
  view: () => ({
    nrmMethod: { default: 'linear', valid: (v) => METHODS.some(([value]) => value === v) },
    nrmShape: { default: 'square', valid: (v) => v === 'square' || v === 'circle' },
  }),
};

/** The training's layout so far (neurons × 2 in [0, 1]²) as dots. */
function dots(canvas, layout) {
  [canvas.width, canvas.height] = [SIDE, SIDE];
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, SIDE, SIDE);
  ctx.fillStyle = '#fde725';
  for (let i = 0; i + 1 < layout.length; i += 2) ctx.fillRect(layout[i] * (SIDE - 2), layout[i + 1] * (SIDE - 2), 2, 2);
}

/** Paints a generated map: NaN (outside the disc) transparent; one range for the maps painted together. */
function paint(canvas, map, range, colors = null) {
  [canvas.width, canvas.height] = [map.width, map.height];
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(map.width, map.height);
  const table = lut('viridis');
  const [lo, hi] = range;
  map.values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const region = map.regions[i];
    const k = Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo || 1))) * 255) * 3;
    const rgb = colors ? colors.subarray(region * 3, region * 3 + 3) : table.subarray(k, k + 3);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

const rangeOf = (maps) => maps.flatMap((m) => Array.from(m.values).filter((v) => !Number.isNaN(v))).reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);

/** The class-average maps (`nrmAverages` of js/nrm-tasks.js) side by side under `root`, on one range. */
function drawAverages(app, averages, root) {
  const range = rangeOf(averages.map((a) => a.drawn));
  root.replaceChildren(...averages.map(({ label, n, drawn }) => {
    const canvas = el('canvas', { className: 'map nrm-class-map' });
    paint(canvas, drawn, range);
    return el('figure', {}, canvas, el('figcaption', { textContent: `${app.label(label)} (${n})` }));
  }));
}

/** The class averages as `convscope nrm generate … --labels … --json` prints their maps. */
const averagesJson = (averages) => ({
  height: averages[0].drawn.height,
  width: averages[0].drawn.width,
  maps: averages.map(({ label, n, drawn }) => ({ title: `class ${label} (${n} images)`, values: Array.from(drawn.values, (v) => (Number.isNaN(v) ? null : f32(v))) })),
});

/** Which layer each region of the map holds, and the key of its colours. */
function drawRegions(app, drawn, canvas, key) {
  const colors = app.engine.call((_, glue) => glue.classColors());
  paint(canvas, drawn, [0, 1], colors);
  key.replaceChildren(...drawn.layers.map((name, i) => {
    const swatch = el('span', { className: 'nrm-swatch' });
    swatch.style.background = `rgb(${colors[i * 3]}, ${colors[i * 3 + 1]}, ${colors[i * 3 + 2]})`;
    return el('span', { className: 'nrm-layer' }, swatch, name);
  }));
}

const MAP = 'nrm-map'; // the trained map file's text, in the app's model cache

export function createPanel(root, app) {
  const method = selectOf(METHODS, app.view.nrmMethod, { attrs: { 'aria-label': 'interpolation' } });
  const circle = el('input', { type: 'checkbox', attrs: { 'aria-label': 'circle projection' } });
  const button = el('button', { type: 'button', className: 'button', textContent: 'Stop', dataset: { testid: 'nrm-train' } });
  const status = el('p', { className: 'muted nrm-status', dataset: { testid: 'nrm-status' }, attrs: { role: 'status' } });
  const live = el('canvas', { className: 'map nrm-map', dataset: { testid: 'nrm-live' } });
  const regions = el('canvas', { className: 'map nrm-map' });
  const key = el('span', { className: 'nrm-key' });
  const classes = el('div', { className: 'nrm-classes', dataset: { testid: 'nrm-classes' } });
  root.replaceChildren(
    el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Interpolation ', method), el('label', { className: 'field' }, circle, ' circle projection'), button),
    status,
    el('div', { className: 'nrm-row' }, el('figure', {}, live, el('figcaption', { textContent: 'this input' })), el('figure', {}, regions, el('figcaption', {}, 'layers: ', key))),
    el('h3', { className: 'neighbour-title', textContent: 'Class averages over the same 1,000 test images' }),
    classes,
  );
  method.addEventListener('change', () => app.setView({ nrmMethod: method.value }));
  circle.addEventListener('change', () => app.setView({ nrmShape: circle.checked ? 'circle' : 'square' }));
  const lane = app.lane('responsemap', { long: true });
  let map = null; // the ResponseMap of the page's wasm instance (made again after a restart)
  let training = 0; // the training running (its number), or 0
  let trainings = 0;
  let averagesFor = '';
  let averages = null; // the class averages drawn (nrmAverages's result)
  const mapOf = () => (map ??= app.modelCache.has(MAP) ? app.engine.call((_, glue) => glue.ResponseMap.fromJson(app.modelCache.get(MAP))) : null);
  const train = () => {
    const mine = (training = ++trainings);
    button.textContent = 'Stop';
    status.textContent = 'Training the map over 1,000 test images: loading them';
    const progress = (fraction, layout) => {
      if (training !== mine) return;
      status.textContent = `Training the map over 1,000 test images: ${Math.round(fraction * 100)}%`;
      if (layout) dots(live, layout);
    };
    const task = async (run, send) => send({ type: 'nrmTrain', images: (await t10kFiles(app.spec)).images, options: {} }, progress);
    lane.submit(task, { key: 'nrm-train', image: null }).then((result) => {
      if (!result || training !== mine) return;
      training = 0;
      app.modelCache.set(MAP, result.json);
      status.textContent = '';
      button.hidden = true;
      app.dispatchEvent(new Event('view'));
    }, (error) => {
      if (training !== mine) return;
      [training, button.textContent] = [0, 'Train'];
      status.textContent = `The map could not be trained: ${error.message}`;
    });
  };
  button.addEventListener('click', () => {
    if (!training) return train();
    lane.stop();
    [training, button.textContent] = [0, 'Train'];
    status.textContent = `${status.textContent.replace('Training', 'Stopped training')}; Train starts again.`;
  });
  const average = (signature) => {
    averagesFor = signature;
    const task = async (run, send) => send({ type: 'nrmAverages', map: app.modelCache.get(MAP), ...(await t10kFiles(app.spec)), count: COUNT, options: options() });
    lane.submit(task, { key: `nrm-averages ${signature}`, image: null }).then((result) => {
      if (result && averagesFor === signature) drawAverages(app, (averages = result), classes);
    }, (error) => averagesFor === signature && (status.textContent = `The class averages could not be drawn: ${error.message}`));
  };
  const restarted = () => ((map = null), (averagesFor = ''));
  app.addEventListener('restart', restarted);
  if (app.modelCache.has(MAP)) button.hidden = true;
  const options = () => ({ method: app.view.nrmMethod, size: [SIDE, SIDE], circle: app.view.nrmShape === 'circle' });
  return {
    /** Trained once the panel has stayed on screen (the t10k set is fetched then), not at page load. */
    shown: () => !app.modelCache.has(MAP) && !training && train(),
    render() {
      [method.value, circle.checked] = [app.view.nrmMethod, app.view.nrmShape === 'circle'];
      const trained = mapOf();
      if (!trained || !app.image) return;
      const current = app.engine.call((model) => trained.generate(model, app.image, options()));
      const signature = JSON.stringify(options());
      if (signature !== averagesFor) {
        average(signature);
        drawRegions(app, current, regions, key);
      }
      paint(live, current, rangeOf([current]));
      live.setAttribute('aria-label', `Response map of ${trained.neurons().length} neurons for this input`);
    },
    destroy() {
      app.removeEventListener('restart', restarted);
      if (training) lane.stop();
      map?.free();
    },
    data: () => averages && averagesJson(averages),
    command() {
      const t10k = repoPath(app.spec.dataset);
      const words = ['convscope', 'nrm', 'generate', '--model', repoPath(app.spec.manifest), '--map', 'convscope-map.json', '--idx', `${t10k}-images.idx3.gz`, '--count', String(COUNT), '--labels', `${t10k}-labels.idx1.gz`, '--method', app.view.nrmMethod, '--size', `${SIDE},${SIDE}`, ...(app.view.nrmShape === 'circle' ? ['--circle'] : []), '--json'];
      return { text: words.join(' '), file: app.modelCache.has(MAP) ? { name: 'convscope-map.json', blob: async () => new Blob([app.modelCache.get(MAP)], { type: 'application/json' }) } : null };
    },
  };
}
