// The optional guided tour of the page (issue 14, scope 1): draw → the whole network → conv1 → deconvnet →
// attribution → monitor → feature visualization → dataset maps → texture → response map → glossary. Each step scrolls its panel into view, outlines it
// and says in a few words what to look at; Next, Back, Close, Escape closes from anywhere. A step whose panel
// the model does not offer (the monitor on Fashion-MNIST) is skipped. The tour card is a non-modal dialog: the
// panels stay usable (draw while the tour talks), its text is a polite live region, the focus goes to it on
// start and back to the start button on close.

import { el } from './dom.js';
import { glossed } from './glossary.js';

/** `[panel id, title, text, enter?(app)]`: `enter` sets the view the step talks about. */
const STEPS = [
  ['input', 'Draw a digit', 'Draw here with the mouse, a finger or a pen, or pick a test image below. The small square beside it is what the network really sees: 28×28 grey pixels.'],
  ['prediction', 'The answer', 'The network\'s answer, live while you draw: one probability per class, the softmax of the ten logits shown on the right. Add a stroke and watch it change.'],
  ['architecture', 'The whole network', 'The input flows left to right through every layer of LeNet-5 to the ten outputs; each box shows that layer\'s current activations. Click a box to open it in the layer explorer.'],
  ['layers', 'conv1: the first feature maps', 'conv1 slides six learned 5×5 filters over the input: one feature map each, bright where its filter finds its pattern (an edge of one direction, a stroke end). Click a map to send it to the deconvnet.', (app) => app.setView({ layer: app.deconvLayers[0]?.conv ?? 1, channel: 0 })],
  ['deconv', 'Deconvnet: back to pixels', 'Pick a feature map of conv1 or conv2: the deconvnet projects it back to the input through the pooling switches and the transposed filters, showing the strokes that made it fire.'],
  ['attribution', 'Attribution: which pixels count', 'Which pixels raise (red) or lower (blue) a class score, by ten methods side by side. They do not always agree: compare the gradient with integrated gradients and occlusion.'],
  ['monitor', 'The runtime monitor', 'Does this input switch fc2\'s neurons on and off the way a training image did? The Hamming distance counts the neurons that differ; above γ it warns. Scribble something odd to see it.'],
  ['featureviz', 'What a class likes best', 'Feature visualization grows an image from noise by gradient ascent until a class, a channel or a unit responds as strongly as it can.'],
  ['maps', 'Where the test images land', 'Every test image as a point, placed by PCA, t-SNE or UMAP of its activations at one layer: from the pixels to the last hidden layer, the images of a class gather. Open the test set to draw them; misclassified images are ringed.'],
  ['texture', 'Texture and style', 'Which channels fire together, wherever they fire (Gram matrices): match them and you get a new image with the same texture; keep the content too and you get style transfer.'],
  ['responsemap', 'Every neuron on one map', 'Neurons that fire together over the test images sit together; your input lights up the ones it drives above their usual level, live while you draw.'],
  ['glossary', 'Words, explained', 'Every dotted-underlined word on the page opens its definition in place; the glossary lists them all. That is the tour: now change the input and explore.'],
];

/**
 * The tour behind `startButton`: `app()` gives the current app (null while none is open). Returns
 * `{ start(), close(), next(), back(), element }` (the card; tests drive it through its buttons).
 */
export function createTour(startButton, app) {
  const counter = el('p', { className: 'tour-counter muted' });
  const title = el('h2', { className: 'tour-title', id: 'tour-title', tabIndex: -1 });
  const text = el('p', { className: 'tour-text' });
  const spoken = el('div', { className: 'tour-live', attrs: { 'aria-live': 'polite' } }, counter, title, text);
  const back = el('button', { type: 'button', className: 'button tour-back', textContent: 'Back' });
  const next = el('button', { type: 'button', className: 'button button-primary tour-next', textContent: 'Next' });
  const close = el('button', { type: 'button', className: 'button tour-close', textContent: 'Close', attrs: { 'aria-label': 'Close the tour' } });
  const element = el('div', { className: 'tour', id: 'tour', hidden: true, dataset: { testid: 'tour' }, attrs: { role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'tour-title' } }, spoken, el('div', { className: 'button-row tour-buttons' }, back, next, close));
  document.body.append(element);

  let steps = [];
  let at = -1;
  let target = null;

  function show(index) {
    target?.classList.remove('tour-target');
    at = index;
    const [id, heading, words, enter] = steps[at];
    target = document.getElementById(`panel-${id}`);
    enter?.(app());
    target.classList.add('tour-target');
    target.scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    counter.textContent = `Tour: step ${at + 1} of ${steps.length}`;
    title.textContent = heading;
    text.replaceChildren(...glossed(words));
    back.disabled = at === 0;
    next.textContent = at === steps.length - 1 ? 'Finish' : 'Next';
    element.dataset.step = id;
  }

  function stop() {
    if (element.hidden) return;
    target?.classList.remove('tour-target');
    target = null;
    at = -1;
    element.hidden = true;
    startButton.setAttribute('aria-expanded', 'false');
    startButton.focus();
  }

  function start() {
    steps = STEPS.filter(([id]) => document.getElementById(`panel-${id}`));
    if (!app() || steps.length === 0) return;
    element.hidden = false;
    startButton.setAttribute('aria-expanded', 'true');
    show(0);
    title.focus({ preventScroll: true });
  }

  back.addEventListener('click', () => at > 0 && show(at - 1));
  next.addEventListener('click', () => (at < steps.length - 1 ? show(at + 1) : stop()));
  close.addEventListener('click', stop);
  startButton.addEventListener('click', () => (element.hidden ? start() : stop()));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !element.hidden && !event.defaultPrevented) stop();
  });
  return { element, start, close: stop, next: () => next.click(), back: () => back.click() };
}
