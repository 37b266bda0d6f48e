#!/usr/bin/env bash
# Create a virtual environment and install the project into it, offline-friendly.
# Used by the README, .ci/run and the Dockerfile, so all three install the same way.
#   VENV              where the environment goes (default: .venv)
#   PYTHON            interpreter that creates it (default: python3)
#   TORCH_INDEX_URL   index for the CPU build of torch (the Dockerfile sets PyTorch's CPU index;
#                     machines with a local wheel of torch 2.13.0 need nothing)
#   EXTRAS            optional extras to install, e.g. "dev" (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS-dev}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# (This machine's pip config lists local mirrors that print a warning per missing package: hide those.)
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

# torch first and pinned exactly: anything looser resolves to a multi-GB CUDA build.
if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    pip install --quiet --index-url "$TORCH_INDEX_URL" torch==2.13.0
  else
    pip install --quiet torch==2.13.0
  fi
fi
target="."
[ -n "$EXTRAS" ] && target=".[$EXTRAS]"
pip install --quiet -e "$target"
echo "installed into $VENV ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
