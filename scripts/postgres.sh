#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the test suite (Debian's `postgresql`, installed
# if missing) and export DATABASE_URL. Source it: `. scripts/postgres.sh`; stop with pg_stop.
# MAGAZIN_PGOPTS: more server options (bench/search.py: "-c shared_buffers=4GB").
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing PostgreSQL (Debian package postgresql)…" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed; run as root or: sudo apt-get install postgresql" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=${MAGAZIN_PGPORT:-54329}
PGDATA=$(mktemp -d /tmp/magazin-pg.XXXXXX)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
  -o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off ${MAGAZIN_PGOPTS:-}" \
  start >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/magazin"
export MAGAZIN_PGDATA="$PGDATA"
pg_stop() {
  as_pg "$PGBIN/pg_ctl" -D "$MAGAZIN_PGDATA" -m fast stop >/dev/null || true
  rm -rf "$MAGAZIN_PGDATA"
}
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running on port $PGPORT" >&2
