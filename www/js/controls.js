// Controls built from the technique catalogue (the wasm `catalogue()`): every option of a technique becomes a
// view key (js/view.js) with the catalogue's default and range, an input or a select with its label and help,
// and a key of the options object handed back to the module. Nothing here knows a technique or an option by
// name. An option `common` to a family is one view key shared by its techniques (`target`); the others are
// qualified by the technique (`<technique id>.<key>`). An option whose default is null (the predicted class, the
// technique's own layer, a weight the technique picks) is '' in the view; such a float is kept as its text.
// A `flag` option is a checkbox and a boolean view value. A `list` option (layers, numbers) is its items typed
// with commas ('relu1, pool1'; '' for the technique's default) and goes to the module as an array.

import { el, selectOf } from './dom.js';
import { glossed } from './glossary.js';

/** The view key of `option` of `technique`. */
export function optionKey(technique, option) {
  return option.common ? option.key : `${technique.id}.${option.key}`;
}

/** Whether `value` is a valid view value of `option` on `app`'s model. */
function validator(option, app) {
  const nullable = (check) => (v) => v === '' || check(v);
  switch (option.type) {
    case 'int':
      return (v) => Number.isInteger(v) && v >= option.min && (option.max === null || v <= option.max);
    case 'float': {
      const check = (v) => Number.isFinite(v) && v >= option.min && v <= option.max;
      return option.default === null ? nullable((v) => typeof v === 'string' && check(Number(v))) : check;
    }
    case 'flag':
      return (v) => typeof v === 'boolean';
    case 'choice':
      return (v) => option.choices.some((choice) => choice.value === v);
    case 'class':
      return nullable((v) => /^\d+$/.test(v) && Number(v) < app.labels.length);
    case 'layer':
      return nullable((v) => layerChoices(option, app).some(([name]) => name === v));
    case 'list':
      return nullable((v) => typeof v === 'string' && listItems(option, v) !== null);
    default:
      return (v) => typeof v === 'string';
  }
}

/** The view keys of the options of `techniques`, with their defaults and checks (a panel's `meta.view`). */
export function optionFields(techniques, app) {
  const fields = {};
  for (const technique of techniques) {
    for (const option of technique.options) {
      fields[optionKey(technique, option)] = { default: option.default ?? '', valid: validator(option, app) };
    }
  }
  return fields;
}

/** The items of a `list` option typed as text ('16, 16'), or null when one is not valid (a number out of range). */
function listItems(option, text) {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '') || (option.len !== null && items.length !== option.len)) return null;
  if (option.item !== 'number') return items.every((item) => /^[\w.-]+$/.test(item)) ? items : null;
  const numbers = items.map(Number);
  const fits = (n) => Number.isFinite(n) && n >= option.min && n <= option.max && (!option.whole || Number.isInteger(n));
  return numbers.every(fits) ? numbers : null;
}

/** The options object of `technique` for the module, read from the view ('' leaves an option to its default). */
export function techniqueOptions(technique, view) {
  const options = {};
  for (const option of technique.options) {
    const value = view[optionKey(technique, option)];
    if (value === '' || value === undefined) continue;
    if (option.type === 'list') options[option.key] = listItems(option, value);
    else options[option.key] = option.type === 'class' || option.type === 'float' ? Number(value) : value;
  }
  return options;
}

/** `[name, label]` of the layers a `layer` option accepts, after '' for the technique's default. */
function layerChoices(option, app) {
  const types = option.layerTypes ?? [];
  return app.layers.filter((layer) => types.length === 0 || types.includes(layer.type)).map((layer) => [layer.name, `${layer.index} · ${layer.name}`]);
}

/** A number typed into a field, made valid: rounded to the option's step, clamped to its range. */
function numberFrom(option, text) {
  const step = option.step ?? (option.type === 'int' ? 1 : 0.01);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const n = Number(text);
  if (!Number.isFinite(n)) return option.default ?? option.min;
  const rounded = Number((Math.round(n / step) * step).toFixed(decimals));
  return Math.min(option.max ?? Infinity, Math.max(option.min, rounded));
}

function input(option, value, app) {
  switch (option.type) {
    case 'int':
    case 'float':
      return el('input', { type: 'number', min: option.min, step: option.step ?? 1, value: String(value), ...(option.max === null ? {} : { max: option.max }) });
    case 'flag':
      return el('input', { type: 'checkbox', checked: value === true });
    case 'choice':
      return selectOf(option.choices.map((choice) => [choice.value, choice.label]), value);
    case 'class':
      return selectOf([['', 'predicted class'], ...app.labels.map((label, k) => [String(k), `class ${label}`])], value);
    case 'layer':
      return selectOf([['', 'default'], ...layerChoices(option, app)], value);
    case 'list':
      return el('input', { type: 'text', value, placeholder: 'default', attrs: { inputmode: option.item === 'number' ? 'decimal' : 'text' } });
    default:
      return el('input', { type: 'text', value });
  }
}

/**
 * A labelled control of `option` of `technique`, showing `app.view`'s value; a change sets the view key.
 * Returns `{ element, update() }` (update shows the view's current value).
 */
export function optionControl(technique, option, app) {
  const key = optionKey(technique, option);
  const field = input(option, app.view[key], app);
  field.classList.add('option');
  field.dataset.key = key;
  const checkbox = field.type === 'checkbox';
  const show = () => (checkbox ? (field.checked = app.view[key] === true) : (field.value = String(app.view[key])));
  field.addEventListener('change', () => {
    if (checkbox) return app.setView({ [key]: field.checked });
    const empty = field.value === '' && option.default === null;
    const value = field.type !== 'number' || empty ? field.value : numberFrom(option, field.value);
    field.value = String(value);
    app.setView({ [key]: option.type === 'float' && option.default === null ? String(value) : value });
  });
  const element = el('label', { className: 'field', title: option.help ?? '' }, el('span', {}, ...glossed(option.label)), field); // jargon opens the glossary
  return { element, update: show };
}

/**
 * "How to read this" for a technique: its one-line summary, which opens onto its explanation and paper.
 * Returns `{ element, show(technique) }`.
 */
export function techniqueHelp() {
  const summary = el('span');
  const explanation = el('p');
  const paper = el('p', { className: 'technique-paper' });
  const head = el('summary', {}, el('strong', { textContent: 'How to read this: ' }), summary);
  const element = el('details', { className: 'technique-help' }, head, explanation, paper);
  return {
    element,
    show(technique) {
      summary.textContent = technique.summary;
      explanation.replaceChildren(...glossed(technique.explanation)); // its jargon opens the glossary (js/glossary.js)
      const source = technique.paper;
      paper.hidden = !source;
      paper.replaceChildren(...(source ? [`${source.authors} (${source.year}): `, el('a', { href: source.url, textContent: source.title, target: '_blank', rel: 'noopener' })] : []));
    },
  };
}
