// The glossary: every jargon word the page shows, defined once in plain words (issue 14, scope 1). The
// glossary panel (js/panels/glossary.js) lists these entries; `glossed(text)` turns a text into nodes with
// each term's first mention as a small button that opens its definition right under the text (keyboard and
// touch: a click, Enter or Space; Escape closes), from which "In the glossary" leads to the full list.
// An entry: `id` (the anchor `glossary-<id>`), `term` (as listed), `match` (the spellings found in texts,
// whole words, any case), `text` (the definition). No HTML: texts go in as text.

import { el } from './dom.js';

export const GLOSSARY = [
  { id: 'feature-map', term: 'feature map (channel)', match: ['feature maps?', 'channels?'], text: 'One output image of a conv layer: how strongly one learned filter responds at each position of its input. A conv layer with 6 filters has 6 feature maps, also called channels.' },
  { id: 'activation', term: 'activation', match: ['activations?', 'fires?', 'firing'], text: 'The value a neuron or a position of a feature map outputs for the current input. A unit "fires" when its activation is above zero (after a ReLU).' },
  { id: 'neuron', term: 'neuron (unit)', match: ['neurons?', 'units?'], text: 'One number computed by a layer: one position of one feature map, or one entry of a fully connected layer.' },
  { id: 'layer-names', term: 'conv1, relu1, pool1, …, fc1', match: ['(?:conv|relu|pool|fc)\\d', 'flatten', 'log_softmax'], text: 'The names of LeNet-5\'s layers, numbered from the input: convN is the N-th convolution, reluN its ReLU, poolN its max pooling, fcN the N-th fully connected layer; flatten lays the pooled maps out as one list, log_softmax is the logarithm of the softmax. The Layer explorer and the architecture strip show each one.' },
  { id: 'convolution', term: 'convolution (conv layer)', match: ['convolutions?', 'conv layers?', 'conv blocks?', 'conv'], text: 'A layer that slides small learned weight grids (filters or kernels, 5×5 in LeNet-5) over its input and writes, at each position, the weighted sum of the pixels under the filter: one feature map per filter.' },
  { id: 'kernel', term: 'filter (kernel)', match: ['filters?', 'kernels?'], text: 'The small grid of learned weights a conv layer slides over its input. Red weights add where the input is bright, blue weights subtract.' },
  { id: 'relu', term: 'ReLU', match: ['ReLUs?'], text: 'Rectified linear unit: keeps positive values and sets negative ones to 0. It is what makes a neuron either "on" (above 0) or "off".' },
  { id: 'pooling', term: 'max pooling', match: ['max[- ]pool(?:ing)?', 'pooled', 'pooling'], text: 'Shrinks each feature map by keeping only the largest value of every 2×2 block, so the next layer sees a smaller, more position-tolerant map.' },
  { id: 'switches', term: 'pooling switches', match: ['pooling switch(?:es)?', 'switch(?:es)?'], text: 'Where the maximum of each 2×2 pooling block was. The deconvnet uses them to put each value back at the exact position it came from when it projects a map back to pixels.' },
  { id: 'receptive-field', term: 'receptive field', match: ['receptive fields?'], text: 'The patch of input pixels one neuron can see: 5×5 pixels for conv1, 14×14 for conv2 after pooling. Only those pixels can change its activation.' },
  { id: 'fully-connected', term: 'fully connected layer (fc)', match: ['fully connected', 'linear layers?', 'fc layers?', 'fc'], text: 'A layer in which every output is a weighted sum of every input: LeNet-5\'s last three layers, which turn the pooled features into the ten class scores.' },
  { id: 'logit', term: 'logit (class score)', match: ['logits?', 'class scores?'], text: 'The raw score the last layer gives a class, before softmax. Higher means more evidence for the class; it can be negative. Attribution methods explain a logit.' },
  { id: 'softmax', term: 'softmax', match: ['softmax'], text: 'Turns the ten logits into probabilities that add up to 100%: each class gets e^logit divided by the sum of e^logit over all classes, so a logit higher by 1 means about 2.7 times the probability.' },
  { id: 'probability', term: 'probability (confidence)', match: ['probabilit(?:y|ies)', 'confidence'], text: 'The softmax output: how sure the network is of each class. A high probability is not a guarantee: a network can be confidently wrong on inputs unlike its training images.' },
  { id: 'gradient', term: 'gradient', match: ['gradients?', 'backprop(?:agation)?'], text: 'How much a score would change if one input (a pixel, a weight) changed a little: the slope of the score. Backpropagation computes it for every input at once, layer by layer from the output back.' },
  { id: 'saliency', term: 'saliency (map)', match: ['saliency'], text: 'A map of how much each pixel matters to a class score, usually the size of the score\'s gradient at that pixel (Simonyan et al. 2013).' },
  { id: 'attribution', term: 'attribution', match: ['attributions?'], text: 'Any method that gives each input pixel a share of the credit (red) or blame (blue) for one class score. The Attribution panel shows ten of them side by side.' },
  { id: 'baseline', term: 'baseline', match: ['baselines?'], text: 'The "nothing here" image an attribution starts from, black by default. Integrated gradients measure how the score rises on the way from the baseline to the input.' },
  { id: 'completeness', term: 'completeness (gap)', match: ['completeness(?: gap)?'], text: 'Integrated gradients promise that the pixel shares add up to the score of the input minus the score of the baseline. The completeness gap is how far off the sum is: small means enough steps were taken.' },
  { id: 'deconvnet', term: 'deconvnet', match: ['deconvnets?', 'deconvolution', 'reconstructions?', 'projected back'], text: 'Zeiler & Fergus (2013): one feature map is sent back down the network (unpooling with the switches, ReLU, the transposed filters) to show which input pixels made it respond.' },
  { id: 'guided-backprop', term: 'guided backprop', match: ['guided backprop(?:agation)?'], text: 'A gradient that, at every ReLU, lets only positive signals pass on the way back: sharper, cleaner maps of the strokes that raise a score (Springenberg et al. 2015).' },
  { id: 'grad-cam', term: 'Grad-CAM', match: ['Grad-CAM'], text: 'Weighs each channel of a late conv layer by how much the class score depends on it and adds them up: a coarse map (10×10 here) of where the evidence is (Selvaraju et al. 2017).' },
  { id: 'integrated-gradients', term: 'integrated gradients', match: ['integrated gradients?'], text: 'The gradient averaged along a straight path from the baseline to the input, times the change of each pixel: the shares add up to the score\'s rise (Sundararajan et al. 2017).' },
  { id: 'smoothgrad', term: 'SmoothGrad', match: ['SmoothGrad'], text: 'A gradient map averaged over many noisy copies of the input, which removes the speckle of a single gradient (Smilkov et al. 2017).' },
  { id: 'occlusion', term: 'occlusion', match: ['occlusion', 'occluded', 'occluding'], text: 'Covers the image with a sliding square of one constant value and records how much the class score drops at each place: the parts the network needs.' },
  { id: 'monitor', term: 'runtime monitor', match: ['runtime monitor', 'monitor'], text: 'Cheng et al. (2019): records the on/off patterns of one hidden layer on every correctly classified training image, then warns when a new input\'s pattern is far from all of them.' },
  { id: 'pattern', term: 'on/off pattern (activation pattern)', match: ['on/off patterns?', 'activation patterns?'], text: 'Which neurons of a layer are on (activation above 0) and which are off, as a string of 1s and 0s.' },
  { id: 'hamming', term: 'Hamming distance', match: ['Hamming distances?', 'Hamming'], text: 'The number of positions where two on/off patterns differ: 0 for the same pattern, 3 when three neurons flipped.' },
  { id: 'gamma', term: 'γ (gamma)', match: ['γ', 'gamma'], text: 'The runtime monitor\'s tolerance: the largest Hamming distance to a training pattern still called "seen in training". A larger γ warns less often.' },
  { id: 'out-of-distribution', term: 'unfamiliar pattern (out of distribution)', match: ['unfamiliar(?: patterns?)?', 'out of distribution'], text: 'An input that drives the network in a way no training image did. Its prediction deserves less trust, whatever its probability says.' },
  { id: 'feature-visualization', term: 'feature visualization (activation maximization)', match: ['feature visuali[sz]ation', 'activation maximi[sz]ation', 'likes best'], text: 'Starts from faint noise and changes the pixels, step by step, to make one unit, channel or class respond as strongly as possible: a picture of what it looks for.' },
  { id: 'gradient-ascent', term: 'gradient ascent', match: ['gradient ascent', 'optimi[sz]ed'], text: 'Repeatedly nudging the pixels in the direction their gradient says raises the objective, the reverse of training, which lowers a loss.' },
  { id: 'adam', term: 'Adam', match: ['Adam'], text: 'A popular way of taking gradient steps that adapts the step size of every pixel or weight to the size of its recent gradients.' },
  { id: 'objective', term: 'objective', match: ['objectives?'], text: 'The number an optimization raises or lowers: a channel\'s mean activation, a class logit, a style error.' },
  { id: 'deepdream', term: 'DeepDream', match: ['DeepDream'], text: 'Gradient ascent from the input itself: it exaggerates whatever a layer already sees in the image (Mordvintsev et al. 2015).' },
  { id: 'inversion', term: 'inversion', match: ['inversions?'], text: 'Mahendran & Vedaldi (2015): an image grown from noise whose features at one layer match the input\'s, to show what that layer still knows about the input.' },
  { id: 'atlas', term: 'atlas', match: ['atlas(?:es)?'], text: 'A grid of feature visualizations, one per channel, unit or class of a layer.' },
  { id: 'gram', term: 'Gram matrix', match: ['Gram matri(?:x|ces)', 'Gram'], text: 'For a layer with C channels, a C×C table whose entry (i, j) is how much channels i and j fire together, averaged over all positions. It keeps the "what" of a texture and drops the "where".' },
  { id: 'style', term: 'texture synthesis and style transfer', match: ['style transfer', 'textures?'], text: 'Gatys et al. (2015, 2016): a new image is optimized until its Gram matrices match a texture\'s; style transfer also keeps the features of a content image.' },
  { id: 'embedding', term: 'PCA, t-SNE, UMAP', match: ['PCA', 't-SNE', 'UMAP', 'principal component analysis', 'principal components?'], text: 'Three ways to draw high-dimensional points (an image\'s activations, a neuron\'s responses) on a flat map: PCA projects on the directions of largest spread; t-SNE and UMAP keep near neighbours near, so groups show, but distances between far groups mean little.' },
  { id: 'passes', term: 'forward pass, backward pass', match: ['forward pass(?:es)?', 'backward pass(?:es)?'], text: 'A forward pass runs the input through the layers to the output; a backward pass runs from a score back to the input, layer by layer, to find its gradient (or, in the deconvnet, a reconstruction).' },
  { id: 'distance', term: 'cosine and Euclidean distance', match: ['cosine(?: distance)?', 'Euclidean(?: distance)?'], text: 'Two ways to say how far apart two lists of activations are: Euclidean is the straight-line distance; cosine compares only their directions, so a weaker copy of the same pattern is close.' },
  { id: 'perplexity', term: 'perplexity', match: ['perplexity'], text: 't-SNE\'s idea of how many neighbours each point has, typically 5 to 50: small values show fine groups, large ones the broad layout.' },
  { id: 'kl', term: 'KL divergence', match: ['KL divergence', 'KL'], text: 'How different two probability distributions are: 0 when they are the same. t-SNE moves its points to make it small.' },
  { id: 'priors', term: 'priors (L2 decay, total variation, jitter)', match: ['priors?', 'total variation', 'L2 decay', 'jitter'], text: 'Extra terms and small random shifts that keep an optimized image natural-looking instead of noisy: L2 decay keeps pixels small, total variation keeps neighbours alike, jitter moves the image a pixel or two each step.' },
  { id: 'fourier', term: 'parameterization (pixels, decorrelated Fourier basis)', match: ['decorrelated Fourier(?: basis)?', 'Fourier basis', 'Fourier', 'parameteri[sz]ation'], text: 'The parameterization is what an optimization changes: the pixels themselves, or (Fourier) optimizing the image\'s frequencies instead of its pixels, scaled so that coarse shapes change as easily as fine ones: smoother feature visualizations (Olah et al. 2017).' },
  { id: 'octave', term: 'octave', match: ['octaves?'], text: 'One of DeepDream\'s passes at a growing image size, so that the patterns form at several scales.' },
  { id: 'variance', term: 'variance (covariance, eigenvectors)', match: ['variance', 'covariance', 'eigenvectors?', 'eigenvalues?'], text: 'Variance measures how much values spread around their mean; the covariance matrix does it for every pair of features at once. Its eigenvectors are the directions of largest spread, which PCA draws.' },
  { id: 'learning-rate', term: 'learning rate and steps', match: ['learning rate', 'steps'], text: 'How far each step of an optimization moves the pixels, and how many steps it takes: too large a rate overshoots, too few steps stop early. For integrated gradients, the steps are the points along the path from the baseline.' },
  { id: 'seed', term: 'seed', match: ['seeded', 'seed'], text: 'The number that starts a random generator: the same seed gives the same noise, so a result can be made again exactly.' },
  { id: 'log-probability', term: 'log-probability', match: ['log-probabilit(?:y|ies)'], text: 'The logarithm of a class\'s softmax probability (0 at 100%, more negative as it falls). Explaining it instead of the logit also counts the evidence against the other classes.' },
  { id: 'diversity', term: 'batch and diversity', match: ['diversity', 'batch'], text: 'Feature visualization can grow several images at once (a batch); a diversity term pushes them apart, so they show different inputs the unit likes.' },
  { id: 'idx', term: 'IDX files and t10k', match: ['IDX', 't10k'], text: 'IDX is the plain file format MNIST comes in (a small header, then the bytes of every image); t10k names its 10,000 test images.' },
  { id: 'k-means', term: 'k-means', match: ['k-means'], text: 'Splits points into k groups, each around its mean, so that alike points share a group.' },
  { id: 'correlation', term: 'correlation', match: ['correlations?', 'correlated', 'fire together'], text: 'How closely two neurons rise and fall together over many inputs, from −1 (opposite) through 0 (unrelated) to 1 (in step).' },
  { id: 'standardised', term: 'standardised (above its usual level)', match: ['standardi[sz]ed', 'usual level'], text: 'A neuron\'s activation minus its mean over the sample images, divided by its standard deviation: 0 is usual, 2 is unusually strong for that neuron.' },
  { id: 'neighbours', term: 'nearest neighbours', match: ['nearest neighbours?', 'neighbours?'], text: 'The images whose activations at a layer are closest to the input\'s: what the network considers alike, which is not always what looks alike in pixels.' },
  { id: 'colormap', term: 'colormap (diverging, signed)', match: ['colou?rmaps?', 'diverging'], text: 'How numbers become colours. Viridis, magma, inferno and plasma go from dark (low) to bright (high); a diverging (signed) map is blue below zero, white at zero and red above.' },
  { id: 'shape', term: 'shape (C × H × W)', match: ['C × H × W', 'C×H×W'], text: 'A tensor\'s size as channels × height × width: 6×28×28 is six feature maps of 28×28 positions. A fully connected layer\'s output is a plain list, e.g. 120.' },
  { id: 'tensor', term: 'tensor', match: ['tensors?'], text: 'An array of numbers with any number of dimensions: an image, a layer\'s output, a layer\'s weights.' },
  { id: 'test-set', term: 'training set and test set', match: ['test set', 'training set', 'test images?', 'training images?'], text: 'The network learned from the 60,000 training images; the 10,000 test images were never used for learning, so its accuracy on them shows how it does on new digits.' },
  { id: 'misclassified', term: 'misclassified', match: ['misclassified', 'mistakes?'], text: 'A test image whose predicted class differs from its true label.' },
  { id: 'preprocessing', term: 'preprocessing', match: ['preprocess(?:ing|ed)?', 'threshold'], text: 'How a drawing or a photo becomes the 28×28 input: grey, ink separated from paper, thresholded, cropped to the digit, scaled to 20 pixels and centred by its mass, as MNIST\'s digits were made.' },
  { id: 'mnist', term: 'MNIST and Fashion-MNIST', match: ['MNIST', 'Fashion-MNIST'], text: 'Two data sets of 28×28 grey images in ten classes: handwritten digits (LeCun et al. 1998), and photos of clothing (Xiao et al. 2017).' },
  { id: 'lenet', term: 'LeNet-5', match: ['LeNet-5', 'LeNet'], text: 'LeCun et al. (1998): two conv layers, each followed by ReLU and pooling, then three fully connected layers. Small enough to show every neuron.' },
];

const ENTRIES = new Map(GLOSSARY.map((entry) => [entry.id, entry]));

/** The glossary entry `id`, or null. */
export function glossaryEntry(id) {
  return ENTRIES.get(id) ?? null;
}

// One pattern of every spelling, longest first, each its own group; a term is a whole word ('fc' not in 'fcN').
const SPELLINGS = GLOSSARY.flatMap((entry) => entry.match.map((source) => ({ entry, source }))).sort((a, b) => b.source.length - a.source.length);
const PATTERN = new RegExp(`(?<![\\p{L}\\p{N}_-])(?:${SPELLINGS.map(({ source }) => `(${source})`).join('|')})(?![\\p{L}\\p{N}_])`, 'giu');

/** The entry of each spelling found in `text`: `[{ entry, index, length }]`, in order. */
export function findTerms(text) {
  return [...text.matchAll(PATTERN)].map((match) => ({ entry: SPELLINGS[match.slice(1).findIndex((group) => group !== undefined)].entry, index: match.index, length: match[0].length }));
}

/**
 * Opens entry `id` in the glossary panel (js/panels/glossary.js) of `root` (the document, or the widget's
 * shadow root): scrolled to and focused. False when that page has no glossary panel.
 */
export function openEntry(id, root = document) {
  const target = root.getElementById?.(`glossary-${id}`);
  if (!target) return false;
  target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  target.focus({ preventScroll: true });
  return true;
}

/** The note under a glossed block: one per block, showing the last term opened there. */
function noteOf(block) {
  let note = block.nextElementSibling;
  if (note?.classList.contains('term-note')) return note;
  note = el('p', { className: 'term-note', hidden: true, id: `term-note-${++notes}` });
  block.after(note);
  return note;
}
let notes = 0;

/** Opens (or closes) the definition of `entry` under the block that holds `button`. */
function toggle(button, entry) {
  const block = button.closest('p, figcaption, label') ?? button.parentElement;
  const note = noteOf(block);
  const open = note.hidden || note.dataset.term !== entry.id;
  for (const other of block.querySelectorAll('.term[aria-expanded="true"]')) other.setAttribute('aria-expanded', 'false');
  note.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  button.setAttribute('aria-controls', note.id);
  if (!open) return;
  note.dataset.term = entry.id;
  const more = button.getRootNode().getElementById?.(`glossary-${entry.id}`) ? termLink(entry, 'In the glossary') : null;
  more?.classList.add('term-more');
  note.replaceChildren(el('strong', { textContent: entry.term }), `: ${entry.text} `, ...(more ? [more] : []));
}

/** The button of one mention of `entry` (`text` as written). */
function termButton(entry, text) {
  const button = el('button', { type: 'button', className: 'term', textContent: text, title: `${entry.term}: what it means`, attrs: { 'aria-expanded': 'false' } });
  button.dataset.term = entry.id;
  button.addEventListener('click', () => toggle(button, entry));
  button.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
    event.stopPropagation();
    toggle(button, entry);
  });
  return button;
}

/** A link to `entry` in the glossary (for the glossary's own definitions). */
function termLink(entry, text) {
  const link = el('a', { href: `#glossary-${entry.id}`, className: 'term-link', textContent: text });
  link.addEventListener('click', (event) => {
    event.preventDefault(); // the URL hash holds the view: never navigate
    openEntry(entry.id, link.getRootNode());
  });
  return link;
}

/**
 * `text` as nodes for `el(...)`: strings, and a term button at the first mention of each entry (`link`: a
 * link to the glossary entry instead). `seen`: the entries already explained nearby, which stay plain text
 * (updated).
 */
export function glossed(text, { seen = new Set(), link = false } = {}) {
  const nodes = [];
  let at = 0;
  for (const { entry, index, length } of findTerms(text)) {
    if (seen.has(entry.id)) continue;
    seen.add(entry.id);
    const words = text.slice(index, index + length);
    nodes.push(text.slice(at, index), link ? termLink(entry, words) : termButton(entry, words));
    at = index + length;
  }
  nodes.push(text.slice(at));
  return nodes.filter((node) => node !== '');
}
