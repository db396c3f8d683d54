// The model's side of the classifier: TensorFlow.js, the graph models and their
// forward passes. classifier.js starts this module as a dedicated Web Worker, so
// that evaluating TensorFlow.js, setting up WebAssembly, downloading and checking the
// model files, decoding a big photo and inference never block the page; the page
// only reads metadata.json, checks the image and sends it.
// Where no worker can start (or draw), classifier.js imports this module on the
// page and calls `handle` itself: one protocol, one copy of the code.
//
// Protocol: the page posts {id, type, args}; the worker answers {id, result} or
// {id, error: message}, after any number of {id, progress: fraction}.
// `handle(type, args, onProgress)` lists the types.

import { imagePixels } from './image-input.js';
import { msg } from './messages.js';
import { downloadModel } from './model-files.js';
import { outlineOf } from './outline.js';
import { loadTf, selectBackend } from './tf-loader.js';
import { stackMirrors, ttaCount } from './tta.js';

const IN_WORKER = typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope;
const starting = new Map(); // backend preference → promise of [tf, backend name]
const models = new Map(); // id → {tf, model, inputs}
let lastId = 0;

function start(preference) {
  if (!starting.has(preference)) {
    const promise = loadTf().then(async (tf) => [tf, await selectBackend(tf, preference)]);
    promise.catch(() => starting.delete(preference));
    starting.set(preference, promise);
  }
  return starting.get(preference);
}

/** What the classifier can report about where and how it runs. */
async function runtime(tf, backend) {
  const wasm = backend === 'wasm';
  return {
    worker: IN_WORKER,
    threads: wasm ? tf.wasm.getThreadsCount() : null,
    simd: wasm ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : null,
    multithread: wasm ? await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') : null,
  };
}

/** The graph's image input for RGBA pixels: [1, h, w, 3], or the image's mirrors (tta.js). */
function imageBatch(tf, pixels, tta) {
  const count = ttaCount(tta);
  if (count === 1) return tf.expandDims(tf.cast(tf.browser.fromPixels(pixels, 3), 'float32'), 0);
  return tf.tensor4d(stackMirrors(pixels), [count, pixels.height, pixels.width, 3]);
}

/**
 * The model's outputs for one image, RGBA pixels {width, height, data: Uint8Array},
 * and the metadata vector. Runs the outputs named in `inputs.outputs` (probabilities
 * first; `inputs.roles` says what each is).
 */
function forward({ tf, model, inputs }, pixels, vector) {
  return tf.tidy(() => {
    const feeds = { [inputs.image]: imageBatch(tf, pixels, inputs.tta) };
    if (inputs.metadata) feeds[inputs.metadata] = tf.tensor2d([vector], [1, vector.length]);
    const started = performance.now();
    const output = model.execute(feeds, inputs.outputs || undefined);
    // A User Timing entry (DevTools, scripts/benchmark.py): the forward pass alone.
    performance.measure('model forward pass', { start: started, end: performance.now() });
    return Array.isArray(output) ? output : [output];
  });
}

/**
 * {probabilities: Float32Array in the model's label order, inKind: number or null,
 *  classMap: {rows, cols, classes, values: Float32Array (row-major, class last)} or null,
 *  mask: {rows, cols, values} of an outline model (role 'mask') or null}.
 */
async function outputs(entry, pixels, vector) {
  const tensors = forward(entry, pixels, vector);
  try {
    const data = await Promise.all(tensors.map((t) => t.data()));
    const roles = entry.inputs.roles || ['probabilities'];
    const found = { probabilities: data[0], inKind: null, classMap: null, mask: null };
    roles.forEach((role, i) => {
      if (role === 'inKind') found.inKind = data[i][0];
      if (role === 'classMap') {
        const [, rows, cols, classes] = tensors[i].shape;
        found.classMap = { rows, cols, classes, values: data[i] };
      }
      if (role === 'mask') {
        const [, rows, cols] = tensors[i].shape;
        found.mask = { rows, cols, values: data[i] };
      }
    });
    return found;
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

const operations = {
  /** Load TF.js and start a backend ('auto', 'wasm', 'webgl', 'cpu'); answers its name. */
  async prepare({ backend }) {
    return (await start(backend))[1];
  },
  /**
   * Download and check the model in `folder` (model-files.js; progress: the fraction of
   * its weight bytes received), build it and warm it up; answers its id.
   */
  async load({ task, backend, folder, version, inputs, warmup }, onProgress) {
    const [[tf, backendName], files] = await Promise.all([
      start(backend), downloadModel(new URL(folder), { onProgress, version })]);
    let model;
    try {
      model = await tf.loadGraphModel({
        load: () => tf.io.getModelArtifactsForJSON(
          files.modelJson, async () => [files.weightSpecs, files.weightData]),
      });
    } catch (error) {
      throw new Error(msg('The {task} model on this site is damaged: TF.js cannot build it from '
        + 'model.json ({why}).', { task, why: error.message }));
    }
    const entry = { tf, model, inputs };
    if (warmup) {
      const [height, width] = inputs.size;
      await outputs(entry, { width, height, data: new Uint8Array(width * height * 4) }, warmup.vector);
    }
    lastId += 1;
    models.set(lastId, entry);
    return { id: lastId, backend: backendName, runtime: await runtime(tf, backendName) };
  },
  /**
   * The outputs (see `outputs`) for an image of image-input.js's prepareImage; with
   * `outline` {id, threshold, size: [width, height]} (an outline model loaded here) also
   * `outline`: outline.js's outlineOf for the same pixels, placed on an image of `size`.
   */
  async predict({ id, image, vector, outline = null }) {
    if (!models.has(id)) throw new Error('This classifier has been disposed; load it again.');
    const pixels = await imagePixels(image);
    const found = await outputs(models.get(id), pixels, vector);
    if (outline && models.has(outline.id)) {
      const { mask } = await outputs(models.get(outline.id), pixels, null);
      const started = performance.now();
      found.outline = outlineOf(mask, { threshold: outline.threshold, size: outline.size, pixels });
      performance.measure('outline geometry', { start: started, end: performance.now() });
    }
    return found;
  },
  dispose({ id }) {
    models.get(id)?.model.dispose();
    models.delete(id);
  },
  /** tf.memory() of this TF.js instance (tests check that tensors do not leak). */
  memory() {
    return globalThis.tf ? globalThis.tf.memory() : { numTensors: 0, numBytes: 0 };
  },
  /** Answered as soon as this module runs: whether it can draw images here (OffscreenCanvas). */
  hello() {
    return typeof OffscreenCanvas !== 'undefined';
  },
};

/** Run one operation: prepare, load, predict, dispose, memory or hello. */
export async function handle(type, args = {}, onProgress) {
  if (!Object.prototype.hasOwnProperty.call(operations, type)) throw new Error(`Unknown operation ${type}`);
  return operations[type](args, onProgress);
}

if (IN_WORKER) {
  globalThis.addEventListener('message', async ({ data: { id, type, args } }) => {
    const onProgress = (progress) => globalThis.postMessage({ id, progress });
    try {
      globalThis.postMessage({ id, result: await handle(type, args, onProgress) });
    } catch (error) {
      globalThis.postMessage({ id, error: error.message || String(error) });
    }
  });
}
