// What a panel exports beside its PNG: its data as JSON in the shape the CLI's `--json` prints, and the
// convscope CLI command that computes the same thing from a checkout of the repository (paths relative to its
// root: `www/models/...`, `www/data/...`). The command names the input as the CLI can read it: a test image by
// its gallery file and index, an upload by its file name, a drawing or a link's image by a file the page
// saves (`convscope-input.png`: the drawing surface, which the CLI preprocesses exactly as the page does;
// `convscope-input.idx3`: a link's 28×28 input, whose values are whole multiples of 1/255). No DOM but the
// download links.

import { el, selectOf } from './dom.js';

const SITE = new URL('../', import.meta.url).href; // the folder of index.html, www/ in the repository

/** A URL of the site as the path from the repository's root (`www/models/lenet5-mnist.json`), else as it is. */
export function repoPath(url) {
  return url.startsWith(SITE) ? `www/${url.slice(SITE.length)}` : url;
}

/** A float32 value as the shortest decimal that reads back as the same float32 (as the CLI's JSON prints it). */
export function f32(value) {
  for (let digits = 1; digits < 9; digits++) {
    const short = Number(value.toPrecision(digits));
    if (Math.fround(short) === value) return short;
  }
  return value;
}

/** Saves a blob as a file through a same-origin blob URL. */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  el('a', { href: url, download: filename }).click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A one-image IDX file (unsigned bytes, `[1, h, w]`) of an input whose values are multiples of 1/255. */
function idxOf(image, height, width) {
  const bytes = new Uint8Array(16 + height * width);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x0803);
  [1, height, width].forEach((n, i) => view.setUint32(4 + 4 * i, n));
  image.subarray(0, height * width).forEach((v, i) => (bytes[16 + i] = Math.round(v * 255)));
  return new Blob([bytes], { type: 'application/octet-stream' });
}

/**
 * The CLI arguments naming the app's current input: `{ args, file }`, `file` being `{ name, blob() }` when the
 * page must save the input for the command to read (a drawing, a link's image), or null.
 */
export function cliInput(app) {
  const source = app.source;
  const { height, width } = app.info.input;
  switch (source?.kind) {
    case 'gallery':
      return { args: ['--idx', repoPath(`${app.spec.gallery}-images.idx3.gz`), '--index', String(source.index)], file: null };
    case 'upload':
      return { args: ['--image', source.name], file: null };
    case 'drawn':
      return { args: ['--image', 'convscope-input.png'], file: { name: 'convscope-input.png', blob: source.canvasBlob } };
    default: {
      const image = app.image;
      return { args: ['--idx', 'convscope-input.idx3', '--index', '0'], file: { name: 'convscope-input.idx3', blob: async () => idxOf(image, height, width) } };
    }
  }
}

/** One shell word: as it is when it is safe, else single-quoted. */
function quote(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The command of catalogue technique `technique` (its `command`, then `extra` words such as `--method ID`) with
 * `options` (the module's options object: catalogue keys are the CLI's flags) on the app's input (none with
 * `input: false`, for what does not depend on it: the filters), printing JSON: `{ text, file }` (see `cliInput`).
 */
export function cliCommand(app, technique, options, extra = [], { input: withInput = true } = {}) {
  const input = withInput ? cliInput(app) : { args: [], file: null };
  const flags = technique.options.flatMap((option) => {
    const value = options[option.key];
    if (value === undefined || value === false) return [];
    return value === true ? [`--${option.key}`] : [`--${option.key}`, String(value)];
  });
  const words = ['convscope', ...technique.command.split(' '), '--model', repoPath(app.spec.manifest), ...input.args, ...extra, ...flags, '--json'];
  return { text: words.map(quote).join(' '), file: input.file };
}

/** Several `cliCommand`s as one line run one after the other (each prints its JSON line). */
export function commandSequence(commands) {
  return { text: commands.map((command) => command.text).join(' && '), file: commands.find((command) => command.file)?.file ?? null };
}

/** Shows a `cliCommand` result in `box`: the command, Copy, and the input file to save when it needs one. */
function showCommand(box, command, copyNow = true) {
  if (!command) {
    box.hidden = true;
    return;
  }
  const status = el('span', { className: 'muted', attrs: { role: 'status' } });
  const copy = el('button', { type: 'button', className: 'icon-button', textContent: 'Copy' });
  copy.addEventListener('click', () =>
    navigator.clipboard
      .writeText(command.text)
      .then(() => (status.textContent = 'Copied.'))
      .catch(() => (status.textContent = 'Select the command to copy it.')),
  );
  const save = command.file && el('button', { type: 'button', className: 'icon-button', textContent: `Save ${command.file.name}` });
  save?.addEventListener('click', async () => downloadBlob(await command.file.blob(), command.file.name));
  const note = command.file ? `The command reads the input from ${command.file.name}: save it next to where you run it.` : 'Run it from a checkout of the repository.';
  box.replaceChildren(el('code', { className: 'command-text', textContent: command.text }), el('p', { className: 'muted command-note', textContent: note }), el('div', { className: 'button-row' }, copy, save, status));
  box.hidden = false;
  if (copyNow) copy.click();
}

/**
 * The export controls of a mounted panel `view` (`{ snapshot?(scale), data?(), command?() }`): a PNG scale and
 * button, JSON, and CLI (which opens `box`, to place under the panel's header). Returns `{ elements, box,
 * refresh() }`: refresh shows the command of the current view in an open box (call it after each render).
 */
export function exportActions(meta, view) {
  const button = (text, title, onclick) => el('button', { type: 'button', className: 'icon-button', textContent: text, title, onclick, attrs: { 'aria-label': title } });
  const elements = [];
  if (view.snapshot) {
    const scale = selectOf([[1, '1×'], [2, '2×'], [4, '4×']], 2, { className: 'export-scale', title: 'Scale of the PNG', attrs: { 'aria-label': `Scale of the ${meta.title} PNG` } });
    const png = () => {
      const canvas = view.snapshot(Number(scale.value));
      canvas?.toBlob((blob) => blob && downloadBlob(blob, `convscope-${meta.id}.png`), 'image/png');
    };
    elements.push(scale, button('PNG', `Download the ${meta.title} panel as a PNG image`, png));
  }
  if (view.data) {
    const json = () => {
      const data = view.data();
      if (data) downloadBlob(new Blob([`${JSON.stringify(data)}\n`], { type: 'application/json' }), `convscope-${meta.id}.json`);
    };
    elements.push(button('JSON', `Download the numbers of the ${meta.title} panel as JSON (the CLI's --json output)`, json));
  }
  const box = view.command ? el('div', { className: 'panel-command', hidden: true, dataset: { testid: `command-${meta.id}` } }) : null;
  if (box) elements.push(button('CLI', `The convscope command that computes the ${meta.title} panel`, () => showCommand(box, box.hidden ? view.command() : null)));
  const refresh = () => box && !box.hidden && showCommand(box, view.command(), false);
  return { elements, box, refresh };
}
