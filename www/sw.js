// The service worker: convscope offline (docs/security.md#offline). On install it caches the app shell that
// pkg/cache-manifest.js lists (pages, scripts, styles, the wasm module; written per build by
// scripts/cache-manifest.mjs) in a cache named after the build's version; the models and sample sets are
// added when the page opens them (the fetch below, or the page's 'keep' message for files it loaded before
// this worker controlled it). Requests are answered from that cache first, ignoring the query (the page
// imports the wasm glue as convscope.js?instance=N), then from the network. A new build has a new version, so
// the browser installs the new worker (it compares this script and its import byte for byte); it takes over
// at once, deletes every older convscope cache, and the pages still open are told (they show a reload hint
// and ask it to keep the models they opened). Pages of the old build then load what they load later from the
// new build, as they would from the server without a worker.

const MANIFEST = './pkg/cache-manifest.js';
// Under `require-trusted-types-for 'script'` importScripts takes only trusted URLs: the same one-URL policy as
// the page's (js/security.js), for this worker's only import.
const policy = self.trustedTypes?.createPolicy('convscope', {
  createScriptURL(url) {
    if (url === MANIFEST) return url;
    throw new TypeError(`the convscope Trusted Types policy refuses the script URL ${url}`);
  },
});
importScripts(policy ? policy.createScriptURL(MANIFEST) : MANIFEST);

const { version, shell } = self.CONVSCOPE_CACHE;
const CACHE = `convscope-${version}`;
/** Files cached when first opened (the models and sample sets), under this worker's scope. */
const ON_DEMAND = /^(models|data)\//;

function onDemand(url) {
  const { href } = new URL(url);
  return href.startsWith(self.registration.scope) && ON_DEMAND.test(href.slice(self.registration.scope.length));
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(shell)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith('convscope-') && name !== CACHE) await caches.delete(name);
      await self.clients.claim(); // the first page, and those of an older build, are served from here now
    })(),
  );
});

async function respond(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic' && onDemand(request.url)) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method === 'GET' && new URL(request.url).origin === self.location.origin) event.respondWith(respond(request));
});

/** `{ type: 'keep', urls }`: the page opened these models and sample sets before this worker controlled it. */
async function keep(urls) {
  const cache = await caches.open(CACHE);
  for (const url of urls.filter(onDemand)) if (!(await cache.match(url))) await cache.add(url).catch(() => {}); // offline: next time
}

self.addEventListener('message', (event) => {
  if (event.data?.type === 'keep' && Array.isArray(event.data.urls)) event.waitUntil(keep(event.data.urls));
});
