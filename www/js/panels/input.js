// Input panel: a drawing surface (mouse, touch, pen via pointer events), brush size, clear, image upload, and
// the 28×28 image the network actually sees. Drawing and uploads are preprocessed by the wasm module exactly
// as the CLI does (find the ink against the paper, fit it into 20×20, centre by mass in 28×28); after an
// upload, a strip shows each step (js/panels/stages.js).

import { SIZES } from '../visual.js';
import { el } from '../dom.js';
import { paintMap, mapCanvas, composeSnapshot, setText } from '../render.js';
import { createDrawing } from './drawing.js';
import { createStagesStrip } from './stages.js';
import { f32 } from '../export.js';

export const meta = {
  id: 'input',
  title: 'Input',
  description: 'Draw with mouse, finger or pen, or upload an image. The small square is the 28×28 input the network sees.',
  needsImage: false,
  live: true, // drawn on every frame of a stroke (js/frame.js)
};

function describe(app, source) {
  switch (source?.kind) {
    case undefined:
      return '';
    case 'gallery':
      return `Test image #${source.index} · true class ${app.label(source.label)}`;
    case 'upload':
      return `Uploaded ${source.name}`;
    case 'link':
      return 'From the link';
    default:
      return 'Your drawing';
  }
}

/**
 * The small block beside the canvas with the predicted class and its probability (empty without an input):
 * `{ element, show(app) }`, updated in place (it changes on every frame of a pen stroke).
 */
function miniPrediction() {
  const [label, confidence] = [el('span', { className: 'mini-label' }), el('span', { className: 'mini-confidence' })];
  const element = el('p', { className: 'mini-prediction', dataset: { testid: 'mini-prediction' }, attrs: { 'aria-hidden': 'true' } }, label, confidence);
  const show = (app) => {
    const prediction = app.image && app.prediction();
    const text = prediction ? app.label(prediction.label) : '';
    element.classList.toggle('is-blank', !prediction);
    setText(label, text);
    label.classList.toggle('is-long', text.length > 3);
    setText(confidence, prediction ? `${(prediction.probs[prediction.label] * 100).toFixed(1)}%` : '');
  };
  return { element, show };
}

export function createPanel(root, app) {
  const { height, width } = app.info.input;
  const brush = el('input', { type: 'range', className: 'brush', min: SIZES.brushMin, max: SIZES.brushMax, value: SIZES.brushDefault });
  const speakBrush = () => brush.setAttribute('aria-valuetext', `${brush.value} pixels wide`);
  speakBrush();
  brush.addEventListener('input', speakBrush);
  const message = el('p', { className: 'input-message', attrs: { role: 'status' } });
  const sourceText = el('span', { className: 'preview-source' });
  const preview = mapCanvas(`The ${height}×${width} network input`);
  const clear = el('button', { type: 'button', className: 'button', textContent: 'Clear', dataset: { testid: 'clear' } });
  const accept = 'image/png,image/jpeg,image/x-portable-graymap,.pgm,image/*';
  const fileInput = el('input', { type: 'file', accept, dataset: { testid: 'upload' } });
  const strip = createStagesStrip();
  // Phones: the prediction panel sits below the first screen, so a small copy of its answer sits beside the
  // canvas (css/panels.css shows it on narrow screens only; the prediction panel speaks it, this one is silent).
  const mini = miniPrediction();

  // Uploads (the button, or a file dropped onto the drawing) and drawings are preprocessed by the module.
  async function useFile(file) {
    if (!file) return;
    try {
      const stages = app.preprocessStages(new Uint8Array(await file.arrayBuffer()));
      message.textContent = '';
      app.setImage(stages.input, { kind: 'upload', name: file.name });
      strip.show(stages, height, width);
    } catch (error) {
      message.textContent = `Could not use ${file.name}: ${error?.message ?? error}`;
    }
  }
  let inputs = 0; // the worker's answer (App.preprocessDrawing) to a drawing that another input overtook is dropped
  async function analyseDrawing(stroking) {
    const mine = inputs;
    try {
      const image = await app.preprocessDrawing(drawing.rgba(), SIZES.drawCanvas, SIZES.drawCanvas);
      if (image === null || mine !== inputs) return;
      message.textContent = '';
      // The drawing as a PNG file, for the CLI command that reproduces the view (js/export.js).
      const canvasBlob = () => new Promise((resolve) => drawing.canvas.toBlob(resolve, 'image/png'));
      app.setImage(image, { kind: 'drawn', canvasBlob, stroking });
    } catch {
      if (mine === inputs) app.setImage(null, null); // an empty canvas has no ink to centre: the empty state, not an analysis
    }
  }
  const drawing = createDrawing({ brush: () => Number(brush.value), onDraw: analyseDrawing, onDrop: useFile });
  root.append(
    el(
      'div',
      { className: 'input-layout' },
      el('div', { className: 'draw-wrap' }, drawing.canvas, mini.element),
      el(
        'div',
        { className: 'input-side' },
        el('figure', { className: 'preview' }, el('div', { className: 'preview-frame' }, preview), el('figcaption', {}, el('span', { className: 'preview-title', textContent: `Network input ${height}×${width}` }), sourceText)),
        el('label', { className: 'field' }, 'Brush', brush),
        el('div', { className: 'button-row' }, clear, el('label', { className: 'button button-primary file-button' }, 'Upload image', fileInput)),
        message,
      ),
    ),
    strip.element,
  );
  clear.addEventListener('click', () => {
    drawing.clear();
    message.textContent = '';
    app.setImage(null, null);
  });
  fileInput.addEventListener('change', () => {
    useFile(fileInput.files[0]);
    fileInput.value = '';
  });
  // A new input from elsewhere (gallery, upload, link) goes onto the surface, so further strokes continue it.
  app.addEventListener('image', () => {
    if (app.source?.kind !== 'drawn') inputs++; // Clear included (its source is null)
    if (app.image && app.source?.kind !== 'drawn') drawing.show(app.image, height, width);
    if (app.source?.kind !== 'upload') strip.hide();
  });

  return {
    destroy: () => drawing.stop(), // the model is about to be freed
    render() {
      setText(sourceText, describe(app, app.source));
      mini.show(app);
      preview.classList.toggle('is-blank', !app.image);
      // Only the first channel: LeNet-5's inputs are grayscale.
      paintMap(preview, app.image ?? new Float32Array(height * width), { height, width, colormap: 'gray', range: [0, 1] });
    },
    /** The network input: `{ source, shape, data }`, values in [0, 1] (what every other panel's command reads). */
    data: () => app.image && { source: describe(app, app.source), shape: [1, height, width], data: Array.from(app.image, f32) },
    snapshot: (scale) =>
      app.image &&
      composeSnapshot({
        scale,
        title: `Network input ${height}×${width}, ${SIZES.drawCanvas / width}× without smoothing`,
        subtitle: `${describe(app, app.source)} · black 0 … white 1, as the network reads it`,
        rows: [{ tiles: [{ canvas: preview, caption: `${height}×${width} pixels, preprocessed as the CLI does` }] }],
        cell: SIZES.drawCanvas,
        legend: { colormap: 'gray', range: [0, 1], label: 'pixel value' },
      }),
  };
}
