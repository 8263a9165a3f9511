#!/usr/bin/env bash
# A disposable PostgreSQL cluster on 127.0.0.1 for tests and benchmarks.
#   scripts/pg-throwaway.sh start DIR PORT   -> prints the DATABASE_URL
#   scripts/pg-throwaway.sh restart DIR      -> a fast restart (sessions cut, committed data kept)
#   scripts/pg-throwaway.sh stop DIR
#   scripts/pg-throwaway.sh bindir           -> exit 1 when PostgreSQL is not installed
set -euo pipefail
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() {
  # initdb refuses to run as root; use the postgres account the Debian package creates.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  bindir)
    dir=$(bindir); [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir" ;;
  start)
    dir=$2 port=$3 bin=$(bindir)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; chmod 700 "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
      "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/retainer" ;;
  restart)
    dir=$2 bin=$(bindir)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w restart >/dev/null ;;
  stop)
    dir=$2 bin=$(bindir)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" ;;
  *) echo "usage: $0 start DIR PORT | restart DIR | stop DIR | bindir" >&2; exit 2 ;;
esac
