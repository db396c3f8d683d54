#!/usr/bin/env bash
# Refresh the pinned TensorFlow.js copy served from static/vendor/tfjs/.
# The versions are pinned in package.json; the copied files are committed so the
# site runs (and works offline) without npm or any CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts
out=static/vendor/tfjs
rm -rf "$out" && mkdir -p "$out"
cp node_modules/@tensorflow/tfjs/dist/tf.min.js "$out/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js "$out/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/"
cp node_modules/@tensorflow/tfjs/LICENSE "$out/LICENSE" 2>/dev/null || true
node -e 'const p=require("./package.json");console.log(JSON.stringify(p.dependencies,null,1))' > "$out/VERSIONS.json"
ls -la "$out"
