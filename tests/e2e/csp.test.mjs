// The page, the embed demo and the widget under a strict Content-Security-Policy with Trusted Types
// (docs/security.md). The harness sends the strict policy (harness.mjs STRICT_CSP) with every response, so
// every e2e test runs under it; here: the policy is really in force (string sinks throw, inline styles are not
// applied), nothing in www/ uses a string sink, the worker runs under it, the widget keeps its layout, a page
// of another origin embeds the widget under the documented host policy, and a host policy that blocks the
// worker gets a message that names the directive to change. Zero violations everywhere else.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  setup, teardown, origin, context, www, STRICT_CSP, openPage, openEmbed, openAttribution, attributionShown, ready, predictionText,
  techniqueLabel, coursePage, reportedViolations,
} from './harness.mjs';

before(setup);
after(teardown);

/** The policy a course page of another origin needs to embed the widget served from `widget` (docs/security.md). */
function embedPolicy(widget, { workerSrc = `blob: ${widget}`, trustedTypes = 'convscope' } = {}) {
  return (
    `default-src 'none'; script-src ${widget} 'wasm-unsafe-eval'; connect-src ${widget}; style-src ${widget}; ` +
    `${workerSrc === null ? '' : `worker-src ${workerSrc}; `}require-trusted-types-for 'script'; trusted-types ${trustedTypes}`
  );
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'pkg' ? [] : files(file);
    return /\.(js|html|css)$/.test(name) ? [file] : [];
  });
}

test('nothing in www/ uses a string sink or an inline style', () => {
  const sinks = /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|setHTML|createContextualFragment|srcdoc|\.cssText|setAttribute\(\s*['"](style|on\w+)['"]|<style|\sstyle=|\son[a-z]+=["']|new Function|\beval\(/;
  const found = files(www).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => [line, i])
      .filter(([line]) => sinks.test(line))
      .map(([line, i]) => `${path.relative(www, file)}:${i + 1}: ${line.trim()}`),
  );
  assert.deepEqual(found, []);
  assert.ok(files(www).length > 20, 'the scan saw the page modules');
});

test('the page runs under the strict policy: Trusted Types enforced, inline styles dropped, worker included', async () => {
  const { page, problems } = await openAttribution('#v=2&model=mnist&sample=2');
  assert.equal((await page.evaluate(() => fetch('index.html').then((r) => r.headers.get('content-security-policy')))).split('; report-uri')[0], STRICT_CSP);
  const enforced = await page.evaluate(() => {
    const sink = (fn) => {
      try {
        fn();
        return 'allowed';
      } catch (error) {
        return error.constructor.name;
      }
    };
    const style = document.createElement('style');
    style.textContent = 'body { outline: 7px solid red; }';
    document.head.append(style);
    return {
      innerHTML: sink(() => (document.createElement('div').innerHTML = '<b>x</b>')),
      worker: sink(() => new Worker('js/worker.js', { type: 'module' }).terminate()),
      policy: sink(() => trustedTypes.createPolicy('another', {})),
      inlineStyle: getComputedStyle(document.body).outlineStyle,
    };
  });
  assert.deepEqual(enforced, { innerHTML: 'TypeError', worker: 'TypeError', policy: 'TypeError', inlineStyle: 'none' });
  // Those three attempts were refused, and said so; nothing else was.
  const refused = await reportedViolations();
  assert.deepEqual(refused.map((v) => v.directive).sort(), ['require-trusted-types-for', 'require-trusted-types-for', 'style-src-elem', 'trusted-types']);
  problems.errors.length = 0;

  // The worker (started through the policy) computes integrated gradients and occlusion.
  await attributionShown(page, 'integrated-gradients');
  await page.selectOption('#panel-attribution .method', 'occlusion');
  await attributionShown(page, 'occlusion');
  assert.match(await predictionText(page), /^\S+ \d+\.\d%$/);
  assert.deepEqual(problems.errors, [], 'console errors');
  assert.deepEqual(await reportedViolations(), [], 'CSP violations');
  await page.close();
});

test('the embed demo keeps its layout under the strict policy: styles from files, none inline', async () => {
  const { page, problems } = await openEmbed();
  const layout = await page.evaluate(() => {
    const root = document.querySelector('#demo-deconv').shadowRoot;
    const widget = root.querySelector('.widget');
    return {
      widget: getComputedStyle(widget).display,
      host: getComputedStyle(document.querySelector('#demo-deconv')).display,
      status: root.querySelector('.widget-status').hidden,
      doc: getComputedStyle(document.querySelector('.doc')).maxWidth,
      panels: [...widget.children].map((panel) => panel.getBoundingClientRect().width > 200),
      inlineStyles: document.querySelectorAll('style, [style]').length + root.querySelectorAll('style').length,
    };
  });
  assert.deepEqual(layout, { widget: 'flex', host: 'block', status: true, doc: '1100px', panels: [true, true], inlineStyles: 0 });
  assert.deepEqual(problems.errors, [], 'console errors');
  assert.deepEqual(await reportedViolations(), [], 'CSP violations');
  await page.close();
});

test('a page of another origin embeds the widget, worker included, under the documented host policy', async () => {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  const response = await page.goto(coursePage(embedPolicy(origin)));
  assert.match(response.headers()['content-security-policy'], /require-trusted-types-for 'script'; trusted-types convscope/);
  await page.waitForSelector('#remote[data-ready="true"]', { timeout: 30000 });
  await page.waitForFunction((label) => {
    const caption = document.querySelector('#remote').shadowRoot.querySelector('.attribution-caption');
    return (caption?.textContent ?? '').startsWith(`${label} · class`);
  }, techniqueLabel('integrated-gradients'));
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#remote').shadowRoot.querySelector('.widget')).display), 'flex');
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(await reportedViolations(), [], 'CSP violations');
  await page.close();
});

/** The widget's status line and attribution caption on the course page under host policy `csp`. */
async function blockedWorker(csp) {
  const page = await context.newPage();
  await page.goto(coursePage(csp));
  await page.waitForSelector('#remote[data-ready="true"]', { timeout: 30000 });
  await page.waitForFunction(() => /failed: /.test(document.querySelector('#remote').shadowRoot.querySelector('.attribution-caption')?.textContent ?? ''));
  const shown = await page.evaluate(() => {
    const root = document.querySelector('#remote').shadowRoot;
    const status = root.querySelector('.widget-status');
    return { status: status.textContent, error: status.classList.contains('is-error'), caption: root.querySelector('.attribution-caption').textContent };
  });
  await page.close();
  return { ...shown, violations: (await reportedViolations()).map((v) => v.directive) };
}

test('a host policy that blocks the worker gets a message naming the directive to change', async () => {
  // No worker-src: script-src (the widget's origin only) does not allow the blob: shim; Chromium reports it.
  const noBlob = await blockedWorker(embedPolicy(origin, { workerSrc: null }));
  assert.ok(noBlob.error);
  assert.match(noBlob.status, new RegExp(`^convscope: the page's Content-Security-Policy blocks convscope's background worker \\(worker-src\\): allow blob: ${origin} in its worker-src directive`));
  assert.match(noBlob.caption, /^Integrated gradients failed: the page's Content-Security-Policy blocks/);
  assert.deepEqual(noBlob.violations, ['worker-src']);

  // blob: alone: the shim starts, but its import of the widget's worker.js is checked against worker-src too, and
  // fails without a report; the message says what the policy needs.
  const blobOnly = await blockedWorker(embedPolicy(origin, { workerSrc: 'blob:' }));
  assert.match(blobOnly.status, new RegExp(`did not load; embedded from ${origin}, convscope needs "worker-src blob: ${origin}"`));
  assert.deepEqual(blobOnly.violations, []);

  // Trusted Types required, but not our policy's name.
  const otherPolicy = await blockedWorker(embedPolicy(origin, { trustedTypes: 'theirs' }));
  assert.match(otherPolicy.status, /requires Trusted Types but does not allow convscope's policy: add convscope to its trusted-types directive/);
  assert.deepEqual(otherPolicy.violations.sort(), ['require-trusted-types-for', 'trusted-types']);
});
