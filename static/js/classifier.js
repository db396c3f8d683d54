// Public API: in-browser screening with a TF.js graph model.
//
//   import { loadClassifier } from '/static/js/classifier.js';
//   const classifier = await loadClassifier(taskId);  // a task of static/tfjs_model/index.json
//   const results = await classifier.classify(fileOrImage, { age: 45, sex: 'female', site: 'back' });
//   // → [{ id: 'nv', name: 'Melanocytic nevus (mole)', probability: 0.91 }, …] (all labels, highest first)
//
// Everything runs on this device; the image is never sent anywhere.

import { encodeMetadata } from './encoding.js';
import { toCanvas } from './image-input.js';
import { downloadModel } from './model-files.js';
import { loadTf, selectBackend } from './tf-loader.js';

export const MODELS_URL = new URL('../tfjs_model/', import.meta.url);

async function fetchJson(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Could not download ${what} (${url}): ${error.message}`);
  }
  if (!response.ok) throw new Error(`Could not download ${what} (${url}): HTTP ${response.status}.`);
  try {
    return await response.json();
  } catch (error) {
    throw new Error(`${what} (${url}) is not valid JSON; the model files may be damaged.`);
  }
}

async function knownTasks() {
  try {
    const index = await fetchJson(new URL('index.json', MODELS_URL), 'the model index');
    return index.tasks.map((t) => t.id);
  } catch (error) {
    return [];
  }
}

/**
 * Load the screening model of `task`.
 * options: { modelUrl: folder URL of model.json + metadata.json (default: the site's copy),
 *            backend: 'auto' | 'wasm' | 'webgl' | 'cpu',
 *            onProgress: fraction of the model's weight bytes downloaded => void,
 *            warmup: true }
 * A missing or damaged model file rejects with an Error naming the file; the
 * files must also match metadata.json's content version.
 */
export async function loadClassifier(task, options = {}) {
  if (typeof task !== 'string' || !/^[a-z0-9_]+$/.test(task)) {
    const tasks = await knownTasks();
    throw new Error(`loadClassifier() needs a task id (valid tasks: ${tasks.join(', ') || 'see static/tfjs_model/index.json'}); got ${JSON.stringify(task)}.`);
  }
  const { modelUrl, backend = 'auto', onProgress, warmup = true } = options;
  const folder = new URL(modelUrl || `${task}/`, modelUrl ? window.location.href : MODELS_URL);
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';

  let metadata;
  try {
    metadata = await fetchJson(new URL('metadata.json', folder), `the ${task} model description`);
  } catch (error) {
    const tasks = await knownTasks();
    if (tasks.length && !tasks.includes(task)) {
      throw new Error(`Unknown task "${task}"; valid tasks: ${tasks.join(', ')}.`);
    }
    throw error;
  }
  if (metadata.task !== task) {
    throw new Error(`The model at ${folder} is for "${metadata.task}", not "${task}".`);
  }

  // TF.js and the model's files download side by side.
  const [[tf, backendName], files] = await Promise.all([
    loadTf().then(async (tf) => [tf, await selectBackend(tf, backend)]),
    downloadModel(folder, { onProgress, version: metadata.version }),
  ]);
  let model;
  try {
    model = await tf.loadGraphModel({
      load: () => tf.io.getModelArtifactsForJSON(
        files.modelJson, async () => [files.weightSpecs, files.weightData]),
    });
  } catch (error) {
    throw new Error(`The ${task} model on this site is damaged: TF.js cannot build it from `
      + `model.json (${error.message}).`);
  }

  const labels = metadata.labels.map(({ id, name }) => ({ id, name }));
  const imageInput = metadata.inputs.image;
  const metadataInput = metadata.inputs.metadata || null;

  function predict(canvasOrTensor, vector) {
    return tf.tidy(() => {
      const pixels = canvasOrTensor instanceof tf.Tensor ? canvasOrTensor
        : tf.browser.fromPixels(canvasOrTensor, 3);
      const feeds = { [imageInput.name]: pixels.toFloat().expandDims(0) };
      if (metadataInput) feeds[metadataInput.name] = tf.tensor2d([vector], [1, vector.length]);
      const output = model.predict(feeds);
      return Array.isArray(output) ? output[0] : output;
    });
  }

  function encode(values) {
    if (!metadataInput) return null;
    return encodeMetadata(metadata.metadata_encoding, values);
  }

  if (warmup) {
    const [height, width] = imageInput.size;
    const blank = tf.zeros([height, width, 3]);
    const out = predict(blank, encode({}));
    await out.data();
    out.dispose();
    blank.dispose();
  }

  let disposed = false;
  return {
    task,
    labels,
    metadata,
    backend: backendName,
    /** Probabilities of every label, highest first. Rejects with a readable Error on bad input. */
    async classify(image, values) {
      if (disposed) throw new Error('This classifier has been disposed; load it again.');
      const vector = encode(values);
      const canvas = await toCanvas(image, { minSide: imageInput.min_side, maxSide: imageInput.max_side });
      const output = predict(canvas, vector);
      let probabilities;
      try {
        probabilities = await output.data();
      } finally {
        output.dispose();
      }
      return labels
        .map((label, i) => ({ id: label.id, name: label.name, probability: probabilities[i] }))
        .sort((a, b) => b.probability - a.probability);
    },
    dispose() {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}
