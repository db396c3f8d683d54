// Draws the charts of the performance and data pages with plotly.js, as they come into view.
//
// The server builds each figure with Plotly's Python API from the report files
// and puts it, as JSON, in the data-figure attribute of an element; the page is
// complete without this module (tables and captions are server-side). This module
// loads plotly.js (the partial bundle vendored in static/vendor/plotly, named by
// this script's data-plotly attribute) only when the first chart nears the screen,
// and hands each figure to Plotly.newPlot when it does: a phone that reads the
// tables at the top never downloads or runs the charting library, and a chart in
// a closed section is drawn when the section is opened.
// A chart that cannot be drawn says so where it would have been.

const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'],
  toImageButtonOptions: { format: 'png', scale: 2 },
};

// Start loading a little before a chart scrolls into view.
const NEAR = '300px 0px';

function say(element, message) {
  const note = document.createElement('p');
  note.className = 'alert alert-secondary small mb-0';
  note.setAttribute('role', 'note');
  note.textContent = message;
  element.replaceChildren(note);
  element.dataset.drawn = 'failed';
}

// On a touch screen a drag must scroll the page, not zoom the chart: no zooming,
// no tool bar; a tap still shows the values of a point.
const TOUCH = window.matchMedia('(hover: none), (pointer: coarse)').matches;

function forTouch(layout) {
  const fixed = { ...layout, dragmode: false };
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key)) fixed[key] = { ...layout[key], fixedrange: true };
  }
  return fixed;
}

let plotly = null;

// plotly.js, loaded once by a <script> element (the site's policy allows scripts of the
// site itself, not inline ones); resolves to window.Plotly.
function loadPlotly() {
  if (!plotly) {
    plotly = new Promise((resolve, reject) => {
      if (window.Plotly) {
        resolve(window.Plotly);
        return;
      }
      const source = document.getElementById('chart-script')?.dataset.plotly;
      if (!source) {
        reject(new Error('no charting library named'));
        return;
      }
      const script = document.createElement('script');
      script.src = source;
      script.onload = () => (window.Plotly ? resolve(window.Plotly)
        : reject(new Error('the charting library did not start')));
      script.onerror = () => reject(new Error('the charting library did not load'));
      document.head.append(script);
    });
  }
  return plotly;
}

async function draw(element) {
  if (element.dataset.drawn) return;
  element.dataset.drawn = 'drawing';
  let figure;
  try {
    figure = JSON.parse(element.dataset.figure);
  } catch {
    say(element, 'This chart could not be read.');
    return;
  }
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch {
    say(element, 'The charting library did not load, so this chart cannot be shown.');
    return;
  }
  try {
    const layout = TOUCH ? forTouch(figure.layout) : figure.layout;
    const config = TOUCH ? { ...PLOT_CONFIG, displayModeBar: false } : PLOT_CONFIG;
    await Plotly.newPlot(element, figure.data, layout, config);
    element.dataset.drawn = 'true';
  } catch (error) {
    say(element, `This chart could not be drawn (${error.message}).`);
  }
}

// Colour swatches in tables (the same colour as the kind's line): set through
// the CSSOM, which the page's Content-Security-Policy allows, unlike style="".
function paintSwatches() {
  for (const swatch of document.querySelectorAll('[data-colour]')) {
    swatch.style.backgroundColor = swatch.dataset.colour;
  }
}

// Each chart keeps the height of its figure before it is drawn, so the page does not jump.
function reserveHeights(elements) {
  for (const element of elements) {
    const height = Number(element.dataset.height);
    if (height > 0) element.style.minHeight = `${height}px`;
  }
}

function main() {
  paintSwatches();
  const elements = [...document.querySelectorAll('[data-figure]')];
  if (!elements.length) return;
  reserveHeights(elements);
  if (!('IntersectionObserver' in window)) {
    elements.forEach(draw);
    return;
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        draw(entry.target);
      }
    }
  }, { rootMargin: NEAR });
  elements.forEach((element) => observer.observe(element));
}

main();
