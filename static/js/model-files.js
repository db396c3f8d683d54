// Downloads the files of a TF.js graph model (model.json and its weight files)
// and checks them before TF.js sees them, so that a missing file, a truncated
// download or a damaged model.json becomes a sentence a person can read rather
// than a TF.js stack trace (a short weight file would otherwise fail deep in
// tfjs with "Invalid typed array length", or not at all). Reports progress in
// bytes, which tfjs's own onProgress (per file) cannot do for a one-file model.
// It runs where the model runs: in the model's worker (model-worker.js).

import { msg } from './messages.js';

// Bytes per stored element of each dtype (a quantized weight is stored in its
// quantization dtype). Strings have no fixed size.
const BYTES_PER_ELEMENT = {
  float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint8: 1, uint16: 2, int8: 1, int16: 2,
};

/** The bytes a weightsManifest group occupies, or null when it cannot be known. */
export function groupBytes(group) {
  let total = 0;
  for (const weight of group.weights) {
    const size = BYTES_PER_ELEMENT[weight.quantization ? weight.quantization.dtype : weight.dtype];
    if (!size || !Array.isArray(weight.shape)) return null;
    total += size * weight.shape.reduce((product, n) => product * n, 1);
  }
  return total;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function damaged(name, why) {
  return new Error(msg('The model file {name} on this site is damaged: {why}.', { name, why }));
}

async function download(url, name, onBytes) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(msg('Could not download the model file {name}: the site cannot be reached ({why}).',
      { name, why: error.message }));
  }
  if (response.status === 404) throw new Error(msg('The model file {name} is missing from this site (HTTP 404).', { name }));
  if (!response.ok) throw new Error(msg('Could not download the model file {name} (HTTP {status}).', { name, status: response.status }));
  const chunks = [];
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      onBytes(value.length);
    }
  } catch (error) {
    throw new Error(msg('The download of the model file {name} was interrupted ({why}).', { name, why: error.message }));
  }
  return concat(chunks);
}

/**
 * The content version export writes into metadata.json (training/exporting/export.py,
 * content_version): SHA-256 over "model.json" and its bytes, then each weight
 * file's name and bytes in name order; the first 12 hex digits. null where the
 * browser offers no SubtleCrypto (a page served over plain http from another host).
 */
async function contentVersion(modelJsonBytes, weightFiles) {
  if (!globalThis.crypto?.subtle) return null;
  const encoder = new TextEncoder();
  const parts = [encoder.encode('model.json'), modelJsonBytes];
  for (const name of [...weightFiles.keys()].sort()) parts.push(encoder.encode(name), weightFiles.get(name));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('').slice(0, 12);
}

/**
 * Download and check the model in `folder` (a URL ending in /).
 * options: { onProgress: fraction of the weight bytes received => void,
 *            version: the 12-digit content version of metadata.json, checked if given }
 * Resolves to { modelJson, weightSpecs, weightData } for tf.io.getModelArtifactsForJSON;
 * rejects with an Error whose message says which file is missing or damaged.
 */
export async function downloadModel(folder, { onProgress, version } = {}) {
  const jsonBytes = await download(new URL('model.json', folder), 'model.json', () => {});
  let modelJson;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (error) {
    throw damaged('model.json', 'it is not valid JSON (cut short?)');
  }
  const manifest = modelJson?.weightsManifest;
  if (!modelJson?.modelTopology || !Array.isArray(manifest) || !manifest.every(
    (group) => Array.isArray(group?.paths) && Array.isArray(group.weights))) {
    throw damaged('model.json', 'it does not describe a TF.js graph model');
  }

  const expected = manifest.map(groupBytes);
  const total = expected.every((n) => n !== null) ? expected.reduce((a, b) => a + b, 0) : null;
  let received = 0;
  const progress = (bytes) => {
    received += bytes;
    if (onProgress && total) onProgress(Math.min(1, received / total));
  };
  if (onProgress) onProgress(0);
  const files = await Promise.all(manifest.map((group) => Promise.all(
    group.paths.map((path) => download(new URL(path, folder), path, progress)))));

  manifest.forEach((group, i) => {
    const got = files[i].reduce((n, file) => n + file.length, 0);
    if (expected[i] !== null && got !== expected[i]) {
      throw damaged(group.paths.join(', '), got < expected[i]
        ? msg('it is cut short ({got} of {expected} bytes)', { got, expected: expected[i] })
        : msg('it has {got} bytes, more than the {expected} that model.json describes', { got, expected: expected[i] }));
    }
  });
  if (typeof version === 'string' && /^[0-9a-f]{12}$/.test(version)) {
    const byName = new Map(manifest.flatMap((group, i) => group.paths.map(
      (path, j) => [path.split('/').pop(), files[i][j]])));
    const actual = await contentVersion(jsonBytes, byName);
    if (actual !== null && actual !== version) {
      throw new Error(msg('The model files on this site do not match the model\'s version {version} '
        + '(their content is damaged, or comes partly from another version).', { version }));
    }
  }
  return {
    modelJson,
    weightSpecs: manifest.flatMap((group) => group.weights),
    weightData: concat(files.flat()).buffer,
  };
}
