// Issue 16's benchmark in WebAssembly (Node, one thread), through the page's JS API: a 128 × 128 RGB texture
// of the bundled www/data/textures/fur.png through the random multi-scale network, the default 200 Adam steps
// (target ≤ 30 s; the SIMD floor is ≈ 13 s), run step by step as the page's worker runs it. Prints the wall time
// and this process's CPU time (user + system: the figure that means something on a loaded machine), the time
// per step, the style loss it reached, the commit and the load average before and after.
// Usage: node bench/texture-wasm.mjs [STEPS]   (after scripts/build-wasm.sh; CONVSCOPE_PKG=dir for another build)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const pkg = process.env.CONVSCOPE_PKG ? resolve(process.env.CONVSCOPE_PKG) : join(www, 'pkg');
const { initSync, Model, decodeImage } = await import(join(pkg, 'convscope.js'));
initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });
const steps = Number(process.argv[2] ?? 200);

const commit = (() => {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
})();
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');

const model = Model.load(readFileSync(join(www, 'models/lenet5-mnist.json'), 'utf8'), readFileSync(join(www, 'models/lenet5-mnist.safetensors')));
const style = decodeImage(readFileSync(join(www, 'data/textures/fur.png')), 3);
const loadBefore = load();
const cpuStart = process.cpuUsage();
const started = performance.now();
const job = model.start('texture', null, { steps }, style);
let result = null;
let first = null;
while (!result) {
  const step = job.step(1);
  if (first === null) first = (performance.now() - started) / 1000;
  if (step.done) result = step.result;
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
job.free();
const [c, h, w] = result.shape;
console.log(`texture ${h}x${w} RGB (${c} channels), random net, ${steps} steps: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`
  + ` (${((cpuSeconds * 1000) / Math.max(steps, 1)).toFixed(0)} ms CPU a step; first step with the setup ${(first * 1000).toFixed(0)} ms wall)`);
console.log(`style loss ${result.history[0]?.toExponential(3)} -> ${result.styleLoss.toExponential(3)}`
  + ` (${(result.history[0] / result.styleLoss).toFixed(0)}x lower)`);
console.log(`commit ${commit}, Node ${process.version}, load average (1, 5, 15 min) ${loadBefore} before, ${load()} after`);
