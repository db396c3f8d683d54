// Offline use, the page's side. Registers the service worker (/sw.js, rendered
// by webapp/offline.py; one for every language, so changing the language is no
// update), says "Ready to work offline" once it controls this page
// with a complete copy of the site, and offers "Update available — Reload" when
// a new version has been downloaded and is waiting. base.html loads it on every
// page but the error pages.

import { t } from './i18n.js';

const notice = document.getElementById('offline-status');
const prompt = document.getElementById('update-prompt');
const updateButton = document.getElementById('update-button');
const laterButton = document.getElementById('update-later');

/**
 * True when the service worker controls this page and keeps every one of `urls`,
 * i.e. fetching them reads this device's copy, not the network.
 */
export async function keptOnDevice(urls) {
  if (!navigator.serviceWorker?.controller || !globalThis.caches) return false;
  const found = await Promise.all(urls.map((url) => caches.match(String(url))));
  return found.every(Boolean);
}

function show(text, state) {
  notice.textContent = text;
  notice.dataset.state = state; // ready, incomplete, failed: the colour of the dot
  notice.hidden = false;
}

/** Send `message` to a worker and resolve to its answer. */
function ask(worker, message) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    worker.postMessage(message, [channel.port2]);
  });
}

/**
 * This page's address as the service worker keeps it: each page in every language of
 * `languages`, the first's under the page's address, another's with ?lang=<code>
 * (webapp/offline.py); an address with another query is not kept.
 */
function keptAddress(languages) {
  const url = new URL(window.location.href);
  const lang = document.documentElement.lang;
  url.searchParams.delete('lang');
  if (url.search || lang === languages[0]) return url.pathname + url.search;
  return `${url.pathname}?lang=${lang}`;
}

async function showWhetherReady() {
  const worker = navigator.serviceWorker.controller;
  if (!worker) return;
  const { missing, languages = [] } = await ask(worker, 'status');
  if (missing.length) {
    show(t('The offline copy is incomplete: reload while online to repair it'), 'incomplete');
  } else if (await keptOnDevice([keptAddress(languages)])) {
    show(t('Ready to work offline'), 'ready');
  } else { // a chart page: not kept (see OFFLINE_PAGES in webapp/config.py)
    show(t('The screener works offline; this page needs a connection'), 'ready');
  }
}

let updating = false;
let reloading = false;

// In Chromium a reload started just as a new worker takes over can stall before
// the new page arrives; while this page is still here, it starts it again.
const RELOAD_RETRY_MS = 3000;

/** Reload the page (again, if it is still here after a while). */
function reloadPage() {
  if (reloading) return;
  reloading = true;
  const go = () => {
    window.location.reload();
    setTimeout(go, RELOAD_RETRY_MS);
  };
  go();
}

// Chromium swaps a waiting worker in only once the old one is idle: skipWaiting()
// asks the old worker to stop as soon as it is, but if a request reaches it just
// as it stops (the page loading its model, say), Chromium starts it again to
// answer, and the restarted worker has forgotten the request. The new one is then
// left waiting until the old one has been idle for 30 s or, while DevTools or an
// automated browser is attached to it, for Chromium's limit of 5 min. Asking
// skipWaiting again does nothing; what makes Chromium ask the old worker again is a
// navigation within the site. So, until the new worker has taken over, the page
// makes one every NUDGE_MS in a hidden frame, to the worker's own address with
// ?take-over, which the worker answers itself with an empty 204 (nothing is
// shown or loaded; webapp/templates/sw.js, and webapp/offline.py without it).
const NUDGE_MS = 1000;
const MAX_NUDGES = 300; // then Chromium's own limit (5 min) has passed anyway

/** One navigation within the site that shows nothing (see above). */
function nudge() {
  let frame = document.getElementById('take-over-frame');
  if (!frame) {
    frame = document.createElement('iframe');
    frame.id = 'take-over-frame';
    frame.hidden = true;
    frame.title = 'Update'; // never shown
    document.body.append(frame);
  }
  const url = new URL(notice.dataset.serviceWorker, window.location.href);
  url.search = 'take-over';
  frame.src = url.href;
}

/** Ask the waiting `worker` to take over; the page reloads once it has. */
function takeOver(worker) {
  updating = true;
  updateButton.disabled = true;
  // Reload once the new worker is activated (controllerchange fires while it is
  // still activating).
  worker.addEventListener('statechange', () => {
    if (worker.state === 'activated') reloadPage();
  });
  worker.postMessage('skipWaiting');
  let nudges = 0;
  const again = () => {
    if (worker.state !== 'installed' || nudges++ >= MAX_NUDGES) return;
    nudge();
    setTimeout(again, NUDGE_MS);
  };
  setTimeout(again, NUDGE_MS);
}

function offerUpdate(worker) {
  prompt.hidden = false;
  updateButton.disabled = false;
  updateButton.onclick = () => takeOver(worker);
  // Later: the new version waits, and takes over once every tab of the site is closed.
  laterButton.onclick = () => { prompt.hidden = true; };
}

const tracked = new WeakSet();

/** Follow a worker being installed: offer it when it waits, report a failed first copy. */
function track(worker) {
  if (!worker || tracked.has(worker)) return;
  tracked.add(worker);
  worker.addEventListener('statechange', () => {
    const current = navigator.serviceWorker.controller;
    if (worker.state === 'installed' && current) offerUpdate(worker);
    if (worker.state === 'redundant' && !current && !updating) {
      show(t('This site could not be saved for offline use; it still works online'), 'failed');
    }
  });
}

async function start() {
  if (!notice || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    if (updating) return;
    // The first visit: the new worker has just taken over. A static host shows every
    // address in the first language, whatever its ?lang=; the worker, now here, shows
    // the language asked for.
    const asked = new URLSearchParams(window.location.search).get('lang');
    if (asked && asked !== document.documentElement.lang) {
      const { languages = [] } = await ask(navigator.serviceWorker.controller, 'status');
      if (languages.includes(asked)) {
        reloadPage();
        return;
      }
    }
    showWhetherReady();
  });
  let registration;
  try {
    registration = await navigator.serviceWorker.register(notice.dataset.serviceWorker);
  } catch (error) {
    console.warn('service worker not registered:', error);
    return;
  }
  if (!registration) return; // registration blocked (automated browsers can do that)
  track(registration.installing);
  registration.addEventListener('updatefound', () => track(registration.installing));
  if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
  await showWhetherReady();
}

start();
