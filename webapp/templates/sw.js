// The site's service worker: keeps a copy of the screener on this device, so that
// once visited it opens and classifies without a network.
//
// Rendered by webapp/offline.py, which fills in the list below from the files
// it serves: every entry's integrity hash, and the cache names and VERSION
// derived from them. Any change of a page, script or model therefore changes
// this script, which is how the browser finds out that there is a new version.
// The new worker downloads its files into new caches while the old one keeps
// serving, then waits; the page offers "Update available — reload"
// (static/js/offline.js), and only then does it take over and delete the old
// caches. Pages, scripts and models all come from one version's caches, so the
// page never describes another model than the one it runs.

const VERSION = {{ version|tojson }};
const PREFIX = {{ prefix|tojson }};
const CACHES = {{ caches|tojson }}; // cache name → [[url, integrity], …]
// Each page is downloaded in this worker's language, from its address with ?lang=…,
// and kept under its own address.
const SOURCES = {{ sources|tojson }}; // url → the address to download it from
const OFFLINE_PAGE = {{ offline_page|tojson }};
// The language of the pages kept here, and the cookie remembering the person's choice.
const LANGUAGE = {{ language|tojson }};
const LANGUAGE_COOKIE = {{ language_cookie|tojson }};

const CACHE_OF = new Map(); // absolute URL → the cache that holds it
for (const [name, entries] of Object.entries(CACHES)) {
  for (const [url] of entries) CACHE_OF.set(new URL(url, self.location).href, name);
}

// Install: all of it or nothing. cache.addAll rejects if any download fails or
// does not match its hash, and then the browser throws this worker away: an
// incomplete copy never goes live. A cache of the same name left by an earlier
// version (the vendor cache, when only the model changed) already holds what
// it needs, so only the missing entries are downloaded.
self.addEventListener('install', (event) => {
  event.waitUntil(Promise.all(Object.entries(CACHES).map(async ([name, entries]) => {
    const cache = await caches.open(name);
    const missing = [];
    const pages = [];
    for (const [url, integrity] of entries) {
      if (await cache.match(url)) continue;
      const source = SOURCES[url];
      // Marked, so that the ?lang= of a page downloaded here sets no remembered choice.
      const headers = source ? { 'X-Offline-Copy': '1' } : {};
      const request = new Request(source || url, { cache: 'no-cache', integrity, headers });
      (source ? pages : missing).push([url, request]);
    }
    // Pages first, all of them, and kept only once everything has arrived.
    const fetched = await Promise.all(pages.map(async ([url, request]) => {
      const response = await fetch(request);
      if (!response.ok) throw new TypeError(`${url}: HTTP ${response.status}`);
      return [url, response];
    }));
    await cache.addAll(missing.map(([, request]) => request));
    await Promise.all(fetched.map(([url, response]) => cache.put(url, response)));
  })));
});

// Activate: delete this site's caches of other versions, nothing else the
// origin may hold; then control the open pages, so the first visit already
// works offline.
self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && !(name in CACHES)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// A kept page, unless the person has since chosen another language (the page's
// ?lang= switch; read where the browser has the Cookie Store API): then the network's,
// while the worker for that language installs. Offline, the kept one.
async function pageInLanguage(name, request) {
  let chosen = null;
  try {
    chosen = (await self.cookieStore?.get(LANGUAGE_COOKIE))?.value;
  } catch {
    chosen = null;
  }
  if (chosen && chosen !== LANGUAGE) return fetch(request).catch(() => fromCache(name, request));
  return fromCache(name, request);
}

async function fromCache(name, request) {
  const cached = await (await caches.open(name)).match(request, { ignoreVary: true });
  return cached || fetch(request); // evicted meanwhile: the network, if there is one
}

// While a new version waits to take over, the page loads this worker's own
// address with ?take-over in a hidden frame, once a second: a navigation makes
// Chromium check again whether the old worker can be swapped out (see
// static/js/offline.js). Answered here with nothing, online or not.
const TAKE_OVER = new URL('?take-over', self.location).href;

// Fetch: whatever is on the list comes from this version's cache (pages too:
// see above); another page of the site comes from the network, or, without
// one, the page saying it needs a connection. Anything else is left alone.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  url.hash = '';
  const name = CACHE_OF.get(url.href);
  if (url.href === TAKE_OVER) {
    event.respondWith(new Response(null, { status: 204 }));
  } else if (name && request.mode === 'navigate') {
    event.respondWith(pageInLanguage(name, request));
  } else if (name) {
    event.respondWith(fromCache(name, request));
  } else if (request.mode === 'navigate' && url.origin === self.location.origin) {
    event.respondWith(fetch(request).catch(() => fromCache(CACHE_OF.get(
      new URL(OFFLINE_PAGE, self.location).href), OFFLINE_PAGE)));
  }
});

// What is missing from this version's caches (the browser may evict them).
async function missingEntries() {
  const missing = [];
  for (const [name, entries] of Object.entries(CACHES)) {
    const cache = await caches.open(name);
    for (const [url] of entries) if (!(await cache.match(url))) missing.push(url);
  }
  return missing;
}

// Messages from the page: 'status' (answered on the given port) and
// 'skipWaiting' (the person chose to update now).
self.addEventListener('message', (event) => {
  if (event.data === 'skipWaiting') {
    self.skipWaiting();
  } else if (event.data === 'status' && event.ports[0]) {
    event.waitUntil(missingEntries().then((missing) => {
      event.ports[0].postMessage({ version: VERSION, missing });
    }));
  }
});
