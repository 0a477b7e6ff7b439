// The frame around every panel: title, description (its jargon glossed, js/glossary.js), "how to read this" from the catalogue (`meta.explainedBy`),
// "Download PNG", an empty state when there is no input, and the render loop. A panel's `createPanel(root, app)` returns `{ render(), shown?(), snapshot?() }`; the frame calls
// `render` once per animation frame after the app's 'image', 'view' or 'restart' events, and only while the
// panel is on screen (a panel scrolled away catches up when it comes back); it calls `shown()` once, when the
// panel has first stayed on screen for SHOWN_MS (for work a panel starts only when seen: a download, a long job).

import { exportActions } from './export.js';
import { techniqueHelp } from './controls.js';
import { el } from './dom.js';
import { glossed } from './glossary.js';

/**
 * While the pen is down, a panel that is not `meta.live` (the input and the prediction are) draws at most this
 * often: its analyses of every stroke frame would cost the pen its smoothness (issue 14: main-thread work per
 * pointer event ≤ 8 ms); it catches up at once when the pen is lifted.
 */
const FOLLOW_MS = 250;

/**
 * How long a panel stays on screen before its `shown()` runs: a page scrolled past it, or the tour passing by,
 * starts nothing (at a1c87e9 that queued the response-map and weight-gradient t10k jobs ahead of the tour's).
 */
const SHOWN_MS = 1500;

/**
 * Mounts panel module `panel` (exports `meta` and `createPanel`) into `container`.
 * Returns `{ element, destroy() }`.
 */
export function mountPanel(container, panel, app) {
  const { meta } = panel;
  const actions = el('div', { className: 'panel-actions' });
  const body = el('div', { className: 'panel-body' });
  const errorLine = el('p', { className: 'panel-error', hidden: true, attrs: { role: 'alert' } });
  const section = el(
    'section',
    { className: `panel panel-${meta.id}${meta.wide ? ' panel-wide' : ''}`, id: `panel-${meta.id}`, attrs: { 'aria-labelledby': `panel-${meta.id}-title` } },
    el(
      'header',
      { className: 'panel-header' },
      el('div', {}, el('h2', { id: `panel-${meta.id}-title`, textContent: meta.title }), el('p', { className: 'panel-description' }, ...glossed(meta.description))),
      actions,
    ),
    body,
    el('p', { className: 'panel-empty', textContent: 'Draw something or pick a test image to see this panel.' }),
    errorLine,
  );
  const [technique] = meta.explainedBy ? app.techniques(meta.explainedBy) : [];
  if (technique) {
    const help = techniqueHelp();
    help.show(technique);
    body.before(help.element);
  }
  container.append(section);

  const view = panel.createPanel(body, app);
  const needsImage = meta.needsImage !== false;

  const exports = exportActions(meta, view); // PNG at a scale, JSON, the CLI command (js/export.js)
  actions.append(...exports.elements);
  if (exports.box) section.querySelector('.panel-header').after(exports.box);

  let dirty = true;
  let hadInput = false; // the app has had an input since the panel was mounted
  let visible = false;
  let frame = 0;
  let follow = 0; // the timer of a panel following a stroke
  let drawnAt = -Infinity;

  function draw() {
    frame = 0;
    if (!dirty) return;
    drawnAt = performance.now();
    dirty = false;
    const empty = needsImage && !app.image;
    // After Clear a panel that has had an input keeps its size (its last picture hidden under the empty line),
    // so the page does not collapse and jump back on the next stroke; before any input it is just the line.
    section.classList.toggle('is-cleared', empty && hadInput);
    section.classList.toggle('is-empty', empty && !hadInput);
    if (empty) return;
    try {
      view.render();
      exports.refresh();
      errorLine.hidden = true;
    } catch (error) {
      errorLine.textContent = error?.message ?? String(error);
      errorLine.hidden = false;
    }
  }

  function invalidate() {
    dirty = true;
    hadInput ||= Boolean(app.image);
    if (!visible || frame) return;
    const wait = meta.live || !app.source?.stroking ? 0 : drawnAt + FOLLOW_MS - performance.now();
    if (wait > 0) {
      follow ||= setTimeout(() => {
        follow = 0;
        frame ||= requestAnimationFrame(draw);
      }, wait);
      return;
    }
    clearTimeout(follow);
    follow = 0;
    frame = requestAnimationFrame(draw);
  }

  // `shown()` runs from its own timer: on a quiet page nothing else may ever dirty the panel again.
  let shownTimer = 0;
  let shownDue = typeof view.shown === 'function';
  const observer = new IntersectionObserver((entries) => {
    visible = entries.some((entry) => entry.isIntersecting);
    if (visible && dirty && !frame) frame = requestAnimationFrame(draw);
    clearTimeout(shownTimer);
    if (visible && shownDue) shownTimer = setTimeout(() => ((shownDue = false), view.shown()), SHOWN_MS);
  });
  observer.observe(section);
  const events = ['image', 'view', 'restart'];
  for (const name of events) app.addEventListener(name, invalidate);

  return {
    element: section,
    /** Renders now, visible or not (first paint, tests of hidden panels). */
    flush() {
      dirty = true;
      draw();
    },
    destroy() {
      observer.disconnect();
      if (frame) cancelAnimationFrame(frame);
      clearTimeout(follow);
      clearTimeout(shownTimer);
      for (const name of events) app.removeEventListener(name, invalidate);
      view.destroy?.();
      section.remove();
    },
  };
}
