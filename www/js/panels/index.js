// The panel registry: the page mounts these in order; the widget mounts a chosen few. A panel module exports
// `meta` ({ id, title, description, wide?, needsImage?, requires? }) and `createPanel(root, app)` returning
// `{ render(), snapshot?(), destroy?() }`. `requires` lists the wasm `Model` methods the panel calls; a panel
// is only mounted when the loaded module has them. To add a panel (attribution, monitor, ...), write its
// module and list it here.

import * as input from './input.js';
import * as gallery from './gallery.js';
import * as prediction from './prediction.js';
import * as deconv from './deconv.js';
import * as attribution from './attribution.js';
import * as layers from './layers.js';
import * as filters from './filters.js';

export const PANELS = [input, prediction, gallery, deconv, attribution, layers, filters];

/** Whether `model` (a wasm `Model`) offers every method `panel` needs. */
export function isAvailable(panel, model) {
  return (panel.meta.requires ?? []).every((method) => typeof model[method] === 'function');
}

/** A panel module by its id. */
export function panelById(id) {
  return PANELS.find((panel) => panel.meta.id === id) ?? null;
}
