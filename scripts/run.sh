#!/usr/bin/env bash
# Set everything up and serve Retainer on its embedded default (SQLite + demo data), with
# the job worker (SLA scans, scheduled billing, queued runs, event delivery) beside the
# web server. One Ctrl-C stops both; both log to this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${RETAINER_HOST:-127.0.0.1}
PORT=${RETAINER_PORT:-8000}
echo "==> installing (first run takes a minute)"
bash scripts/setup.sh
PY=.venv/bin/python
echo "==> preparing the database"
"$PY" -m retainer demo

pids=()
stop() {
  trap - INT TERM EXIT
  echo "==> stopping the server and the worker"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

# The one consumer that also runs the periodic scheduler (never start a second one
# without -n: see docs/operations.md).
"$PY" -m retainer worker &
pids+=($!)
"$PY" -m retainer serve &
pids+=($!)

cat <<MSG

Retainer is running at http://$HOST:$PORT/   (Ctrl-C stops the server and the worker)
  API schema:  http://$HOST:$PORT/api/schema/
  Admin:       http://$HOST:$PORT/admin/
  Health:      http://$HOST:$PORT/healthz   (says whether the worker runs)

MSG
# If either process ends, stop the other: a server without its worker is not the product.
status=0
wait -n "${pids[@]}" || status=$?
echo "==> a process stopped (exit $status); stopping the other"
exit "$status"
