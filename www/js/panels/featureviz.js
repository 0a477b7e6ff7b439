// Feature visualization panel: images optimized so that the network does something, by the catalogue's
// "featureviz" techniques — activation maximization of any channel, unit or class (click a class, an atlas
// cell or any feature map of the other panels), the atlas of a layer or of the classes filled in cell by cell,
// DeepDream of the current input and the inversion strip (the input rebuilt from every layer's features). With
// "Visualize what I click" on, a click anywhere else on the page that names an objective is visualized: a
// feature map or an fc unit (js/tiles.js: the tile's layer and channel), a class bar (its data-objective).
// Everything runs step by step on the panel's lane of the second background worker (App.lane, long: true), so
// an atlas never delays the attribution panel; a live preview and progress; a newer request of this panel or
// Stop cancels the running job, a redraw asking for the same run leaves it alone. Options come from the
// catalogue (js/controls.js) and live in the hash.

import { el, selectOf } from '../dom.js';
import { mapCanvas, formatValue } from '../render.js';
import { isCancelled } from '../remote.js';
import { optionFields, optionControl, techniqueHelp } from '../controls.js';
import { plan, samePlan, objectiveOf } from './featureviz-plan.js';
import { paintPicture, createCells, createProgress, snapshot, nameDefault } from './featureviz-view.js';

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

/** The objective a click on `target` names: a class bar's `data-objective`, a feature-map tile's `layer:channel`; or null. */
function clickedObjective(app, target) {
  const named = target.closest?.('[data-objective], [data-testid="feature-map"]');
  if (!named) return null;
  if (named.dataset.objective) return named.dataset.objective;
  const layer = /^\d+$/.test(named.dataset.layer) ? app.layers[Number(named.dataset.layer) - 1]?.name : named.dataset.layer;
  return layer ? `${layer}:${named.dataset.channel}` : null;
}

export function createPanel(root, app) {
  const techniques = app.techniques(FAMILY);
  const lane = app.lane(FAMILY, { long: true });
  const mode = selectOf(techniques.map((t) => [t.id, t.label]), app.view.fv, { className: 'fv-mode' });
  const classes = el('div', { className: 'toolbar fv-classes' }, 'Class:', ...app.labels.map((label, k) => el('button', { type: 'button', className: 'chip', textContent: label, onclick: () => visualize(`class:${k}`) })));
  const follow = el('input', { type: 'checkbox', className: 'fv-follow', checked: app.view.fvfollow, onchange: () => app.setView({ fvfollow: follow.checked }) });
  const stop = el('button', { type: 'button', className: 'button', textContent: 'Stop', dataset: { testid: 'featureviz-stop' }, onclick: () => halt() });
  const params = el('div', { className: 'toolbar fv-params' });
  const help = techniqueHelp();
  const main = mapCanvas('optimized image');
  main.classList.add('fv-main');
  main.dataset.testid = 'featureviz-image';
  const cells = createCells((title) => visualize(objectiveOf(app, title)));
  const progress = createProgress();
  const followField = el('label', { className: 'field', title: 'a click on a feature map, an fc unit (layer explorer) or a class bar (prediction) visualizes it' }, follow, 'Visualize what I click');
  root.append(el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Technique', mode), stop, followField), classes, params, help.element, progress.element, main, cells.element);
  mode.addEventListener('change', () => app.setView({ fv: mode.value }));

  /** Visualizes `objective` (a class, an atlas cell, a map, unit or class bar clicked anywhere on the page). */
  function visualize(objective) {
    app.setView({ fv: 'visualize', 'visualize.objective': objective });
  }
  const onMapClick = (event) => {
    const objective = app.view.fvfollow && !root.contains(event.target) ? clickedObjective(app, event.target) : null;
    if (objective) visualize(objective);
  };
  document.addEventListener('click', onMapClick);

  let controls = [];
  let shownFor = null;
  let shown = null; // the plan on screen (its cells, the snapshot)
  let stopped = null; // the plan Stop cancelled: not started again until the view asks for another
  function showControls(technique) {
    const own = technique.options.filter((o) => !(technique.id === 'invert' && o.key === 'layer'));
    controls = own.map((o) => optionControl(technique, o, app));
    params.replaceChildren(...controls.map((c) => c.element));
    nameDefault(params, 'atlas.layer', 'class images'); // the atlas's default layer is no layer: the classes
    help.show(technique);
    classes.hidden = technique.id !== 'visualize';
    shownFor = technique;
  }
  function halt() {
    stopped = shown;
    lane.stop();
    if (shown) progress.show(null, `${shown.heading} · stopped`);
  }

  /** Paints a job's pictures: into the cells from `offset` (the strip's job i fills cell i), or the main image. */
  function paint(work, pictures, offset) {
    if (!samePlan(work, shown)) return; // a run the view has left, before its cancel arrived
    if (work.cells) cells.show(pictures, offset);
    else if (pictures[0]) paintPicture(main, pictures[0]);
  }
  const cached = (job) => app.computed(job.technique, job.options, job.input === null);

  async function compute(run, work) {
    for (const [i, job] of work.jobs.entries()) {
      const offset = work.jobs.length > 1 ? i : 0;
      const label = work.jobs.length > 1 ? `${work.heading} · ${job.title}` : work.heading;
      const onProgress = (fraction, preview) => {
        if (samePlan(work, shown)) progress.show((i + fraction) / work.jobs.length, `${label} · ${Math.round(100 * fraction)} %`);
        if (preview) paint(work, preview.images, offset);
      };
      paint(work, (await run(job.technique, job.options, onProgress, job.input)).images, offset);
    }
    if (samePlan(work, shown)) progress.show(null, done(work));
  }
  const done = (work) => (work.cells ? `${work.heading} · done` : `${work.heading} · done · objective ${formatValue(cached(work.jobs[0])?.images.at(-1)?.objective ?? NaN)}`);

  return {
    render() {
      const technique = techniques.find((t) => t.id === app.view.fv);
      mode.value = technique.id;
      follow.checked = app.view.fvfollow;
      if (shownFor !== technique) showControls(technique);
      for (const control of controls) control.update();
      const work = plan(app, technique);
      if (work?.cells && !samePlan(work, shown)) cells.reset(work.cells);
      shown = work;
      main.hidden = !work || Boolean(work.cells);
      cells.element.hidden = !work?.cells;
      if (!work) return progress.show(null, technique.id === 'visualize' ? 'Pick a class or an atlas cell, type an objective, or turn on “Visualize what I click” and click a feature map, an fc unit or a class bar.' : 'Draw something or pick a test image first.');
      work.jobs.forEach((job, i) => cached(job) && paint(work, cached(job).images, work.jobs.length > 1 ? i : 0));
      if (work.jobs.every(cached)) return progress.show(null, done(work));
      if (samePlan(work, stopped)) return progress.show(null, `${work.heading} · stopped`);
      stopped = null;
      lane.submit((run) => compute(run, work), { key: work.key, image: work.image }).catch((error) => !isCancelled(error) && progress.show(null, `failed: ${error.message}`));
    },
    snapshot() {
      const tiles = shown?.cells ? cells.tiles() : [{ canvas: main, caption: shown?.heading ?? '' }];
      return snapshot(`Feature visualization (${app.info.name})`, shownFor?.label ?? '', tiles);
    },
    destroy() {
      document.removeEventListener('click', onMapClick);
    },
  };
}
