#!/usr/bin/env bash
# Load-test the site under a production WSGI server (waitress) on loopback with wrk.
#   bash scripts/load_test.sh [seconds=10] [connections=16] [task=first of index.json]
# Starts waitress (8 threads, as deployed) on a free 127.0.0.1 port, runs wrk (Debian
# package `wrk`; 2 threads) against each page a visitor opens — the home page, the
# task's screener and its report pages (model card, data, performance, the performance
# page with the details) in English and in German (?lang=de) — and against
# classifier.js and the model's weight shard, each for the given time; prints
# requests/second, errors and latency as a Markdown table, and stops the server.
# The pages are asked for without Accept-Encoding (wrk's default), so the figures are
# those of the pages themselves, not of the compression.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-16}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
py=.venv/bin/python
task="${3:-$($py -c 'import json; print(json.load(open("static/tfjs_model/index.json"))["tasks"][0]["id"])')}"
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t load_test_waitress.XXXXXX.log)
$py -m waitress --listen="127.0.0.1:$port" --threads=8 wsgi:application >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
  if $py -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then break; fi
  sleep 0.2
done
shard=$($py -c "import json; m=json.load(open('static/tfjs_model/$task/model.json')); print('static/tfjs_model/$task/' + m['weightsManifest'][0]['paths'][0])")
paths=(/ "/screen/$task")
for lang in "" "?lang=de"; do
  paths+=("/model-card/$task$lang" "/data/$task$lang" "/performance/$task$lang")
done
paths+=("/performance/$task?details=given" /static/js/classifier.js "/$shard")
echo "| path | requests/s | errors (connect/read/write/timeout, non-2xx) | latency p50 | p99 |"
echo "|---|---|---|---|---|"
for path in "${paths[@]}"; do
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(awk '/Socket errors/ {print $4 $5 $6 $7 $8 $9 $10 $11}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "| $path | $rps | ${errors:-none}, ${non2xx:-0} | $p50 | $p99 |"
done
