// Prediction panel: the predicted class and the softmax probability of every class, updated on every stroke.
// Each class's row names its class image's objective (data-objective, `class:k`): a click on the row, or Enter
// on its label (the labels are one Tab stop, arrow keys between them), visualizes the class in the
// feature-visualization panel when that panel follows clicks.

import { COLORS, FONT, SIZES } from '../visual.js';
import { el } from '../dom.js';
import { formatValue, describeDistance, setText, paintMap } from '../render.js';
import { cliCommand, f32 } from '../export.js';
import { rovingFocus } from '../roving.js';
import { glossed } from '../glossary.js';

export const meta = {
  id: 'prediction',
  title: 'Prediction',
  description: 'Softmax probability per class, and its logit (the score before softmax) on the right.',
  explainedBy: 'prediction',
  live: true, // drawn on every frame of a stroke (js/frame.js)
};

const ANNOUNCE_MS = 700;

export function createPanel(root, app) {
  // Updated in place, text only where it changed: a pen stroke renders this panel on every frame (issue 14).
  const [labelText, confidence] = [el('span', { className: 'prediction-label' }), el('span', { className: 'prediction-confidence' })];
  const main = el('p', { className: 'prediction-main', dataset: { testid: 'prediction' } }, labelText, ' ', confidence);
  // Screen readers hear the prediction once the input rests for ANNOUNCE_MS, not on every frame of a stroke.
  const spoken = el('p', { className: 'visually-hidden', attrs: { 'aria-live': 'polite' } });
  let announce = 0;
  const truth = el('p', { className: 'prediction-truth muted' });
  const badge = el('p', { className: 'monitor-badge', hidden: true, dataset: { testid: 'monitor-badge' } });
  const visualizable = app.techniques('featureviz').length > 0;
  const rows = app.labels.map((label, k) =>
    el(
      'li',
      { className: 'bar-row', dataset: visualizable ? { objective: `class:${k}` } : {} },
      el(visualizable ? 'button' : 'span', { className: 'bar-label', textContent: label, ...(visualizable && { type: 'button' }) }),
      el('span', { className: 'bar-track' }, el('span', { className: 'bar-fill' })),
      el('span', { className: 'bar-value' }),
      el('span', { className: 'bar-logit', attrs: { 'aria-hidden': 'true' } }),
    ),
  );
  const noMonitor = el('p', { className: 'muted prediction-truth', hidden: Boolean(app.monitor), textContent: 'No runtime monitor ships with this model, so the monitor panel is not shown.' });
  const bars = el('ol', { className: 'bars', attrs: { 'aria-label': 'Class probabilities' } }, ...rows);
  root.replaceChildren(main, spoken, truth, badge, noMonitor, bars);
  const labels = rows.map((row) => row.querySelector('button.bar-label')).filter(Boolean);
  if (labels.length > 0) rovingFocus(bars, labels).update(labels[0]);
  const hint = visualizable ? ' · click to visualize the class (Feature visualization, “Visualize what I click”)' : '';

  return {
    render() {
      const { label, probs, logits } = app.prediction();
      setText(labelText, app.label(label));
      labelText.classList.toggle('is-long', app.label(label).length > 3);
      setText(confidence, `${(probs[label] * 100).toFixed(1)}%`);
      clearTimeout(announce);
      announce = setTimeout(() => (spoken.textContent = `Prediction ${app.label(label)}, ${(probs[label] * 100).toFixed(0)} percent`), ANNOUNCE_MS);
      const known = app.source?.kind === 'gallery' ? app.source.label : null;
      setText(truth, known === null ? '' : `True class ${app.label(known)} · ${known === label ? 'correct' : 'misclassified'}`);
      truth.classList.toggle('is-wrong', known !== null && known !== label);
      const check = app.monitorCheck();
      badge.hidden = !check;
      if (check) {
        badge.classList.toggle('is-warn', check.warn);
        // Its jargon (Hamming distance, γ) opens the glossary; rebuilt only when the text changes.
        const text = `${check.warn ? 'Unfamiliar pattern' : 'Seen in training'} · Hamming ${describeDistance(check)}`;
        if (badge.dataset.text !== text) badge.replaceChildren(...glossed(text));
        badge.dataset.text = text;
        badge.title = `Runtime monitor (Cheng et al. 2019) on layer ${check.layer}: Hamming distance of the on/off pattern to the nearest pattern recorded in training`;
      }
      rows.forEach((row, k) => {
        const percent = probs[k] * 100;
        row.classList.toggle('is-top', k === label);
        row.classList.toggle('is-true', k === known);
        // A transform, not a width: the bar moves on the compositor, nothing is laid out again.
        row.querySelector('.bar-fill').style.transform = `scaleX(${(percent / 100).toFixed(4)})`;
        setText(row.querySelector('.bar-value'), percent >= 0.1 ? `${percent.toFixed(1)}%` : '<0.1%');
        setText(row.querySelector('.bar-logit'), formatValue(logits[k]));
        row.title = `class ${app.label(k)}: probability ${percent.toFixed(3)}%, logit ${formatValue(logits[k])}${hint}`;
        row.setAttribute('aria-label', `${app.label(k)}: ${percent.toFixed(1)} percent`);
      });
    },
    destroy: () => clearTimeout(announce),
    /** As the CLI's `predict --json` prints it for one image. */
    data() {
      const { label, logits, probs } = app.prediction();
      return { index: app.source?.kind === 'gallery' ? app.source.index : 0, label, logits: Array.from(logits, f32), probs: Array.from(probs, f32) };
    },
    command: () => cliCommand(app, app.techniques('prediction')[0], {}),
    snapshot: (scale = 1) => predictionSnapshot(app, scale),
  };
}

/** Where the prediction PNG draws the input at 1×: its top-left corner and its magnification (no smoothing). */
export const SNAPSHOT_INPUT = { x: SIZES.snapshotPadding + 390, y: SIZES.snapshotPadding + 40, zoom: 8 };

/** The prediction PNG: title, one bar per class with its probability, and the input beside them. */
function predictionSnapshot(app, scale) {
  const { label, probs } = app.prediction();
  const { height: h, width: w } = app.info.input;
  const pad = SIZES.snapshotPadding;
  const rowHeight = 26;
  const { x, y, zoom } = SNAPSHOT_INPUT;
  const width = x + w * zoom + pad;
  const height = Math.max(pad * 2 + 40 + rowHeight * probs.length, y + h * zoom + 28 + pad);
  const canvas = document.createElement('canvas');
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext('2d');
  ctx.scale(scale, scale);
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = 'middle';
  ctx.fillStyle = COLORS.text;
  ctx.font = '600 20px system-ui, sans-serif';
  ctx.fillText(`Prediction: ${app.label(label)} (${(probs[label] * 100).toFixed(1)}%)`, pad, pad + 12);
  ctx.font = FONT;
  probs.forEach((p, k) => {
    const top = pad + 40 + k * rowHeight;
    ctx.fillStyle = COLORS.text;
    ctx.fillText(app.label(k), pad, top + rowHeight / 2);
    ctx.fillStyle = COLORS.bar;
    ctx.fillRect(pad + 90, top + 5, 220, rowHeight - 10);
    ctx.fillStyle = k === label ? COLORS.barTop : COLORS.muted;
    ctx.fillRect(pad + 90, top + 5, 220 * p, rowHeight - 10);
    ctx.fillStyle = COLORS.text;
    ctx.fillText(`${(p * 100).toFixed(1)}%`, pad + 320, top + rowHeight / 2);
  });
  // The input as the network reads it (its first channel, black 0 … white 1), each pixel a zoom × zoom square.
  const input = paintMap(document.createElement('canvas'), app.image ?? new Float32Array(h * w), { height: h, width: w, colormap: 'gray', range: [0, 1] });
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(input, x, y, w * zoom, h * zoom);
  ctx.fillStyle = COLORS.muted;
  ctx.fillText(`input ${h}×${w}, black 0 … white 1`, x, y + h * zoom + 14);
  return canvas;
}
