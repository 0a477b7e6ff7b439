// Small DOM helpers shared by the panels. The page builds its DOM from nodes only (no HTML strings: it runs
// under a strict CSP with Trusted Types, docs/security.md); text goes in as text, never parsed.

/**
 * A new element: `el('label', { className: 'field', title }, 'Steps', input)`. Props are set as properties
 * (`className`, `value`, `hidden`, `onclick`, ...), except `dataset` and `attrs` (objects of attributes).
 */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  const { dataset = {}, attrs = {}, ...rest } = props;
  Object.assign(element, rest);
  Object.assign(element.dataset, dataset);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** A `<select>` of `[value, label]` pairs with `selected` chosen. */
export function selectOf(pairs, selected, props = {}) {
  const select = el('select', props, ...pairs.map(([value, label]) => el('option', { value: String(value), textContent: label })));
  select.value = String(selected);
  return select;
}

/**
 * Calls `fn()` once, when `element` has first stayed on screen for `dwell` ms (a page scrolled past it, or a
 * tour passing by, starts nothing); returns the function that stops watching. For work a panel starts only when
 * seen (a download and a long job): its `render()` may have run off screen at first paint, and the frame does
 * not render it again when it scrolls into view unless something changed.
 */
export function whenOnScreen(element, fn, dwell = 1500) {
  let timer = 0;
  const observer = new IntersectionObserver((entries) => {
    clearTimeout(timer);
    if (!entries.some((entry) => entry.isIntersecting)) return;
    timer = setTimeout(() => (observer.disconnect(), fn()), dwell);
  });
  observer.observe(element);
  return () => (clearTimeout(timer), observer.disconnect());
}
