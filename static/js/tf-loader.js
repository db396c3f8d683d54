// Loads the pinned TensorFlow.js copy (static/vendor/tfjs) once and picks a backend.
// It runs wherever the model runs: in the model's worker (model-worker.js), or on
// the page when no worker can start. Only model-worker.js uses it.

const VENDOR_URL = new URL('../vendor/tfjs/', import.meta.url);
export const BACKENDS = ['wasm', 'webgl', 'cpu'];

let tfPromise = null;

// The vendored files are UMD bundles: run as modules, they attach `tf` (and
// `tf.wasm`) to globalThis. import() works the same in a module worker (which has
// no importScripts) and on a page.
async function run(file) {
  const url = new URL(file, VENDOR_URL).href;
  try {
    await import(url);
  } catch (error) {
    throw new Error(`Could not load ${url} (is the site's vendor folder complete?)`);
  }
}

/** Resolve to the global `tf`, loading tf.min.js and the WASM backend if needed. */
export function loadTf() {
  if (!tfPromise) {
    tfPromise = (async () => {
      // tf.min.js bundles regenerator-runtime, which assigns the global
      // `regeneratorRuntime` and, where that fails (strict mode, no such global),
      // falls back to Function(...), i.e. eval. Declaring the global first keeps
      // the site working under a Content-Security-Policy without 'unsafe-eval'.
      if (!('regeneratorRuntime' in globalThis)) globalThis.regeneratorRuntime = undefined;
      if (!globalThis.tf) await run('tf.min.js');
      if (!globalThis.tf.wasm) await run('tf-backend-wasm.min.js');
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
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch (error) {
      console.warn(`tfjs backend ${name} unavailable:`, error);
    }
  }
  throw new Error(`None of the backends ${order.join(', ')} could start in this browser.`);
}
