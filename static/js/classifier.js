// Public API: in-browser screening with a TF.js graph model.
//
//   import { loadClassifier } from '/static/js/classifier.js';
//   const classifier = await loadClassifier(taskId);  // a task of static/tfjs_model/index.json
//   const results = await classifier.classify(fileOrImage, { age: 45, sex: 'female', site: 'back' });
//   // → [{ id: 'nv', name: 'Melanocytic nevus (mole)', probability: 0.91 }, …] (all labels, highest first)
//
// Everything runs on this device; the image is never sent anywhere.

import { encodeMetadata } from './encoding.js';
import { prepareImage } from './image-input.js';
import { msg } from './messages.js';
import { ttaCount } from './tta.js';

export const MODELS_URL = new URL('../tfjs_model/', import.meta.url);
const WORKER_URL = new URL('./model-worker.js', import.meta.url);

// ---- where the model runs ---------------------------------------------------------
// TF.js, the model files, the models and their forward passes live in one dedicated
// worker per page (model-worker.js), so they never block the page; this side reads
// metadata.json, encodes the details and checks the image (the worker decodes it).
// `call(type, args, {transfer, onProgress})` sends one operation and resolves to its
// answer; onProgress gets the fractions the operation reports on its way.

/** Start model-worker.js as a worker; resolves to `call` once it answers. */
function startWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { type: 'module', name: 'model' });
    const pending = new Map();
    let lastId = 0;
    let started = false;
    const call = (type, args, { transfer = [], onProgress } = {}) => new Promise(
      (resolveCall, rejectCall) => {
        lastId += 1;
        pending.set(lastId, { resolveCall, rejectCall, onProgress });
        worker.postMessage({ id: lastId, type, args }, transfer);
      });
    worker.addEventListener('message', ({ data }) => {
      const waiting = pending.get(data.id);
      if (!waiting) return;
      if ('progress' in data) {
        waiting.onProgress?.(data.progress);
        return;
      }
      pending.delete(data.id);
      if ('error' in data) waiting.rejectCall(new Error(data.error));
      else waiting.resolveCall(data.result);
    });
    // Before its first answer: the worker could not start here (handled: the model
    // then runs on the page). After: it broke.
    worker.addEventListener('error', (event) => {
      if (!started) event.preventDefault();
      const why = event.message || 'no details';
      const error = new Error(started ? msg('The model stopped working ({why}). Reload the page.', { why })
        : `the model's worker could not start (${why})`);
      for (const { rejectCall } of pending.values()) rejectCall(error);
      pending.clear();
      reject(error);
    });
    call('hello').then((canDraw) => {
      started = true;
      if (canDraw) return resolve(call);
      worker.terminate();
      return reject(new Error('the model\'s worker cannot decode images here (no OffscreenCanvas)'));
    }, reject);
  });
}

let engine = null; // promise of `call`, shared by every classifier of the page

function connect() {
  if (!engine) {
    engine = startWorker().catch(async (error) => {
      // Same module, same operations, on the page (it then blocks while it works).
      console.warn(`Running the model on the page: ${error.message}`);
      const { handle } = await import('./model-worker.js');
      return (type, args, { onProgress } = {}) => handle(type, args, onProgress);
    });
    engine.catch(() => { engine = null; });
  }
  return engine;
}

async function fetchJson(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(msg('Could not download {what} ({url}): {why}', { what, url, why: error.message }));
  }
  if (!response.ok) {
    throw new Error(msg('Could not download {what} ({url}): HTTP {status}.', { what, url, status: response.status }));
  }
  try {
    return await response.json();
  } catch (error) {
    throw new Error(msg('{what} ({url}) is not valid JSON; the model files may be damaged.', { what, url }));
  }
}

async function knownTasks() {
  try {
    const index = await fetchJson(new URL('index.json', MODELS_URL), msg('the model index'));
    return index.tasks.map((t) => t.id);
  } catch (error) {
    return [];
  }
}

/** The risk summary of metadata.json's `risk` rule for sorted results, or null. */
export function riskOf(rule, results) {
  if (!rule) return null;
  const score = results.filter((r) => rule.labels.includes(r.id)).reduce((sum, r) => sum + r.probability, 0);
  const high = score >= rule.threshold;
  return { score, high, message: high ? rule.messages.high : rule.messages.low };
}

/**
 * One label's class activation map, scaled 0-1 (min to max; all 0 if flat), as
 * assess() reports it (training/fitting/model.py's normalized_class_map does the same).
 * `resize` is metadata.json's inputs.image.resize: 'crop' (the map covers the image's
 * centred crop at the input's aspect; models exported before it was recorded) or
 * 'squash' (the model squashed the whole image to its input: the map covers all of it).
 */
export function explain(classMap, labels, id, [height, width], resize = 'crop') {
  const { rows, cols, classes, values } = classMap;
  const index = labels.findIndex((label) => label.id === id);
  const picked = Array.from({ length: rows * cols }, (_, i) => values[i * classes + index]);
  const low = Math.min(...picked);
  const range = Math.max(...picked) - low;
  return {
    id, name: labels[index].name, rows, cols, aspect: width / height,
    resize: resize === 'squash' ? 'squash' : 'crop',
    values: picked.map((v) => (range > 0 ? (v - low) / range : 0)),
  };
}

/**
 * Load the outline model in `folder` beside a classifier: resolves to {id, threshold} or,
 * when its files cannot be loaded, {id: null, message} (the classifier works without it).
 */
async function loadOutline(call, task, folder, backend, warmup) {
  try {
    const meta = await fetchJson(new URL('metadata.json', folder), msg('the {task} outline model description', { task }));
    const inputs = {
      image: meta.input.name, size: [meta.input.height, meta.input.width], metadata: null,
      tta: null, outputs: [meta.output.name], roles: ['mask'],
    };
    const { id } = await call('load', {
      task, backend, folder: folder.href, version: meta.version, inputs, warmup: warmup ? { vector: null } : null,
    });
    return { id, threshold: meta.threshold };
  } catch (error) {
    console.warn(`No outline: ${error.message}`);
    return { id: null, message: msg('The outline could not be drawn: its model did not load ({why}).', { why: error.message }) };
  }
}

/** assess()'s `outline` and `outlineMessage` from the worker's outline.js answer. */
export function outlineAnswer(model, found) {
  if (!model) return { outline: null, outlineMessage: null };
  if (!model.id) return { outline: null, outlineMessage: model.message };
  if (!found?.polygon) {
    return {
      outline: null,
      outlineMessage: found?.reason === 'unsure'
        ? msg('No outline: the outline model is not sure where a lesion is in this image.')
        : msg('No outline: no lesion was found in this image.'),
    };
  }
  return { outline: found, outlineMessage: null };
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
  // TF.js starts in the worker while the model's description and files download.
  const connecting = connect();
  const preparing = connecting.then((call) => call('prepare', { backend }));
  preparing.catch(() => {}); // a failure shows again in 'load'
  const folder = new URL(modelUrl || `${task}/`, modelUrl ? window.location.href : MODELS_URL);
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';

  let metadata;
  try {
    metadata = await fetchJson(new URL('metadata.json', folder), msg('the {task} model description', { task }));
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

  // A model exported before the wrong-kind check had its one name kept it under "doubt".
  if (metadata.doubt && !metadata.wrong_kind) metadata.wrong_kind = metadata.doubt;
  const labels = metadata.labels.map(({ id, name }) => ({ id, name }));
  const imageInput = metadata.inputs.image;
  // An export from before the test-time mirrors had their one name kept them under "views".
  if (imageInput.views && !imageInput.tta) imageInput.tta = imageInput.views;
  ttaCount(imageInput.tta); // a model needing a tta this file cannot make: a readable Error
  const metadataInput = metadata.inputs.metadata || null;
  const encode = (values) => (metadataInput ? encodeMetadata(metadata.metadata_encoding, values) : null);

  const call = await connecting; // 'load' downloads the files while TF.js gets ready
  const wrongKind = metadata.wrong_kind || null; // the in-kind score and its measured threshold
  const explanation = metadata.explanation || null; // the class activation map output
  const named = metadata.output?.name ? [[metadata.output.name, 'probabilities'],
    ...(wrongKind ? [[wrongKind.output, 'inKind']] : []),
    ...(explanation ? [[explanation.output, 'classMap']] : [])] : [];
  const inputs = {
    image: imageInput.name, size: imageInput.size, metadata: metadataInput?.name || null,
    tta: imageInput.tta || null, // 'mirrors': the worker stacks the image's mirrors (tta.js)
    // null: the graph's own output (a model exported before metadata.json named it)
    outputs: named.length ? named.map(([name]) => name) : null,
    roles: named.length ? named.map(([, role]) => role) : null,
  };
  // The lesion's outline (metadata.outline: its folder, with its own metadata.json; loaded
  // beside the classifier, so it costs no extra wait). Without it, or when its files cannot
  // be loaded, assess() still answers, with outline null and the reason in outlineMessage.
  const outlining = metadata.outline ? loadOutline(call, task, new URL(metadata.outline.folder, folder), backend, warmup)
    : Promise.resolve(null);
  const [{ id, backend: backendName, runtime }, outlineModel] = await Promise.all([call('load', {
    task, backend, folder: folder.href, version: metadata.version, inputs,
    warmup: warmup ? { vector: encode({}) } : null,
  }, { onProgress }), outlining]);

  let disposed = false;
  return {
    task,
    labels,
    metadata,
    backend: backendName,
    /** {worker: whether the model runs in a Web Worker, threads, simd, multithread: WASM only, else null} */
    runtime,
    /** Probabilities of every label, highest first. Rejects with a readable Error on bad input. */
    async classify(image, values) {
      return (await this.assess(image, values)).results;
    },
    /**
     * Everything the model says about one image, from one forward pass:
     * { results: as classify(),
     *   inKind: probability that the image is of the kind this screener was made for (or null),
     *   wrongKind: true when inKind is below the threshold measured at export (metadata.wrong_kind),
     *   unsure: true when the top probability is below metadata.unsure.threshold (on
     *           validation, the model was wrong on most images below it), else false,
     *   risk: { score: summed probability of the labels in metadata.risk.labels,
     *           high: score >= metadata.risk.threshold, message } or null,
     *   explanation: where the model found the evidence for its top label (class
     *     activation map), or null: { id, name, rows, cols, values: rows×cols numbers,
     *     row-major, scaled 0 (least) to 1 (most), aspect: width / height of the model's
     *     input, resize: 'crop' (they cover the centred crop of the image at that aspect
     *     ratio) or 'squash' (they cover the whole image, squashed to the input) },
     *   outline: the largest lesion region's outline and shape (static/js/outline.js), or
     *     null: { polygon: [[x, y], …] in the pixels of the image given (its own size,
     *     EXIF rotation applied), width, height: that size, areaFraction,
     *     asymmetry: {major, minor} (0 symmetric … 1), compactness: 4πA/P² (1 a circle),
     *     colours: ABCD colour ids present, diameter: longest (pixels), diameterFraction:
     *     diameter / the image's longer side },
     *   outlineMessage: why outline is null, readable (no lesion found, …), or null }
     */
    async assess(image, values) {
      if (disposed) throw new Error('This classifier has been disposed; load it again.');
      const vector = encode(values);
      const prepared = await prepareImage(image, { minSide: imageInput.min_side, maxSide: imageInput.max_side });
      const outlineArgs = outlineModel?.id
        ? { id: outlineModel.id, threshold: outlineModel.threshold, size: prepared.natural } : null;
      const { probabilities, inKind, classMap, outline } = await call('predict',
        { id, image: prepared, vector, outline: outlineArgs },
        { transfer: prepared.source instanceof ImageBitmap ? [prepared.source] : [] });
      const results = labels
        .map((label, i) => ({ id: label.id, name: label.name, probability: probabilities[i] }))
        .sort((a, b) => b.probability - a.probability);
      return {
        results,
        inKind,
        wrongKind: wrongKind !== null && inKind !== null && inKind < wrongKind.threshold,
        unsure: typeof metadata.unsure?.threshold === 'number'
          && results[0].probability < metadata.unsure.threshold,
        risk: riskOf(metadata.risk, results),
        explanation: classMap
          ? explain(classMap, labels, results[0].id, imageInput.size, imageInput.resize)
          : null,
        ...outlineAnswer(outlineModel, outline),
      };
    },
    /** tf.memory() where the models run (all classifiers of the page share it). */
    memory() {
      return call('memory');
    },
    dispose() {
      if (!disposed) call('dispose', { id }).catch(() => {});
      if (!disposed && outlineModel?.id) call('dispose', { id: outlineModel.id }).catch(() => {});
      disposed = true;
    },
  };
}
