#!/usr/bin/env bash
# Sourced by test.sh: starts a throwaway PostgreSQL cluster (temp dir, random loopback port)
# and exports YAOSHI_TEST_POSTGRES; stop_postgres removes it again.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

start_postgres() {
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] || { echo "PostgreSQL is not installed" >&2; return 1; }
  PG_DIR="$(mktemp -d /tmp/yaoshi-pg.XXXXXX)"
  chmod 755 "$PG_DIR"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; run=(runuser -u postgres --); fi
  PG_PORT=$(( 20000 + RANDOM % 20000 ))
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
  PG_RUN=("${run[@]}"); PG_BIN="$bin"
  export YAOSHI_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "[test] PostgreSQL running on 127.0.0.1:$PG_PORT ($PG_DIR)" >&2
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  echo "[test] PostgreSQL stopped" >&2
}
