// Feature visualization panel: images optimized so that the network does something, by the catalogue's
// "featureviz" techniques — activation maximization of any channel, unit or class (click a class, an atlas
// cell or any feature map of the other panels), the atlas of a layer or of the classes filled in cell by cell,
// DeepDream of the current input and the inversion strip (the input rebuilt from every layer's features).
// Everything runs in the Web Worker step by step (js/worker.js) with a live preview and progress; a newer
// request or Stop cancels the running job. Options come from the catalogue (js/controls.js) and live in the hash.

import { el, selectOf } from '../dom.js';
import { mapCanvas, formatValue } from '../render.js';
import { isCancelled } from '../remote.js';
import { optionFields, optionControl, techniqueHelp } from '../controls.js';
import { plan, objectiveOf } from './featureviz-plan.js';
import { paintPicture, createCells, createProgress, snapshot } from './featureviz-view.js';

const FAMILY = 'featureviz';

export const meta = {
  id: 'featureviz',
  title: 'Feature visualization',
  description: 'What a unit, a layer or a class likes best, grown from noise by gradient ascent; DeepDream and inversions of the input.',
  wide: true,
  needsImage: false,
  requires: ['start'],
  when: (app) => app.techniques(FAMILY).length > 0,
  view(app) {
    const techniques = app.techniques(FAMILY);
    const known = (v) => techniques.some((t) => t.id === v);
    return { fv: { default: techniques[0].id, valid: known }, fvfollow: false, ...optionFields(techniques, app) };
  },
};

export function createPanel(root, app) {
  const techniques = app.techniques(FAMILY);
  const mode = selectOf(techniques.map((t) => [t.id, t.label]), app.view.fv, { className: 'fv-mode' });
  const classes = el('div', { className: 'toolbar fv-classes' }, 'Class:', ...app.labels.map((label, k) => el('button', { type: 'button', className: 'chip', textContent: label, onclick: () => visualize(`class:${k}`) })));
  const follow = el('input', { type: 'checkbox', className: 'fv-follow', checked: app.view.fvfollow, onchange: () => app.setView({ fvfollow: follow.checked }) });
  const stop = el('button', { type: 'button', textContent: 'Stop', dataset: { testid: 'featureviz-stop' }, onclick: () => app.background(async () => null) });
  const params = el('div', { className: 'toolbar fv-params' });
  const help = techniqueHelp();
  const main = mapCanvas('optimized image');
  main.classList.add('fv-main');
  main.dataset.testid = 'featureviz-image';
  const cells = createCells((title) => visualize(objectiveOf(app, title)));
  const progress = createProgress();
  const followField = el('label', { className: 'field', title: 'a click on a feature map of another panel visualizes that channel' }, follow, 'Visualize the feature map I click');
  root.append(el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Technique', mode), stop, followField), classes, params, help.element, progress.element, main, cells.element);
  mode.addEventListener('change', () => app.setView({ fv: mode.value }));

  /** Visualizes `objective` (a class, an atlas cell, a feature map clicked anywhere on the page). */
  function visualize(objective) {
    app.setView({ fv: 'visualize', 'visualize.objective': objective });
  }
  const onMapClick = (event) => {
    const tile = event.target.closest?.('[data-testid="feature-map"]');
    if (!tile || root.contains(tile) || !app.view.fvfollow) return;
    const layer = /^\d+$/.test(tile.dataset.layer) ? app.layers[Number(tile.dataset.layer) - 1]?.name : tile.dataset.layer;
    if (layer) visualize(`${layer}:${tile.dataset.channel}`);
  };
  document.addEventListener('click', onMapClick);

  let controls = [];
  let shownFor = null;
  let shown = null; // the plan on screen, for the snapshot
  function showControls(technique) {
    const own = technique.options.filter((o) => !(technique.id === 'invert' && o.key === 'layer'));
    controls = own.map((o) => optionControl(technique, o, app));
    params.replaceChildren(...controls.map((c) => c.element));
    help.show(technique);
    classes.hidden = technique.id !== 'visualize';
    shownFor = technique;
  }

  /** Paints a job's pictures: into the cells from `offset` (the strip's job i fills cell i), or the main image. */
  function paint(work, pictures, offset) {
    if (work.cells) cells.show(pictures, offset);
    else if (pictures[0]) paintPicture(main, pictures[0]);
  }
  const cached = (job) => app.computed(job.technique, job.options, job.input === null);

  async function compute(run, work) {
    for (const [i, job] of work.jobs.entries()) {
      const offset = work.jobs.length > 1 ? i : 0;
      const onProgress = (fraction, preview) => {
        progress.show((i + fraction) / work.jobs.length, `${job.title}: ${Math.round(100 * fraction)} %`);
        if (preview) paint(work, preview.images, offset);
      };
      const result = await run(job.technique, job.options, onProgress, job.input);
      paint(work, result.images, offset);
    }
    const last = cached(work.jobs.at(-1));
    progress.show(null, `${work.jobs.at(-1).title}: done, objective ${formatValue(last?.images.at(-1)?.objective ?? NaN)}`);
  }

  return {
    render() {
      const technique = techniques.find((t) => t.id === app.view.fv);
      mode.value = technique.id;
      follow.checked = app.view.fvfollow;
      if (shownFor !== technique) showControls(technique);
      for (const control of controls) control.update();
      const work = plan(app, technique);
      shown = work;
      main.hidden = !work || Boolean(work.cells);
      cells.element.hidden = !work?.cells;
      if (!work) return progress.show(null, technique.id === 'visualize' ? 'Pick a class, an atlas cell or a feature map, or type an objective.' : 'Draw something or pick a test image first.');
      if (work.cells) cells.reset(work.cells);
      work.jobs.forEach((job, i) => cached(job) && paint(work, cached(job).images, work.jobs.length > 1 ? i : 0));
      if (work.jobs.every(cached)) return progress.show(null, 'done');
      app.background((run) => compute(run, work)).catch((error) => !isCancelled(error) && progress.show(null, `failed: ${error.message}`));
    },
    snapshot() {
      const tiles = shown?.cells ? cells.tiles() : [{ canvas: main, caption: shown?.jobs[0]?.title ?? '' }];
      return snapshot(`Feature visualization (${app.info.name})`, shownFor?.label ?? '', tiles);
    },
    destroy() {
      document.removeEventListener('click', onMapClick);
    },
  };
}
