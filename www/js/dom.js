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
