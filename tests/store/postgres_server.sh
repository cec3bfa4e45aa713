#!/bin/sh
# A throwaway PostgreSQL server for the results store's tests:
#
#   postgres_server.sh start DIR SOCKET_DIR   initdb a cluster in DIR/data, start it listening on a unix
#                                             socket in SOCKET_DIR only (no TCP), create database "accelbench"
#   postgres_server.sh stop DIR SOCKET_DIR    stop it and remove DIR
#
# The database's superuser is the user running the script, so that
# postgresql:///accelbench?host=SOCKET_DIR connects without a password
# (trust authentication, on a socket only this machine sees). PostgreSQL
# refuses to run as root: as root, the server runs as the user postgres,
# which owns DIR and SOCKET_DIR. The binaries are PostgreSQL's newest under
# /usr/lib/postgresql/*/bin (Debian's postgresql package), or PG_BIN.
set -eu

action=${1:?usage: postgres_server.sh start|stop DIR SOCKET_DIR}
dir=${2:?missing DIR}
socket=${3:?missing SOCKET_DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres_server.sh: no PostgreSQL server found (install Debian's postgresql, or set PG_BIN)" >&2
  exit 1
fi
user=$(id -un)

# Runs a command as the server's user.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_server() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
      as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

case "$action" in
  start)
    stop_server  # one left by an earlier test run that was killed
    rm -rf "$dir" "$socket"
    mkdir -p "$dir/data" "$socket"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R postgres "$dir" "$socket"
      # The server's user must reach both folders through their parents.
      for d in "$dir" "$socket"; do
        while [ "$d" != "/" ]; do
          d=$(dirname "$d")
          chmod o+x "$d" 2>/dev/null || true
        done
      done
    fi
    as_server "$bin/initdb" -D "$dir/data" -A trust -U "$user" -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$socket' -c fsync=off" start >/dev/null || {
      cat "$dir/server.log" >&2
      exit 1
    }
    "$bin/createdb" -h "$socket" -U "$user" accelbench
    echo "postgres_server.sh: PostgreSQL running, socket in $socket, database accelbench"
    ;;
  stop)
    stop_server
    rm -rf "$dir" "$socket"
    echo "postgres_server.sh: stopped"
    ;;
  *)
    echo "postgres_server.sh: unknown action '$action' (start or stop)" >&2
    exit 2
    ;;
esac
