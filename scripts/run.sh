#!/usr/bin/env bash
# Set everything up and serve Retainer on its embedded default (SQLite + demo data).
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${RETAINER_HOST:-127.0.0.1}
PORT=${RETAINER_PORT:-8000}
echo "==> installing (first run takes a minute)"
bash scripts/setup.sh
PY=.venv/bin/python
echo "==> preparing the database"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py collectstatic --no-input -v0
"$PY" manage.py build_demo
cat <<MSG

Retainer is running at http://$HOST:$PORT/   (Ctrl-C stops it)
  API schema:  http://$HOST:$PORT/api/schema/
  Admin:       http://$HOST:$PORT/admin/

MSG
exec .venv/bin/gunicorn retainer.wsgi:application --bind "$HOST:$PORT" \
  --workers "${RETAINER_WORKERS:-2}" --access-logfile - --log-level warning
