// Offline use, the page's side. Registers the service worker (/sw.js, rendered
// by webapp/offline.py), says "Ready to work offline" once it controls this page
// with a complete copy of the site, and offers "Update available — Reload" when
// a new version has been downloaded and is waiting. base.html loads it on every
// page but the error pages.

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

async function showWhetherReady() {
  const worker = navigator.serviceWorker.controller;
  if (!worker) return;
  const { missing } = await ask(worker, 'status');
  if (missing.length) {
    show('The offline copy is incomplete: reload while online to repair it', 'incomplete');
  } else if (await keptOnDevice([window.location.pathname + window.location.search])) {
    show('Ready to work offline', 'ready');
  } else { // a chart page: not kept (see OFFLINE_PAGES in webapp/config.py)
    show('The screener works offline; this page needs a connection', 'ready');
  }
}

let updating = false;

function offerUpdate(worker) {
  prompt.hidden = false;
  updateButton.disabled = false;
  updateButton.onclick = () => {
    updating = true; // the worker taking over (controllerchange) reloads the page
    updateButton.disabled = true;
    worker.postMessage('skipWaiting');
  };
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
      show('This site could not be saved for offline use; it still works online', 'failed');
    }
  });
}

async function start() {
  if (!notice || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (updating) window.location.reload();
    else showWhetherReady(); // the first visit: the new worker has just taken over
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
