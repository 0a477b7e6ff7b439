// The weight-gradient comparison (issue 18, after CNN-VIS's demo): ∂ logit[ref] / ∂ W of a conv layer,
// [O, I, kh, kw], drawn as volumes (one slice per output channel, js/panels/weightgrad-view.js says how) or as
// a flat kernel grid, averaged over the first images
// of the reference class, of the class most confused with it and of a dissimilar one (both from the confusion
// matrix of the model over the first N images of its t10k set, as `convscope weight-gradient --compare REF
// --count N` picks them), computed in the panel's lane on the second worker (js/nrm-tasks.js), then animated:
// the running mean as the images accumulate, with play/pause and a slider (arrow keys), and the core's final
// mean on the last frame. Its JSON and CLI command are the CLI's.

import { el, selectOf } from '../dom.js';
import { FIGURE_VIEW, gradientFigures } from './weightgrad-view.js';
import { t10kFiles } from '../datasets.js';
import { repoPath, f32 } from '../export.js';

const convs = (app) => app.layers.filter((layer) => layer.type === 'conv2d').map((layer) => layer.name);
const TICK_MS = 300;

export const meta = {
  id: 'weightgrad',
  title: 'Weight gradients of three classes',
  description: 'How each class’s images would move a conv layer’s weights for one class output: the mean gradient of the reference class, of the class most confused with it and of a dissimilar one, as the images accumulate. Each volume has one slice per output channel (a filter: its input-channel kernels side by side), coloured by sign on one scale shared by the three; drag or use the arrow keys on any of them to turn all three, click a slice or press [ ] to pick one.',
  requires: ['compareWeightGradients'],
  needsImage: false,
  wide: true,
  view: (app) => ({
    wglayer: { default: convs(app)[0] ?? 'conv1', valid: (v) => convs(app).includes(v) },
    wgref: { default: 3 % app.labels.length, valid: (v) => Number.isInteger(v) && v >= 0 && v < app.labels.length },
    wgn: { default: 1000, valid: (v) => Number.isInteger(v) && v >= 30 && v <= 10000 },
    ...FIGURE_VIEW,
  }),
  consistent(view, app) {
    const outputs = app.layers.find((l) => l.name === view.wglayer)?.shape[0] ?? 1;
    return view.wgslice >= outputs ? ['wgslice'] : [];
  },
};

export function createPanel(root, app) {
  const layer = selectOf(convs(app).map((name) => [name, name]), app.view.wglayer, { attrs: { 'aria-label': 'conv layer' } });
  const reference = selectOf(app.labels.map((_, c) => [c, app.label(c)]), app.view.wgref, { attrs: { 'aria-label': 'reference class' } });
  const play = el('button', { type: 'button', className: 'button', textContent: 'Play', dataset: { testid: 'wg-play' } });
  const slider = el('input', { type: 'range', min: 1, max: 1, step: 1, value: 1, attrs: { 'aria-label': 'images averaged' } });
  const status = el('p', { className: 'muted nrm-status', dataset: { testid: 'wg-status' }, attrs: { role: 'status' } });
  const figures = gradientFigures(app);
  root.replaceChildren(
    el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Layer ', layer), el('label', { className: 'field' }, 'Reference ', reference), play, el('label', { className: 'field' }, 'Images ', slider), ...figures.controls),
    status,
    figures.element,
  );
  layer.addEventListener('change', () => app.setView({ wglayer: layer.value, wgslice: 0 }));
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
  const draw = () => figures.draw(shown.result, Number(slider.value));
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
    else if (shown?.key === key) draw();
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
