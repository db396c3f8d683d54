#!/usr/bin/env bash
# Refresh the pinned plotly.js copy served from static/vendor/plotly/.
# The version is pinned in package.json; the copied file is committed so the site
# runs without npm or any CDN.
# Only the partial "cartesian" bundle: the charts (webapp/performance_charts.py,
# webapp/data_charts.py) are scatter (lines and markers), bar and heatmap traces, all
# in it; the full plotly.min.js
# (maps, 3-D, WebGL, every trace type) is over three times larger, and most of it was
# unused code the phone had to download and parse. The basic bundle lacks heatmaps.
# If a chart starts using another trace type, check that the bundle has it
# (tests/test_report_pages.py does) or pick a larger one here.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts
package=plotly.js-cartesian-dist-min
out=static/vendor/plotly
rm -rf "$out" && mkdir -p "$out"
cp "node_modules/$package/plotly-cartesian.min.js" "node_modules/$package/LICENSE" "$out/"
node -e "const p=require('./package.json');console.log(JSON.stringify({'$package': p.dependencies['$package']},null,1))" > "$out/VERSIONS.json"
ls -la "$out"
