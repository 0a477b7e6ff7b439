// Gallery panel: the bundled test images (a class-balanced subset of the test set, then the model's first
// mistakes and its closest calls: scripts/make-gallery.py).
// Filter by class or show only the images the model gets wrong (all are classified once, in idle time). The
// grid is one Tab stop: the arrow keys move between the images, Enter or Space picks one (js/roving.js).

import { paintMap } from '../render.js';
import { el, selectOf } from '../dom.js';
import { rovingFocus } from '../roving.js';

export const meta = {
  id: 'gallery',
  title: 'Test images',
  description: 'Unseen images from the test set: 30 per class, then some the model gets wrong or nearly so. Pick one to analyse it.',
  needsImage: false,
};

/** The line that replaces an empty grid, or null while the grid shows images (or is still being filled). */
export function emptyMessage(filter, shown, classified) {
  if (shown > 0 || (filter === 'wrong' && !classified)) return null;
  return filter === 'wrong' ? 'The model reads every image here right.' : 'No image of this class here.';
}

export function createPanel(root, app) {
  const gallery = app.gallery;
  if (!gallery) {
    root.replaceChildren(el('p', { className: 'muted', textContent: 'No sample images for this model.' }));
    return { render() {} };
  }
  const classes = [...new Set(gallery.labels)].sort((a, b) => a - b);
  const filter = selectOf([['all', 'all classes'], ['wrong', 'misclassified only'], ...classes.map((k) => [k, `class ${app.label(k)}`])], 'all', { className: 'gallery-filter' });
  const random = el('button', { type: 'button', className: 'button random', textContent: 'Random' });
  const count = el('span', { className: 'muted gallery-count', attrs: { 'aria-live': 'polite' } });
  const grid = el('div', { className: 'gallery-grid', attrs: { role: 'group', 'aria-label': app.spec.galleryName } });
  const empty = el('p', { className: 'muted gallery-empty', hidden: true });
  root.replaceChildren(el('div', { className: 'toolbar' }, el('label', { className: 'field' }, 'Show ', filter), random, count), grid, empty);
  const buttons = [];
  for (let i = 0; i < gallery.count; i++) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    button.setAttribute('aria-label', `Test image ${i}, class ${app.label(gallery.labels[i])}`);
    button.title = `#${i} · ${app.label(gallery.labels[i])}`;
    const canvas = document.createElement('canvas');
    canvas.className = 'map';
    paintMap(canvas, gallery.pixels, {
      offset: i * gallery.height * gallery.width,
      height: gallery.height,
      width: gallery.width,
      colormap: 'gray',
      range: [0, 255],
    });
    button.append(canvas);
    button.addEventListener('click', () => select(i));
    buttons.push(button);
  }
  grid.append(...buttons);
  const roving = rovingFocus(grid, buttons);
  let pressed = -1; // the button shown as picked
  for (const button of buttons) button.setAttribute('aria-pressed', 'false');
  const currentIndex = () => (app.source?.kind === 'gallery' ? app.source.index : -1);

  function select(i) {
    app.setImage(gallery.image(i), { kind: 'gallery', index: i, label: gallery.labels[i] });
  }

  // Classify every image once, in idle time and in small batches, to mark and filter the misclassified ones.
  let wrong = null;
  const idle = window.requestIdleCallback ?? ((fn) => setTimeout(() => fn({ timeRemaining: () => 8 }), 50));
  const found = new Set();
  let next = 0;
  let destroyed = false; // the model is freed when the panel goes (model switch)
  const classify = (deadline) => {
    if (destroyed) return;
    try {
      do {
        if (app.classify(gallery.image(next)) !== gallery.labels[next]) found.add(next);
        next++;
      } while (next < gallery.count && deadline.timeRemaining() > 2);
    } catch {
      app.addEventListener('restart', () => idle(classify), { once: true }); // the engine trapped: go on once healed
      return;
    }
    if (next < gallery.count) {
      idle(classify);
      return;
    }
    wrong = found;
    for (const i of wrong) {
      buttons[i].classList.add('is-wrong');
      buttons[i].title += ' · misclassified';
      buttons[i].setAttribute('aria-label', `${buttons[i].getAttribute('aria-label')}, misclassified`);
    }
    applyFilter();
  };
  idle(classify);

  function applyFilter() {
    const value = filter.value;
    let shown = 0;
    buttons.forEach((button, i) => {
      const keep = value === 'all' || (value === 'wrong' ? wrong?.has(i) : String(gallery.labels[i]) === value);
      button.hidden = !keep;
      if (keep) shown++;
    });
    count.textContent = value === 'wrong' && !wrong ? 'classifying…' : `${shown} shown${wrong ? ` · ${wrong.size} misclassified` : ''}`;
    empty.textContent = emptyMessage(value, shown, Boolean(wrong)) ?? '';
    empty.hidden = !empty.textContent;
    random.disabled = shown === 0;
    roving.update(buttons[currentIndex()]);
  }
  filter.addEventListener('change', applyFilter);
  random.addEventListener('click', () => {
    const visible = buttons.map((b, i) => (b.hidden ? -1 : i)).filter((i) => i >= 0);
    if (visible.length) select(visible[Math.floor(Math.random() * visible.length)]);
  });
  applyFilter();

  return {
    destroy() {
      destroyed = true;
    },
    render() {
      // Only the previous and the new pick change: touching all 340 buttons on every pen stroke restyles the grid.
      const current = currentIndex();
      if (current === pressed) return;
      buttons[pressed]?.setAttribute('aria-pressed', 'false');
      buttons[current]?.setAttribute('aria-pressed', 'true');
      pressed = current;
      roving.update(buttons[current]);
    },
  };
}
