// The input panel's preprocessing strip: how an upload became the network's input, step by step, from the
// wasm `preprocessStages` (the same code as the CLI's `--stages`, src/io/preprocess.rs): the photo in grey, its
// ink relative to the estimated paper (shadows divide out), the threshold (grey: thresholded but removed as
// ruled lines, specks or far marks), the cropped digit scaled to 20 px, and the centred input.

import { el } from '../dom.js';
import { paintMap, mapCanvas } from '../render.js';

const STEPS = [
  ['grey', 'grey', 'The photo in grey'],
  ['normalized', 'ink vs paper', 'Ink relative to the estimated paper: shadows and shading divide out'],
  ['mask', 'threshold', 'Ink above the threshold: white is kept, grey was removed (ruled lines, specks, far marks)'],
  ['crop', 'crop', 'The digit cropped and scaled so that its longer side is 20 pixels'],
  ['input', 'centred', 'Centred by its mass: the input the network sees'],
];

/** `{ element, show(stages, height, width), hide() }`; `height × width` is the model input's size. */
export function createStagesStrip() {
  const canvases = new Map(STEPS.map(([key, , help]) => [key, mapCanvas(help)]));
  const element = el(
    'figure',
    { className: 'stages-strip', hidden: true, dataset: { testid: 'stages' } },
    el('figcaption', { className: 'stages-title', textContent: 'How the upload was read' }),
    el(
      'ol',
      { className: 'stages-steps' },
      ...STEPS.map(([key, label, help]) => el('li', { className: 'stages-step', title: help, dataset: { stage: key } }, canvases.get(key), el('span', { textContent: label }))),
    ),
  );
  return {
    element,
    show(stages, height, width) {
      for (const [key] of STEPS) {
        const map = key === 'input' ? { shape: [height, width], data: stages.input } : stages[key];
        const [h, w] = map.shape;
        paintMap(canvases.get(key), map.data, { height: h, width: w, colormap: 'gray', range: [0, 1] });
      }
      element.hidden = false;
    },
    hide() {
      element.hidden = true;
    },
  };
}
