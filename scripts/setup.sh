#!/usr/bin/env bash
# Create .venv and install the locked dependencies. Idempotent; needs only Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
PY=${PYTHON:-python3}
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  echo "==> installing uv (from PyPI)"
  "$PY" -m pip install --quiet --disable-pip-version-check "uv==0.13.8" \
    || "$PY" -m pip install --quiet --user --disable-pip-version-check "uv==0.13.8"
fi
"$PY" -m uv venv --quiet --allow-existing --python 3.11 .venv
# --python pins the target: uv would otherwise install into whichever venv runs it.
"$PY" -m uv pip sync --quiet --python .venv/bin/python requirements.lock
