#!/usr/bin/env bash
# Create a virtual environment and install the project into it, offline-friendly.
# Used by the README, .ci/run and the Dockerfile, so all three install the same way.
#   VENV              where the environment goes (default: .venv)
#   PYTHON            interpreter that creates it (default: python3)
#   TORCH_INDEX_URL   the only index torch may come from (the Dockerfile sets PyTorch's CPU index)
#   EXTRAS            optional extras to install, e.g. "dev" (default: dev)
#   CONSTRAINTS       a pip constraints file every install obeys (default: constraints.txt,
#                     written by scripts/lock.py; empty: none), so the tests, the demo and the
#                     image get the same versions on every machine
#   EDITABLE          1 (default) installs the checkout editable (-e); 0 copies it into the
#                     environment, as an image wants (the source may then go)
#
# torch, pinned to exactly 2.13.0, comes first, from the first of:
#   1. TORCH_INDEX_URL, when set;
#   2. a local wheel pip already knows of (its find-links): PyTorch's index is not asked;
#   3. PyPI with PyTorch's CPU index as an extra index: pip takes the highest version the pin
#      admits, and PEP 440 orders 2.13.0+cpu above PyPI's 2.13.0 (a multi-GB CUDA build on Linux).
# A second run finds everything installed (a stamp of pyproject.toml, the constraints and the
# extras) and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS-dev}
EDITABLE=${EDITABLE:-1}
CONSTRAINTS=${CONSTRAINTS-constraints.txt}
CONSTRAINT_ARGS=()
[ -n "$CONSTRAINTS" ] && CONSTRAINT_ARGS=(-c "$CONSTRAINTS")
TORCH=torch==2.13.0
CPU_INDEX=https://download.pytorch.org/whl/cpu
STAMP="$VENV/.related-install"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# (This machine's pip config lists local mirrors that print a warning per missing package: hide those.)
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
installed() {
  [ -x "$VENV/bin/related" ] && "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)'
}

project="$(cat pyproject.toml ${CONSTRAINTS:+"$CONSTRAINTS"} | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && installed \
  && grep -qxF "$project ${EXTRAS:-none}" "$STAMP" \
  || { [ -z "$EXTRAS" ] && [ -f "$STAMP" ] && installed && grep -q "^$project " "$STAMP"; }; then
  echo "already installed in $VENV (pyproject.toml unchanged; remove $STAMP to reinstall)"
  exit 0
fi

if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    pip install --quiet "${CONSTRAINT_ARGS[@]}" --index-url "$TORCH_INDEX_URL" "$TORCH"
  elif pip install --dry-run --quiet --no-index --no-deps "$TORCH" >/dev/null 2>&1; then
    # The local wheel is the best match (2.13.0+cpu sorts above PyPI's 2.13.0); torch's own
    # dependencies come from the configured index.
    pip install --quiet "${CONSTRAINT_ARGS[@]}" "$TORCH"
    echo "torch: from a local wheel"
  else
    pip install --quiet "${CONSTRAINT_ARGS[@]}" --extra-index-url "$CPU_INDEX" "$TORCH"
  fi
fi
target="."
[ -n "$EXTRAS" ] && target=".[$EXTRAS]"
editable=(-e)
[ "$EDITABLE" = 0 ] && editable=()
pip install --quiet "${CONSTRAINT_ARGS[@]}" "${editable[@]}" "$target"
echo "$project ${EXTRAS:-none}" >>"$STAMP"
echo "installed into $VENV ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
