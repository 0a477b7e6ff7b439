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

/**
 * The images of the grid painted into one canvas over its buttons (it lets the pointer through), each image
 * in its button's content box, with a red dot on those the model gets wrong (`wrong()`, a Set or null): every
 * canvas is a compositor layer, and 340 of them (each with the buttons that overlap it) made the compositor's
 * work on every frame of a pen stroke grow with the grid (issue 14: 2.5 s of "Layerize" over one digit). On
 * top, so the buttons below it need no layers of their own; their borders (picked, hover, focus) show around
 * it. Drawn again when the grid's width or the filter changes. `{ draw(), stop() }`.
 */
function createSheet(grid, gallery, buttons, wrong) {
  const { height, width, count } = gallery;
  // Every image stacked in one native-resolution canvas (the gallery's pixels are image after image).
  const source = paintMap(document.createElement('canvas'), gallery.pixels, { height: height * count, width, colormap: 'gray', range: [0, 255] });
  const canvas = el('canvas', { className: 'gallery-sheet', attrs: { 'aria-hidden': 'true' } });
  grid.prepend(canvas);
  let frame = 0;
  const paint = () => {
    frame = 0;
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [grid.clientWidth, grid.scrollHeight];
    // Read every box first, then write: one layout.
    const boxes = buttons.map((b, i) => [i, b.hidden ? null : [b.offsetLeft + b.clientLeft, b.offsetTop + b.clientTop, b.clientWidth, b.clientHeight]]);
    Object.assign(canvas.style, { width: `${w}px`, height: `${h}px` });
    [canvas.width, canvas.height] = [Math.round(w * ratio), Math.round(h * ratio)];
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#ff5a4f'; // bright on the black images in both themes
    for (const [i, box] of boxes) {
      if (!box) continue;
      ctx.drawImage(source, 0, i * height, width, height, ...box);
      if (!wrong()?.has(i)) continue;
      ctx.beginPath();
      ctx.arc(box[0] + box[2] - 5, box[1] + 5, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  };
  const draw = () => (frame ||= requestAnimationFrame(paint));
  let lastWidth = -1;
  const resize = new ResizeObserver(() => grid.clientWidth !== lastWidth && ((lastWidth = grid.clientWidth), draw()));
  resize.observe(grid);
  return { draw, stop: () => (resize.disconnect(), cancelAnimationFrame(frame)) };
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
  const buttons = Array.from(gallery.labels, (label, i) => {
    const name = `Test image ${i}, class ${app.label(label)}`;
    return el('button', { type: 'button', className: 'thumb', title: `#${i} · ${app.label(label)}`, onclick: () => select(i), attrs: { 'aria-label': name, 'aria-pressed': 'false' } });
  });
  const sheet = createSheet(grid, gallery, buttons, () => wrong);
  grid.append(...buttons);
  const roving = rovingFocus(grid, buttons);
  let pressed = -1; // the button shown as picked
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
    sheet.draw();
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
      sheet.stop();
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
