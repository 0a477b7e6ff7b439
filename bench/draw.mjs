// Drawing speed of the page (issue 14, scope 4: main-thread work per pointer event ≤ 8 ms; worker results may
// follow). Opens www/ in headless Chromium (the e2e harness: the system's /usr/bin/chromium, nothing
// downloaded), draws the same digit with real mouse input (DevTools `Input.dispatchMouseEvent`, one move per
// 8 ms as a 125 Hz mouse sends), records a DevTools timeline trace and sums the renderer main thread's tasks
// from the first pointerdown to 200 ms after the last pointerup. That sum over the pointer events the page
// received (down, moves, up) is the figure; the longest task and the tasks over 16.7 / 50 ms are printed too.
// Three layouts: the desktop page's first screen (input, prediction and gallery on screen: the issue's
// 71 ms case), every panel on screen at once (a 1280-wide window as tall as the page), and a 390×844 phone.
//
// Usage: node bench/draw.mjs [ROUNDS] [--profile] [--only=first|every|phone] [--against=DIR]   after
// scripts/build-wasm.sh (ROUNDS digits per layout, default 3). --profile adds, per layout, the main thread's
// self time by trace event (script, style, layout, paint, compositing) and the hottest JS functions of one
// more, profiled digit. --against=DIR compares this build with a copy of www/ in DIR (another commit's page
// and pkg), interleaved digit by digit, since the load of a shared machine drifts between two runs.
// Prints the commit and the load average; quote both with the figures (bench/README.md).

import { execSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { setup, teardown, openPage, ready, settle } from '../tests/e2e/harness.mjs';

const rounds = Number(process.argv.find((arg, i) => i > 1 && /^\d+$/.test(arg)) ?? 3);
const PROFILE = process.argv.includes('--profile');
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice(7) ?? null; // first | every | phone
const AGAINST = process.argv.find((arg) => arg.startsWith('--against='))?.slice(10) ?? null;
const JSON_OUT = process.argv.includes('--json');
const MOVE_MS = 8;
// A "2" in 0..1 canvas coordinates: arc, diagonal, base (three strokes of one digit, as a student draws it).
const DIGIT = [
  [[0.3, 0.3], [0.4, 0.18], [0.6, 0.17], [0.7, 0.3], [0.65, 0.45], [0.3, 0.8]],
  [[0.3, 0.8], [0.75, 0.8]],
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Mouse strokes through DevTools, one move per MOVE_MS, 6 px apart. */
async function drawDigit(page, cdp) {
  const box = await page.locator('[data-testid="draw-canvas"]').boundingBox();
  const at = ([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
  const mouse = (type, { x, y }) => cdp.send('Input.dispatchMouseEvent', { type, x, y, button: 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1 });
  for (const stroke of DIGIT) {
    const points = stroke.map(at);
    await mouse('mousePressed', points[0]);
    for (let i = 1; i < points.length; i++) {
      const [from, to] = [points[i - 1], points[i]];
      const steps = Math.max(1, Math.round(Math.hypot(to.x - from.x, to.y - from.y) / 6));
      for (let s = 1; s <= steps; s++) {
        await mouse('mouseMoved', { x: from.x + ((to.x - from.x) * s) / steps, y: from.y + ((to.y - from.y) * s) / steps });
        await sleep(MOVE_MS);
      }
    }
    await mouse('mouseReleased', points.at(-1));
  }
}

/** Records the DevTools timeline while `action` runs; returns the trace events. */
async function trace(cdp, action) {
  const events = [];
  const collect = ({ value }) => events.push(...value);
  cdp.on('Tracing.dataCollected', collect);
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  await action();
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  await complete;
  cdp.off('Tracing.dataCollected', collect);
  return events;
}

/**
 * Self time (ms) per trace event name on one thread within [start, end]: each complete event's duration less
 * its children's, so FunctionCall, Layout, Paint, Layerize... add up to the busy time of the tasks.
 */
function selfTimes(events, pid, tid, start, end) {
  const mine = events.filter((e) => e.ph === 'X' && e.pid === pid && e.tid === tid && e.ts + (e.dur ?? 0) >= start && e.ts <= end).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const totals = new Map();
  const stack = [];
  const add = (name, us) => totals.set(name, (totals.get(name) ?? 0) + us);
  for (const e of mine) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    if (stack.length) add(stack.at(-1).name, -e.dur);
    add(e.name, e.dur);
    stack.push(e);
  }
  return [...totals].map(([name, us]) => [name, us / 1000]).filter(([, ms]) => ms >= 0.5).sort((a, b) => b[1] - a[1]);
}

/** Main-thread figures of one traced digit: pointer events, busy ms per event, longest task, long tasks. */
function analyse(events) {
  const pointer = events.filter((e) => e.name === 'EventDispatch' && /^pointer(down|move|up)$/.test(e.args?.data?.type ?? ''));
  if (pointer.length === 0) throw new Error('the trace holds no pointer event: did the strokes reach the canvas?');
  const { pid, tid } = pointer[0];
  const start = Math.min(...pointer.map((e) => e.ts));
  const end = Math.max(...pointer.map((e) => e.ts + (e.dur ?? 0))) + 200_000;
  const tasks = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.pid === pid && e.tid === tid && e.ts + e.dur >= start && e.ts <= end);
  const busy = tasks.reduce((sum, e) => sum + e.dur, 0) / 1000;
  const mine = pointer.filter((e) => e.pid === pid && e.tid === tid);
  return {
    events: mine.length,
    moves: mine.filter((e) => e.args.data.type === 'pointermove').length,
    busyMs: busy,
    perEventMs: busy / mine.length,
    longestMs: Math.max(0, ...tasks.map((e) => e.dur)) / 1000,
    over16: tasks.filter((e) => e.dur > 16_700).length,
    over50: tasks.filter((e) => e.dur > 50_000).length,
    breakdown: selfTimes(events, pid, tid, start, end),
    layouts: layoutFigures(events.filter((e) => e.name === 'Layout' && e.pid === pid && e.tid === tid && e.ts >= start && e.ts <= end)),
  };
}

/** How many layouts ran, how many script forced (a stack trace in the event), and the objects they laid out. */
function layoutFigures(layouts) {
  const forced = layouts.filter((e) => e.args?.beginData?.stackTrace);
  const objects = layouts.reduce((n, e) => n + (e.args?.beginData?.dirtyObjects ?? 0), 0);
  const where = [...new Set(forced.map((e) => e.args.beginData.stackTrace[0]).map((f) => `${f.functionName} (${f.url.split('/').pop()}:${f.lineNumber + 1})`))];
  return `${layouts.length} layouts (${forced.length} forced by script${where.length ? `: ${where.join(', ')}` : ''}), ${objects} dirty objects`;
}

/** The JS functions with the most self time in a DevTools CPU profile: `[[name (url:line), ms]]`. */
function hotFunctions({ nodes, samples, timeDeltas }, top = 12) {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const totals = new Map();
  samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = `${functionName || '(anonymous)'} (${url.split('/').slice(-2).join('/')}:${lineNumber + 1})`;
    totals.set(name, (totals.get(name) ?? 0) + (timeDeltas[i] ?? 0));
  });
  return [...totals].map(([name, us]) => [name, us / 1000]).sort((a, b) => b[1] - a[1]).slice(0, top);
}

/** Opens the page in a layout, waits for the gallery's idle classification, then traces `rounds` digits. */
async function layout(name, viewport, everyPanel) {
  const { page } = await openPage('index.html');
  await page.setViewportSize(viewport);
  await ready(page);
  await page.waitForFunction(() => /misclassified/.test(document.querySelector('.gallery-count')?.textContent ?? ''), null, { timeout: 60000 });
  if (everyPanel) {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: viewport.width, height });
  }
  const cdp = await page.context().newCDPSession(page);
  const results = [];
  for (let round = 0; round < rounds; round++) {
    await page.click('[data-testid="clear"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(500); // the worker's techniques of the previous digit
    await settle(page);
    results.push(analyse(await trace(cdp, () => drawDigit(page, cdp).then(() => sleep(250)))));
  }
  if (PROFILE) {
    // One more digit under the CPU profiler (not counted: sampling slows the page), for the hot functions.
    await page.click('[data-testid="clear"]');
    await sleep(500);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await drawDigit(page, cdp);
    await sleep(250);
    const { profile } = await cdp.send('Profiler.stop');
    console.log(`  hot JS functions (self ms over one digit): ${hotFunctions(profile).map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join('; ')}`);
  }
  await page.close();
  const best = results.reduce((a, b) => (a.perEventMs <= b.perEventMs ? a : b));
  const median = [...results].sort((a, b) => a.perEventMs - b.perEventMs)[Math.floor(results.length / 2)];
  const f = (r) => `${r.perEventMs.toFixed(2)} ms/event (${r.events} events, ${r.moves} moves, busy ${r.busyMs.toFixed(0)} ms, longest task ${r.longestMs.toFixed(1)} ms, ${r.over16} tasks > 16.7 ms, ${r.over50} > 50 ms)`;
  console.log(`${name.padEnd(34)} best ${f(best)}\n${''.padEnd(34)} median ${f(median)}`);
  if (PROFILE) console.log(`  ${best.layouts}`);
  if (PROFILE) console.log(`  main-thread self time by trace event (best digit, ms): ${best.breakdown.map(([event, ms]) => `${event} ${ms.toFixed(1)}`).join(', ')}`);
  if (JSON_OUT) console.log(`RESULT ${JSON.stringify(results.map((r) => r.perEventMs))}`);
}

const LAYOUTS = [
  ['first', 'desktop 1280×900, first screen', { width: 1280, height: 900 }, false],
  ['every', 'desktop 1280 wide, every panel', { width: 1280, height: 900 }, true],
  ['phone', 'phone 390×844', { width: 390, height: 844 }, false],
];
const load = () => loadavg()[0].toFixed(1);

/**
 * Two builds in one run (the machine's load drifts between runs): for each layout, one digit of each build in
 * turn, `rounds` times, alternating which goes first; each digit in its own browser, its 1-minute load
 * beside it. `other` is a copy of www/ (e.g. `cp -r www target/www-before` before the change).
 */
function compare(other) {
  const script = fileURLToPath(import.meta.url);
  const builds = [['before', other], ['after', null]];
  for (const [id, name] of LAYOUTS.filter(([id]) => !ONLY || ONLY === id).map(([id, name]) => [id, name])) {
    const figures = { before: [], after: [] };
    for (let round = 0; round < rounds; round++) {
      for (const [label, dir] of round % 2 ? [...builds].reverse() : builds) {
        const env = { ...process.env, ...(dir ? { CONVSCOPE_WWW: dir } : {}) };
        if (!dir) delete env.CONVSCOPE_WWW;
        const before = load();
        const out = execFileSync(process.execPath, [script, '1', `--only=${id}`, '--json'], { env, encoding: 'utf8' });
        const [ms] = JSON.parse(out.split('\n').find((line) => line.startsWith('RESULT ')).slice(7));
        figures[label].push(`${ms.toFixed(1)} (load ${before})`);
      }
    }
    for (const label of ['before', 'after']) console.log(`${name.padEnd(34)} ${label.padEnd(6)} ms/event: ${figures[label].join(', ')}`);
  }
}

const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8' }).trim() ? '+changes' : '';
console.log(`bench/draw.mjs at ${commit}${dirty}, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${rounds} digits per layout, one move per ${MOVE_MS} ms`);
if (AGAINST) {
  compare(AGAINST);
} else {
  await setup();
  try {
    for (const [id, ...args] of LAYOUTS) if (!ONLY || ONLY === id) await layout(...args);
  } finally {
    await teardown();
  }
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
