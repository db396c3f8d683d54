// Turns whatever a person or a caller hands us into a canvas of raw RGB pixels:
// decoded, EXIF-oriented, transparent areas on white, and no larger than
// `maxSide` (huge photos are shrunk while decoding, so they never sit in memory
// at full size). Cropping, resizing and rescaling happen inside the model.
// This needs the page's DOM (Image, canvas), so it runs on the page; toPixels
// hands the result to the model's worker as plain bytes.

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
      reject(new Error('This file could not be read as an image: it may be damaged or in an unsupported format. Use a JPEG, PNG or WebP photo.'));
    };
    img.src = url;
  });
}

function fit(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

function checkSize(width, height, minSide) {
  if (!width || !height) throw new Error('The image is empty (0 × 0 pixels).');
  if (Math.min(width, height) < minSide) {
    throw new Error(`The image is too small (${width} × ${height} pixels); it needs at least ${minSide} pixels on each side.`);
  }
}

async function blobToBitmap(blob, minSide, maxSide) {
  if (blob.size === 0) throw new Error('The file is empty (0 bytes). Choose a photo.');
  if (blob.type && !blob.type.startsWith('image/')) {
    throw new Error(`"${blob.name || 'This file'}" is not an image (${blob.type}). Choose a JPEG, PNG or WebP photo.`);
  }
  const [width, height] = await naturalSize(blob);
  checkSize(width, height, minSide);
  const [w, h] = fit(width, height, maxSide);
  const options = { imageOrientation: 'from-image', premultiplyAlpha: 'none' };
  if (w !== width || h !== height) Object.assign(options, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  try {
    return await createImageBitmap(blob, options);
  } catch (error) {
    throw new Error('This file could not be decoded as an image: it may be damaged. Try another photo.');
  }
}

/** Resolve to a canvas (RGB on white, longer side <= maxSide) or reject with a readable Error. */
export async function toCanvas(source, { minSide = 32, maxSide = 512 } = {}) {
  let drawable = source;
  let width;
  let height;
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    drawable = await blobToBitmap(source, minSide, maxSide);
    [width, height] = [drawable.width, drawable.height];
  } else if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || !source.naturalWidth) {
      throw new Error('The image element has not finished loading (or failed to load); wait for its load event.');
    }
    [width, height] = [source.naturalWidth, source.naturalHeight];
    checkSize(width, height, minSide);
  } else if ((typeof HTMLCanvasElement !== 'undefined' && source instanceof HTMLCanvasElement) ||
             (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap)) {
    [width, height] = [source.width, source.height];
    checkSize(width, height, minSide);
  } else {
    throw new Error(`classify() needs ${ACCEPTED}; got ${describe(source)}.`);
  }
  const [w, h] = fit(width, height, maxSide);
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(drawable, 0, 0, w, h);
  if (drawable !== source && drawable.close) drawable.close();
  return canvas;
}

/** toCanvas's pixels as {width, height, data: Uint8Array of RGBA}, whose buffer can be transferred. */
export async function toPixels(source, options) {
  const canvas = await toCanvas(source, options);
  const { width, height, data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data: new Uint8Array(data.buffer) };
}
