// The shared harness of the end-to-end page tests (tests/e2e/*.test.mjs): a tiny static server for www/ on
// 127.0.0.1, the same wasm module loaded in Node (to compute what the page should show), one headless Chromium
// (the system's /usr/bin/chromium through playwright-core; nothing is downloaded), and helpers to open, draw on
// and read the page. A test file calls `before(setup)` and `after(teardown)`; each file runs in its own process.
import http from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { writeCacheManifest } from '../../scripts/cache-manifest.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
// CONVSCOPE_WWW serves another copy of the page (bench/draw.mjs compares two builds in one run).
export const www = process.env.CONVSCOPE_WWW ? path.resolve(process.env.CONVSCOPE_WWW) : path.join(repo, 'www');
export const screenshots = path.join(here, 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * The Content-Security-Policy the server sends with every response (pages, scripts, workers, the service
 * worker), so every test runs under it: the strict policy of docs/security.md. `report-uri` only adds
 * reporting: violations anywhere (page, worker, service worker) are posted back and land in `violations`.
 */
export const STRICT_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; " +
  "require-trusted-types-for 'script'; trusted-types convscope";
const REPORTS = '/__csp-report';
/** CSP violation reports received (`{ document, directive, blocked }`), for every test to assert none. */
export const violations = [];

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// Stand-ins while www/models/ has no trained MNIST model yet (used only when the real file is missing).
const FIXTURES = {
  '/models/lenet5-mnist.json': path.join(repo, 'tests/data/torch-lenet-random.json'),
  '/models/torch-lenet-random.safetensors': path.join(repo, 'tests/data/torch-lenet-random.safetensors'),
};
export const trainedModel = existsSync(path.join(www, 'models/lenet5-mnist.json'));

export function resolveFile(urlPath) {
  const clean = path.normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, '');
  const file = path.join(www, clean.endsWith('/') ? `${clean}index.html` : clean);
  if (!file.startsWith(www)) return null;
  if (existsSync(file) && statSync(file).isFile()) return file;
  return FIXTURES[clean] ?? null;
}

let server;
let userDataDir;
export let origin;
export let context;
export let wasm;
export let modelFiles;
export let manifest;

function collectReport(request) {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    try {
      const report = JSON.parse(body)['csp-report'];
      violations.push({ document: report['document-uri'], directive: report['effective-directive'], blocked: report['blocked-uri'], sample: report['script-sample'] });
    } catch {
      violations.push({ unreadable: body });
    }
  });
}

/** The static server's answer to one request. */
function serve(request, response) {
  const url = new URL(request.url, 'http://localhost');
  const { pathname } = url;
  if (pathname === '/favicon.ico') {
    response.writeHead(204).end(); // the browser's own request (the pages declare no icon: no img-src needed)
    return;
  }
  if (pathname === REPORTS) {
    collectReport(request);
    response.writeHead(204).end();
    return;
  }
  if (pathname === '/__course-page.html') {
    // A page of another site (reached as localhost, not 127.0.0.1) embedding the widget across origins,
    // under the policy of its `csp` parameter (none without).
    const csp = url.searchParams.get('csp');
    response.writeHead(200, { 'content-type': TYPES['.html'], ...(csp ? { 'content-security-policy': `${csp}; report-uri ${origin}${REPORTS}` } : {}) });
    response.end(`<!doctype html><html lang="en"><title>course</title><body>
      <script type="module" src="${origin}/convscope-viewer.js"></script>
      <convscope-viewer id="remote" view="input,attribution"></convscope-viewer></body></html>`);
    return;
  }
  const file = resolveFile(pathname);
  if (!file) {
    response.writeHead(404).end('not found');
    return;
  }
  response.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'access-control-allow-origin': '*', // as GitHub Pages sends: the widget may be embedded anywhere
    'content-security-policy': `${STRICT_CSP}; report-uri ${REPORTS}`,
  });
  response.end(readFileSync(file));
}

/** Starts the static server on `port` (0: any free one); `origin` is then its address. */
export async function startServer(port = 0) {
  server = http.createServer(serve);
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
}

/** Stops the static server at once, open connections included (the browser is then offline for the site). */
export async function stopServer() {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  server = null;
}

/**
 * Starts the static server (after writing the service worker's manifest, as scripts/build-wasm.sh does, for the
 * files as they are now), loads the wasm module in Node and launches Chromium: call from `before`.
 */
export async function setup() {
  writeCacheManifest(www);
  await startServer();

  // The same wasm module in Node, to compute what the page should show.
  wasm = await import(path.join(www, 'pkg/convscope.js'));
  await wasm.default({ module_or_path: readFileSync(path.join(www, 'pkg/convscope_bg.wasm')) });
  const manifestText = readFileSync(resolveFile('/models/lenet5-mnist.json'), 'utf8');
  const weights = readFileSync(resolveFile(`/models/${JSON.parse(manifestText).weights}`));
  modelFiles = wasm.Model.load(manifestText, weights);
  manifest = JSON.parse(manifestText);

  mkdirSync(screenshots, { recursive: true });
  userDataDir = mkdtempSync(path.join(tmpdir(), 'convscope-e2e-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Violations the page sees at once (reports of workers arrive at the server, in `violations`).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
}

/** The CSP violations reported since the last call, after `ms` for reports still on their way. */
export async function reportedViolations(ms = 300) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return violations.splice(0);
}

/** Closes what `setup` opened: call from `after`. Fails when a CSP violation was reported and not taken. */
export async function teardown() {
  await context?.close();
  const left = server ? await reportedViolations() : [];
  server?.close();
  modelFiles?.free();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (left.length) throw new Error(`CSP violations reported: ${JSON.stringify(left)}`);
}

/** A page that records console errors, uncaught exceptions and requests to other origins. */
export async function openPage(url) {
  const page = await context.newPage();
  const problems = { errors: [], foreign: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(message.text());
  });
  page.on('pageerror', (error) => problems.errors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin) problems.foreign.push(url);
  });
  await page.goto(`${origin}/${url}`);
  return { page, problems };
}

export async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
}

/**
 * Waits two animation frames, so rAF-scheduled analysis and rendering have run; then, while the drawing surface
 * says a drawing is being preprocessed (its `data-analysing`, the worker's answer), for that answer and two more
 * frames for the panels it redraws.
 */
export async function settle(page) {
  const frames = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await frames();
  const idle = () => document.querySelector('[data-testid="draw-canvas"]')?.dataset.analysing !== 'true';
  if (await page.evaluate(idle)) return;
  await page.waitForFunction(idle, null, { timeout: 30000 });
  await frames();
}

export async function predictionText(page) {
  return (await page.textContent('[data-testid="prediction"]')).trim();
}

/** Number of distinct RGBA colours on a canvas. */
export async function distinctColours(page, selector) {
  return page.$eval(selector, (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return colours.size;
  });
}

/** Draws polylines (in 0..1 canvas coordinates) with the mouse: real pointerdown/move/up events. */
export async function draw(page, strokes) {
  const box = await page.locator('[data-testid="draw-canvas"]').boundingBox();
  for (const stroke of strokes) {
    const [first, ...rest] = stroke.map(([x, y]) => [box.x + x * box.width, box.y + y * box.height]);
    await page.mouse.move(first[0], first[1]);
    await page.mouse.down();
    for (const [x, y] of rest) await page.mouse.move(x, y, { steps: 8 });
    await page.mouse.up();
  }
  await settle(page);
}

export function expectedLabel(labelIndex) {
  return modelFiles.info().labels[labelIndex];
}

/** The catalogue's label of a technique (the page shows the catalogue's words). */
export function techniqueLabel(id) {
  return wasm.catalogue().find((technique) => technique.id === id).label;
}

/** The course page of another origin (localhost) embedding the widget, under host policy `csp` (null: none). */
export function coursePage(csp = null) {
  return `${origin.replace('127.0.0.1', 'localhost')}/__course-page.html${csp ? `?csp=${encodeURIComponent(csp)}` : ''}`;
}

/** Opens the embed demo once both of its widgets are ready. */
export async function openEmbed() {
  const opened = await openPage('embed.html');
  for (const id of ['#demo-deconv', '#demo-predict']) await opened.page.waitForSelector(`${id}[data-ready="true"]`, { timeout: 30000 });
  return opened;
}

/** Opens the page at `hash` with the attribution panel on screen. */
export async function openAttribution(hash) {
  const opened = await openPage(`index.html${hash}`);
  await ready(opened.page);
  await opened.page.locator('#panel-attribution').scrollIntoViewIfNeeded();
  return opened;
}

/** Waits until the attribution panel shows the map of technique `id`. */
export async function attributionShown(page, id) {
  await page.waitForFunction(
    (label) => document.querySelector('#panel-attribution .attribution-caption').textContent.startsWith(`${label} · class`),
    techniqueLabel(id),
  );
}

