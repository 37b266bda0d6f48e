#!/usr/bin/env bash
# The main job on a fresh machine: install, ingest the bundled sample corpus, build the index
# and serve the API on http://localhost:8000 (RELATED_PORT / RELATED_HOST change that).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
EXTRAS="" scripts/install.sh
exec "$VENV/bin/related" demo "$@"
