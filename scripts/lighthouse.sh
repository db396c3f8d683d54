#!/usr/bin/env bash
# Lighthouse scores of every page, against the targets below; exits 1 if a page
# falls short, 2 if Lighthouse could not run.
#
#   bash scripts/lighthouse.sh                 # every page, 3 runs each (median)
#   RUNS=1 bash scripts/lighthouse.sh / /screen/TASK
#
# Lighthouse is the devDependency pinned in package.json (12.2.3, the newest that
# runs on Node 20; `npm install` first). It drives Debian's Chromium
# (CHROME_PATH, default /usr/bin/chromium) with its default mobile profile
# (emulated phone, simulated slow 4G and 4x slower CPU) against the real app
# (wsgi.py) served by waitress on a free loopback port. Each page is scored RUNS
# times and the median of each category is kept. The pages: the home page, then
# /history, then each task of index.json: /screen, /performance, /data and /model-card. The
# performance score depends on this machine's load: a run beside a training job
# scores lower. A run took about 40 s here (13 pages: 9 minutes with RUNS=1, some
# 26 with 3), and up to a few minutes beside a training job.
set -euo pipefail
cd "$(dirname "$0")/.."

# Targets: the first pattern matching a page's address applies (* is any task).
#   address           performance  accessibility  best-practices  seo
TARGETS='
    /                 95           100            100             100
    /history          95           100            100             100
    /screen/*         95           100            100             100
    /performance/*    90           100            100             100
    /data/*           90           100            100             100
    /model-card/*     90           100            100             100
'

RUNS="${RUNS:-3}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
LIGHTHOUSE=node_modules/.bin/lighthouse
PYTHON=.venv/bin/python
if [ ! -x "$LIGHTHOUSE" ]; then
  echo "Lighthouse is not installed: run npm install" >&2
  exit 2
fi

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$PYTHON" -m waitress --listen="127.0.0.1:$port" --threads=8 wsgi:application 2>/dev/null &
server=$!
workdir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$workdir"' EXIT
for _ in $(seq 100); do
  curl -fs -o /dev/null "$base/" && break
  sleep 0.2
done

if [ "$#" -gt 0 ]; then
  pages=("$@")
else
  mapfile -t pages < <(curl -fs "$base/static/tfjs_model/index.json" | "$PYTHON" -c '
import json, sys
print("/")
print("/history")
for task in json.load(sys.stdin)["tasks"]:
    for kind in ("screen", "performance", "data", "model-card"):
        print("/" + kind + "/" + task["id"])')
fi
if [ "${#pages[@]}" -eq 0 ]; then
  echo "no pages: is the app up at $base?" >&2
  exit 2
fi

started=$(date +%s)
for page in "${pages[@]}"; do
  for run in $(seq "$RUNS"); do
    out="$workdir/$(echo "$page" | tr '/' '_')-$run.json"
    # A loaded machine sometimes spoils a trace (NO_NAVSTART, NO_FCP): try again.
    for attempt in 1 2 3; do
      if "$LIGHTHOUSE" "$base$page" --quiet --output=json --output-path="$out" \
          --only-categories=performance,accessibility,best-practices,seo \
          --chrome-flags="--headless --no-sandbox" >"$workdir/log" 2>&1; then
        break
      fi
      echo "$page run $run attempt $attempt: $(grep -m1 -i error "$workdir/log")" >&2
      if [ "$attempt" -eq 3 ]; then
        tail -20 "$workdir/log" >&2
        exit 2
      fi
    done
  done
done
echo "$(( $(date +%s) - started )) s for ${#pages[@]} pages x $RUNS runs" >&2

TARGETS="$TARGETS" "$PYTHON" - "$workdir" "${pages[@]}" <<'EOF'
import fnmatch, json, os, statistics, sys
from pathlib import Path

workdir, pages = Path(sys.argv[1]), sys.argv[2:]
categories = ["performance", "accessibility", "best-practices", "seo"]
targets = [(line.split()[0], [int(n) for n in line.split()[1:]])
           for line in os.environ["TARGETS"].strip().splitlines()]
print(f"{'page':28s} {'perf':>5s} {'a11y':>5s} {'best':>5s} {'seo':>5s}")
failed = []
for page in pages:
    reports = [json.loads(path.read_text())
               for path in sorted(workdir.glob(page.replace('/', '_') + "-*.json"))]
    # A category Lighthouse could not score (an audit errored) counts as 0.
    scores = [round(100 * statistics.median(r["categories"][c]["score"] or 0 for r in reports))
              for c in categories]
    unscored = [c for c in categories if any(r["categories"][c]["score"] is None
                                             for r in reports)]
    wanted = next((t for pattern, t in targets if fnmatch.fnmatchcase(page, pattern)), None)
    short = [f"{c} {s} < {w}" for c, s, w in zip(categories, scores, wanted or [])
             if s < w]
    marks = ("" if not short else "  short: " + "; ".join(short)) + (
        "  (no score in a run: " + ", ".join(unscored) + ")" if unscored else "")
    print(f"{page:28s} " + " ".join(f"{s:5d}" for s in scores) + marks)
    if short:
        failed.append(page)
        # What Lighthouse holds against the page (median run), to start from.
        report = reports[len(reports) // 2]
        for c in categories:
            for ref in report["categories"][c]["auditRefs"]:
                audit = report["audits"][ref["id"]]
                if ref["weight"] and audit["score"] is not None and audit["score"] < 1 \
                        and audit["scoreDisplayMode"] in ("binary", "numeric", "metricSavings"):
                    value = audit.get("displayValue") or ""
                    print(f"    {c}: {audit['id']} {audit['score']:.2f} {value}")
                    for item in (audit.get("details") or {}).get("items", [])[:3]:
                        node = item.get("node") or {}
                        if node.get("snippet"):
                            print(f"      {node.get('selector', '')}: {node['snippet'][:100]}")
sys.exit(1 if failed else 0)
EOF
