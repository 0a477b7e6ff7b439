// The neural response map and CNN-VIS views in WebAssembly (Node, one thread), through the page's JS API on the
// shipped LeNet-5 and the MNIST t10k digits (issue 18's figures): `ResponseMapTraining` over the first 1,000
// images and every conv and linear layer (the activations pass, the correlation, 1,000 t-SNE iterations; what
// the page's worker runs), `map.generate` of one input and of a class's mean (128 × 128, nearest and linear),
// `model.order` of relu2 by k-means and by PCA, `model.weightGradient` of conv1 and conv2, and
// `model.compareWeightGradients` over 1,000 labelled images (the confusion matrix included). Training runs
// once; the others ROUNDS times (median). Prints the commit, the load average and, beside each wall time, the
// CPU time of this process (under load the CPU time is the figure to compare).
// Usage: node bench/nrm-wasm.mjs [FILTER] [ROUNDS]   (after scripts/build-wasm.sh; scripts/bench.sh runs it too)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const pkg = process.env.CONVSCOPE_PKG ? resolve(process.env.CONVSCOPE_PKG) : join(www, 'pkg');
const { initSync, Model, ResponseMapTraining, decodeIdx } = await import(join(pkg, 'convscope.js'));
initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });
const { firstItems } = await import(join(www, 'js/nrm-tasks.js'));
const filter = process.argv[2] ?? '';
const rounds = Number(process.argv[3] ?? 20);

const model = Model.load(readFileSync(join(www, 'models/lenet5-mnist.json'), 'utf8'), readFileSync(join(www, 'models/lenet5-mnist.safetensors')));
const imagesGz = readFileSync(join(www, 'data/mnist-t10k-images.idx3.gz'));
const labelsGz = readFileSync(join(www, 'data/mnist-t10k-labels.idx1.gz'));
const images = decodeIdx(imagesGz);
const labels = decodeIdx(labelsGz);
const pixels = (i) => Float32Array.from(images.data.subarray(i * 784, (i + 1) * 784), (v) => v / 255);

const git = (...args) => { try { return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim(); } catch { return ''; } };
const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : '';
console.log(`convscope ${git('rev-parse', '--short', 'HEAD') || 'unknown commit'}${dirty}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${'operation'.padEnd(60)} ${'wall'.padStart(10)} ${'CPU'.padStart(10)}`);

/** Runs `f` `n` times; prints the median wall time and the mean CPU time per run. */
function time(name, n, f) {
  if (!name.includes(filter)) return null;
  let out = null;
  const walls = [];
  const cpu = process.cpuUsage();
  for (let r = 0; r < n; r++) {
    const start = performance.now();
    out = f();
    walls.push(performance.now() - start);
  }
  const { user, system } = process.cpuUsage(cpu);
  const median = walls.sort((a, b) => a - b)[Math.floor(n / 2)];
  const unit = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`);
  console.log(`${name.padEnd(60)} ${unit(median).padStart(10)} ${unit((user + system) / 1000 / n).padStart(10)}   (load ${loadavg()[0].toFixed(1)})`);
  return out;
}

function train() {
  const training = new ResponseMapTraining(model, imagesGz, {});
  let step;
  do step = training.step(1e6);
  while (!step.done);
  const map = training.finish();
  training.free();
  return { map, kl: step.klDivergence };
}

const trained = time('nrm train: 1,000 images, every conv + linear layer', 1, train);
if (trained) console.log(`  ${trained.map.neurons().length} neurons, KL divergence ${trained.kl?.toFixed(4)}`);
const map = trained?.map ?? ('nrm generate'.includes(filter) || filter.includes('generate') ? train().map : null);
const threes = Array.from({ length: 1000 }, (_, i) => i).filter((i) => labels.data[i] === 3);
const classImages = new Float32Array(threes.length * 784);
threes.forEach((i, k) => classImages.set(pixels(i), k * 784));
for (const method of ['nearest', 'linear']) {
  if (!map) break;
  time(`nrm generate: one input, 128 × 128, ${method}`, rounds, () => map.generate(model, pixels(0), { method }));
  time(`nrm generate: mean of ${threes.length} images of class 3, ${method}`, Math.max(1, rounds >> 2), () => map.generate(model, classImages, { method }));
}
for (const by of ['kmeans', 'pca']) time(`order relu2 (16 × 10 × 10) by ${by}`, rounds, () => model.order(pixels(0), { layer: 'relu2', by, k: 4 }));
for (const layer of ['conv1', 'conv2']) time(`weight-gradient ${layer}, one image`, rounds, () => model.weightGradient(pixels(0), { layer }));
const subset = [firstItems(images, 1000), firstItems(labels, 1000)];
time('weight-gradient --compare 3 over 1,000 images (16 per class)', Math.max(1, rounds >> 2), () => model.compareWeightGradients(...subset, { layer: 'conv2', compare: [3] }));
map?.free();
