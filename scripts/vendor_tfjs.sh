#!/usr/bin/env bash
# Refresh the pinned TensorFlow.js copy served from static/vendor/tfjs/.
# The versions are pinned in package.json; the copied files are committed so the
# site runs (and works offline) without npm or any CDN.
# Only the parts the site runs: tfjs-core, the graph-model converter and the WASM
# backend, which static/js/tf-loader.js loads first, and the WebGL and CPU backends,
# which it loads only when WASM cannot start. The all-in-one tf.min.js (layers, data,
# every backend) took about twice as long to evaluate on a cold start.
# The npm packages ship no LICENSE file; each bundle starts with its Apache-2.0 header.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts
out=static/vendor/tfjs
rm -rf "$out" && mkdir -p "$out"
for part in core converter backend-wasm backend-webgl backend-cpu; do
  cp node_modules/@tensorflow/tfjs-$part/dist/tf-$part.es2017.min.js "$out/"
done
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/"
node -e 'const p=require("./package.json");console.log(JSON.stringify(p.dependencies,null,1))' > "$out/VERSIONS.json"
ls -la "$out"
