// Loads the pinned TensorFlow.js copy (static/vendor/tfjs) once and picks a backend.
// Nothing else in the site touches tfjs directly except classifier.js.

const VENDOR_URL = new URL('../vendor/tfjs/', import.meta.url);
export const BACKENDS = ['wasm', 'webgl', 'cpu'];

let tfPromise = null;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = false;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`Could not load ${src} (is the site's vendor folder complete?)`));
    document.head.appendChild(script);
  });
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
      if (!globalThis.tf) await addScript(new URL('tf.min.js', VENDOR_URL).href);
      if (!globalThis.tf.wasm) await addScript(new URL('tf-backend-wasm.min.js', VENDOR_URL).href);
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
