// "Where the model looked": the class activation map of assess()'s `explanation`
// laid over the image preview of a screener page.
//
// The map is a rows × cols grid of numbers from 0 (least evidence for the top label)
// to 1 (most). It covers the centred crop of the image at `explanation.aspect`
// (width / height), which is all the model sees, not necessarily the whole image.
// The pure parts (colour map, upsampling, where the crop sits on the preview) are
// exported for tests; heatmapView wires them to the page.

// ColorBrewer's RdYlBu, reversed: blue (low) through pale yellow to red (high), a
// scale designed to read in order of value, also for most colour-blind readers.
const STOPS = [
  [0, [49, 54, 149]],
  [0.25, [116, 173, 209]],
  [0.5, [255, 255, 191]],
  [0.75, [244, 109, 67]],
  [1, [165, 0, 38]],
];
// Low values fade out, so the image stays visible where the model found little.
const ALPHA_POWER = 1.5;
// Pixels per grid cell of the drawn map; the browser smooths it to the shown size.
const CELL_PIXELS = 16;

const clamp01 = (value) => Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));

/** [r, g, b, a] (0-255) of a map value from 0 (nearly transparent blue) to 1 (opaque red). */
export function colour(value) {
  const v = clamp01(value);
  const upper = STOPS.findIndex(([at]) => at >= v);
  const [at1, rgb1] = STOPS[Math.max(upper, 1)];
  const [at0, rgb0] = STOPS[Math.max(upper, 1) - 1];
  const t = (v - at0) / (at1 - at0);
  const rgb = rgb0.map((c, i) => Math.round(c + (rgb1[i] - c) * t));
  return [...rgb, Math.round(255 * v ** ALPHA_POWER)];
}

/** Catmull-Rom weights of the four cells around a point a fraction t past the second. */
function cubicWeights(t) {
  const [t2, t3] = [t * t, t * t * t];
  return [(-t3 + 2 * t2 - t) / 2, (3 * t3 - 5 * t2 + 2) / 2, (-3 * t3 + 4 * t2 + t) / 2, (t3 - t2) / 2];
}

/** The four cell indices and their weights for a position in cell units along n cells. */
function taps(position, n) {
  const u = Math.min(n - 1, Math.max(0, position - 0.5)); // between the cells' centres
  const i = Math.floor(u);
  const weights = cubicWeights(u - i);
  return [-1, 0, 1, 2].map((offset, k) => [Math.min(n - 1, Math.max(0, i + offset)), weights[k]]);
}

/**
 * The grid's value at (x, y) in cell units: bicubic (Catmull-Rom) between the cells'
 * centres, so it equals a cell's value at its centre and has no creases between them.
 */
function sample(values, rows, cols, x, y) {
  let sum = 0;
  for (const [row, wy] of taps(y, rows)) {
    for (const [col, wx] of taps(x, cols)) sum += wy * wx * values[row * cols + col];
  }
  return sum;
}

/**
 * RGBA pixels (row-major, 4 bytes each) of a width × height picture of the map:
 * the values interpolated smoothly, then coloured (clamped to 0-1: the cubic can
 * overshoot a little), so a blend of two values gets the colour of a value between them.
 */
export function heatmapPixels({ values, rows, cols }, width, height) {
  if (values.length !== rows * cols) {
    throw new Error(`The map has ${values.length} values, not ${rows} × ${cols}.`);
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const value = sample(values, rows, cols, ((x + 0.5) / width) * cols, ((y + 0.5) / height) * rows);
      pixels.set(colour(value), (y * width + x) * 4);
    }
  }
  return pixels;
}

/** The scale at which `object-fit` shows a w × h picture in a box × boxHeight box. */
function fitScales(fit, box, boxHeight, w, h) {
  const contain = Math.min(box / w, boxHeight / h);
  switch (fit) {
    case 'contain': return [contain, contain];
    case 'cover': return Array(2).fill(Math.max(box / w, boxHeight / h));
    case 'none': return [1, 1];
    case 'scale-down': return Array(2).fill(Math.min(1, contain));
    default: return [box / w, boxHeight / h]; // 'fill'
  }
}

/**
 * Where the centred crop at `aspect` (width / height) of a natural.width ×
 * natural.height picture is drawn in a box of box.width × box.height CSS pixels
 * with the given object-fit (centred, object-position's default):
 * { left, top, width, height } from the box's top left corner.
 */
export function cropBox(natural, box, aspect, fit = 'fill') {
  const [sx, sy] = fitScales(fit, box.width, box.height, natural.width, natural.height);
  const cropWidth = Math.min(natural.width, natural.height * aspect);
  const cropHeight = cropWidth / aspect;
  const [width, height] = [cropWidth * sx, cropHeight * sy];
  return { left: (box.width - width) / 2, top: (box.height - height) / 2, width, height };
}

/**
 * The overlay of a page: `show(explanation)` draws it over `image` (null hides
 * it), `hide()` removes it. Elements: { image, canvas (absolutely positioned in
 * the image's positioned parent), panel (controls and caption), toggle
 * (checkbox), opacity (range 0-100), opacityValue, caption, name (for the top
 * label's name), cropNote }.
 */
export function heatmapView(elements) {
  const { image, canvas, panel, toggle, opacity, opacityValue, name, cropNote } = elements;
  let current = null;

  function place() {
    if (!current || !image.naturalWidth || !image.clientWidth) return;
    const style = getComputedStyle(image);
    const padding = (side) => parseFloat(style[`padding${side}`]) || 0;
    const box = {
      width: image.clientWidth - padding('Left') - padding('Right'),
      height: image.clientHeight - padding('Top') - padding('Bottom'),
    };
    const natural = { width: image.naturalWidth, height: image.naturalHeight };
    const crop = cropBox(natural, box, current.aspect, style.objectFit);
    const left = image.offsetLeft + image.clientLeft + padding('Left') + crop.left;
    const top = image.offsetTop + image.clientTop + padding('Top') + crop.top;
    Object.assign(canvas.style, {
      left: `${left}px`, top: `${top}px`, width: `${crop.width}px`, height: `${crop.height}px`,
    });
    // Said (and outlined) only when the model sees less than the whole picture.
    const cropped = crop.width < box.width - 1 || crop.height < box.height - 1;
    canvas.classList.toggle('is-cropped', cropped);
    cropNote.hidden = !cropped;
  }

  function applyControls() {
    const percent = Number(opacity.value);
    canvas.style.opacity = String(percent / 100);
    opacityValue.textContent = `${percent}%`;
    opacity.setAttribute('aria-valuetext', `${percent}%`);
    opacity.disabled = !toggle.checked;
    canvas.hidden = !current || !toggle.checked;
  }

  toggle.addEventListener('change', applyControls);
  opacity.addEventListener('input', applyControls);
  // The preview's size changes with the window, the layout and a newly loaded image.
  new ResizeObserver(place).observe(image);
  image.addEventListener('load', place);
  applyControls();

  return {
    show(explanation) {
      current = explanation || null;
      panel.hidden = !current;
      if (current) {
        const { rows, cols } = current;
        canvas.width = cols * CELL_PIXELS;
        canvas.height = rows * CELL_PIXELS;
        const pixels = heatmapPixels(current, canvas.width, canvas.height);
        canvas.getContext('2d').putImageData(new ImageData(pixels, canvas.width, canvas.height), 0, 0);
        canvas.setAttribute('aria-label', `Where the model found evidence for ${current.name}`);
        name.textContent = current.name;
        place();
      }
      applyControls();
    },
    hide() {
      this.show(null);
    },
  };
}
