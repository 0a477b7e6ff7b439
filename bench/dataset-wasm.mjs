// The dataset views in WebAssembly (Node, one thread), through the page's JS API on the shipped LeNet-5 and
// the 10,000 MNIST t10k digits (issue 17's figures): the features pass, top-9 patches of every conv channel,
// PCA of 10,000 × 400 (pool2), t-SNE of 10,000 × 84 (fc2) × 1,000 iterations (neighbours and affinities
// included), and UMAP of the same. One run each (they take seconds); prints the load average with them.
// Usage: node bench/dataset-wasm.mjs [FILTER]   (after scripts/build-wasm.sh; scripts/bench.sh runs it too)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const pkg = process.env.CONVSCOPE_PKG ? resolve(process.env.CONVSCOPE_PKG) : join(www, 'pkg');
const { initSync, Model, Dataset } = await import(join(pkg, 'convscope.js'));
initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });
const filter = process.argv[2] ?? '';

const model = Model.load(readFileSync(join(www, 'models/lenet5-mnist.json'), 'utf8'), readFileSync(join(www, 'models/lenet5-mnist.safetensors')));
const dataset = Dataset.fromIdx(model, readFileSync(join(www, 'data/mnist-t10k-images.idx3.gz')), readFileSync(join(www, 'data/mnist-t10k-labels.idx1.gz')));

function once(name, f) {
  if (!name.includes(filter) && name !== 'features') return null;
  const start = performance.now();
  const out = f();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(52)} ${seconds.toFixed(2).padStart(8)} s   (load ${loadavg()[0].toFixed(1)})`);
  return out;
}

/** Steps a task to its end; the setup (neighbours, affinities, PCA start) is timed with it. */
function finish(task) {
  for (;;) {
    const step = task.step(1000);
    if (step.done) return step.result;
  }
}

once('features (pixels, pool2, fc2) of 10,000 images', () => {
  while (dataset.extract(model, ['pixels', 'pool2', 'fc2'], 10000).done < 10000);
});
once('top-9 patches of every conv channel (conv1 + conv2)', () => {
  for (const layer of ['conv1', 'conv2']) finish(dataset.startPatches(model, { layer, top: 9 }));
});
once('PCA of 10,000 × 400 (pool2)', () => finish(dataset.startMap(model, 'pca', { layer: 'pool2' })));
const tsne = once('t-SNE of 10,000 × 84 (fc2), 1,000 iterations', () => finish(dataset.startMap(model, 'tsne', { layer: 'fc2' })));
if (tsne) console.log(`  KL divergence ${tsne.klDivergence.toFixed(4)}`);
once('UMAP of 10,000 × 84 (fc2), 500 epochs', () => finish(dataset.startMap(model, 'umap', { layer: 'fc2' })));
