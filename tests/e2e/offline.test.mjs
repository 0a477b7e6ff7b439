// The page offline (www/sw.js, docs/security.md#offline): after one visit the service worker holds the app shell
// of pkg/cache-manifest.js, the wasm module and the model and sample set the page opened, in a cache named
// after the build's version; with the server stopped, a reload still analyses a drawing (the wasm glue is
// imported as convscope.js?instance=N, matched without its query) and the worker still computes. A new
// version replaces the cache once no page uses the old one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, teardown, origin, www, modelFiles, openPage, ready, draw, settle, predictionText, expectedLabel, attributionShown,
  startServer, stopServer, reportedViolations,
} from './harness.mjs';
import { cacheManifest, writeCacheManifest } from '../../scripts/cache-manifest.mjs';

before(setup);
after(teardown);

/**
 * The names of the page's caches and the entries of cache `name` (`[[path, bytes], ...]`, null when absent).
 * Only that cache is opened: reading one the new worker is deleting can stall the page for minutes.
 */
function cached(page, name) {
  return page.evaluate(async (name) => {
    const names = await caches.keys();
    if (!names.includes(name)) return { names, entries: null };
    const cache = await caches.open(name);
    const entries = await Promise.all(
      (await cache.keys()).map(async (request) => {
        const url = new URL(request.url);
        return [url.pathname + url.search, (await (await cache.match(request)).blob()).size];
      }),
    );
    return { names, entries };
  }, name);
}

const OPENED = ['/models/lenet5-mnist.json', '/models/lenet5-mnist.safetensors', '/models/lenet5-mnist.monitor.bin', '/data/mnist-gallery-images.idx3.gz', '/data/mnist-gallery-labels.idx1.gz'];

/**
 * Polls until the page's only cache is that of build `version`, holding the shell and the opened model (the
 * service worker installs and fills it in the background); returns its entries.
 */
async function cachedBuild(page, version) {
  const name = `convscope-${version}`;
  const expected = [...cacheManifest(www).shell.map((file) => (file === './' ? '/' : `/${file}`)), ...OPENED];
  const deadline = Date.now() + 30000;
  for (;;) {
    const { names, entries } = await cached(page, name);
    const paths = new Set((entries ?? []).map(([p]) => p));
    if (names.length === 1 && expected.every((p) => paths.has(p))) return entries;
    if (Date.now() > deadline) throw new Error(`the caches never held only ${name}, complete: ${JSON.stringify(names)}, ${paths.size} entries`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('after one visit the page reloads and analyses a drawing with the server stopped', async () => {
  const { version, shell, bytes } = cacheManifest(www);
  const { page, problems } = await openPage('index.html');
  await ready(page);
  const entries = await cachedBuild(page, version);
  const total = entries.reduce((sum, [, size]) => sum + size, 0);
  const models = entries.filter(([p]) => OPENED.includes(p)).reduce((sum, [, size]) => sum + size, 0);
  console.log(`cache convscope-${version}: ${entries.length} entries (${shell.length} shell files, ${bytes} bytes; models and gallery ${models} bytes), ${total} bytes in all`);
  assert.ok(entries.every(([p]) => !p.includes('?')), 'entries are stored without a query');
  assert.ok(!entries.some(([p]) => p.startsWith('/models/lenet5-fashion')), 'a model never opened is not cached');

  await stopServer();
  await assert.rejects(fetch(`${origin}/index.html`), 'the server is down');
  await page.reload();
  await ready(page);
  // The page came from the cache: draw a "1", predict as the module in Node does on the same pixels.
  await page.click('[data-testid="clear"]');
  await draw(page, [[[0.52, 0.15], [0.5, 0.5], [0.48, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('.preview-source')?.textContent === 'Your drawing');
  await settle(page);
  const rgba = await page.$eval('[data-testid="draw-canvas"]', (canvas) => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data));
  const { label } = modelFiles.predict(modelFiles.preprocessRgba(new Uint8Array(rgba), 280, 280));
  assert.ok((await predictionText(page)).startsWith(`${expectedLabel(label)} `));
  const glue = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('convscope.js?instance=')));
  assert.ok(glue.length >= 1, 'the glue was imported with its instance query');
  // The worker's scripts and wasm come from the cache too.
  await page.locator('#panel-attribution').scrollIntoViewIfNeeded();
  await attributionShown(page, 'integrated-gradients');
  assert.deepEqual(problems.errors, [], 'console errors');
  await page.close();
  await startServer(Number(new URL(origin).port));
  assert.deepEqual(await reportedViolations(), [], 'CSP violations');
});

test('a new build replaces the offline copy and tells the open page', async () => {
  const { version } = cacheManifest(www);
  const next = `${version.slice(0, 8)}redeploy`;
  const first = await openPage('index.html');
  await ready(first.page);
  await cachedBuild(first.page, version);
  try {
    writeCacheManifest(www, { version: next }); // a deploy: a new manifest, hence a new worker
    const status = await first.page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      await registration.update();
      await changed;
      return document.querySelector('#status').textContent;
    });
    // The new worker took over: the page says so, and the new cache alone holds the shell and the model the
    // page had opened (it asked the new worker to keep it).
    assert.match(status, /updated in the background: reload/);
    await cachedBuild(first.page, next);
    await first.page.reload();
    await ready(first.page);
    assert.equal(await first.page.evaluate(() => navigator.serviceWorker.controller.scriptURL.endsWith('/sw.js')), true);
    assert.deepEqual(first.problems.errors, [], 'console errors');
    await first.page.close();
  } finally {
    writeCacheManifest(www);
  }
  assert.deepEqual(await reportedViolations(), [], 'CSP violations');
});
