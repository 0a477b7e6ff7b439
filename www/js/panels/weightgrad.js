// The weight-gradient comparison (issue 18, after CNN-VIS's demo): ∂ logit[ref] / ∂ W of a conv layer, a volume
// [O, I, kh, kw] drawn as kernels (output channels across, input channels down), averaged over the first images
// of the reference class, of the class most confused with it and of a dissimilar one (both from the confusion
// matrix of the model over the first N images of its t10k set, as `convscope weight-gradient --compare REF
// --count N` picks them), computed in the panel's lane on the second worker (js/nrm-tasks.js), then animated:
// the running mean as the images accumulate, with play/pause and a slider (arrow keys), and the core's final
// mean on the last frame. Its JSON and CLI command are the CLI's.

import { el, selectOf } from '../dom.js';
import { lut } from '../visual.js';
import { t10kFiles } from '../datasets.js';
import { repoPath, f32 } from '../export.js';

const ROLES = ['reference', 'most confused', 'dissimilar'];
const convs = (app) => app.layers.filter((layer) => layer.type === 'conv2d').map((layer) => layer.name);
const TICK_MS = 300;

export const meta = {
  id: 'weightgrad',
  title: 'Weight gradients of three classes',
  description: 'How each class’s images would move a conv layer’s weights for one class output: the mean gradient of the reference class, of the class most confused with it and of a dissimilar one, as the images accumulate.',
  requires: ['compareWeightGradients'],
  needsImage: false,
  wide: true,
  view: (app) => ({
    wglayer: { default: convs(app)[0] ?? 'conv1', valid: (v) => convs(app).includes(v) },
    wgref: { default: 3 % app.labels.length, valid: (v) => Number.isInteger(v) && v >= 0 && v < app.labels.length },
    wgn: { default: 1000, valid: (v) => Number.isInteger(v) && v >= 30 && v <= 10000 },
  }),
};

/** The mean of the first `k` of `frames` ({ data }), as the core takes it (f64 sums, then f32). */
function runningMean(frames, k) {
  const n = Math.min(k, frames.length);
  const sum = new Float64Array(frames[0].data.length);
  for (let f = 0; f < n; f++) frames[f].data.forEach((v, i) => (sum[i] += v));
  return Float32Array.from(sum, (s) => s / n);
}

/** Kernels `[O, I, kh, kw]` on `canvas`: O across, I down, one pixel apart; diverging colours on ±`bound`. */
function paintKernels(canvas, shape, data, bound) {
  const [o, i, kh, kw] = shape;
  [canvas.width, canvas.height] = [o * (kw + 1) - 1, i * (kh + 1) - 1];
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  const table = lut('diverging');
  data.forEach((v, index) => {
    const [x, y] = [index % kw, Math.floor(index / kw) % kh];
    const [ci, co] = [Math.floor(index / (kw * kh)) % i, Math.floor(index / (kw * kh * i))];
    const k = Math.round(Math.min(1, Math.max(0, (v / (bound || 1) + 1) / 2)) * 255) * 3;
    image.data.set([table[k], table[k + 1], table[k + 2], 255], ((ci * (kh + 1) + y) * canvas.width + co * (kw + 1) + x) * 4);
  });
  ctx.putImageData(image, 0, 0);
}

export function createPanel(root, app) {
  const layer = selectOf(convs(app).map((name) => [name, name]), app.view.wglayer, { attrs: { 'aria-label': 'conv layer' } });
  const reference = selectOf(app.labels.map((_, c) => [c, app.label(c)]), app.view.wgref, { attrs: { 'aria-label': 'reference class' } });
  const play = el('button', { type: 'button', className: 'button', textContent: 'Play', dataset: { testid: 'wg-play' } });
  const slider = el('input', { type: 'range', min: 1, max: 1, step: 1, value: 1, attrs: { 'aria-label': 'images averaged' } });
  const status = el('p', { className: 'muted nrm-status', dataset: { testid: 'wg-status' }, attrs: { role: 'status' } });
  const figures = ROLES.map(() => ({ canvas: el('canvas', { className: 'map wg-kernels' }), caption: el('figcaption') }));
  root.replaceChildren(
    el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Layer ', layer), el('label', { className: 'field' }, 'Reference ', reference), play, el('label', { className: 'field' }, 'Images ', slider)),
    status,
    el('div', { className: 'wg-row', dataset: { testid: 'wg-volumes' } }, ...figures.map(({ canvas, caption }) => el('figure', {}, canvas, caption))),
  );
  layer.addEventListener('change', () => app.setView({ wglayer: layer.value }));
  reference.addEventListener('change', () => app.setView({ wgref: Number(reference.value) }));
  const lane = app.lane('weightgrad', { long: true });
  let shown = null; // { key, result } on screen
  let timer = null;
  let pending = null; // the key being computed
  const frames = () => Math.max(...shown.result.frames.map((list) => list.length));
  const pause = () => {
    clearInterval(timer);
    [timer, play.textContent] = [null, 'Play'];
  };
  const draw = () => {
    const { result } = shown;
    const k = Number(slider.value);
    const last = k >= frames();
    const means = result.frames.map((list, c) => (last ? result.means[c].data : runningMean(list, k)));
    const bound = Math.max(...means.map((m) => m.reduce((a, v) => Math.max(a, Math.abs(v)), 0)));
    figures.forEach(({ canvas, caption }, c) => {
      paintKernels(canvas, result.means[c].shape, means[c], bound);
      const n = Math.min(k, result.frames[c].length);
      caption.textContent = `${ROLES[c]}: ${app.label(result.classes[c])}, mean of ${n} image${n === 1 ? '' : 's'}${last ? `, cos ${result.cosine[c].toFixed(2)}` : ''}`;
      canvas.setAttribute('aria-label', `mean gradient of logit ${app.label(result.target)} over ${n} images of class ${app.label(result.classes[c])}`);
    });
  };
  const tick = () => {
    if (Number(slider.value) >= frames()) return pause();
    slider.value = String(Number(slider.value) + 1);
    draw();
  };
  play.addEventListener('click', () => {
    if (!shown || timer) return pause();
    if (Number(slider.value) >= frames()) slider.value = '1';
    play.textContent = 'Pause';
    timer = setInterval(tick, TICK_MS);
    draw();
  });
  slider.addEventListener('input', () => (pause(), shown && draw()));
  // Taking the slider stops the animation, even where its value stays (Home on the first frame).
  slider.addEventListener('keydown', (event) => event.key !== 'Tab' && pause());
  slider.addEventListener('pointerdown', pause);
  const options = () => ({ layer: app.view.wglayer, compare: [app.view.wgref] });
  const compute = (key) => {
    pending = key;
    status.textContent = `Computing the gradients over the first ${app.view.wgn.toLocaleString('en')} test images…`;
    const task = async (run, send) => send({ type: 'wgCompare', ...(await t10kFiles(app.spec)), count: app.view.wgn, options: options() });
    lane.submit(task, { key, image: null }).then((result) => {
      if (pending !== key) return;
      pending = null;
      if (!result) return;
      pause();
      shown = { key, result };
      status.textContent = '';
      [slider.max, slider.value] = [String(frames()), '1'];
      const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
      if (still) slider.value = slider.max;
      draw();
      if (!still) play.click();
    }, (error) => {
      if (pending === key) [pending, status.textContent] = [null, `The gradients could not be computed: ${error.message}`];
    });
  };

  let seen = false; // the t10k set is fetched once the panel is on screen
  const render = () => {
    [layer.value, reference.value] = [app.view.wglayer, String(app.view.wgref)];
    const key = JSON.stringify(options()) + app.view.wgn;
    if (shown?.key !== key && pending !== key && seen) compute(key);
  };
  return {
    render,
    shown: () => ((seen = true), render()),
    destroy: pause,
    /** As `convscope weight-gradient --compare REF --json` prints it. */
    data() {
      if (!shown) return null;
      const { classes, target, indices, cosine, means } = shown.result;
      return { classes, target, indices, cosine: Array.from(cosine), shape: means[0].shape, means: means.map((m) => Array.from(m.data, f32)) };
    },
    command() {
      const t10k = repoPath(app.spec.dataset);
      const words = ['convscope', 'weight-gradient', '--model', repoPath(app.spec.manifest), '--layer', app.view.wglayer, '--compare', String(app.view.wgref), '--images', `${t10k}-images.idx3.gz`, '--labels', `${t10k}-labels.idx1.gz`, '--count', String(app.view.wgn), '--json'];
      return { text: words.join(' '), file: null };
    },
  };
}
