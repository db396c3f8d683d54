// Turns whatever a person or a caller hands us into raw RGB pixels: decoded,
// EXIF-oriented, transparent areas on white, and no larger than `maxSide` (huge
// photos are shrunk while decoding, so they never sit in memory at full size).
// Cropping, resizing and rescaling happen inside the model.
//
// Two steps, so that decoding a big photo never blocks the page: prepareImage runs
// on the page (it checks the input and reads the image's size, which needs the
// DOM); imagePixels decodes, shrinks and draws, in the model's worker (or on the
// page when there is none; the pixels are the same either way).

import { msg } from './messages.js';

export const ACCEPTED = 'a File/Blob, HTMLImageElement, HTMLCanvasElement or ImageBitmap';

function describe(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  return value.constructor ? value.constructor.name : typeof value;
}

function naturalSize(blob) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve([img.naturalWidth, img.naturalHeight]); };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error(msg('This file could not be read as an image: it may be damaged or in an unsupported format. Use a JPEG, PNG or WebP photo.')));
    };
    img.src = url;
  });
}

/** An SVG drawing (by its type, else its name): the browser previews one, but the model's
 * worker cannot decode it (createImageBitmap takes no SVG), so it is refused up front. */
function isSvg(blob) {
  return /^image\/svg/i.test(blob.type || '') || /\.svgz?$/i.test(blob.name || '');
}

function fit(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

function checkSize(width, height, minSide) {
  if (!width || !height) throw new Error(msg('The image is empty (0 × 0 pixels).'));
  if (Math.min(width, height) < minSide) {
    throw new Error(msg('The image is too small ({width} × {height} pixels); it needs at least {minSide} pixels on each side.',
      { width, height, minSide }));
  }
}

function canvas(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  return Object.assign(document.createElement('canvas'), { width, height });
}

/** A 2D context of `drawable` drawn at width × height on white. */
function draw(drawable, width, height) {
  const ctx = canvas(width, height).getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(drawable, 0, 0, width, height);
  return ctx;
}

/**
 * On the page: check `source` and size it. Resolves to {source, width, height, shrink, natural}
 * for imagePixels, or rejects with a readable Error. A File/Blob stays encoded (the
 * model's worker decodes it); an element or bitmap, decoded already, is drawn here
 * and handed over as an ImageBitmap of the final size (which may be transferred).
 */
export async function prepareImage(source, { minSide = 32, maxSide = 512 } = {}) {
  let width;
  let height;
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (source.size === 0) throw new Error(msg('The file is empty (0 bytes). Choose a photo.'));
    if (source.type && !source.type.startsWith('image/')) {
      throw new Error(msg('"{name}" is not an image ({type}). Choose a JPEG, PNG or WebP photo.',
        { name: source.name || 'This file', type: source.type }));
    }
    if (isSvg(source)) {
      throw new Error(msg('"{name}" is an SVG image, which is not supported. Choose a JPEG, PNG or WebP photo.',
        { name: source.name || 'This file' }));
    }
    [width, height] = await naturalSize(source);
  } else if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || !source.naturalWidth) {
      throw new Error('The image element has not finished loading (or failed to load); wait for its load event.');
    }
    [width, height] = [source.naturalWidth, source.naturalHeight];
  } else if ((typeof HTMLCanvasElement !== 'undefined' && source instanceof HTMLCanvasElement) ||
             (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap)) {
    [width, height] = [source.width, source.height];
  } else {
    throw new Error(`classify() needs ${ACCEPTED}; got ${describe(source)}.`);
  }
  checkSize(width, height, minSide);
  const [w, h] = fit(width, height, maxSide);
  // natural: the image's own size (EXIF rotation applied), which the outline is placed on
  const natural = [width, height];
  if (source instanceof Blob) return { source, width: w, height: h, shrink: w !== width || h !== height, natural };
  return { source: await createImageBitmap(draw(source, w, h).canvas), width: w, height: h, shrink: false, natural };
}

/** Decode and draw what prepareImage gave: {width, height, data: Uint8Array of RGBA}. */
export async function imagePixels({ source, width, height, shrink }) {
  let drawable = source;
  if (source instanceof Blob) {
    const options = { imageOrientation: 'from-image', premultiplyAlpha: 'none' };
    if (shrink) Object.assign(options, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
    try {
      drawable = await createImageBitmap(source, options);
    } catch (error) {
      throw new Error(msg('This file could not be decoded as an image: it may be damaged. Try another photo.'));
    }
  }
  const ctx = draw(drawable, width, height);
  drawable.close();
  const { data } = ctx.getImageData(0, 0, width, height);
  return { width, height, data: new Uint8Array(data.buffer) };
}
