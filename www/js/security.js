// What convscope needs from a page's Content-Security-Policy (docs/security.md): its one Trusted Types policy
// and the diagnosis of a worker the policy blocked, in words that say which directive to change.
// Under `require-trusted-types-for 'script'` every string sink throws; the page builds its DOM from nodes
// (js/dom.js), so the only sinks left are the script URLs of its workers: the Web Worker (js/worker.js, or the
// blob shim that imports it when the widget runs in a page of another origin) and the service worker (sw.js).
// The policy `convscope` passes exactly those URLs and refuses any other. Without Trusted Types (or when a host
// page's `trusted-types` directive does not name the policy) plain strings are used. Of the DOM, only the
// document's CSP violation events are listened to.

export const POLICY_NAME = 'convscope';

const OWN = new Set([new URL('./worker.js', import.meta.url).href, new URL('../sw.js', import.meta.url).href]);
const shims = new Set(); // blob: URLs minted by `workerShim`

let policy; // undefined until first use; null when Trusted Types are absent or the name was refused

function createPolicy() {
  if (!globalThis.trustedTypes) return null;
  try {
    return globalThis.trustedTypes.createPolicy(POLICY_NAME, {
      createScriptURL(url) {
        if (OWN.has(url) || shims.has(url)) return url;
        throw new TypeError(`the ${POLICY_NAME} Trusted Types policy refuses the script URL ${url}`);
      },
    });
  } catch {
    return null; // the host page's `trusted-types` does not name the policy: plain strings (workerBlocked explains)
  }
}

/** `url`, one of convscope's worker scripts, as the `Worker` and `serviceWorker.register` sinks accept it. */
export function scriptUrl(url) {
  if (policy === undefined) policy = createPolicy();
  return policy ? policy.createScriptURL(url) : url;
}

/**
 * A same-origin blob: module that imports the worker script `url` of another origin (browsers refuse a worker
 * script from another origin; its imports may cross origins), as a trusted script URL.
 */
export function workerShim(url) {
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)};`], { type: 'text/javascript' }));
  shims.add(shim);
  return scriptUrl(shim);
}

const DOCS = 'see docs/security.md';

/**
 * Starts recording the CSP violations that concern worker scripts (on the page's document, where the browser
 * reports a blocked `new Worker`). Returns `stop()`, which ends the recording and returns what was seen.
 */
export function watchWorkerViolations() {
  const seen = [];
  const record = (event) => {
    if (/^(worker-src|script-src|child-src|default-src|trusted-types|require-trusted-types-for)/.test(event.effectiveDirective)) seen.push(event);
  };
  globalThis.document?.addEventListener('securitypolicyviolation', record);
  return () => {
    globalThis.document?.removeEventListener('securitypolicyviolation', record);
    return seen;
  };
}

/**
 * Why the worker of script `url` did not start, as an Error that says what the page's CSP must allow:
 * `thrown` is what `new Worker` threw (null if it failed later, without a message), `violations` what
 * `watchWorkerViolations` saw.
 */
export function workerBlocked(url, { thrown = null, violations = [] } = {}) {
  const origin = new URL(url).origin;
  const crossOrigin = origin !== globalThis.location?.origin;
  const sources = crossOrigin ? `blob: ${origin}` : "'self'";
  const trustedTypes = violations.some((event) => event.effectiveDirective.includes('trusted-types')) || (thrown && /Trusted/i.test(thrown.message));
  if (trustedTypes) {
    return new Error(`the page's Content-Security-Policy requires Trusted Types but does not allow convscope's policy: add ${POLICY_NAME} to its trusted-types directive (${DOCS})`);
  }
  const blocked = violations.find((event) => !event.effectiveDirective.includes('trusted-types'));
  if (blocked) {
    return new Error(`the page's Content-Security-Policy blocks convscope's background worker (${blocked.effectiveDirective}): allow ${sources} in its worker-src directive (${DOCS})`);
  }
  if (thrown) return new Error(`the background worker could not be created: ${thrown.message}`);
  const hint = crossOrigin ? `; embedded from ${origin}, convscope needs "worker-src ${sources}" in the page's Content-Security-Policy (${DOCS})` : '';
  return new Error(`the background worker did not start: its script ${url} did not load${hint}`);
}
