// "Texture & style" (issue 16), by the catalogue's "texture" techniques: the Gram matrix of a layer for the
// input (which channels fire together, wherever they fire) and its style distance from a chosen image; texture
// synthesis (Gatys et al. 2015), a new image grown from seeded noise until its Gram matrices match a bundled
// texture's or an upload's; style transfer (2016), the input (or an upload) redrawn with a style image's Gram
// matrices. Syntheses run through the built-in random network (RGB) or the loaded model (luminance) on the
// panel's lane of the second background worker (App.lane, long: true: a synthesis of seconds never delays the
// interactive panels, and takes turns with the feature-visualization panel's jobs), step by step with a live
// preview, progress and Stop (or a newer Synthesize) cancelling it between two steps.
// Options come from the catalogue (js/controls.js) and live in the hash with the chosen texture.

import { el, selectOf } from '../dom.js';
import { formatValue, mapCanvas, composeSnapshot } from '../render.js';
import { optionFields, optionControl, techniqueHelp, techniqueOptions } from '../controls.js';
import { TEXTURES } from '../config.js';
import { bundled, uploaded, inputTensor, paintImage, paintGram } from './texture-view.js';

const FAMILY = 'texture';

export const meta = {
  id: 'texture',
  title: 'Texture & style',
  description: 'Which features fire together (Gram matrices), new textures grown to match them, and the input redrawn in another image\'s style.',
  wide: true,
  needsImage: false,
  requires: ['start', 'gram'],
  when: (app) => app.techniques(FAMILY).length > 0,
  view(app) {
    const techniques = app.techniques(FAMILY);
    const first = techniques.find((t) => t.longRunning) ?? techniques[0];
    return { tx: { default: first.id, valid: (v) => techniques.some((t) => t.id === v) }, txstyle: { default: TEXTURES[0], valid: (v) => TEXTURES.includes(v) }, ...optionFields(techniques, app) };
  },
};

/** The image channels `technique` works on with `options`: 1 through the model (and for a Gram matrix), 3 through the random network. */
function channelsOf(technique, options) {
  const net = options.net ?? technique.options.find((o) => o.key === 'net')?.default;
  return technique.id === 'gram' || net === 'model' ? 1 : 3;
}

/** The line under a finished synthesis: how far its style loss fell from the first step (a texture), or its losses and content error (a transfer). */
function summary(result, seconds) {
  const [start, end] = [result.history[0], result.styleLoss];
  const time = `done in ${seconds.toFixed(1)} s: `;
  if (result.contentLoss === undefined) return `${time}style loss ${formatValue(start)} → ${formatValue(end)} (${formatValue(start / end)}× lower)`;
  return `${time}loss ${formatValue(start)} → ${formatValue(result.loss)}: style loss ${formatValue(end)}, content error ${formatValue(Math.sqrt(result.contentLoss))}`;
}

export function createPanel(root, app) {
  const techniques = app.techniques(FAMILY);
  const mode = selectOf(techniques.map((t) => [t.id, t.label]), app.view.tx, { className: 'tx-mode', attrs: { 'aria-label': 'technique' } });
  const style = selectOf(TEXTURES.map((name) => [name, name]), app.view.txstyle, { className: 'tx-style' });
  const file = (testid) => el('input', { type: 'file', accept: 'image/*', className: 'tx-upload', dataset: { testid } });
  const [styleFile, contentFile] = [file('texture-style-upload'), file('texture-content-upload')];
  const contentField = el('label', { className: 'field' }, 'Content (else the input)', contentFile);
  const go = el('button', { type: 'button', className: 'button', textContent: 'Synthesize', dataset: { testid: 'texture-run' } });
  const stop = el('button', { type: 'button', className: 'button', textContent: 'Stop', dataset: { testid: 'texture-stop' } });
  const [params, help] = [el('div', { className: 'toolbar tx-params' }), techniqueHelp()];
  const bar = el('progress', { max: 1, value: 0, hidden: true, className: 'tx-progress' });
  const status = el('span', { className: 'muted', dataset: { testid: 'texture-status' }, attrs: { 'aria-live': 'polite' } });
  const [styleCanvas, out] = [mapCanvas('style image'), mapCanvas('result')];
  out.dataset.testid = 'texture-image';
  const figure = (canvas, text) => el('figure', { className: 'tx-figure' }, canvas, el('figcaption', { className: 'map-caption', textContent: text }));
  const row = el('div', { className: 'tx-row' }, figure(styleCanvas, 'style'), figure(out, 'result'));
  const tools = el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Technique', mode), el('label', { className: 'field' }, 'Style', style, styleFile), contentField, go, stop);
  root.append(tools, params, help.element, el('div', { className: 'toolbar' }, bar, status), row);
  const [lane, cache, files] = [app.lane(FAMILY, { long: true }), new Map(), { style: null, content: null }];
  // The style image is fetched once the panel is used or linked to (not on every page load: it works offline).
  let [controls, shownFor, generation, touched] = [[], null, 0, app.view.tx !== meta.view(app).tx.default || app.view.txstyle !== TEXTURES[0]];
  const current = () => techniques.find((t) => t.id === app.view.tx);
  const show = (fraction, text) => ([bar.hidden, bar.value, status.textContent] = [fraction === null, fraction ?? 0, text]);
  const styleImage = (channels) => (files.style ? uploaded(app, files.style, channels) : bundled(app, app.view.txstyle, channels, cache));

  async function synthesize() {
    const technique = current();
    const options = techniqueOptions(technique, app.view);
    const channels = channelsOf(technique, options);
    const transfer = technique.id !== 'texture';
    if (transfer && !files.content && !app.image) return show(null, 'Draw something or pick a test image first, or upload a content image.');
    const steps = options.steps ?? technique.options.find((o) => o.key === 'steps').default;
    const mine = ++generation;
    const started = performance.now();
    show(0, 'starting…');
    const onProgress = (fraction, preview) => {
      if (mine !== generation || !preview) return;
      show(fraction, `step ${preview.history.length} of ${steps} · loss ${formatValue(preview.history.at(-1))}`);
      paintImage(out, preview);
    };
    const task = async (run) => {
      const image = !transfer ? null : files.content ? await uploaded(app, files.content, channels) : inputTensor(app, channels);
      return run(technique.id, options, onProgress, image, await styleImage(channels));
    };
    try {
      const result = await lane.submit(task);
      if (!result || mine !== generation) return; // cancelled by Stop or a newer run
      paintImage(out, result);
      show(null, summary(result, (performance.now() - started) / 1000));
    } catch (error) {
      if (mine === generation) show(null, `failed: ${error.message}`);
    }
  }

  async function gram() {
    if (!app.image) return show(null, 'Draw something or pick a test image first.');
    const technique = current();
    const option = technique.options.find((o) => o.key === 'layer');
    const layer = techniqueOptions(technique, app.view).layer ?? app.layers.find((l) => option.layerTypes.includes(l.type)).name;
    const reference = await styleImage(1);
    const g = app.core('gram', app.image, { layer }, reference);
    paintGram(out, g);
    show(null, `${layer}: ${g.shape[0]} × ${g.shape[1]} Gram matrix of the input; its style distance from the style image ${formatValue(g.styleDistance)}`);
  }

  const touch = () => !touched && ((touched = true), app.dispatchEvent(new Event('view')));
  root.addEventListener('change', touch, true);
  root.addEventListener('click', touch, true);
  mode.addEventListener('change', () => app.setView({ tx: mode.value }));
  style.addEventListener('change', () => ((files.style = null), (styleFile.value = ''), app.setView({ txstyle: style.value }), app.dispatchEvent(new Event('view'))));
  styleFile.addEventListener('change', () => ((files.style = styleFile.files[0] ?? null), app.dispatchEvent(new Event('view'))));
  contentFile.addEventListener('change', () => (files.content = contentFile.files[0] ?? null));
  go.addEventListener('click', synthesize);
  stop.addEventListener('click', () => ((generation += 1), lane.stop(), show(null, 'stopped')));

  return {
    render() {
      const technique = current();
      [mode.value, style.value] = [technique.id, app.view.txstyle];
      if (shownFor !== technique) {
        controls = technique.options.map((o) => optionControl(technique, o, app));
        params.replaceChildren(...controls.map((c) => c.element));
        help.show(technique);
        shownFor = technique;
      }
      controls.forEach((c) => c.update());
      contentField.hidden = technique.id !== 'style-transfer';
      go.hidden = stop.hidden = !technique.longRunning;
      styleCanvas.hidden = !touched;
      if (touched) styleImage(3).then((t) => paintImage(styleCanvas, t)).catch((error) => show(null, `the style image: ${error.message}`));
      if (!technique.longRunning) gram().catch((error) => show(null, `failed: ${error.message}`));
    },
    snapshot: () => composeSnapshot({ title: `Texture & style (${app.info.name})`, subtitle: status.textContent, rows: [{ tiles: [{ canvas: styleCanvas, caption: 'style' }, { canvas: out, caption: shownFor?.label ?? '' }] }] }),
    destroy: () => lane.stop(),
  };
}
