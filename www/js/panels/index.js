// The panel registry: the page mounts these in order; the widget mounts a chosen few. A panel module exports
// `meta` and `createPanel(root, app)` returning `{ render(), shown?(), snapshot?(), destroy?() }` (`shown` runs once the
// panel has stayed on screen 1.5 s, js/frame.js). `meta` holds:
//   id, title, description, wide?, needsImage? (default true); live? — drawn on every frame of a pen stroke
//     (the others follow at most every 250 ms while the pen is down, js/frame.js);
//   requires? — the wasm `Model` methods the panel calls; when?(app) — what else it needs (a monitor file);
//     a panel is only mounted when both hold (App.offers);
//   view? — the view keys it owns, with defaults (js/view.js); upgrade?(params, version, app) — how it reads
//     links of older versions (js/hash.js);
//   explainedBy? — a catalogue family whose first technique's summary and explanation the frame shows.
// To add a panel, write its module and list it here.

import * as input from './input.js';
import * as gallery from './gallery.js';
import * as prediction from './prediction.js';
import * as deconv from './deconv.js';
import * as attribution from './attribution.js';
import * as featureviz from './featureviz.js';
import * as monitor from './monitor.js';
import * as layers from './layers.js';
import * as filters from './filters.js';
import * as maps from './maps.js';
import * as neighbours from './neighbours.js';
import * as patches from './patches.js';
import * as volume from './volume.js';
import * as responsemap from './responsemap.js';
import * as weightgrad from './weightgrad.js';
import * as texture from './texture.js';
import * as glossary from './glossary.js';
import * as architecture from './architecture.js';

export const PANELS = [input, prediction, gallery, architecture, deconv, attribution, featureviz, monitor, layers, filters, maps, neighbours, patches, texture, responsemap, volume, weightgrad, glossary];

/** A panel module by its id. */
export function panelById(id) {
  return PANELS.find((panel) => panel.meta.id === id) ?? null;
}
