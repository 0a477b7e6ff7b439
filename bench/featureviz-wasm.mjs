// Feature visualization in WebAssembly (Node, one thread), issue 15's figures, through the page's JS API on
// the shipped MNIST LeNet-5: one 256-step class image (batch 1, the pixel parameterization, every other option
// at its default: jitter, scale, rotation, L2, total variation, a blur every 4 steps), timed one call at a time
// as the one-shot `model.visualize` and as the page's worker runs it (the step-wise job, `model.start` +
// `job.step`, in slices of 16 steps); the 16-cell conv2 atlas with pixels (the target's configuration) and with
// the default Fourier basis. Prints the commit, the Node version and the load average before and after: on a
// loaded machine the medians mean little. Targets: class image ≤ 150 ms, conv2 atlas ≤ 3 s.
// Usage: node bench/featureviz-wasm.mjs [FILTER] [--runs N]   (after scripts/build-wasm.sh; N class-image runs,
// default 21; the atlases run 5 and 3 times)
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const pkg = process.env.CONVSCOPE_PKG ? resolve(process.env.CONVSCOPE_PKG) : join(www, 'pkg');
const { initSync, Model } = await import(join(pkg, 'convscope.js'));
initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const classRuns = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 21;
const filter = args[0] ?? '';
const model = Model.load(readFileSync(join(www, 'models/lenet5-mnist.json'), 'utf8'), readFileSync(join(www, 'models/lenet5-mnist.safetensors')));

const git = (...a) => {
  try {
    return execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : '';
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`convscope feature visualization, wasm: commit ${git('rev-parse', '--short', 'HEAD')}${dirty}, ${new Date().toISOString()}`);
console.log(`Node ${process.version}, 1 thread, ${cpus().length} CPUs; load average (1, 5, 15 min) before: ${load()}`);

/** Times `f` `runs` times, one call each, after one warm-up call; prints best, median and worst. */
function time(name, f, runs, targetMs) {
  if (!name.includes(filter)) return;
  f();
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  const show = (ms) => `${ms.toFixed(1)} ms`.padStart(11);
  const verdict = median <= targetMs ? 'met' : 'not met';
  console.log(`${name.padEnd(58)} ${show(times[0])} ${show(median)} ${show(times.at(-1))}   ${runs} runs, target ≤ ${targetMs} ms: ${verdict} by the median (load ${loadavg()[0].toFixed(2)})`);
}

const classImage = { objective: 'class:3', param: 'pixel' };
/** The class image as the page's worker computes it: the step-wise job, 16 steps a slice. */
function stepwise() {
  const job = model.start('visualize', null, classImage);
  try {
    for (;;) if (job.step(16).done) return;
  } finally {
    job.free();
  }
}

// Warm V8's optimizing tier up on the optimizer's code paths for a second before timing anything.
for (const start = performance.now(); performance.now() - start < 1000;) model.visualize({ ...classImage, steps: 16 });
const check = model.visualize(classImage).images[0];
console.log(`(the class image reads as 3 with p = ${model.predict(check.data).probs[3].toFixed(5)})`);
console.log(`${''.padEnd(58)} ${'best'.padStart(11)} ${'median'.padStart(11)} ${'worst'.padStart(11)}`);
time('class image class:3, 256 steps, pixel, batch 1', () => model.visualize(classImage), classRuns, 150);
time('class image, the same, step-wise (the page worker path)', stepwise, classRuns, 150);
time('atlas conv2, 16 cells x 256 steps, pixel', () => model.atlas({ layer: 'conv2', param: 'pixel' }), 5, 3000);
time('atlas conv2, 16 cells x 256 steps, Fourier', () => model.atlas({ layer: 'conv2' }), 3, 3000);
console.log(`load average after: ${load()}`);
