// The performance page's long topics are closed <details>: this opens the one a link
// leads to ("On this page", or an address ending in #risk), so following a link shows
// the topic instead of its closed heading. Without this script the heading is still
// there to open by hand.

function openTarget() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id ? document.getElementById(id) : null;
  const details = target?.closest('details') ?? target?.querySelector(':scope > details');
  if (details && !details.open) {
    details.open = true;
    target.scrollIntoView();
  }
}

window.addEventListener('hashchange', openTarget);
openTarget();
