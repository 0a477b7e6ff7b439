// The dataset views in WebAssembly (Node, one thread), through the page's JS API on the shipped LeNet-5 and
// the 10,000 MNIST t10k digits (issue 17's figures): the features pass, top-9 patches of every conv channel,
// PCA of 10,000 × 400 (pool2), t-SNE of 10,000 × 84 (fc2) × 1,000 iterations (neighbours and affinities
// included), and UMAP of the same. One run each (they take seconds); prints the commit, the load average and,
// beside each wall time, the CPU time of this process (on a loaded machine the wall time counts the time the
// OS gave to others; the CPU time does not, so it is the figure to compare under load).
// Usage: node bench/dataset-wasm.mjs [FILTER]   (after scripts/build-wasm.sh; scripts/bench.sh runs it too)
import { execFileSync } from 'node:child_process';
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

const git = (...args) => { try { return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim(); } catch { return ''; } };
const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : '';
console.log(`convscope ${git('rev-parse', '--short', 'HEAD') || 'unknown commit'}${dirty}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${'operation'.padEnd(52)} ${'wall'.padStart(9)} ${'CPU'.padStart(9)}`);

function once(name, f) {
  if (!name.includes(filter) && !name.startsWith('features')) return null; // every map needs the features
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = f();
  const seconds = (performance.now() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const cpuSeconds = (user + system) / 1e6;
  console.log(`${name.padEnd(52)} ${seconds.toFixed(2).padStart(7)} s ${cpuSeconds.toFixed(2).padStart(7)} s   (load ${loadavg()[0].toFixed(1)})`);
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
  for (const layer of ['conv1', 'conv2']) finish(dataset.start(model, 'patches', { layer, top: 9 }));
});
once('PCA of 10,000 × 400 (pool2)', () => finish(dataset.start(model, 'pca', { layer: 'pool2' })));
// t-SNE in its two parts: the set-up (91 exact nearest neighbours of every point, the perplexity search, the
// PCA start) and the 1,000 gradient iterations (Barnes-Hut repulsion, sparse attraction); the total is the figure.
const started = performance.now();
const tsneJob = once('t-SNE set-up (neighbours, affinities, PCA start)', () => dataset.start(model, 'tsne', { layer: 'fc2' }));
const tsne = tsneJob && once('t-SNE 1,000 iterations of 10,000 points', () => finish(tsneJob));
if (tsne) console.log(`t-SNE of 10,000 × 84 (fc2), 1,000 iterations: ${((performance.now() - started) / 1000).toFixed(2)} s wall in all, KL divergence ${tsne.klDivergence.toFixed(4)}`);
once('UMAP of 10,000 × 84 (fc2), 500 epochs', () => finish(dataset.start(model, 'umap', { layer: 'fc2' })));
