// Small DOM helpers shared by the panels.

/** Text made safe for innerHTML templates (labels and layer names come from the model's manifest). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A `<select>`'s options from `[value, label]` pairs, `selected` preselected. */
export function optionsHtml(pairs, selected) {
  return pairs
    .map(([value, label]) => `<option value="${escapeHtml(value)}"${String(value) === String(selected) ? ' selected' : ''}>${escapeHtml(label)}</option>`)
    .join('');
}
