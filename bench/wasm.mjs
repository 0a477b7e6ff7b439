// WebAssembly timing harness: loads www/pkg (built by `wasm-pack build --target web --out-dir www/pkg`) in
// Node, single thread, and prints the best and median time per call of every method the page uses on the shipped
// LeNet-5 and t10k digit 0, through the same JS API as the page (so binding costs are included), plus the wasm
// size (raw and gzipped) and the page weight. Usage: node bench/wasm.mjs [FILTER]   (or scripts/bench.sh)
// CONVSCOPE_PKG=dir times another build of the module (e.g. `scripts/build-wasm.sh target/x/pkg`).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const pkg = process.env.CONVSCOPE_PKG ? resolve(process.env.CONVSCOPE_PKG) : join(www, 'pkg');
const { initSync, Model } = await import(join(pkg, 'convscope.js'));
const wasmBytes = readFileSync(join(pkg, 'convscope_bg.wasm'));
initSync({ module: wasmBytes });

const filter = process.argv[2] ?? '';
const manifest = readFileSync(join(www, 'models', 'lenet5-mnist.json'), 'utf8');
const model = Model.load(manifest, readFileSync(join(www, 'models', 'lenet5-mnist.safetensors')));

// t10k digit 0 (a 7) from the gzipped IDX file the tests use.
const { gunzipSync } = await import('node:zlib');
const idx = gunzipSync(readFileSync(join(root, 'tests/data/mnist/t10k-images-idx3-ubyte.gz')));
const image = Float32Array.from(idx.subarray(16, 16 + 784), (v) => v / 255);

function time(name, f, count = 15) {
  if (!name.includes(filter)) return;
  f();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < 30) { f(); calls++; }
  const rounds = [];
  for (let r = 0; r < count; r++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) f();
    rounds.push((performance.now() - t) / calls);
  }
  rounds.sort((a, b) => a - b);
  const show = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
  console.log(`${name.padEnd(44)} ${show(rounds[0]).padStart(10)} ${show(rounds[rounds.length >> 1]).padStart(10)}`);
}

// V8 first runs wasm in its baseline tier and optimises hot functions in the background: warm every code path
// up for a second before timing anything.
for (const start = performance.now(); performance.now() - start < 1000;) {
  model.predict(image);
  model.deconvAll(image);
  model.attribute(image, 'guided-grad-cam', {});
}
console.log(`convscope wasm benchmarks (Node ${process.version}, 1 thread; per call: best and median of 15 rounds)`);
console.log(`${''.padEnd(44)} ${'best'.padStart(10)} ${'median'.padStart(10)}`);
time('predict (forward + softmax)', () => model.predict(image));
time('activations (all 13 layers to JS)', () => model.activations(image));
time('deconv conv2 channel 0', () => model.deconv(image, 'conv2', 0));
time('deconvAll (22 reconstructions)', () => model.deconvAll(image));
for (const method of ['gradient', 'saliency', 'guided-backprop', 'deconvnet', 'gradient-x-input',
  'integrated-gradients', 'smoothgrad', 'grad-cam', 'guided-grad-cam', 'occlusion']) {
  time(`attribute ${method}`, () => model.attribute(image, method, {}));
}
// Feature visualization (issue 15): one class image with every default but the pixel parameterization
// (256 Adam steps, batch 1, jitter/scale/rotate, L2, TV, blur every 4), and the conv2 atlas (16 cells of 256
// steps) with pixels and with the default Fourier basis; fewer rounds for the atlases, which take seconds.
time('visualize class:3 (256 steps, pixel, batch 1)', () => model.visualize({ objective: 'class:3', param: 'pixel' }));
time('atlas conv2 (16 cells x 256 steps, pixel)', () => model.atlas({ layer: 'conv2', param: 'pixel' }), 5);
time('atlas conv2 (16 cells x 256 steps, Fourier)', () => model.atlas({ layer: 'conv2' }), 3);
const monitorFile = readdirSync(join(www, 'models')).find((f) => f.startsWith('lenet5-mnist.monitor'));
if (monitorFile) {
  model.loadMonitor(readFileSync(join(www, 'models', monitorFile)));
  time('monitorCheck (forward + nearest pattern)', () => model.monitorCheck(image));
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`\nwasm: ${kb(wasmBytes.length)} raw, ${kb(gzipSync(wasmBytes, { level: 9 }).length)} gzipped`);
// Page weight: everything under www/ that the first screen loads (all but the other model and its gallery),
// with the module from the package being timed.
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === join(www, 'pkg')) continue;
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
};
walk(www);
files.push(...['convscope.js', 'convscope_bg.wasm'].map((name) => join(pkg, name)));
const skip = (p) => /fashion|\.d\.ts$|package\.json$|README|\.gitignore$/.test(p);
const loaded = files.filter((p) => !skip(p));
const raw = loaded.reduce((s, p) => s + statSync(p).size, 0);
const gz = loaded.reduce((s, p) => s + gzipSync(readFileSync(p), { level: 9 }).length, 0);
console.log(`page weight (first screen, ${loaded.length} files): ${kb(raw)} raw, ${kb(gz)} gzipped`);
