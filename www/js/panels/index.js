// The panel registry: the page mounts these in order; the widget mounts a chosen few. A panel module exports
// `meta` ({ id, title, description, wide?, needsImage?, requires?, when? }) and `createPanel(root, app)`
// returning `{ render(), snapshot?(), destroy?() }`. `requires` lists the wasm `Model` methods the panel calls
// and `when(app)` what else it needs (a monitor file, ...); a panel is only mounted when both hold. To add a panel (attribution, monitor, ...), write its
// module and list it here.

import * as input from './input.js';
import * as gallery from './gallery.js';
import * as prediction from './prediction.js';
import * as deconv from './deconv.js';
import * as attribution from './attribution.js';
import * as monitor from './monitor.js';
import * as layers from './layers.js';
import * as filters from './filters.js';

export const PANELS = [input, prediction, gallery, deconv, attribution, monitor, layers, filters];

/** Whether `app`'s model offers every method `panel` needs, and whatever else it asks for. */
export function isAvailable(panel, app) {
  const methods = (panel.meta.requires ?? []).every((method) => typeof app.model[method] === 'function');
  return methods && (panel.meta.when?.(app) ?? true);
}

/** A panel module by its id. */
export function panelById(id) {
  return PANELS.find((panel) => panel.meta.id === id) ?? null;
}
