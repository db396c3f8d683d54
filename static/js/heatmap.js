// "Where the model looked": the class activation map of assess()'s `explanation`
// laid over the image preview of a screener page.
//
// The map is a rows × cols grid of numbers from 0 (least evidence for the top label)
// to 1 (most). It covers what the model sees: for `explanation.resize` 'crop' (or
// absent, older models) the centred crop of the image at `explanation.aspect`
// (width / height), not necessarily the whole image; for 'squash' the whole image,
// which the model squashed to its input. The pure parts (colour map, upsampling,
// where the map sits on the preview) are exported for tests; heatmapView wires them
// to the page.

import { formatPercent, t, tr } from './i18n.js';

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
  const rgba = new Uint8ClampedArray(4);
  paint(value, rgba, 0);
  return [...rgba];
}

/** Writes colour(value) into pixels[offset … offset + 3], without allocating. */
function paint(value, pixels, offset) {
  const v = clamp01(value);
  let upper = 1;
  while (STOPS[upper][0] < v) upper += 1;
  const [at0, rgb0] = STOPS[upper - 1];
  const [at1, rgb1] = STOPS[upper];
  const t = (v - at0) / (at1 - at0);
  for (let i = 0; i < 3; i += 1) pixels[offset + i] = Math.round(rgb0[i] + (rgb1[i] - rgb0[i]) * t);
  pixels[offset + 3] = Math.round(255 * v ** ALPHA_POWER);
}

/** Catmull-Rom weights of the four cells around a point a fraction t past the second. */
function cubicWeights(t) {
  const [t2, t3] = [t * t, t * t * t];
  return [(-t3 + 2 * t2 - t) / 2, (3 * t3 - 5 * t2 + 2) / 2, (-3 * t3 + 4 * t2 + t) / 2, (t3 - t2) / 2];
}

/**
 * For each of `count` pixels along n cells, its four cell indices and their weights
 * (flat: pixel k's are at 4k … 4k + 3).
 */
function taps(count, n) {
  const cells = new Int32Array(count * 4);
  const weights = new Float64Array(count * 4);
  for (let k = 0; k < count; k += 1) {
    const position = ((k + 0.5) / count) * n;
    const u = Math.min(n - 1, Math.max(0, position - 0.5)); // between the cells' centres
    const i = Math.floor(u);
    const w = cubicWeights(u - i);
    for (let j = 0; j < 4; j += 1) {
      cells[k * 4 + j] = Math.min(n - 1, Math.max(0, i + j - 1));
      weights[k * 4 + j] = w[j];
    }
  }
  return { cells, weights };
}

/**
 * RGBA pixels (row-major, 4 bytes each) of a width × height picture of the map:
 * the values interpolated bicubically (Catmull-Rom) between the cells' centres, so
 * each cell's value is kept at its centre with no creases between them, then coloured
 * (clamped to 0-1: the cubic can overshoot a little), so a blend of two values gets
 * the colour of a value between them.
 */
export function heatmapPixels({ values, rows, cols }, width, height) {
  if (values.length !== rows * cols) {
    throw new Error(`The map has ${values.length} values, not ${rows} × ${cols}.`);
  }
  // The bicubic is separable: interpolate each grid row across, then down. The taps of
  // each picture column and row are worked out once (this runs on the page's thread
  // as the first result is shown, so it must be quick on a cold start).
  const across = taps(width, cols);
  const down = taps(height, rows);
  const rowsAcross = new Float64Array(rows * width);
  for (let row = 0; row < rows; row += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (let j = x * 4; j < x * 4 + 4; j += 1) {
        sum += across.weights[j] * values[row * cols + across.cells[j]];
      }
      rowsAcross[row * width + x] = sum;
    }
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (let j = y * 4; j < y * 4 + 4; j += 1) {
        sum += down.weights[j] * rowsAcross[down.cells[j] * width + x];
      }
      paint(sum, pixels, (y * width + x) * 4);
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
 * Where the region the model saw of a natural-size picture is drawn in the box (as
 * cropBox): the centred crop at `aspect` for resize 'crop' (the default, for models
 * whose metadata.json does not say), the whole picture for 'squash'.
 */
export function regionBox(natural, box, { aspect, resize = 'crop' }, fit = 'fill') {
  const seen = resize === 'squash' ? natural.width / natural.height : aspect;
  return cropBox(natural, box, seen, fit);
}

/**
 * The overlay of a page: `show(explanation)` draws it over `image` (null hides
 * it), `hide()` removes it. Elements: { image, canvas (absolutely positioned in
 * the image's positioned parent), panel (controls and caption), toggle
 * (checkbox), opacity (range 0-100), opacityValue, caption, name (for the top
 * label's name), cropNote }.
 */
/**
 * Where the part of `image` that `placement` ({aspect, resize}, as regionBox) covers is
 * drawn, in the coordinates of the image's positioned parent: { region: {left, top,
 * width, height}, box: the image's content box {width, height} }. For an overlay laid
 * over the image (the heatmap's canvas, the outline's SVG).
 */
export function placeOver(image, placement) {
  const style = getComputedStyle(image);
  const padding = (side) => parseFloat(style[`padding${side}`]) || 0;
  const box = {
    width: image.clientWidth - padding('Left') - padding('Right'),
    height: image.clientHeight - padding('Top') - padding('Bottom'),
  };
  const natural = { width: image.naturalWidth, height: image.naturalHeight };
  const drawn = regionBox(natural, box, placement, style.objectFit);
  return {
    region: {
      ...drawn,
      left: image.offsetLeft + image.clientLeft + padding('Left') + drawn.left,
      top: image.offsetTop + image.clientTop + padding('Top') + drawn.top,
    },
    box,
  };
}

export function heatmapView(elements) {
  const { image, canvas, panel, toggle, opacity, opacityValue, name, cropNote } = elements;
  let current = null;

  function place() {
    if (!current || !image.naturalWidth || !image.clientWidth) return;
    const { region: crop, box } = placeOver(image, current);
    Object.assign(canvas.style, {
      left: `${crop.left}px`, top: `${crop.top}px`, width: `${crop.width}px`, height: `${crop.height}px`,
    });
    // Said (and outlined) only when the model sees less than the whole picture.
    const cropped = crop.width < box.width - 1 || crop.height < box.height - 1;
    canvas.classList.toggle('is-cropped', cropped);
    cropNote.hidden = !cropped;
  }

  function applyControls() {
    const percent = Number(opacity.value);
    canvas.style.opacity = String(percent / 100);
    opacityValue.textContent = formatPercent(percent / 100, 0);
    opacity.setAttribute('aria-valuetext', formatPercent(percent / 100, 0));
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
        canvas.setAttribute('aria-label', t('Where the model found evidence for {name}', { name: tr(current.name) }));
        name.textContent = tr(current.name);
        place();
      }
      applyControls();
    },
    hide() {
      this.show(null);
    },
  };
}
