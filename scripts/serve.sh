#!/usr/bin/env bash
# Start the site on http://127.0.0.1:${PORT:-5000} with the committed model.
# Sets up .venv with the light site requirements on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
