// The view state's schema: every panel declares the view keys it owns (`meta.view`, an object of defaults or a
// function of the app returning one) and may upgrade keys of older links (`meta.upgrade(params, version)`).
// The app merges the declarations of its panels here; the URL hash (js/hash.js) encodes what they declare.
// A key is a plain default (`layer: 1`) or `{ default, valid(value) }`; without `valid`, numbers must be
// non-negative integers, booleans are '1'/'true', strings are taken as they are. Values that are valid alone
// but not together (a channel the chosen layer lacks) are caught by the panel's `meta.consistent(view, app)`,
// which names the keys to reset ([`reconcile`]). No DOM here.

/** The schema of `panels` for `app`: `{ fields: Map<key, { panel, default, valid }>, upgraders, checks }`. */
export function viewSchema(panels, app) {
  const fields = new Map();
  for (const { meta } of panels) {
    const declared = typeof meta.view === 'function' ? meta.view(app) : (meta.view ?? {});
    for (const [key, spec] of Object.entries(declared)) {
      if (fields.has(key)) throw new Error(`view key "${key}" is declared by the ${fields.get(key).panel} and ${meta.id} panels`);
      fields.set(key, { panel: meta.id, ...field(spec) });
    }
  }
  const upgraders = panels.filter(({ meta }) => meta.upgrade).map(({ meta }) => (params, version) => meta.upgrade(params, version, app));
  const checks = panels.filter(({ meta }) => meta.consistent).map(({ meta }) => (view) => meta.consistent(view, app));
  return { fields, upgraders, checks };
}

/** Resets, in place, the keys of a complete `view` that its panels find inconsistent; returns those keys. */
export function reconcile({ fields, checks = [] }, view) {
  const reset = [...new Set(checks.flatMap((check) => check(view)))].filter((key) => fields.has(key) && view[key] !== fields.get(key).default);
  for (const key of reset) view[key] = fields.get(key).default;
  return reset;
}

function field(spec) {
  const explicit = spec !== null && typeof spec === 'object';
  const fallback = explicit ? spec.default : spec;
  return { default: fallback, valid: (explicit && spec.valid) || plainCheck(fallback) };
}

function plainCheck(fallback) {
  if (typeof fallback === 'number') return (v) => Number.isInteger(v) && v >= 0;
  if (typeof fallback === 'boolean') return (v) => typeof v === 'boolean';
  return (v) => typeof v === 'string';
}

/** Every key of the schema at its default. */
export function defaultView({ fields }) {
  return Object.fromEntries([...fields].map(([key, spec]) => [key, spec.default]));
}

/**
 * `view` restricted to the schema's keys, completed with defaults (a value the schema rejects, alone or with
 * the others, is dropped).
 */
export function completeView(schema, view) {
  const out = defaultView(schema);
  for (const [key, spec] of schema.fields) if (key in view && spec.valid(view[key])) out[key] = view[key];
  reconcile(schema, out);
  return out;
}

/** A view value read from link text, typed like the key's default; undefined when the key rejects it. */
export function readValue(spec, raw) {
  const kind = typeof spec.default;
  const value = kind === 'number' ? (raw.trim() === '' ? NaN : Number(raw)) : kind === 'boolean' ? raw === '1' || raw === 'true' : raw;
  return spec.valid(value) ? value : undefined;
}

/** Link text of a view value. */
export function writeValue(value) {
  return typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
}
