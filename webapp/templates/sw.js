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
// The pages kept, each in every language: the first language's under the page's
// address, another's under its address with ?lang=<code>. One worker for all
// languages, so that changing the language is not a new version.
const PAGES = {{ pages|tojson }};
const LANGUAGES = {{ languages|tojson }}; // the first is the site's default
const LANGUAGE_COOKIE = {{ language_cookie|tojson }}; // the person's remembered choice
// Where a static export (webapp/freeze.py) keeps a language's pages, since a static
// host ignores ?lang=: {de: '/de'} for /de/screen/…. Empty when the site chooses.
const PAGE_PREFIXES = {{ page_prefixes|tojson }};
const OFFLINE_PAGE = {{ offline_page|tojson }};
// The choice of language as this worker last saw it, for browsers whose workers
// cannot read cookies. Kept across versions (see activate).
const CHOICE_CACHE = `${PREFIX}language`;
const CHOICE_KEY = new URL('?language', self.location).href;

const CACHE_OF = new Map(); // absolute URL → the cache that holds it
for (const [name, entries] of Object.entries(CACHES)) {
  for (const [url] of entries) CACHE_OF.set(new URL(url, self.location).href, name);
}
const PAGE_SET = new Set(PAGES.map((page) => new URL(page, self.location).href));

/** The address under which `page` (a path) in language `lang` is kept here. */
function pageIn(page, lang) {
  return new URL(lang === LANGUAGES[0] ? page : `${page}?lang=${lang}`, self.location).href;
}

/** Where to download `page` (a path, maybe with a query) in `lang` from. */
function sourceOf(page, lang) {
  const prefix = PAGE_PREFIXES[lang];
  return prefix ? prefix + page : `${page}${page.includes('?') ? '&' : '?'}lang=${lang}`;
}

const SOURCES = new Map(); // kept page's address → where to download it from
for (const page of PAGES) {
  for (const lang of LANGUAGES) SOURCES.set(pageIn(page, lang), sourceOf(page, lang));
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
      const source = SOURCES.get(new URL(url, self.location).href);
      // Marked, so that the ?lang= of a page downloaded here sets no remembered choice.
      const headers = source ? { 'X-Offline-Copy': '1' } : {};
      const request = new Request(source || url, { cache: 'no-cache', integrity, headers });
      (source ? pages : missing).push([url, request]);
    }
    // Pages first, all of them, each kept under its own address once everything has
    // arrived (a static export's come from elsewhere: PAGE_PREFIXES).
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
      if (name.startsWith(PREFIX) && !(name in CACHES) && name !== CHOICE_CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

// ---- the language of a page --------------------------------------------------------

async function recordedChoice() {
  try {
    // (caches.match, not caches.open, which would make the cache.)
    const recorded = await caches.match(CHOICE_KEY, { cacheName: CHOICE_CACHE });
    return recorded ? await recorded.text() : null;
  } catch {
    return null;
  }
}

/**
 * The language to show a page in, as the site chooses (webapp/i18n.py): ?lang=, else
 * the remembered choice (the cookie, where the browser lets a worker read it; else
 * the choice this worker last saw), else the browser's languages, else the first.
 */
async function chosenLanguage(asked) {
  if (LANGUAGES.includes(asked)) return asked;
  let remembered = null;
  try {
    remembered = (await self.cookieStore?.get(LANGUAGE_COOKIE))?.value;
  } catch {
    remembered = null;
  }
  if (!LANGUAGES.includes(remembered)) remembered = await recordedChoice();
  if (LANGUAGES.includes(remembered)) return remembered;
  for (const tag of self.navigator.languages || []) {
    const code = tag.toLowerCase();
    const found = LANGUAGES.find((lang) => code === lang || code.startsWith(`${lang}-`));
    if (found) return found;
  }
  return LANGUAGES[0];
}

/** Remember `lang`, chosen with ?lang= (the site's cookie, as the site would set it). */
async function remember(lang) {
  if ((await recordedChoice()) !== lang) {
    await (await caches.open(CHOICE_CACHE)).put(CHOICE_KEY, new Response(lang));
  }
  try {
    if ((await self.cookieStore?.get(LANGUAGE_COOKIE))?.value !== lang) {
      await self.cookieStore?.set({
        name: LANGUAGE_COOKIE, value: lang, path: '/', sameSite: 'lax',
        expires: Date.now() + 365 * 24 * 3600 * 1000,
      });
    }
  } catch {
    // no Cookie Store API: the chart pages, from the network, follow the browser's languages
  }
}

async function fromCache(name, url) {
  if (!name) return fetch(url);
  const cached = await (await caches.open(name)).match(url, { ignoreVary: true });
  return cached || fetch(url); // evicted meanwhile: the network, if there is one
}

/**
 * A page of the site: a kept one from this version's cache, in the chosen language;
 * another from the network (from a static export's copy in that language), or,
 * without one, the page saying it needs a connection.
 */
async function page(event, url) {
  const asked = url.searchParams.get('lang');
  const lang = await chosenLanguage(asked);
  if (lang === asked) event.waitUntil(remember(lang));
  const address = new URL(url);
  address.searchParams.delete('lang');
  if (PAGE_SET.has(address.href)) {
    const kept = pageIn(address.pathname, lang);
    return fromCache(CACHE_OF.get(kept), kept);
  }
  const offline = () => {
    const kept = pageIn(OFFLINE_PAGE, lang);
    return fromCache(CACHE_OF.get(kept), kept);
  };
  try {
    if (PAGE_PREFIXES[lang]) {
      const copy = await fetch(sourceOf(address.pathname + address.search, lang));
      if (copy.ok) return copy;
    }
    return await fetch(event.request);
  } catch {
    return offline();
  }
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
  } else if (request.mode === 'navigate' && url.origin === self.location.origin) {
    event.respondWith(page(event, url));
  } else if (name) {
    event.respondWith(fromCache(name, url.href));
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

// Messages from the page: 'status' (answered on the given port: the version, what is
// missing, the languages kept, the first being kept under the pages' own addresses) and
// 'skipWaiting' (the person chose to update now).
self.addEventListener('message', (event) => {
  if (event.data === 'skipWaiting') {
    self.skipWaiting();
  } else if (event.data === 'status' && event.ports[0]) {
    event.waitUntil(missingEntries().then((missing) => {
      event.ports[0].postMessage({ version: VERSION, missing, languages: LANGUAGES });
    }));
  }
});
