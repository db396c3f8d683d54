#!/usr/bin/env bash
# Load-test the site under a production WSGI server (waitress) on loopback with wrk.
#   bash scripts/load_test.sh [seconds=10] [connections=16]
# Starts waitress on a free 127.0.0.1 port, runs wrk (Debian package `wrk`) against
# the screening page, classifier.js and the model's weight shard, each for the
# given time, prints requests/second and errors, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-16}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
py=.venv/bin/python
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$py -m waitress --listen="127.0.0.1:$port" --threads=8 wsgi:application >/tmp/load_test_waitress.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if $py -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then break; fi
  sleep 0.2
done
shard=$($py -c 'import json; i=json.load(open("static/tfjs_model/index.json"))["tasks"][0]["id"]; m=json.load(open(f"static/tfjs_model/{i}/model.json")); print(f"static/tfjs_model/{i}/" + m["weightsManifest"][0]["paths"][0])')
echo "| path | requests/s | errors (connect/read/write/timeout, non-2xx) | latency p50 | p99 |"
echo "|---|---|---|---|---|"
for path in / /static/js/classifier.js "/$shard"; do
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(awk '/Socket errors/ {print $4 $5 $6 $7 $8 $9 $10 $11}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "| $path | $rps | ${errors:-none}, ${non2xx:-0} | $p50 | $p99 |"
done
