#!/usr/bin/env bash
# The test suite, exactly as CI runs it: install (idempotent), then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -k ingest
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
# The `ray` extra too: the Ray engine's tests run in CI (they skip where Ray is not installed).
EXTRAS=${EXTRAS-dev,ray} scripts/install.sh
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: nothing failed, so that is not an error here.
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests"
  exit 0
fi
exit "$status"
