// Test-time mirrors (tta) made in JavaScript. A model exported with test-time mirrors
// (metadata.json: inputs.image.tta === 'mirrors') takes the image and its three
// mirrors stacked, and answers with the mean of the four (training/fitting/layers.py,
// MirrorViews / MeanOfViews). Flipping the pixels here is cheap; tfjs' WASM
// Reverse kernel, in the graph, made each classification twice as slow (README,
// "Benchmarks").

export const TTA = { mirrors: 4 };

/** Throws a readable Error for a tta this file does not know ('none' or absent: one view). */
export function ttaCount(tta) {
  if (tta === undefined || tta === null || tta === 'none') return 1;
  if (!Object.prototype.hasOwnProperty.call(TTA, tta)) {
    throw new Error(`This model asks for test-time augmentation "${tta}", which this version of `
      + 'classifier.js cannot make; reload the page to get the matching scripts.');
  }
  return TTA[tta];
}

function put(out, at, r, g, b) {
  out[at] = r;
  out[at + 1] = g;
  out[at + 2] = b;
}

/**
 * RGB float pixels [4, height, width, 3] (row-major) of RGBA pixels {width, height, data}:
 * the image as given, mirrored left-right, mirrored up-down, and both (turned 180°),
 * in that order (the order training.fitting.layers.MeanOfViews mirrors the feature maps back in).
 */
export function stackMirrors({ width, height, data }) {
  const plane = width * height * 3;
  const out = new Float32Array(4 * plane);
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    const flippedRow = (height - 1 - y) * width;
    for (let x = 0; x < width; x += 1) {
      const source = (row + x) * 4;
      const r = data[source];
      const g = data[source + 1];
      const b = data[source + 2];
      const flippedX = width - 1 - x;
      put(out, (row + x) * 3, r, g, b);
      put(out, plane + (row + flippedX) * 3, r, g, b);
      put(out, 2 * plane + (flippedRow + x) * 3, r, g, b);
      put(out, 3 * plane + (flippedRow + flippedX) * 3, r, g, b);
    }
  }
  return out;
}
