#!/usr/bin/env bash
# The whole suite: lint, types, Django checks, migrations, then pytest on SQLite and on a
# throwaway PostgreSQL. With CI=true a missing component fails the run instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export PATH="$PWD/.venv/bin:$PATH"
WORKERS=${RETAINER_TEST_WORKERS:-2}
tmp=$(mktemp -d)
chmod 755 "$tmp"
export RETAINER_VAR_DIR="$tmp/var"
failed=0
cleanup() { bash scripts/pg-throwaway.sh stop "$tmp/pg" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

step() {
  local name=$1; shift
  echo "==> $name"
  if ! "$@"; then echo "FAILED: $name"; failed=1; fi
}
step "ruff check" ruff check .
step "ruff format --check" ruff format --check --quiet .
step "mypy" mypy .
step "lint-imports (app layering)" lint-imports --no-cache
step "manage.py check" python manage.py check --fail-level WARNING
step "makemigrations --check" python manage.py makemigrations --check --dry-run
step "OpenAPI schema (valid, no warnings)" python manage.py spectacular --validate --fail-on-warn --file "$tmp/schema.yaml"
step "check --deploy (production settings)" env RETAINER_MODE=production \
  SECRET_KEY="ci-$(python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
  ALLOWED_HOSTS=retainer.example python manage.py check --deploy --fail-level WARNING

count() { grep -Eo "[0-9]+ $1" "$2" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0; }
run_pytest() {  # label, log file, extra env...
  local label=$1 log=$2; shift 2
  echo "==> pytest on $label"
  env "$@" pytest -n "$WORKERS" -q -p no:cacheprovider 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || failed=1
}

run_pytest SQLite "$tmp/sqlite.log" RETAINER_TEST_DB=sqlite
sqlite_passed=$(count passed "$tmp/sqlite.log"); sqlite_failed=$(( $(count failed "$tmp/sqlite.log") + $(count error "$tmp/sqlite.log") ))

pg_note=""
pg_passed=0; pg_failed=0
if bash scripts/pg-throwaway.sh bindir >/dev/null; then
  port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if url=$(bash scripts/pg-throwaway.sh start "$tmp/pg" "$port"); then
    run_pytest PostgreSQL "$tmp/pg.log" RETAINER_TEST_DB=postgres DATABASE_URL="$url"
    pg_passed=$(count passed "$tmp/pg.log"); pg_failed=$(( $(count failed "$tmp/pg.log") + $(count error "$tmp/pg.log") ))
  else
    pg_note="PostgreSQL is installed but the throwaway cluster did not start (see above)."
    failed=1
  fi
else
  pg_note="PostgreSQL binaries not found: the PostgreSQL half of the suite DID NOT RUN (apt-get install postgresql)."
  [ "${CI:-}" = true ] && failed=1
fi

echo
echo "================================ summary ================================"
[ -n "$pg_note" ] && echo "!!! $pg_note"
echo "sqlite: $sqlite_passed passed, $sqlite_failed failed"
echo "postgresql: $pg_passed passed, $pg_failed failed"
[ "$failed" = 0 ] && echo "checks: all green" || echo "checks: FAILED (see FAILED lines above)"
echo "total: $((sqlite_passed + pg_passed)) passed, $((sqlite_failed + pg_failed)) failed"
exit "$failed"
