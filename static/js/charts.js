// Draws the charts of the performance and data pages with plotly.js.
//
// The server builds each figure with Plotly's Python API from the report files
// and puts it, as JSON, in the data-figure attribute of an element; this module
// only hands it to Plotly.newPlot (loaded before it, from the site itself).
// A chart that cannot be drawn says so where it would have been.

const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'],
  toImageButtonOptions: { format: 'png', scale: 2 },
};

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

async function draw(element) {
  let figure;
  try {
    figure = JSON.parse(element.dataset.figure);
  } catch {
    say(element, 'This chart could not be read.');
    return;
  }
  try {
    const layout = TOUCH ? forTouch(figure.layout) : figure.layout;
    const config = TOUCH ? { ...PLOT_CONFIG, displayModeBar: false } : PLOT_CONFIG;
    await window.Plotly.newPlot(element, figure.data, layout, config);
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

function main() {
  paintSwatches();
  const elements = [...document.querySelectorAll('[data-figure]')];
  if (!window.Plotly) {
    for (const element of elements) {
      say(element, 'The charting library did not load, so this chart cannot be shown.');
    }
    return;
  }
  elements.forEach(draw);
}

main();
