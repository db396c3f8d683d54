#!/usr/bin/env bash
# Start the site on http://127.0.0.1:${PORT:-5000} with the committed models, served as it
# is deployed: waitress, the production WSGI server (docs/deploying.md).
#   bash scripts/serve.sh            # the site
#   bash scripts/serve.sh --debug    # Flask's development server: reloads on edits, shows tracebacks
# Sets up .venv with the light site requirements on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
port="${PORT:-5000}"
case "${1:-}" in
  --debug) exec .venv/bin/python -m flask --app wsgi run --debug --host 127.0.0.1 --port "$port" ;;
  "") ;;
  *) echo "usage: bash scripts/serve.sh [--debug]" >&2; exit 2 ;;
esac
echo "The site: http://127.0.0.1:$port/ (Ctrl+C stops it)"
exec .venv/bin/python -m waitress --listen="127.0.0.1:$port" --threads=8 wsgi:application
