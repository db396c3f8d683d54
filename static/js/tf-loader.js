// Loads the pinned TensorFlow.js copy (static/vendor/tfjs) once and picks a backend.
// It runs wherever the model runs: in the model's worker (model-worker.js), or on
// the page when no worker can start. Only model-worker.js uses it.

import { msg } from './messages.js';

const VENDOR_URL = new URL('../vendor/tfjs/', import.meta.url);
export const BACKENDS = ['wasm', 'webgl', 'cpu'];
// The backends' bundles; loadTf() loads WASM's, the others only when asked for.
const BACKEND_FILES = {
  wasm: 'tf-backend-wasm.es2017.min.js',
  webgl: 'tf-backend-webgl.es2017.min.js',
  cpu: 'tf-backend-cpu.es2017.min.js',
};

let tfPromise = null;

// The vendored files are UMD bundles: run as modules, each adds its part to the
// global `tf` (the WASM backend as `tf.wasm`). import() works the same in a module
// worker (which has no importScripts) and on a page.
async function run(file) {
  const url = new URL(file, VENDOR_URL).href;
  try {
    await import(url);
  } catch (error) {
    throw new Error(`Could not load ${url} (is the site's vendor folder complete?)`);
  }
}

/**
 * Resolve to the global `tf`: tfjs-core, the graph-model converter and the WASM backend
 * (the vendored parts; the WebGL and CPU backends load only if chosen, see `selectBackend`).
 */
export function loadTf() {
  if (!tfPromise) {
    tfPromise = (async () => {
      if (!globalThis.tf?.loadGraphModel) {
        await run('tf-core.es2017.min.js');
        await run('tf-converter.es2017.min.js');
      }
      if (!globalThis.tf.wasm) await run(BACKEND_FILES.wasm);
      globalThis.tf.wasm.setWasmPaths(VENDOR_URL.href);
      return globalThis.tf;
    })();
    tfPromise.catch(() => { tfPromise = null; });
  }
  return tfPromise;
}

/**
 * Use the first backend of `preference` that initialises ('auto' = WASM, then WebGL, then CPU).
 * Resolves to the backend's name.
 */
export async function selectBackend(tf, preference = 'auto') {
  const order = preference === 'auto' ? BACKENDS : [preference];
  for (const name of order) {
    if (!BACKENDS.includes(name)) {
      throw new Error(`Unknown backend "${name}"; valid: auto, ${BACKENDS.join(', ')}`);
    }
    if (tf.getBackend() === name) return name;
    try {
      if (!tf.findBackendFactory(name)) await run(BACKEND_FILES[name]);
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch (error) {
      console.warn(`tfjs backend ${name} unavailable:`, error);
    }
  }
  throw new Error(msg('None of the backends {backends} could start in this browser.', { backends: order.join(', ') }));
}
