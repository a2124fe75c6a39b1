#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a private port and socket directory. `start` wipes DIR first, so it
# takes only a directory that does not exist yet or that an earlier `start` made.
#   ops/pg.sh start DIR PORT [durable]   -> prints the libpq connection string
#   ops/pg.sh stop DIR
# As root, the server runs as the unprivileged `postgres` user (initdb refuses root).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: ops/pg.sh start|stop DIR [PORT] [durable]}
root=${2:?usage: ops/pg.sh start|stop DIR [PORT] [durable]}
# Whether `start` may wipe DIR: it does not exist, or an earlier start made it (the marker file; from
# before the marker, such a directory holds only data/, sock/ and server.log).
may_wipe() {
  [ -e "$1" ] || return 0
  [ -f "$1/.triton-throwaway-pg" ] && return 0
  [ -d "$1/data" ] || return 1
  local entry
  for entry in "$1"/* "$1"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "${entry##*/}" in data | sock | server.log) ;; *) return 1 ;; esac
  done
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?port}
    mode=${4:-fast}
    if ! may_wipe "$root"; then
      echo "ops/pg.sh: $root exists and was not made by ops/pg.sh; refusing to wipe it (give a new directory)" >&2
      exit 2
    fi
    if [ -f "$root/data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$root/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$root"
    if [ "$(id -u)" -eq 0 ]; then
      install -d -o postgres -g postgres -m 755 "$root" "$root/sock"
    else
      install -d -m 755 "$root" "$root/sock"
    fi
    touch "$root/.triton-throwaway-pg"
    as_pg "$PGBIN/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    opts="-p $port -k $root/sock -c listen_addresses=127.0.0.1 -c max_connections=200"
    # Tests may trade durability for speed; benchmarks and the embedded default may not.
    [ "$mode" = durable ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_pg "$PGBIN/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 -o "$opts" start >/dev/null
    as_pg "$PGBIN/createdb" -h "$root/sock" -p "$port" -U postgres triton
    echo "host=$root/sock port=$port dbname=triton user=postgres"
    ;;
  stop)
    if [ -f "$root/data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: ops/pg.sh start|stop DIR [PORT] [durable]" >&2; exit 2 ;;
esac
