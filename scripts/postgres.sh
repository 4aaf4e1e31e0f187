#!/usr/bin/env bash
# A PostgreSQL server for the tests and benchmarks: Debian's package, its
# own data folder under target/postgres, listening on 127.0.0.1 only (no
# Unix socket), run as the unprivileged user `shallot-pg` when started as
# root (postgres refuses to run as root).
#
#   scripts/postgres.sh start   # installs if missing, starts; prints the URL
#   scripts/postgres.sh stop    # stops it (safe when it is not running)
#
# Roles: `shallot`, a superuser the tests create databases as, and
# `shallot_ro`, which may only read: every database made from template1
# grants it SELECT on the tables `shallot` creates (a `read` grant's
# `read_url`). Local connections are trusted; nothing listens beyond
# loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/target/postgres"
data="$root/data"

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$dir" ]] && echo "$dir"
}

as_owner() {  # runs a command as the user that owns the data folder
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u shallot-pg -- "$@"
  else
    "$@"
  fi
}

start() {
  if [[ -z "$(bindir)" ]]; then
    if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
      echo "postgres.sh: installing postgresql (apt)" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      # Debian's package starts a cluster of its own; the tests do not use it.
      command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null |
        while read -r version name _; do pg_ctlcluster "$version" "$name" stop || true; done
    else
      echo "postgres.sh: PostgreSQL is missing; install Debian's postgresql" >&2
      exit 1
    fi
  fi
  local bin
  bin="$(bindir)"
  if [[ "$(id -u)" == 0 ]] && ! id shallot-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin shallot-pg
  fi
  mkdir -p "$root"
  if [[ "$(id -u)" == 0 ]]; then chown shallot-pg "$root"; fi
  if [[ -f "$root/port" ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres://shallot@127.0.0.1:$(cat "$root/port")"
    return
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_owner "$bin/initdb" -D "$data" -U shallot --auth=trust -E UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 ||
      { cat "$root/initdb.log" >&2; exit 1; }
  fi
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" >"$root/port"
  as_owner "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=200 -c fsync=off" \
    start >/dev/null || { cat "$root/server.log" >&2; exit 1; }
  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U shallot)
  "${psql[@]}" -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shallot_ro') THEN
        CREATE ROLE shallot_ro LOGIN;
      END IF;
    END \$\$;"
  "${psql[@]}" -d template1 -c "ALTER DEFAULT PRIVILEGES FOR ROLE shallot IN SCHEMA public GRANT SELECT ON TABLES TO shallot_ro"
  echo "postgres://shallot@127.0.0.1:$port"
}

stop() {
  local bin
  bin="$(bindir)" || return 0
  [[ -f "$data/PG_VERSION" ]] || return 0
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
