# shellcheck shell=bash
# A throwaway PostgreSQL server on loopback for the tests: sourced by .ci/run, usable by hand:
#   source .ci/postgres.sh && start_postgres && echo "$PREPKIT_TEST_PG_URL"
# initdb in a temporary folder, trust authentication, listening only on 127.0.0.1 (and a socket
# in that folder) on a free port, room for 200 connections (the load test runs 50 learners with
# two each), one empty database; `stop_postgres` stops it and removes the
# folder. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
# Without the binaries (or a user to run them as) it prints a note and returns 1: the PostgreSQL
# variants of the tests then skip, saying why.

PG_DIR=""

_pg_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null; then command -v "$name"; return 0; fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

_pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local initdb pg_ctl createdb port
  if ! initdb=$(_pg_bin initdb) || ! pg_ctl=$(_pg_bin pg_ctl) || ! createdb=$(_pg_bin createdb); then
    echo "note: PostgreSQL is not installed here; the PostgreSQL tests will be skipped" >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "note: running as root with no postgres user; the PostgreSQL tests will be skipped" >&2
    return 1
  fi
  PG_DIR=$(mktemp -d)
  chmod 700 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if ! _pg_as "$initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    ! _pg_as "$pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c max_connections=200" start >/dev/null ||
    ! _pg_as "$createdb" -h 127.0.0.1 -p "$port" -U postgres prepkit_ci; then
    echo "note: PostgreSQL did not start; the PostgreSQL tests will be skipped:" >&2
    tail -n 5 "$PG_DIR"/*.log >&2 || true
    stop_postgres
    return 1
  fi
  export PREPKIT_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/prepkit_ci"
  echo "PostgreSQL $("$pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port for the tests" >&2
}

stop_postgres() {
  if [ -n "$PG_DIR" ]; then
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
      _pg_as "$(_pg_bin pg_ctl)" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
  fi
}
